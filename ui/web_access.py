"""Pages of the access layer: the party portal, the 查阅 queue and review, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.access import (
    NEVER_TO_PARTIES,
    grant_state,
    requests_for,
)
from archive.models import AccessRequest, ProcessingStatus, Record, SpanKind, User
from archive.permissions import Action
from archive.release import check_of, release_basis, request_keep, request_mode
from pipelines.detect import family_of
from pipelines.sensitive import spans_of
from search_api.auth import Principal, check_csrf
from search_api.deps import AuditQueryDep, Id, ServicesDep, allowed_to, get_principal
from search_api.portal import granted_records, linked_case_records
from search_api.services import Conflict, ServiceError, access, audit_log, records, spans
from ui.render import render as _render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_principal)])
PartyDep = Annotated[Principal, Depends(allowed_to(Action.REQUEST_ACCESS))]
QueueDep = Annotated[Principal, Depends(allowed_to(Action.SEE_OVERSIGHT))]
AuditorDep = Annotated[Principal, Depends(allowed_to(Action.READ_AUDIT))]
AUDIT_PAGE = 50


# ---- 当事人 ----------------------------------------------------------------------------------


def _portal_context(svc: ServicesDep, who: Principal) -> dict[str, Any]:
    with Session(svc.engine) as s:
        cases = linked_case_records(s, who.user_id)
        reqs = [
            (r, r.case.case_no, grant_state(r.grant) if r.grant else None, r.grant)
            for r in requests_for(session=s, actor=who.actor)
        ]
        granted = granted_records(s, who.user_id)
    return {"cases": cases, "requests": reqs, "granted": granted, "error": None, "reason": ""}


@pages.get("/portal", response_class=HTMLResponse)
def portal(request: Request, svc: ServicesDep, who: PartyDep) -> HTMLResponse:
    """当事人: request access, follow each request, open granted records."""
    return _render(request, "portal.html", _portal_context(svc, who))


@pages.post("/portal/requests", response_model=None)
def portal_request(
    request: Request,
    svc: ServicesDep,
    who: PartyDep,
    case_no: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    records: Annotated[list[int] | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """Submit a 查阅 request."""
    check_csrf(request, csrf)
    try:
        access.request_access(svc, who.actor, case_no, records or None, reason)
    except ServiceError as exc:
        ctx = _portal_context(svc, who) | {"error": str(exc), "reason": reason}
        return _render(request, "portal.html", ctx, status_code=exc.status)
    return RedirectResponse("/portal?submitted=1", status_code=303)


@pages.post("/portal/requests/{request_id}/withdraw")
def portal_withdraw(
    request: Request, request_id: Id, svc: ServicesDep, who: PartyDep, csrf: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """Withdraw a request not yet decided."""
    check_csrf(request, csrf)
    access.withdraw_request(svc, who.actor, request_id)
    return RedirectResponse("/portal", status_code=303)


@pages.get("/portal/records/{record_id}", response_class=HTMLResponse)
def portal_record(request: Request, record_id: Id, svc: ServicesDep, who: PartyDep) -> HTMLResponse:
    """A granted record, redacted; the file download is watermarked with the viewer's name."""
    granted, rendition = access.granted_rendition(svc, who.actor, record_id, "view")
    records.opened(svc, who.actor, record_id, rendition="redacted")
    return _render(request, "portal_record.html", {"g": granted, "rd": rendition})


# ---- 查阅审批 (档案管理员 / 负责人) --------------------------------------------------------------


@pages.get("/requests", response_class=HTMLResponse)
def request_queue(request: Request, svc: ServicesDep, who: QueueDep) -> HTMLResponse:
    """The 查阅 queue: what waits for review (档案管理员) or a decision (负责人)."""
    with Session(svc.engine) as s:
        rows = []
        for r in requests_for(session=s, actor=who.actor):
            requester = s.get(User, r.requester_id)
            state = grant_state(r.grant) if r.grant else None
            rows.append((r, r.case.case_no, requester.display_name if requester else "", state))
    return _render(request, "requests.html", {"rows": rows})


