"""Fixity over every stored file, and derived files made again: each run is one audit event."""

from __future__ import annotations

from collections.abc import Sequence

from archive import audit
from archive.actor import Actor
from archive.permissions import Action
from pipelines.context import Services
from pipelines.integrity import FileCheck, damaged_derived, fixity, reset_for_rederive
from search_api.services import require


def run_fixity(svc: Services, who: Actor, *, derived: bool = True) -> list[FileCheck]:
    """Re-hash every original (and derived file) now (audited ``fixity`` with the result)."""
    require(who, Action.SEE_OVERSIGHT)
    checks = fixity(svc, derived=derived)
    bad = [c for c in checks if not c.ok]
    outcome = "ok" if not bad else "failed"
    detail = {"checked": len(checks), "mismatches": len(bad), "derived": derived}
    audit.record(svc.engine, "fixity", who, "archive", outcome, **detail)
    return checks


def rederive(
    svc: Services, who: Actor, record_ids: Sequence[int] = (), *, missing: bool = False
) -> tuple[list[int], list[int]]:
    """Make the derived files of ``record_ids`` (with ``missing``: of every record whose derived
    file is missing or damaged) again from their originals; returns (queued, skipped). The
    caller runs the queued jobs. Each queued record is audited ``rederive``."""
    require(who, Action.REPAIR_FILES)
    ids = list(record_ids)
    if missing:
        ids += damaged_derived(fixity(svc))
    reset, skipped = reset_for_rederive(svc, ids)
    for rid in reset:
        audit.record(svc.engine, "rederive", who, f"record:{rid}", missing=missing)
    return reset, skipped
