"""The ``parse`` and ``derive`` steps of a record's job (`pipelines.steps`), in a parser process.

Both are idempotent: derived files are content-addressed and upserted by (record, kind), so a
job interrupted at any point is simply run again. A job whose files an earlier attempt already
derived skips them and goes on at the next step.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.pool import NullPool

from archive.db import session_scope
from archive.models import (
    Job,
    JobStatus,
    ProcessingStatus,
    Record,
    StoredFile,
    utcnow,
)
from archive.timeutil import to_utc
from indexer.analysis import analyse
from pipelines.context import Services
from pipelines.derived import DerivedKind, link_derived, thumb_kind
from pipelines.detect import family_of
from pipelines.documents import index_doc
from pipelines.isolation import worker_for_thread
from pipelines.media.transcript import Transcript
from pipelines.parsers import ParseContext, ParseError, ParseResult, parse_file, pick_parser
from pipelines.sensitive import Prepared, prepare_spans
from pipelines.steps import DONE, ProcessOutcome, Step, done_through
from pipelines.transcripts import (
    TRANSCRIPT_KINDS,
    has_officer_version,
    read_transcript,
    record_machine_version,
    transcript_files,
)

log = logging.getLogger(__name__)


def worker_id() -> str:
    """Identifies this process in job rows, so a dead worker's jobs can be taken up again."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim(svc: Services, record_id: int) -> tuple[Record, bool]:
    """Mark the job running; returns the record and whether its files are already derived."""
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
        return record, (job.steps or {}).get(Step.DERIVE) == DONE


def _fetch_original(svc: Services, record: Record, workdir: Path) -> Path:
    suffix = Path(record.original_name).suffix[:16]
    target = workdir / f"original{suffix}"
    with target.open("wb") as out:
        for block in svc.store.iter_bytes(record.sha256):
            out.write(block)
    return target


def parse_context(svc: Services, record: Record) -> ParseContext:
    """The parse context of a record under the configured limits."""
    p, t = svc.settings.parsing, svc.settings.transcription
    return ParseContext(
        mime=record.mime,
        original_name=record.original_name,
        ocr_dpi=p.ocr_dpi,
        ocr_runtime=p.ocr_runtime,
        max_image_pixels=p.max_image_pixels,
        max_pages=p.max_pages,
        tika_url=p.tika_url,
        asr_engine=t.engine,
        asr_model_dir=str(t.model_dir) if t.model_dir else None,
        asr_checkpoint=str(t.openai_checkpoint) if t.openai_checkpoint else None,
        asr_beam_size=t.beam_size,
        asr_repetition_penalty=t.repetition_penalty,
        asr_chunk_s=t.chunk_s,
        keyframe_every_s=t.keyframe_every_s,
        layer_ink_ratio=svc.settings.redaction.layer_ink_ratio,
        progress=JobProgress(svc.settings.db_url, record.id) if family_of(record.mime).is_sound else None,
    )


class JobProgress:
    """Writes the share of a long job done into its job row (from the parse process, which
    opens its own connection: it is a forked child). At most every two seconds."""

    def __init__(self, db_url: str, record_id: int) -> None:
        self.db_url, self.record_id = db_url, record_id
        self._engine: Any = None
        self._last = 0.0

    def __call__(self, done: float) -> None:
        now = time.monotonic()
        if now - self._last < 2.0 and done < 1.0:
            return
        self._last = now
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self.db_url, poolclass=NullPool)
        with session_scope(self._engine) as s:
            job = s.scalar(select(Job).where(Job.record_id == self.record_id, Job.kind == "process"))
            if job is not None:
                job.progress = round(min(max(done, 0.0), 1.0), 3)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")


def _derivatives(result: ParseResult) -> list[tuple[str, bytes, str]]:
    """(kind, bytes, MIME) of every derived file of a parse."""
    if result.transcript is not None:
        out = transcript_files(result.transcript)  # text, pages, transcript JSON, SRT, WebVTT
    else:
        out = [
            (DerivedKind.TEXT, result.text.encode("utf-8"), "text/plain; charset=utf-8"),
            (DerivedKind.PAGES, _json({"pages": result.pages}), "application/json"),
        ]
    if result.ocr:
        out.append((DerivedKind.OCR, _json({str(k): v for k, v in result.ocr.items()}), "application/json"))
    out += [(thumb_kind(n), jpeg, "image/jpeg") for n, jpeg in enumerate(result.thumbnails, start=1)]
    return out


def _save(svc: Services, record_id: int, result: ParseResult) -> tuple[datetime | None, Transcript | None]:
    """Store the derived files, then link them and the parse metadata in one transaction.

    Objects go first (content-addressed, so a crash leaves at most unreferenced objects);
    rows are upserted by (record, kind), so a re-run replaces rather than duplicates. A sound
    record's machine transcript is its version 1; if an officer has corrected it since, the
    correction stays current and is returned (it is what gets indexed).
    """
    stored = [(kind, svc.store.put_bytes(data, mime=mime), mime) for kind, data, mime in _derivatives(result)]
    with session_scope(svc.engine) as s:
        corrected = result.transcript is not None and has_officer_version(s, record_id)
        rows = {f.kind: f for f in s.scalars(select(StoredFile).where(StoredFile.record_id == record_id))}
        for kind, info, mime in stored:
            if corrected and kind in TRANSCRIPT_KINDS:
                continue
            link_derived(s, record_id, rows, kind, info, mime)
        row_record = s.get(Record, record_id)
        job = s.scalar(select(Job).where(Job.record_id == record_id, Job.kind == "process"))
        assert row_record is not None and job is not None
        job.steps = done_through(Step.DERIVE)  # a new parse: every later step runs again
        kept = dict(row_record.source_meta or {}) if corrected else {}
        made_at = _apply_metadata(row_record, result)
        current = None
        if result.transcript is not None:
            machine_sha = next(info.sha256 for kind, info, _ in stored if kind == DerivedKind.TRANSCRIPT)
            record_machine_version(s, record_id, result.transcript, machine_sha)
        if corrected:
            meta = dict(row_record.source_meta or {})
            meta.update({k: kept[k] for k in ("transcript_status", "transcript_corrected_by") if k in kept})
            row_record.source_meta = meta
            current = read_transcript(svc.store, rows[DerivedKind.TRANSCRIPT].sha256)
        return made_at, current


