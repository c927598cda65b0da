"""Closed paper dossiers brought in: upload, the proposed split, the archivist's review, confirm,
then the 件 read and the case filed as a legacy dossier (``pipelines.legacy``).

Each action checks the permission table (``import_dossier``: archivists) and writes its audit
event (``dossier_import``, with the step in ``detail``); filing is the usual ``dossier_file``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive import audit
from archive.actor import Actor
from archive.db import session_scope
from archive.models import Dossier, DossierImport
from archive.permissions import Action
from indexer.documents import AccessFilter
from pipelines.context import Services
from pipelines.legacy import imports
from pipelines.legacy.catalog import CatalogError
from pipelines.legacy.propose import DossierError, Proposal, propose
from pipelines.legacy.register import PlanError
from pipelines.legacy.source import SourceError
from search_api.services import Conflict, NotFound, ServiceError, cases, require

NO_IMPORT = "没有这个卷宗导入"
LIST_LIMIT = 200


class PlanProblems(ServiceError):
    """The reviewed plan cannot be imported; ``problems`` names each reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


def preview(who: Actor, path: Path, catalog: Path | None = None) -> Proposal:
    """The split a dossier would get, read now; nothing is kept (``--dry-run``)."""
    require(who, Action.IMPORT_DOSSIER)
    try:
        proposal = propose(path, catalog)
    except (DossierError, SourceError, CatalogError) as exc:
        raise ServiceError(str(exc)) from None
    proposal.source = path.name
    return proposal


def upload(
    svc: Services,
    who: Actor,
    path: Path,
    *,
    name: str,
    catalog: Path | None = None,
    catalog_name: str = "",
) -> int:
    """Keep an uploaded dossier scan (and its catalog spreadsheet) for import; returns the
    import's id. Reading it is ``propose_now``'s (slow: run it off the request)."""
    require(who, Action.IMPORT_DOSSIER)
    try:
        import_id = imports.stage(
            svc, path, name=name, by=who.shown_name, catalog=catalog, catalog_name=catalog_name
        )
    except SourceError as exc:
        raise ServiceError(str(exc)) from None
    row = imports.get(svc, import_id)
    audit.record(
        svc.engine,
        "dossier_import",
        who,
        f"import:{import_id}",
        step="upload",
        file=name,
        sha256=row.source_sha256,
        catalog=row.catalog_name,
    )
    return import_id


def propose_now(svc: Services, import_id: int) -> DossierImport:
    """Read an uploaded dossier and propose its split (the system's work, after ``upload``)."""
    return imports.run_proposal(svc, import_id)


def get(svc: Services, who: Actor, import_id: int) -> DossierImport:
    """One import, for its review page."""
    require(who, Action.IMPORT_DOSSIER)
    try:
        return imports.get(svc, import_id)
    except imports.ImportStateError:
        raise NotFound(NO_IMPORT) from None


def page_image(svc: Services, who: Actor, import_id: int, index: int) -> bytes:
    """Page ``index`` (0-based) of an import's scan, small, for its review page."""
    row = get(svc, who, import_id)
    try:
        return imports.page_png(svc, row, index)
    except imports.ImportStateError as exc:
        raise NotFound(str(exc)) from None


def recent(svc: Services, who: Actor) -> list[DossierImport]:
    """The latest imports, newest first."""
    require(who, Action.IMPORT_DOSSIER)
    with session_scope(svc.engine) as s:
        rows = list(s.scalars(select(DossierImport).order_by(DossierImport.id.desc()).limit(LIST_LIMIT)))
        s.expunge_all()
    return rows