def _request_context(svc: ServicesDep, request_id: int, error: str | None = None) -> dict[str, Any]:
    with Session(svc.engine) as s:
        req = s.scalar(
            select(AccessRequest)
            .where(AccessRequest.id == request_id)
            .options(selectinload(AccessRequest.case), selectinload(AccessRequest.grant))
        )
        if req is None:
            raise HTTPException(404, "查阅申请不存在")
        requester = s.get(User, req.requester_id)
        records = list(s.scalars(select(Record).where(Record.case_id == req.case_id).order_by(Record.id)))
        proposed = set(req.scope or req.requested_records or [r.id for r in records])
        keep = request_keep(s, req)
        items = []
        for r in records:
            hidden = r.classification in NEVER_TO_PARTIES
            basis = release_basis(s, r, keep, request_mode(req, r.id))
            seen = (req.previews or {}).get(str(r.id)) or {}
            items.append(
                {
                    "r": r,
                    "hidden": hidden,
                    "checked": r.id in proposed and not hidden,
                    "spans": spans_of(s, r.id),
                    "check": check_of(s, r.id, basis.tag),
                    "previewed": seen if seen.get("tag") == basis.tag else None,
                    "mode": basis.mode,
                    "sound": family_of(r.mime).is_sound,
                    "processed": r.status is ProcessingStatus.PROCESSED,
                }
            )
        s.expunge_all()
    return {
        "req": req,
        "requester": requester.display_name if requester else "",
        "items": items,
        "grant": req.grant,
        "grant_state": grant_state(req.grant) if req.grant else None,
        "error": error,
        "span_kinds": [k.value for k in SpanKind],
    }


@pages.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, request_id: Id, svc: ServicesDep, who: QueueDep) -> HTMLResponse:
    """One request: the records of the case with their redaction preview, the review and decision."""
    ctx = _request_context(svc, request_id)
    audit.record(svc.engine, "view", who.actor, f"request:{request_id}")
    return _render(request, "request.html", ctx)


@pages.get("/requests/{request_id}/records/{record_id}", response_class=HTMLResponse)
def request_record_page(
    request: Request, request_id: Id, record_id: Id, svc: ServicesDep, who: QueueDep
) -> HTMLResponse:
    """One record as the requester would receive it, with the release gate's verdict; opening it
    is the archivist's preview the review requires (the first opening makes and checks it)."""
    try:
        rendition = access.release_preview(svc, who.actor, request_id, record_id)
        problem = None
    except Conflict as exc:
        rendition, problem = None, str(exc)
    with Session(svc.engine) as s:
        req = s.get(AccessRequest, request_id)
        record = s.get(Record, record_id)
        assert req is not None and record is not None  # release_preview answered 404 otherwise
        mode = request_mode(req, record_id)
        s.expunge_all()
    pages = access.rendition_pages(svc, rendition) if rendition is not None else 0
    ctx = {"req": req, "record": record, "rd": rendition, "problem": problem, "mode": mode, "pages": pages}
    return _render(request, "request_record.html", ctx)


