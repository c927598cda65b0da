"""A paper dossier's way in, one ``DossierImport`` row from upload to filing:

    staged (the scan, and a catalog spreadsheet if given, stored as uploaded)
    → proposing → ready (the split proposed; the archivist reviews and edits it) | refused
    → importing (confirmed: the case and its 件 registered, the 件 being read) → filed

Every state is in the database, so a server that stops while a dossier is being read or
imported picks it up again (``resume``). The actor-level steps (permission, audit) are in
``search_api.services.legacy``.
"""

from __future__ import annotations

import enum
import io
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, select, update

from archive.db import session_scope
from archive.models import Case, DossierImport, Job, JobStatus, Record
from archive.storage import hash_file
from pipelines.context import Services
from pipelines.detect import detect_mime
from pipelines.legacy import files
from pipelines.legacy.catalog import CatalogError
from pipelines.legacy.plan import Plan, plan_from, problems
from pipelines.legacy.propose import DossierError, propose
from pipelines.legacy.register import PlanError, Registered, register
from pipelines.legacy.source import PDFIUM, SourceError, as_pdf, images_to_pdf, page_images

log = logging.getLogger(__name__)


# The source of a folder of files: a JSON list of its files, each stored as it came
MANIFEST_MIME = "application/vnd.archive.dossier-folder+json"


class Status(enum.StrEnum):
    """Where an import is; the value is stored, the label shown."""

    PROPOSING = "proposing"
    READY = "ready"
    REFUSED = "refused"
    IMPORTING = "importing"
    FILED = "filed"
    ABANDONED = "abandoned"

    @property
    def label(self) -> str:
        """How the pages name it."""
        return LABELS[self]


LABELS = {
    Status.PROPOSING: "正在识别",
    Status.READY: "待核对",
    Status.REFUSED: "无法导入",
    Status.IMPORTING: "正在导入",
    Status.FILED: "已归档",
    Status.ABANDONED: "已放弃",
}


class ImportStateError(ValueError):
    """The import cannot take this step now (message in Chinese)."""


def _store(svc: Services, path: Path) -> tuple[str, str]:
    sha256, _ = hash_file(path)
    mime = detect_mime(path)
    svc.store.put_file(path, sha256, mime=mime, lock=True)
    return sha256, mime


def stage(
    svc: Services, path: Path, *, name: str, by: str, catalog: Path | None = None, catalog_name: str = ""
) -> int:
    """Keep the uploaded scan (a PDF or TIFF file, or a folder of page images, which is kept as
    the PDF made of them) and its catalog spreadsheet, or a folder of files, one per 件 (each
    kept, with a manifest naming them); returns the import's id. SourceError when it is none of
    these (nothing is kept then)."""
    with tempfile.TemporaryDirectory(prefix="dossier-stage-") as tmp:
        try:
            found = catalog or (files.catalog_in(path) if path.is_dir() else None)
        except files.FolderError as exc:
            raise SourceError(str(exc)) from None
        if path.is_dir() and files.is_file_dossier(path, found):
            assert found is not None
            catalog, catalog_name = found, catalog_name or found.name
            listing = []
            for f in files.documents(path, found):
                sha, mime = _store(svc, f)
                listing.append({"name": f.name, "sha256": sha, "mime": mime})
            manifest = json.dumps({"folder": path.name, "files": listing}, ensure_ascii=False).encode()
            sha256, mime = svc.store.put_bytes(manifest, mime=MANIFEST_MIME).sha256, MANIFEST_MIME
        elif path.is_dir():
            images = page_images(path)
            if not images:
                raise SourceError(f"文件夹 {path.name} 中没有扫描页图像（TIFF、JPEG、PNG）")
            path, name = images_to_pdf(images, Path(tmp) / f"{name}.pdf"), f"{name}.pdf"
            sha256, mime = _store(svc, path)
        else:
            as_pdf(path, Path(tmp))  # refuses what is not a scan before anything is kept
            sha256, mime = _store(svc, path)
        cat_sha = _store(svc, catalog)[0] if catalog is not None else None
    with session_scope(svc.engine) as s:
        row = DossierImport(
            status=Status.PROPOSING.value,
            source_name=name[:512],
            source_sha256=sha256,
            source_mime=mime,
            catalog_name=(catalog_name or (catalog.name if catalog else ""))[:512] or None,
            catalog_sha256=cat_sha,
            created_by=by[:64],
            progress="等待识别",
        )
        s.add(row)
        s.flush()
        return row.id


def get(svc: Services, import_id: int) -> DossierImport:
    """The import (detached), or ImportStateError."""
    with session_scope(svc.engine) as s:
        row = s.get(DossierImport, import_id)
        if row is None:
            raise ImportStateError("没有这个导入")
        s.expunge(row)
        return row


def _set(svc: Services, import_id: int, **values: Any) -> None:
    with session_scope(svc.engine) as s:
        s.execute(update(DossierImport).where(DossierImport.id == import_id).values(**values))


