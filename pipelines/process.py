"""The processing job of one record: parse → store derived artifacts → index document.

Runs in a worker process. Every step is idempotent: derived artifacts are content-addressed
and upserted by (record, kind), the index upserts by record id, so a job interrupted at any
point is simply run again.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from archive.db import session_scope
from archive.models import (
    FileRole,
    Job,
    JobStatus,
    ProcessingStatus,
    Record,
    StoredFile,
    utcnow,
)
from indexer.documents import IndexDoc
from pipelines.context import Services
from pipelines.parsers import ParseContext, ParseError, pick_parser

log = logging.getLogger(__name__)


def worker_id() -> str:
    """Identifies this process in job rows, so a dead worker's jobs can be taken up again."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class ProcessOutcome:
    """What a worker hands back: the document to index, or the reason it failed."""

    record_id: int
    doc: IndexDoc | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def _claim(svc: Services, record_id: int) -> Record:
    with session_scope(svc.engine) as s:
        job = s.scalar(select(Job).where(Job.record_id == record_id, Job.kind == "process"))
        record = s.get(Record, record_id)
        if job is None or record is None:
            raise LookupError(f"no processing job for record {record_id}")
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.worker = worker_id()
        job.started_at = utcnow()
        record.status = ProcessingStatus.PROCESSING
        s.flush()
        s.refresh(record, ["case"])
        s.expunge(record)
        return record


def _save_derivative(svc: Services, record_id: int, kind: str, data: bytes, mime: str) -> None:
    info = svc.store.put_bytes(data, mime=mime)
    with session_scope(svc.engine) as s:
        row = s.scalar(select(StoredFile).where(StoredFile.record_id == record_id, StoredFile.kind == kind))
        if row is None:
            row = StoredFile(record_id=record_id, role=FileRole.DERIVATIVE, kind=kind)
            s.add(row)
        row.sha256, row.size, row.mime, row.storage_key = info.sha256, info.size, mime, info.sha256


def _fetch_original(svc: Services, record: Record, workdir: Path) -> Path:
    suffix = Path(record.original_name).suffix[:16]
    target = workdir / f"original{suffix}"
    with target.open("wb") as out:
        for block in svc.store.iter_bytes(record.sha256):
            out.write(block)
    return target


def process_record(svc: Services, record_id: int) -> ProcessOutcome:
    """Parse one record and store its derived text; never raises for bad input."""
    record = _claim(svc, record_id)
    workdir = Path(tempfile.mkdtemp(prefix=f"rec{record_id}-"))
    try:
        ctx = ParseContext(mime=record.mime, original_name=record.original_name)
        parser = pick_parser(ctx.mime)  # before copying: a 2 GB file nothing can parse stays put
        result = parser.parse(_fetch_original(svc, record, workdir), ctx)
        _save_derivative(svc, record_id, "text", result.text.encode("utf-8"), "text/plain; charset=utf-8")
        pages = json.dumps({"pages": result.pages}, ensure_ascii=False).encode("utf-8")
        _save_derivative(svc, record_id, "pages", pages, "application/json")
        with session_scope(svc.engine) as s:
            row = s.get(Record, record_id)
            assert row is not None
            row.page_count = len(result.pages)
    except ParseError as exc:
        return ProcessOutcome(record_id, error=str(exc))
    except Exception as exc:  # a bug or an unexpected library failure: keep going, say what
        log.exception("processing record %s failed", record_id)
        return ProcessOutcome(record_id, error=f"处理时发生内部错误：{type(exc).__name__}: {exc}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    doc = IndexDoc(
        record_id=record_id,
        title=record.title,
        text=result.text,
        case_no=record.case.case_no if record.case else "",
        stage=record.stage.value if record.stage else "",
        form=record.form.value,
        document_type=record.document_type or "",
        made_by=record.made_by or "",
        classification=record.classification.value,
        made_at=record.made_at,
    )
    return ProcessOutcome(record_id, doc=doc, warnings=tuple(result.warnings))


def finish(svc: Services, outcomes: list[ProcessOutcome]) -> None:
    """Index the successful outcomes, then mark every job done or failed (one transaction)."""
    docs = [o.doc for o in outcomes if o.doc is not None]
    if docs:
        svc.index.upsert(docs)
    now = utcnow()
    with session_scope(svc.engine) as s:
        for o in outcomes:
            record = s.get(Record, o.record_id)
            job = s.scalar(select(Job).where(Job.record_id == o.record_id, Job.kind == "process"))
            if record is None or job is None:
                continue
            job.finished_at, job.worker, job.progress = now, None, 1.0
            if o.error is None:
                record.status, record.error = ProcessingStatus.PROCESSED, None
                job.status, job.error = JobStatus.DONE, None
                job.steps = {"parse": "done", "index": "done", "warnings": "；".join(o.warnings)}
            else:
                record.status, record.error = ProcessingStatus.FAILED, o.error
                job.status, job.error = JobStatus.FAILED, o.error
                job.steps = {"parse": "failed"}