@pages.post("/requests/{request_id}/records/{record_id}/mode", response_model=None)
def request_record_mode_form(
    request: Request,
    request_id: Id,
    record_id: Id,
    svc: ServicesDep,
    who: QueueDep,
    mode: Annotated[str, Form(pattern="^(full|transcript)$")],
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """档案管理员: release a recording as its redacted transcript only, or whole again."""
    check_csrf(request, csrf)
    access.change_release_mode(svc, who.actor, request_id, record_id, mode)
    return RedirectResponse(f"/requests/{request_id}/records/{record_id}", status_code=303)


def _step(
    request: Request, svc: ServicesDep, request_id: int, run: Callable[[], Any]
) -> HTMLResponse | RedirectResponse:
    """Run one workflow service; its refusal is shown on the request's page."""
    try:
        run()
    except Conflict as exc:
        return _render(request, "request.html", _request_context(svc, request_id, str(exc)), status_code=409)
    return RedirectResponse(f"/requests/{request_id}", status_code=303)


@pages.post("/requests/{request_id}/review", response_model=None)
def review_form(
    request: Request,
    request_id: Id,
    svc: ServicesDep,
    who: QueueDep,
    scope: Annotated[list[int] | None, Form()] = None,
    days: Annotated[int, Form(ge=1, le=180)] = 30,
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """档案管理员: submit the scope (records whose redactions were checked) for approval."""
    check_csrf(request, csrf)
    return _step(
        request,
        svc,
        request_id,
        lambda: access.review_request(svc, who.actor, request_id, scope or [], days, note),
    )


@pages.post("/requests/{request_id}/decision", response_model=None)
def decision_form(
    request: Request,
    request_id: Id,
    svc: ServicesDep,
    who: QueueDep,
    decision: Annotated[str, Form(pattern="^(approve|deny)$")],
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """负责人: approve or deny, with a written reason."""
    check_csrf(request, csrf)
    approve = decision == "approve"
    return _step(
        request, svc, request_id, lambda: access.decide_request(svc, who.actor, request_id, approve, reason)
    )


@pages.post("/requests/{request_id}/revoke", response_model=None)
def revoke_form(
    request: Request,
    request_id: Id,
    svc: ServicesDep,
    who: QueueDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """End the request's grant at once."""
    check_csrf(request, csrf)
    with Session(svc.engine) as s:
        req = s.get(AccessRequest, request_id)
        grant_id = req.grant.id if req is not None and req.grant is not None else None
    if grant_id is None:
        raise HTTPException(404, "该申请没有查阅授权")
    return _step(request, svc, request_id, lambda: access.revoke_grant(svc, who.actor, grant_id, reason))


@pages.post("/records/{record_id}/spans", response_model=None)
def spans_form(
    request: Request,
    record_id: Id,
    svc: ServicesDep,
    who: QueueDep,
    back: Annotated[int, Form()],
    text: Annotated[str, Form(max_length=500)] = "",
    kind: Annotated[str, Form(max_length=32)] = SpanKind.OTHER.value,
    dismiss: Annotated[list[int] | None, Form()] = None,
    restore: Annotated[list[int] | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """档案管理员: mark missed text, dismiss wrong detections, restore dismissed ones."""
    check_csrf(request, csrf)
    try:
        if text.strip():
            spans.mark_span(svc, who.actor, record_id, text, kind)
        if dismiss:
            spans.set_spans_active(svc, who.actor, record_id, dismiss, active=False)
        if restore:
            spans.set_spans_active(svc, who.actor, record_id, restore, active=True)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        return _render(request, "request.html", _request_context(svc, back, str(exc)), status_code=422)
    return RedirectResponse(f"/requests/{back}#record-{record_id}", status_code=303)


# ---- 审计 --------------------------------------------------------------------------------------


@pages.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    svc: ServicesDep,
    who: AuditorDep,
    q: AuditQueryDep,
    page: int = Query(1, ge=1, le=100_000),
) -> HTMLResponse:
    """审计日志: filters, the events newest first, the chain check and a CSV export."""
    total, rows = audit_log.read_log(svc, who.actor, q, limit=AUDIT_PAGE, offset=(page - 1) * AUDIT_PAGE)
    check = audit.verify(svc.engine)  # shown beside the page: part of the one reading
    params = {k: v for k, v in request.query_params.items() if v and k != "page"}
    return _render(
        request,
        "audit.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // AUDIT_PAGE)),
            "check": check,
            "params": params,
            "types": audit.EVENT_TYPES,
            "checked_at": datetime.now(UTC),
        },
    )
