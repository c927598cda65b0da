"""Audit API (负责人, 系统管理员): the filtered log, its CSV export and the chain check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from archive import audit
from archive.permissions import Action
from archive.timeutil import CST, from_db
from search_api.auth import Principal
from search_api.deps import ServicesDep, allowed_to, get_principal
from search_api.search import parse_day

router = APIRouter(prefix="/api/v1/audit", dependencies=[Depends(get_principal)], tags=["audit"])
AuditorDep = Annotated[Principal, Depends(allowed_to(Action.READ_AUDIT))]


class AuditEventOut(BaseModel):
    """One audit event."""

    seq: int
    at: datetime
    event_type: str
    label: str
    actor: str
    actor_role: str
    object: str
    outcome: str
    ip: str
    detail: dict[str, Any]
    hash: str


class AuditPageOut(BaseModel):
    """A page of the log, newest first."""

    total: int
    events: list[AuditEventOut]


class VerifyOut(BaseModel):
    """Whether the chain is intact, and the first broken link if not."""

    ok: bool
    events: int
    head_seq: int
    head_hash: str
    broken_seq: int | None
    reason: str


def audit_query(
    event_type: Annotated[str | None, Query(alias="type", max_length=32, description="事件类型")] = None,
    actor: Annotated[str | None, Query(max_length=64, description="操作人用户名")] = None,
    object: Annotated[str | None, Query(max_length=255, description="对象（包含）")] = None,
    outcome: Annotated[str | None, Query(description="结果：ok / denied / failed")] = None,
    since: Annotated[str | None, Query(alias="from", description="起始日期（含），YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(alias="to", description="截止日期（含），YYYY-MM-DD")] = None,
) -> audit.AuditQuery:
    """The filters of the audit view (Beijing dates)."""
    if event_type and event_type not in audit.EVENT_TYPES:
        raise HTTPException(400, f"未知事件类型：{event_type}")
    if outcome and outcome not in audit.OUTCOMES:
        raise HTTPException(400, f"未知结果：{outcome}（可选：ok、denied、failed）")
    start, end = parse_day(since, "起始日期"), parse_day(until, "截止日期")
    return audit.AuditQuery(
        event_type=event_type or None,
        actor=actor or None,
        object=object or None,
        outcome=outcome or None,
        since=datetime.combine(start, datetime.min.time(), CST) if start else None,
        until=datetime.combine(end + timedelta(days=1), datetime.min.time(), CST) if end else None,
    )


AuditQueryDep = Annotated[audit.AuditQuery, Depends(audit_query)]


@router.get("", response_model=AuditPageOut)
def list_events(
    svc: ServicesDep,
    who: AuditorDep,
    q: AuditQueryDep,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> AuditPageOut:
    """The audit log, filtered, newest first."""
    total, rows = audit.query(svc.engine, q, limit=limit, offset=offset)
    audit.record(svc.engine, "audit_view", who.actor, "audit", filters=_filters(q))
    return AuditPageOut(
        total=total,
        events=[
            AuditEventOut(
                seq=e.seq,
                at=from_db(e.at) or e.at,
                event_type=e.event_type,
                label=audit.EVENT_TYPES.get(e.event_type, e.event_type),
                actor=e.actor,
                actor_role=e.actor_role,
                object=e.object,
                outcome=e.outcome,
                ip=e.ip,
                detail=e.detail or {},
                hash=e.hash,
            )
            for e in rows
        ],
    )


def _filters(q: audit.AuditQuery) -> dict[str, str]:
    return {k: str(v) for k, v in vars(q).items() if v is not None}


@router.get("/export.csv")
def export_csv(svc: ServicesDep, who: AuditorDep, q: AuditQueryDep) -> StreamingResponse:
    """The filtered log as CSV (UTF-8 with BOM), oldest first, with each event's hashes."""
    audit.record(svc.engine, "audit_export", who.actor, "audit", filters=_filters(q))
    return StreamingResponse(
        audit.csv_rows(svc.engine, q),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''audit.csv"},
    )


@router.get("/verify", response_model=VerifyOut)
def verify_chain(svc: ServicesDep, who: AuditorDep) -> VerifyOut:
    """Check the whole hash chain; names the first event that was changed, deleted or inserted."""
    result = audit.verify(svc.engine)
    audit.record(svc.engine, "audit_view", who.actor, "audit:verify", ok=result.ok)
    return VerifyOut(**result.as_dict())