def _apply_metadata(row: Record, result: ParseResult) -> datetime | None:
    """Page count, warnings, source metadata; EXIF pre-fills empty 第二十六条 fields (第二十六条)."""
    row.page_count = len(result.pages)
    row.warnings = result.warnings or None
    meta = {k: v for k, v in result.metadata.items() if v not in (None, "")}
    if result.ocr:
        meta["ocr_pages"] = sorted(i + 1 for i in result.ocr)
    if "legacy" in (row.source_meta or {}):  # where an imported 件's pages are in the dossier scan
        meta["legacy"] = (row.source_meta or {})["legacy"]
    row.source_meta = meta or None
    prefilled = set(row.prefilled or [])
    captured = result.metadata.get("captured_at")
    if isinstance(captured, str):
        # EXIF times carry no zone; cameras here are set to Beijing time.
        row.captured_at = to_utc(datetime.fromisoformat(captured))
        if row.made_at is None or "made_at" in prefilled:
            row.made_at = row.captured_at
            prefilled.add("made_at")
    device = " ".join(str(result.metadata[k]) for k in ("make", "model") if result.metadata.get(k))
    if device and (not row.made_how or "made_how" in prefilled):
        row.made_how = f"数码拍摄（{device}）"
        prefilled.add("made_how")
    row.prefilled = sorted(prefilled) or None
    return row.made_at


_TEMP_PATH = re.compile(r"(?:/[\w.-]+)*/(?:tmp|var/tmp)/[^\s'\"，。；）)]+")


def _plain(reason: str, workdir: Path, name: str) -> str:
    """A failure reason as users see it: the server's working paths replaced by the file's name."""
    reason = reason.replace(f"{workdir}/original{Path(name).suffix[:16]}", name).replace(str(workdir), name)
    return _TEMP_PATH.sub(name, reason)


def process_record(svc: Services, record_id: int) -> ProcessOutcome:
    """The ``parse`` step (in a long-lived, limited parse process) and the ``derive`` step of one record.

    Never raises for bad input: the outcome carries the failed step and the reason instead.
    """
    record, derived = _claim(svc, record_id)
    if derived:
        return ProcessOutcome(record_id, warnings=tuple(record.warnings or ()))
    workdir = Path(tempfile.mkdtemp(prefix=f"rec{record_id}-"))
    limits = svc.settings.parsing
    step = Step.PARSE
    try:
        ctx = parse_context(svc, record)
        pick_parser(ctx.mime)  # before copying: a 2 GB file nothing can parse stays put
        path = _fetch_original(svc, record, workdir)
        # The parse runs in this thread's long-lived parse process (models stay loaded between
        # files); past the limits it is killed and the next file gets a fresh one.
        worker = worker_for_thread(max_calls=limits.worker_max_files, recycle_mb=limits.worker_recycle_mb)
        result = worker.call(
            parse_file, path, ctx, timeout_s=_time_limit(svc, record, path), memory_mb=limits.memory_mb
        )
        step = Step.DERIVE
        made_at, corrected = _save(svc, record_id, result)
    except ParseError as exc:
        return ProcessOutcome(record_id, error=_plain(str(exc), workdir, record.original_name), step=step)
    except Exception as exc:  # a bug or an unexpected library failure: keep going, say what
        log.exception("processing record %s failed", record_id)
        reason = _plain(f"{type(exc).__name__}: {exc}", workdir, record.original_name)
        error = f"处理程序出错（{reason}）；原件已保存，错误已记录，可稍后重新处理"
        return ProcessOutcome(record_id, error=error, step=step)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    record.made_at = made_at
    if corrected is not None:
        result = replace(result, text=corrected.text(), pages=[corrected.text()], transcript=corrected)
    segments = result.transcript.index_segments() if result.transcript else ()
    doc = index_doc(record, result.text, result.pages, segments)
    # Analyse here, in the worker process, so that analysis runs on every core.
    doc = replace(doc, analysed=analyse(doc.title, doc.text))
    spans = _prepared_spans(svc, record, result.text)
    return ProcessOutcome(record_id, doc=doc, warnings=tuple(result.warnings), spans=spans)


def _prepared_spans(svc: Services, record: Record, text: str) -> Prepared | None:
    """The record's sensitive spans, detected here in the worker; None if detection failed (the
    ``spans`` step then detects again and, if it fails there too, says why)."""
    try:
        return prepare_spans(svc, record, text)
    except Exception:
        log.exception("detecting the sensitive spans of record %s failed", record.id)
        return None


def _time_limit(svc: Services, record: Record, path: Path) -> float:
    """The parse time limit; recordings get more in proportion to their length."""
    limit = float(svc.settings.parsing.timeout_s)
    if family_of(record.mime).is_sound:
        from pipelines.media.decode import MediaError, probe

        try:
            duration = probe(path).duration_s or 0.0
        except MediaError:
            duration = 0.0  # the parser will say what is wrong
        limit += duration * svc.settings.transcription.seconds_per_audio_second
    return limit
