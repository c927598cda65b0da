"""Audit API (负责人, 系统管理员): the filtered log, its CSV export and the chain check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from archive import audit
from archive.permissions import Action
from search_api.auth import Principal
from search_api.deps import AuditQueryDep, ServicesDep, allowed_to, get_principal
from search_api.services import audit_log

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


@router.get("", response_model=AuditPageOut)
def list_events(
    svc: ServicesDep,
    who: AuditorDep,
    q: AuditQueryDep,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> AuditPageOut:
    """The audit log, filtered, newest first."""
    total, rows = audit_log.read_log(svc, who.actor, q, limit=limit, offset=offset)
    return AuditPageOut(
        total=total,
        events=[
            AuditEventOut(
                seq=e.seq,
                at=e.at,
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


@router.get("/export.csv")
def export_csv(svc: ServicesDep, who: AuditorDep, q: AuditQueryDep) -> StreamingResponse:
    """The filtered log as CSV (UTF-8 with BOM), oldest first, with each event's hashes."""
    return StreamingResponse(
        audit_log.export_log(svc, who.actor, q),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''audit.csv"},
    )


@router.get("/verify", response_model=VerifyOut)
def verify_chain(svc: ServicesDep, who: AuditorDep) -> VerifyOut:
    """Check the whole hash chain; names the first event that was changed, deleted or inserted."""
    result = audit_log.verify_chain(svc, who.actor)
    return VerifyOut(**result.as_dict())