def review(svc: Services, who: Actor, import_id: int, proposal: dict[str, Any]) -> list[str]:
    """Keep the archivist's edits (a boundary moved, a field corrected, catalog pages dropped);
    returns what still keeps the dossier from import (audited with what changed)."""
    row = get(svc, who, import_id)
    try:
        problems = imports.save_review(svc, import_id, proposal)
    except imports.ImportStateError as exc:
        raise Conflict(str(exc)) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceError(f"核对内容格式不对（{exc}）") from None
    changed = _changes(row.proposal or {}, proposal)
    audit.record(svc.engine, "dossier_import", who, f"import:{import_id}", step="review", changed=changed)
    return problems


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What the review changed, as short labels (for the audit trail)."""
    out = [
        f"封面.{k}"
        for k in sorted(set(before.get("cover", {})) | set(after.get("cover", {})))
        if (before.get("cover") or {}).get(k) != (after.get("cover") or {}).get(k)
    ]
    if before.get("catalog_pages") != after.get("catalog_pages"):
        out.append("卷内目录页")
    old = {p["seq"]: p for p in before.get("pieces") or []}
    for p in after.get("pieces") or []:
        was = old.get(p.get("seq"), {})
        out += [f"第{p.get('seq')}件.{k}" for k in sorted(p) if was.get(k) != p.get(k)]
    return out[:100]


@dataclass(frozen=True)
class Confirmed:
    """A confirmed import: its case and the records of its 件."""

    import_id: int
    case_no: str
    record_ids: list[int]


def confirm(svc: Services, who: Actor, import_id: int, case_no: str | None = None) -> Confirmed:
    """Register the reviewed dossier: the case with its historical dates, one record per 件
    (audited). PlanProblems lists what is wrong; nothing is written then."""
    get(svc, who, import_id)
    try:
        done = imports.confirm(svc, import_id, case_no)
    except PlanError as exc:
        audit.record(
            svc.engine,
            "dossier_import",
            who,
            f"import:{import_id}",
            "denied",
            step="confirm",
            reason=str(exc)[:500],
        )
        raise PlanProblems(exc.problems) from None
    except imports.ImportStateError as exc:
        raise Conflict(str(exc)) from None
    row = imports.get(svc, import_id)
    audit.record(
        svc.engine,
        "dossier_import",
        who,
        f"case:{done.case_no}",
        step="confirm",
        import_id=import_id,
        source=row.source_name,
        sha256=row.source_sha256,
        pieces=len(done.record_ids),
    )
    return Confirmed(import_id, done.case_no, done.record_ids)


def finish(
    svc: Services,
    who: Actor,
    reach: AccessFilter,
    import_id: int,
    on_done: Callable[[int, int], None] | None = None,
) -> Dossier:
    """Read every 件 of a confirmed import (OCR, index, rules), then file the case with the
    retention and 立卷人 of its cover (audited ``dossier_file``). Picks up where a stopped run
    left off."""
    row = get(svc, who, import_id)
    if row.status == imports.Status.IMPORTING and not row.case_no:
        if imports.recover(svc, import_id) is None:
            raise Conflict("该导入的登记没有完成：请重新确认导入")
        row = imports.get(svc, import_id)
    if row.status != imports.Status.IMPORTING or not row.case_no:
        raise Conflict(f"该导入{imports.Status(row.status).label}，没有待完成的导入")
    plan = imports.plan_of(row)
    assert plan.retention is not None  # checked when it was confirmed
    try:
        imports.process(svc, import_id, on_done)
        dossier = cases.file_case(svc, who, reach, row.case_no, plan.retention, plan.archivist)
    except ServiceError as exc:
        imports.mark_stuck(svc, import_id, str(exc))
        raise
    imports.mark_filed(svc, import_id)
    return dossier


def abandon(svc: Services, who: Actor, import_id: int) -> None:
    """Give up an import that was not confirmed (audited)."""
    get(svc, who, import_id)
    try:
        imports.abandon(svc, import_id)
    except imports.ImportStateError as exc:
        raise Conflict(str(exc)) from None
    audit.record(svc.engine, "dossier_import", who, f"import:{import_id}", step="abandon")


def unfinished(svc: Services) -> tuple[list[int], list[int]]:
    """Imports a stopped server left (to read, to finish) — for the server's start."""
    return imports.unfinished(svc)