def _move(svc: Services, import_id: int, allowed: list[Status], **values: Any) -> bool:
    """Change the import only if it is in one of the ``allowed`` states (the update is the lock)."""
    with session_scope(svc.engine) as s:
        done: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(DossierImport)
            .where(DossierImport.id == import_id, DossierImport.status.in_([a.value for a in allowed]))
            .values(**values)
        )
        return bool(done.rowcount)


def _fetch(svc: Services, sha256: str, target: Path) -> Path:
    with target.open("wb") as out:
        for block in svc.store.iter_bytes(sha256):
            out.write(block)
    return target


class Fetched:
    """The import's dossier in a temporary directory: ``pages`` is the scan as a PDF, or the
    folder of its files; ``catalog`` the catalog spreadsheet, if one came with it."""

    def __init__(self, svc: Services, row: DossierImport) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="dossier-import-")
        work = Path(self._tmp.name)
        if row.source_mime == MANIFEST_MIME:
            manifest = json.loads(b"".join(svc.store.iter_bytes(row.source_sha256)))
            folder = work / "files"
            folder.mkdir()
            for f in manifest["files"]:
                _fetch(svc, f["sha256"], folder / Path(f["name"]).name)
            self.pages = folder
        else:
            suffix = Path(row.source_name).suffix.lower() or ".pdf"
            self.pages = as_pdf(_fetch(svc, row.source_sha256, work / f"source{suffix}"), work)
        self.catalog = None
        if row.catalog_sha256:
            cat_suffix = Path(row.catalog_name or "catalog.xlsx").suffix.lower()
            self.catalog = _fetch(svc, row.catalog_sha256, work / f"catalog{cat_suffix}")

    def __enter__(self) -> Fetched:
        return self

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()


def run_proposal(svc: Services, import_id: int) -> DossierImport:
    """Read the dossier and propose its split (status ready, or refused with the reason)."""
    row = get(svc, import_id)
    if row.status != Status.PROPOSING:
        return row
    _set(svc, import_id, progress="正在识别封面和卷内目录")
    try:
        with Fetched(svc, row) as f:
            proposal = propose(f.pages, f.catalog).to_json()
        proposal["source"] = row.source_name
    except (DossierError, SourceError, CatalogError) as exc:
        _set(svc, import_id, status=Status.REFUSED.value, error=str(exc), progress="")
    except Exception as exc:  # a reader's bug must not leave the import spinning for ever
        log.exception("卷宗 %s 识别失败", row.source_name)
        _set(
            svc,
            import_id,
            status=Status.REFUSED.value,
            error=f"识别时出错（{type(exc).__name__}）",
            progress="",
        )
    else:
        # what the catalog said, kept beside the archivist's edits
        proposal["read"] = {
            str(x["seq"]): {k: x[k] for k in ("title", "doc_no", "author", "date", "stated_pages")}
            for x in proposal["pieces"]
        }
        found = problems(plan_from(proposal))
        _set(
            svc,
            import_id,
            status=Status.READY.value,
            proposal=proposal,
            error=None,
            progress="；".join(found)[:128],
        )
    return get(svc, import_id)


def plan_of(row: DossierImport, case_no: str | None = None) -> Plan:
    """The plan the import's (reviewed) proposal makes."""
    if row.proposal is None:
        raise ImportStateError("该卷宗尚未识别完成")
    return plan_from(row.proposal, case_no)


def save_review(svc: Services, import_id: int, proposal: dict[str, Any]) -> list[str]:
    """Keep the archivist's edits of the proposal; returns what still keeps it from import."""
    row = get(svc, import_id)
    if row.status != Status.READY:
        raise ImportStateError(f"该导入{Status(row.status).label}，不能再修改")
    found = problems(plan_from(proposal))
    _set(svc, import_id, proposal=proposal, progress="；".join(found)[:128])
    return found


def confirm(svc: Services, import_id: int, case_no: str | None = None) -> Registered:
    """Register the reviewed dossier's case and 件 (status importing). PlanError lists what is
    wrong; ImportStateError when it is not ready (confirmed already, still being read …)."""
    # claim it: a second confirm (a double click, another archivist) finds it taken
    if not _move(svc, import_id, [Status.READY], status=Status.IMPORTING.value, progress="正在登记案件"):
        row = get(svc, import_id)
        raise ImportStateError(f"该导入{Status(row.status).label}，不能确认导入")
    row = get(svc, import_id)
    try:
        plan = plan_of(row, case_no)
        with Fetched(svc, row) as f:
            done = register(
                svc,
                f.pages,
                plan,
                source_name=row.source_name,
                source_sha256=row.source_sha256,
                source_mime=row.source_mime,
            )
    except BaseException as exc:
        error = (
            str(exc) if isinstance(exc, (PlanError, ValueError)) else f"导入时出错（{type(exc).__name__}）"
        )
        _set(svc, import_id, status=Status.READY.value, progress="", error=error[:2000])
        raise
    _set(
        svc, import_id, case_no=done.case_no, error=None, progress=f"正在识别 {len(done.record_ids)} 件的文字"
    )
    return done


