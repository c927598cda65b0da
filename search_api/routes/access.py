"""Access API for staff: the 查阅 queue (review, decide, revoke), sensitive spans, redaction
preview, case assignment, party links and witnesses (第二十八条)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from archive.access import (
    grant_state,
    requests_for,
)
from archive.models import AccessGrant, AccessRequest, SpanKind, User
from archive.permissions import Action
from pipelines.detect import MediaFamily, family_of
from pipelines.redaction import PDFIUM_LOCK, rendition_page
from pipelines.renditions import (
    RenditionError,
    prepare,
)
from pipelines.sensitive import spans_of
from search_api.auth import Principal
from search_api.deps import (
    AccessDep,
    Id,
    IdItem,
    ServicesDep,
    VisibleRecordDep,
    allowed_to,
    check_csrf_header,
    get_principal,
)
from search_api.services import access, cases, records, spans

router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_principal)], tags=["access"])
csrf = [Depends(check_csrf_header)]
QueueDep = Annotated[Principal, Depends(allowed_to(Action.SEE_OVERSIGHT))]
ArchivistDep = Annotated[Principal, Depends(allowed_to(Action.REVIEW_REQUEST))]
LeaderDep = Annotated[Principal, Depends(allowed_to(Action.DECIDE_REQUEST))]
RevokerDep = Annotated[Principal, Depends(allowed_to(Action.REVOKE_GRANT))]
SpanEditorDep = Annotated[Principal, Depends(allowed_to(Action.EDIT_SPANS))]
CaseAdminDep = Annotated[Principal, Depends(allowed_to(Action.ASSIGN_OFFICER))]
LinkerDep = Annotated[Principal, Depends(allowed_to(Action.LINK_PARTY))]


class GrantOut(BaseModel):
    """查阅授权."""

    id: int
    record_ids: list[int]
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    state: str


class RequestOut(BaseModel):
    """查阅申请 with its status at every step."""

    id: int
    case_no: str
    requester: str
    requested_records: list[int] | None
    reason: str
    status: str
    scope: list[int] | None
    days: int
    review_note: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    decided_at: datetime | None
    created_at: datetime
    grant: GrantOut | None


def grant_out(g: AccessGrant) -> GrantOut:
    """API view of a grant."""
    return GrantOut(
        id=g.id,
        record_ids=list(g.record_ids),
        granted_by=g.granted_by,
        granted_at=g.granted_at,
        expires_at=g.expires_at,
        revoked_at=g.revoked_at,
        revoked_by=g.revoked_by,
        revoke_reason=g.revoke_reason,
        state=grant_state(g),
    )


def request_out(s: Session, r: AccessRequest) -> RequestOut:
    """API view of a request."""
    requester = s.get(User, r.requester_id)
    return RequestOut(
        id=r.id,
        case_no=r.case.case_no,
        requester=requester.display_name if requester else "",
        requested_records=r.requested_records,
        reason=r.reason,
        status=r.status.value,
        scope=r.scope,
        days=r.days,
        review_note=r.review_note,
        reviewed_by=r.reviewed_by,
        reviewed_at=r.reviewed_at,
        decided_by=r.decided_by,
        decision_reason=r.decision_reason,
        decided_at=r.decided_at,
        created_at=r.created_at,
        grant=grant_out(r.grant) if r.grant else None,
    )


@router.get("/access/requests", response_model=list[RequestOut])
def list_requests(svc: ServicesDep, who: QueueDep) -> list[RequestOut]:
    """Every 查阅 request, newest first (档案管理员, 负责人, 系统管理员)."""
    with Session(svc.engine) as s:
        return [request_out(s, r) for r in requests_for(session=s, actor=who.actor)]


@router.get("/access/requests/{request_id}", response_model=RequestOut)
def get_request(request_id: Id, svc: ServicesDep, who: QueueDep) -> RequestOut:
    """One request with its proposed scope and decision."""
    with Session(svc.engine) as s:
        req = s.get(AccessRequest, request_id)
        if req is None:
            raise HTTPException(404, "查阅申请不存在")
        return request_out(s, req)


class ReviewIn(BaseModel):
    """The archivist's scope: records to release (redactions checked) and for how many days."""

    scope: list[IdItem] = Field(min_length=1, max_length=1000)
    days: int = Field(default=30, ge=1, le=180)
    note: str = Field(default="", max_length=2000)


class DecisionIn(BaseModel):
    """The 负责人's decision, with a written reason."""

    approve: bool
    reason: str = Field(min_length=2, max_length=2000)


class RevokeIn(BaseModel):
    """Why a grant ends early."""

    reason: str = Field(min_length=2, max_length=2000)


@router.post("/access/requests/{request_id}/review", response_model=RequestOut, dependencies=csrf)
def review_request(request_id: Id, body: ReviewIn, svc: ServicesDep, who: ArchivistDep) -> RequestOut:
    """档案管理员: set the records to release and the grant's length (→ 待审批)."""
    access.review_request(svc, who.actor, request_id, body.scope, body.days, body.note)
    return get_request(request_id, svc, who)


