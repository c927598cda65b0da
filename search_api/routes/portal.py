"""Party portal API (当事人): request access, follow it, read granted records — redacted only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from archive.access import (
    grant_state,
    requests_for,
)
from archive.models import AccessRequest
from archive.permissions import Action
from indexer.documents import SearchQuery
from pipelines.renditions import watermarked
from search_api.auth import Principal
from search_api.deps import (
    AccessDep,
    Id,
    IdItem,
    ServicesDep,
    allowed_to,
    background,
    check_csrf_header,
    get_principal,
)
from search_api.portal import (
    Granted,
    granted_records,
    linked_case_records,
)
from search_api.schemas import FacetOut, HitOut, SearchOut
from search_api.search import run_search
from search_api.services import access, records

router = APIRouter(prefix="/api/v1/portal", dependencies=[Depends(get_principal)], tags=["portal"])
PartyDep = Annotated[Principal, Depends(allowed_to(Action.REQUEST_ACCESS))]
csrf = [Depends(check_csrf_header)]


class CaseRecordOut(BaseModel):
    """A record of a linked case, as a party may see its title (to choose what to request)."""

    id: int
    title: str


class PortalCaseOut(BaseModel):
    """A case the party account is linked to."""

    case_no: str
    name: str
    status: str
    records: list[CaseRecordOut]


class PortalRequestIn(BaseModel):
    """A 查阅 request: a case, optionally chosen records, and the reason."""

    case_no: str = Field(min_length=1, max_length=64)
    record_ids: list[IdItem] | None = Field(default=None, max_length=1000)
    reason: str = Field(min_length=4, max_length=2000)


class PortalRequestOut(BaseModel):
    """The party's view of their request: its status at every step."""

    id: int
    case_no: str
    requested_records: list[int] | None
    reason: str
    status: str
    created_at: datetime
    reviewed_at: datetime | None
    decided_at: datetime | None
    decision_reason: str | None
    granted_records: list[int] | None
    expires_at: datetime | None
    grant_state: str | None


class PortalRecordOut(BaseModel):
    """A granted record, redacted."""

    id: int
    case_no: str
    title: str
    stage: str
    form: str
    document_type: str
    made_at: datetime | None
    expires_at: datetime
    text: str | None = None  # the redacted text (single-record view only)
    file_mime: str | None = None


def _request_out(r: AccessRequest) -> PortalRequestOut:
    g = r.grant
    return PortalRequestOut(
        id=r.id,
        case_no=r.case.case_no,
        requested_records=r.requested_records,
        reason=r.reason,
        status=r.status.value,
        created_at=r.created_at,
        reviewed_at=r.reviewed_at,
        decided_at=r.decided_at,
        decision_reason=r.decision_reason,
        granted_records=list(g.record_ids) if g else None,
        expires_at=g.expires_at if g else None,
        grant_state=grant_state(g) if g else None,
    )


@router.get("/cases", response_model=list[PortalCaseOut])
def my_cases(svc: ServicesDep, who: PartyDep) -> list[PortalCaseOut]:
    """Cases linked to this account, with the records one may ask to see (titles redacted)."""
    with Session(svc.engine) as s:
        return [
            PortalCaseOut(
                case_no=case.case_no,
                name=case.name,
                status=case.status.value,
                records=[CaseRecordOut(id=rid, title=title) for rid, title in records],
            )
            for case, records in linked_case_records(s, who.user_id)
        ]


@router.get("/requests", response_model=list[PortalRequestOut])
def my_requests(svc: ServicesDep, who: PartyDep) -> list[PortalRequestOut]:
    """The party's own requests, newest first, with where each stands."""
    with Session(svc.engine) as s:
        return [_request_out(r) for r in requests_for(session=s, actor=who.actor)]


@router.post("/requests", response_model=PortalRequestOut, status_code=201, dependencies=csrf)
def request_access(body: PortalRequestIn, svc: ServicesDep, who: PartyDep) -> PortalRequestOut:
    """Ask to view a case or chosen records (第二十八条: the 负责人 must agree first)."""
    request_id = access.request_access(svc, who.actor, body.case_no, body.record_ids, body.reason)
    with Session(svc.engine) as s:
        req = s.get(AccessRequest, request_id)
        assert req is not None
        return _request_out(req)


@router.post("/requests/{request_id}/withdraw", response_model=PortalRequestOut, dependencies=csrf)
def withdraw_request(request_id: Id, svc: ServicesDep, who: PartyDep) -> PortalRequestOut:
    """Withdraw a request not yet decided."""
    access.withdraw_request(svc, who.actor, request_id)
    with Session(svc.engine) as s:
        req = s.get(AccessRequest, request_id)
        assert req is not None
        return _request_out(req)


def _record_out(g: Granted, text: str | None = None, file_mime: str | None = None) -> PortalRecordOut:
    return PortalRecordOut(
        id=g.record_id,
        case_no=g.case_no,
        title=g.title,
        stage=g.stage,
        form=g.form,
        document_type=g.document_type,
        made_at=g.made_at,
        expires_at=g.expires_at,
        text=text,
        file_mime=file_mime,
    )


@router.get("/records", response_model=list[PortalRecordOut])
def my_records(svc: ServicesDep, who: PartyDep) -> list[PortalRecordOut]:
    """Every record an active grant gives this account, until the grant ends."""
    with Session(svc.engine) as s:
        return [_record_out(g) for g in granted_records(s, who.user_id)]


@router.get("/records/{record_id}", response_model=PortalRecordOut)
def my_record(record_id: Id, svc: ServicesDep, who: PartyDep) -> PortalRecordOut:
    """A granted record's redacted text."""
    granted, rendition = access.granted_rendition(svc, who.actor, record_id, "view")
    records.opened(svc, who.actor, record_id, rendition="redacted")
    return _record_out(granted, text=rendition.text, file_mime=rendition.file_mime)


@router.get("/records/{record_id}/file")
def my_record_file(record_id: Id, svc: ServicesDep, who: PartyDep) -> Response:
    """The redacted file, watermarked with the viewer's name and the time (audio: bleeped)."""
    _granted, rendition = access.granted_rendition(svc, who.actor, record_id, "download")
    data = watermarked(svc, rendition, who.display_name, datetime.now(UTC))
    records.opened(svc, who.actor, record_id, download=True, rendition="redacted-watermarked")
    return Response(
        data,
        media_type=rendition.file_mime,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(rendition.file_name)}",
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/search", response_model=SearchOut)
def search_mine(
    request: Request,
    svc: ServicesDep,
    who: PartyDep,
    access: AccessDep,
    q: str = Query(..., min_length=1, max_length=500),
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10000),
) -> SearchOut:
    """Search the redacted text of the records granted to this account. Records whose renditions
    are not made yet are counted in ``pending`` and made in the background (search again later)."""
    result = run_search(
        svc, SearchQuery(text=q, limit=limit, offset=offset), access, who, background(request)
    )
    return SearchOut(
        total=result.total,
        hits=[HitOut(**vars(h)) for h in result.hits],
        pending=len(result.pending),
        facets={k: [FacetOut(value=v, count=n) for v, n in vals] for k, vals in result.facets.items()},
    )