def pending_records(svc: Services, case_no: str) -> list[int]:
    """Records of the imported case whose processing has not finished."""
    with session_scope(svc.engine) as s:
        return list(
            s.scalars(
                select(Record.id)
                .join(Job, Job.record_id == Record.id)
                .join(Case, Case.id == Record.case_id)
                .where(Case.case_no == case_no, Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]))
                .order_by(Record.id)
            )
        )


def process(svc: Services, import_id: int, on_done: Callable[[int, int], None] | None = None) -> int:
    """Read every 件 of a confirmed import (OCR, index, sensitive spans, rules); returns how many
    were run. ``on_done(done, total)`` after each."""
    from pipelines.queue import make_queue

    row = get(svc, import_id)
    if row.status != Status.IMPORTING or not row.case_no:
        raise ImportStateError("该导入尚未确认")
    ids = pending_records(svc, row.case_no)
    total, done = len(ids), 0

    def advanced(_outcome: object) -> None:
        nonlocal done
        done += 1
        _set(svc, import_id, progress=f"已识别 {done}/{total} 件")
        if on_done:
            on_done(done, total)

    if ids:
        make_queue(svc).run(ids, on_done=advanced)
    return total


def mark_filed(svc: Services, import_id: int) -> None:
    """The imported case is filed: the import is done."""
    _set(svc, import_id, status=Status.FILED.value, progress="", error=None)


def mark_stuck(svc: Services, import_id: int, reason: str) -> None:
    """Filing did not happen (the reason stays shown; the import can be continued)."""
    _set(svc, import_id, error=reason[:2000], progress="")


def abandon(svc: Services, import_id: int) -> None:
    """Give up an import not yet confirmed (its upload stays in the store, unused)."""
    taken = _move(
        svc,
        import_id,
        [Status.READY, Status.REFUSED, Status.PROPOSING],
        status=Status.ABANDONED.value,
        progress="",
    )
    if not taken:
        raise ImportStateError("该导入已确认或已放弃，不能放弃")


def unfinished(svc: Services) -> tuple[list[int], list[int]]:
    """Imports a stopped server left: (still to be read, confirmed but not filed)."""
    with session_scope(svc.engine) as s:
        rows = list(
            s.execute(
                select(DossierImport.id, DossierImport.status)
                .where(DossierImport.status.in_([Status.PROPOSING.value, Status.IMPORTING.value]))
                .order_by(DossierImport.id)
            )
        )
    return [i for i, st in rows if st == Status.PROPOSING], [i for i, st in rows if st == Status.IMPORTING]


def recover(svc: Services, import_id: int) -> str | None:
    """After a stop while confirming: the 案号 of the case the import registered, or None when
    registering never committed (the import is ready to be confirmed again)."""
    row = get(svc, import_id)
    if row.status != Status.IMPORTING or row.case_no:
        return row.case_no
    case_no = plan_of(row).case_no
    with session_scope(svc.engine) as s:
        found = s.scalar(select(Case.id).where(Case.case_no == case_no, Case.legacy.is_(True)))
    if found is None:
        _set(svc, import_id, status=Status.READY.value, progress="")
        return None
    _set(svc, import_id, case_no=case_no)
    return case_no


_PAGES_LOCK = threading.Lock()


def scan_pdf(svc: Services, row: DossierImport) -> Path:
    """The import's scan as a PDF in the data directory's cache (fetched once, for the review
    page's page images)."""
    cache = svc.settings.data_dir / "cache" / "imports"
    target = cache / f"{row.source_sha256}.pdf"
    with _PAGES_LOCK:
        if not target.exists():
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                suffix = Path(row.source_name).suffix.lower() or ".pdf"
                source = _fetch(svc, row.source_sha256, Path(tmp) / f"source{suffix}")
                os.replace(as_pdf(source, Path(tmp)), target)
    return target


def page_png(svc: Services, row: DossierImport, index: int, width: int = 240) -> bytes:
    """Page ``index`` (0-based) of the import's scan as a PNG ``width`` pixels wide."""
    import pypdfium2 as pdfium

    if row.source_mime == MANIFEST_MIME:
        raise ImportStateError("此卷宗是一件一个文件的文件夹，没有扫描页")
    path = scan_pdf(svc, row)
    with PDFIUM:
        pdf = pdfium.PdfDocument(str(path))
        try:
            if not 0 <= index < len(pdf):
                raise ImportStateError(f"扫描件没有第 {index + 1} 页")
            page = pdf[index]
            image = page.render(scale=width / page.get_width()).to_pil()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.convert("L").save(out, "PNG", optimize=True)
    return out.getvalue()