@router.post("/access/requests/{request_id}/decision", response_model=RequestOut, dependencies=csrf)
def decide_request(request_id: Id, body: DecisionIn, svc: ServicesDep, who: LeaderDep) -> RequestOut:
    """负责人: approve (a grant starts now) or deny, with a reason (第二十八条)."""
    access.decide_request(svc, who.actor, request_id, body.approve, body.reason)
    return get_request(request_id, svc, who)


@router.post("/access/grants/{grant_id}/revoke", response_model=GrantOut, dependencies=csrf)
def revoke_grant(grant_id: Id, body: RevokeIn, svc: ServicesDep, who: RevokerDep) -> GrantOut:
    """End a grant at once; the party loses access with their next request."""
    access.revoke_grant(svc, who.actor, grant_id, body.reason)
    with Session(svc.engine) as s:
        grant = s.get(AccessGrant, grant_id)
        assert grant is not None
        return grant_out(grant)


class SpanOut(BaseModel):
    """A sensitive span of a record's text."""

    id: int
    kind: str
    start: int
    end: int
    text: str
    source: str
    active: bool


class SpanIn(BaseModel):
    """Mark text as sensitive (every occurrence in the record)."""

    text: str = Field(min_length=1, max_length=500)
    kind: SpanKind = SpanKind.OTHER


class SpanToggleIn(BaseModel):
    """Dismiss (active false) or restore spans."""

    ids: list[IdItem] = Field(min_length=1, max_length=10000)
    active: bool


@router.get("/records/{record_id}/spans", response_model=list[SpanOut])
def record_spans(record: VisibleRecordDep, svc: ServicesDep, who: QueueDep) -> list[SpanOut]:
    """The record's sensitive spans, detected and marked (档案管理员, 负责人, 系统管理员): the hidden
    values themselves, so every read is audited."""
    out = _spans(svc, record.id)
    records.opened(svc, who.actor, record.id, file="spans", spans=len(out))
    return out


def _spans(svc: ServicesDep, record_id: int) -> list[SpanOut]:
    with Session(svc.engine) as s:
        return [SpanOut(**vars(v)) for v in spans_of(s, record_id)]


@router.post("/records/{record_id}/spans", response_model=list[SpanOut], status_code=201, dependencies=csrf)
def mark_span(record: VisibleRecordDep, body: SpanIn, svc: ServicesDep, who: SpanEditorDep) -> list[SpanOut]:
    """档案管理员: mark text the automatic detection missed."""
    spans.mark_span(svc, who.actor, record.id, body.text, body.kind.value)
    return _spans(svc, record.id)


@router.post("/records/{record_id}/spans/active", response_model=list[SpanOut], dependencies=csrf)
def toggle_spans(
    record: VisibleRecordDep, body: SpanToggleIn, svc: ServicesDep, who: SpanEditorDep
) -> list[SpanOut]:
    """档案管理员: dismiss a wrong detection, or restore it."""
    spans.set_spans_active(svc, who.actor, record.id, body.ids, body.active)
    return _spans(svc, record.id)


class PreviewOut(BaseModel):
    """The redacted rendition as a party would get it."""

    record_id: int
    title: str
    text: str
    spans: int


@router.get("/records/{record_id}/redacted", response_model=PreviewOut)
def redacted_preview(record: VisibleRecordDep, svc: ServicesDep, who: QueueDep) -> PreviewOut:
    """Preview of the redacted text (the review step checks it before release)."""
    try:
        r = prepare(svc, record.id)
    except RenditionError as exc:
        raise HTTPException(409, str(exc)) from None
    records.opened(svc, who.actor, record.id, rendition="redacted-preview")
    return PreviewOut(record_id=r.record_id, title=r.title, text=r.text, spans=r.spans)


@router.get("/records/{record_id}/redacted/file")
def redacted_preview_file(record: VisibleRecordDep, svc: ServicesDep, who: QueueDep) -> Response:
    """The redacted file itself (page images with boxes, or bleeped audio), for the review."""
    try:
        r = prepare(svc, record.id)
    except RenditionError as exc:
        raise HTTPException(409, str(exc)) from None
    records.opened(svc, who.actor, record.id, download=True, rendition="redacted-preview")
    data = b"".join(svc.store.iter_bytes(r.file_sha256))
    return Response(data, media_type=r.file_mime, headers={"Cache-Control": "private, no-store"})


class ReleaseFindingOut(BaseModel):
    """What the release gate read in a rendition that must not be released."""

    what: str
    value: str
    where: str


class ReleasePreviewOut(BaseModel):
    """A record as the requester would receive it, and the release gate's verdict."""

    record_id: int
    title: str
    text: str
    spans: int
    tag: str
    passed: bool
    reason: str | None
    findings: list[ReleaseFindingOut]
    file_mime: str
    pages: int  # pages of a PDF rendition (0 for sound and images)


