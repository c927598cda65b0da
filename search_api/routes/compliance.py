"""Compliance API: findings under the record-keeping rules, and the dated steps of a case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Case, CaseEvent, EventKind, Severity
from archive.permissions import Action
from pipelines.compliance import current, finding_fields, today_local
from pipelines.queue import failed_jobs
from search_api.deps import (
    AccessDep,
    PrincipalDep,
    ServicesDep,
    allowed_to,
    check_csrf_header,
    get_principal,
)
from search_api.services import cases
from search_api.services.integrity import run_fixity

StaffDep = Annotated[object, Depends(allowed_to(Action.USE_STAFF_PAGES))]
router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_principal)], tags=["compliance"])


class FindingOut(BaseModel):
    """A rule a case breaks now."""

    case_no: str
    rule_id: str
    article: str
    severity: str
    message: str
    evidence: dict[str, Any]
    record_id: int | None
    event_id: int | None
    historical: bool = Field(description="导入的历史卷宗的发现：仅供参考，不计入违规")


class EventIn(BaseModel):
    """A dated step of a case."""

    case_no: str = Field(max_length=64)
    kind: EventKind
    occurred_at: datetime
    note: str | None = Field(default=None, max_length=2000)
    av_exempt: bool = False


class EventOut(BaseModel):
    """A recorded step."""

    id: int
    case_no: str
    kind: str
    occurred_at: datetime
    note: str | None
    av_exempt: bool


def _visible_case_nos(svc: ServicesDep, access: AccessDep, case: str | None) -> list[str]:
    with Session(svc.engine) as s:
        query = select(Case.case_no)
        if case is not None:
            query = query.where(Case.case_no == case)
        if access.case_nos is not None:
            query = query.where(Case.case_no.in_(access.case_nos))
        found = list(s.scalars(query))
    if case is not None and not found:
        raise HTTPException(404, "案件不存在或无权查看")
    return found


@router.get("/findings", response_model=list[FindingOut])
def findings(
    svc: ServicesDep,
    access: AccessDep,
    _who: StaffDep,
    case: Annotated[str | None, Query(max_length=64, description="案号；不填为全部案件")] = None,
    severity: Annotated[Severity | None, Query(description="违规 / 提醒")] = None,
) -> list[FindingOut]:
    """Findings of the visible cases, recomputed (deadlines count from today)."""
    out = []
    for result in current(svc, _visible_case_nos(svc, access, case), today=today_local()):
        for f in result.findings:
            if severity is None or f.severity is severity:
                out.append(FindingOut(case_no=result.case_no, **finding_fields(f, result.legacy)))
    return out


class FixityOut(BaseModel):
    """Every stored original and derived file re-hashed."""

    checked: int
    originals: int
    derived: int
    mismatches: list[dict[str, Any]]


@router.get(
    "/fixity",
    response_model=FixityOut,
    dependencies=[Depends(allowed_to(Action.SEE_OVERSIGHT))],
)
def fixity_check(svc: ServicesDep, who: PrincipalDep) -> FixityOut:
    """Re-hash every stored original and derived file against its recorded SHA-256 (reads every
    file: slow on a large archive; `archive fixity` does the same from the command line)."""
    checks = run_fixity(svc, who.actor)
    originals = sum(c.role == "original" for c in checks)
    return FixityOut(
        checked=len(checks),
        originals=originals,
        derived=len(checks) - originals,
        mismatches=[vars(c) | {"ok": c.ok} for c in checks if not c.ok],
    )


class FailedJobOut(BaseModel):
    """A processing job that failed, and why."""

    record_id: int
    title: str
    attempts: int
    error: str


@router.get(
    "/jobs/failed",
    response_model=list[FailedJobOut],
    dependencies=[Depends(allowed_to(Action.SEE_OVERSIGHT))],
)
def failed(svc: ServicesDep) -> list[FailedJobOut]:
    """Every failed processing job with its reason (re-run with `archive retry`)."""
    return [FailedJobOut(record_id=r, title=t, attempts=a, error=e) for r, t, a, e in failed_jobs(svc)]


@router.get("/events", response_model=list[EventOut])
def events(
    svc: ServicesDep,
    access: AccessDep,
    _who: StaffDep,
    case: Annotated[str, Query(max_length=64, description="案号")],
) -> list[EventOut]:
    """The recorded steps of a case, in order."""
    (case_no,) = _visible_case_nos(svc, access, case)
    with Session(svc.engine) as s:
        rows = s.execute(
            select(CaseEvent)
            .join(Case)
            .where(Case.case_no == case_no)
            .order_by(CaseEvent.occurred_at, CaseEvent.id)
        ).scalars()
        return [
            EventOut(
                id=e.id,
                case_no=case_no,
                kind=e.kind.value,
                occurred_at=e.occurred_at,
                note=e.note,
                av_exempt=e.av_exempt,
            )
            for e in rows
        ]


@router.post(
    "/events",
    response_model=EventOut,
    status_code=201,
    dependencies=[Depends(check_csrf_header), Depends(allowed_to(Action.RECORD_ACTIVITY))],
)
def create_event(body: EventIn, svc: ServicesDep, access: AccessDep, who: PrincipalDep) -> EventOut:
    """Record a step (立案, 询问, 送达, 执行终结 …); the case's findings are recomputed (audited)."""
    event_id = cases.record_activity(
        svc,
        who.actor,
        access,
        body.case_no,
        body.kind,
        body.occurred_at,
        note=body.note,
        av_exempt=body.av_exempt,
    )
    return next(e for e in events(svc, access, None, body.case_no) if e.id == event_id)
