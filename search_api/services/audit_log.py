"""Reading the audit log (负责人, 系统管理员): every reading and export is itself audited."""

from __future__ import annotations

from collections.abc import Iterator

from archive import audit
from archive.actor import Actor
from archive.models import AuditEvent
from archive.permissions import Action
from pipelines.context import Services
from search_api.services import require


def _filters(q: audit.AuditQuery) -> dict[str, str]:
    return {k: str(v) for k, v in vars(q).items() if v is not None}


def read_log(
    svc: Services, who: Actor, q: audit.AuditQuery, *, limit: int, offset: int
) -> tuple[int, list[AuditEvent]]:
    """A page of the filtered log, newest first, and the count of all it matches (audited)."""
    require(who, Action.READ_AUDIT)
    total, rows = audit.query(svc.engine, q, limit=limit, offset=offset)
    audit.record(svc.engine, "audit_view", who, "audit", filters=_filters(q), offset=offset)
    return total, list(rows)


def export_log(svc: Services, who: Actor, q: audit.AuditQuery, **detail: str) -> Iterator[str]:
    """The filtered log as CSV chunks, oldest first, with each event's hashes (audited)."""
    require(who, Action.READ_AUDIT)
    audit.record(svc.engine, "audit_export", who, "audit", filters=_filters(q), **detail)
    return audit.csv_rows(svc.engine, q)


def verify_chain(svc: Services, who: Actor) -> audit.Verification:
    """Check the whole hash chain (audited)."""
    require(who, Action.READ_AUDIT)
    result = audit.verify(svc.engine)
    audit.record(svc.engine, "audit_view", who, "audit:verify", ok=result.ok)
    return result