@router.get("/access/requests/{request_id}/records/{record_id}/preview", response_model=ReleasePreviewOut)
def request_record_preview(
    request_id: Id, record_id: Id, svc: ServicesDep, who: QueueDep
) -> ReleasePreviewOut:
    """The record as this request's party would get it, made and checked by the release gate (the
    first time: OCR of every page, re-transcription of sound). Opening it counts as the
    archivist's preview, which the review requires for every record released."""
    r = access.release_preview(svc, who.actor, request_id, record_id)
    return ReleasePreviewOut(
        record_id=r.record_id,
        title=r.title,
        text=r.text,
        spans=r.spans,
        tag=r.tag,
        passed=r.passed,
        reason=r.reason,
        findings=[ReleaseFindingOut(**f) for f in r.findings],
        file_mime=r.file_mime,
        pages=access.rendition_pages(svc, r),
    )


@router.get("/access/requests/{request_id}/records/{record_id}/preview/file")
def request_record_preview_file(request_id: Id, record_id: Id, svc: ServicesDep, who: QueueDep) -> Response:
    """The file of that rendition (page images with boxes, or the bleeped sound), unwatermarked."""
    r = access.release_preview(svc, who.actor, request_id, record_id)
    data = b"".join(svc.store.iter_bytes(r.file_sha256))
    return Response(data, media_type=r.file_mime, headers={"Cache-Control": "private, no-store"})


@router.get("/access/requests/{request_id}/records/{record_id}/preview/pages/{page}")
def request_record_preview_page(
    request_id: Id,
    record_id: Id,
    page: Annotated[int, PathParam(ge=1, le=100_000)],
    svc: ServicesDep,
    who: QueueDep,
) -> Response:
    """Page ``page`` (from 1) of that rendition as a JPEG (its burned-in page image), for the review."""
    r = access.release_preview(svc, who.actor, request_id, record_id)
    if family_of(r.file_mime) is not MediaFamily.PDF:
        raise HTTPException(404, "该脱敏件不是分页文件")
    data = b"".join(svc.store.iter_bytes(r.file_sha256))
    with PDFIUM_LOCK:
        image = rendition_page(data, page - 1)
    if image is None:
        raise HTTPException(404, "没有这一页")
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


class ReleaseModeIn(BaseModel):
    """How a recording is released: its bleeped sound, or its redacted transcript only."""

    mode: Literal["full", "transcript"]


@router.post("/access/requests/{request_id}/records/{record_id}/mode", status_code=204, dependencies=csrf)
def request_record_mode(
    request_id: Id, record_id: Id, body: ReleaseModeIn, svc: ServicesDep, who: ArchivistDep
) -> Response:
    """档案管理员: release a recording as its redacted transcript only (or whole again)."""
    access.change_release_mode(svc, who.actor, request_id, record_id, body.mode)
    return Response(status_code=204)


class AssignIn(BaseModel):
    """Assign an officer (by user name) to a case."""

    username: str = Field(min_length=1, max_length=64)


class PartyLinkIn(BaseModel):
    """Link a party account to a 当事人 of the case after checking their ID."""

    username: str = Field(min_length=1, max_length=64)
    party_name: str = Field(min_length=1, max_length=255)
    id_checked: str = Field(min_length=2, max_length=255, description="核验方式，如：身份证原件核验")


class WitnessIn(BaseModel):
    """A person other than the party named in the case (redacted for parties)."""

    name: str = Field(min_length=2, max_length=64)
    relation: str = Field(default="证人", max_length=32)


@router.post("/cases/{case_no}/assignments", status_code=204, dependencies=csrf)
def assign_officer(
    case_no: str, body: AssignIn, svc: ServicesDep, who: CaseAdminDep, reach: AccessDep
) -> Response:
    """Assign an officer to a case (they see it from then on)."""
    cases.assign_officer(svc, who.actor, reach, case_no, body.username)
    return Response(status_code=204)


@router.post("/cases/{case_no}/party-links", status_code=204, dependencies=csrf)
def link_party_account(
    case_no: str, body: PartyLinkIn, svc: ServicesDep, who: LinkerDep, reach: AccessDep
) -> Response:
    """Link a party account to the case's 当事人 (the officer checked their ID in person)."""
    cases.link_party_account(svc, who.actor, reach, case_no, body.username, body.party_name, body.id_checked)
    return Response(status_code=204)


@router.post("/cases/{case_no}/witnesses", status_code=204, dependencies=csrf)
def add_witness(
    case_no: str, body: WitnessIn, svc: ServicesDep, who: LinkerDep, reach: AccessDep
) -> Response:
    """Name a witness of the case; their name is hidden from parties (re-detection follows)."""
    cases.add_witness(svc, who.actor, reach, case_no, body.name, body.relation)
    return Response(status_code=204)
