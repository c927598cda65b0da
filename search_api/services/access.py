"""查阅 (第二十八条): a party's request, the archivist's review, the 负责人's decision, grants,
and the redacted renditions a request releases. Each action checks the permission table and
writes its one audit event, refused or done (`search_api.services`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from archive import audit
from archive.access import AccessError, create_request, decide, review, revoke, withdraw
from archive.actor import Actor
from archive.db import session_scope
from archive.permissions import Action, may
from pipelines.context import Services
from pipelines.detect import MediaFamily, family_of
from pipelines.redaction import PDFIUM_LOCK, pdf_page_count
from pipelines.renditions import Rendition, RenditionError, preview_for_request, set_release_mode
from search_api.portal import Granted, NotGrantedError, rendition_for
from search_api.services import Conflict, NotFound, ServiceError, require

NOT_GRANTED = "记录不存在，或您没有有效的查阅授权"
NOT_IN_REQUEST = "该申请的案件中没有这份记录"


def _step(
    svc: Services, who: Actor, event: str, obj: str, run: Callable[[Session], Any], **detail: Any
) -> Any:
    """One workflow step in a transaction, audited refused (Conflict) or done."""
    try:
        with session_scope(svc.engine) as s:
            out = run(s)
    except AccessError as exc:
        audit.record(svc.engine, event, who, obj, "denied", reason=str(exc))
        raise Conflict(str(exc)) from None
    audit.record(svc.engine, event, who, obj, "ok", **detail)
    return out


def request_access(svc: Services, who: Actor, case_no: str, record_ids: list[int] | None, reason: str) -> int:
    """当事人: ask to view a case or chosen records; returns the request id (audited)."""
    require(who, Action.REQUEST_ACCESS)
    try:
        with session_scope(svc.engine) as s:
            req = create_request(session=s, actor=who, case_no=case_no, record_ids=record_ids, reason=reason)
            request_id, wanted = req.id, req.requested_records
    except AccessError as exc:
        audit.record(svc.engine, "access_request", who, f"case:{case_no[:64]}", "denied", reason=str(exc))
        raise ServiceError(str(exc)) from None
    audit.record(svc.engine, "access_request", who, f"request:{request_id}", case=case_no, records=wanted)
    return request_id


def withdraw_request(svc: Services, who: Actor, request_id: int) -> None:
    """当事人: withdraw a request not yet decided (audited)."""
    require(who, Action.REQUEST_ACCESS)
    _step(
        svc,
        who,
        "access_withdraw",
        f"request:{request_id}",
        lambda s: withdraw(session=s, actor=who, request_id=request_id),
    )


def review_request(
    svc: Services, who: Actor, request_id: int, scope: list[int], days: int, note: str
) -> None:
    """档案管理员: the records to release (each previewed as released) and the grant's length."""
    require(who, Action.REVIEW_REQUEST)
    _step(
        svc,
        who,
        "access_review",
        f"request:{request_id}",
        lambda s: review(session=s, actor=who, request_id=request_id, scope=scope, days=days, note=note),
        scope=sorted(set(scope)),
        days=days,
    )


def decide_request(svc: Services, who: Actor, request_id: int, approve: bool, reason: str) -> int | None:
    """负责人: approve (a grant starts now; its id is returned) or deny, with a written reason."""
    require(who, Action.DECIDE_REQUEST)
    grant: list[int | None] = []

    def run(s: Session) -> None:
        g = decide(session=s, actor=who, request_id=request_id, approve=approve, reason=reason)
        grant.append(g.id if g else None)

    event = "access_approve" if approve else "access_deny"
    _step(svc, who, event, f"request:{request_id}", run, reason=reason)
    return grant[0]


def revoke_grant(svc: Services, who: Actor, grant_id: int, reason: str) -> None:
    """End a grant at once; the party loses access with their next request (audited)."""
    require(who, Action.REVOKE_GRANT)
    _step(
        svc,
        who,
        "access_revoke",
        f"grant:{grant_id}",
        lambda s: revoke(session=s, actor=who, grant_id=grant_id, reason=reason),
        reason=reason,
    )


def release_preview(svc: Services, who: Actor, request_id: int, record_id: int) -> Rendition:
    """The record as the request's party would get it, made and gated now if need be; an
    archivist's opening counts as the review's preview (audited by the renditions)."""
    require(who, Action.SEE_OVERSIGHT)
    try:
        return preview_for_request(
            svc, request_id, record_id, who, counts_as_review=may(who.role, Action.REVIEW_REQUEST)
        )
    except LookupError:
        raise NotFound(NOT_IN_REQUEST) from None
    except RenditionError as exc:
        raise Conflict(str(exc)) from None


def change_release_mode(svc: Services, who: Actor, request_id: int, record_id: int, mode: str) -> None:
    """档案管理员: release a recording as its redacted transcript only, or whole again (audited)."""
    require(who, Action.REVIEW_REQUEST)
    try:
        set_release_mode(svc, request_id, record_id, mode, who)
    except LookupError:
        raise NotFound(NOT_IN_REQUEST) from None
    except ValueError as exc:
        raise Conflict(str(exc)) from None


def granted_rendition(svc: Services, who: Actor, record_id: int, event: str) -> tuple[Granted, Rendition]:
    """当事人: a granted record and its rendition. NotFound (the attempt audited as refused) when no
    active grant covers it, Conflict with the reason when the rendition cannot be made."""
    require(who, Action.REQUEST_ACCESS)
    if who.user_id is None:
        raise NotFound(NOT_GRANTED)
    try:
        return rendition_for(svc, who.user_id, record_id)
    except NotGrantedError:
        audit.record(svc.engine, event, who, f"record:{record_id}", "denied")
        raise NotFound(NOT_GRANTED) from None
    except RenditionError as exc:
        audit.record(svc.engine, event, who, f"record:{record_id}", "denied", reason=str(exc))
        raise Conflict(str(exc)) from None


def rendition_pages(svc: Services, r: Rendition) -> int:
    """Pages of a PDF rendition (0 for sound and images)."""
    if family_of(r.file_mime) is not MediaFamily.PDF:
        return 0
    data = b"".join(svc.store.iter_bytes(r.file_sha256))
    with PDFIUM_LOCK:
        return pdf_page_count(data)
