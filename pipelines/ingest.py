"""Ingest one file: hash while streaming, store the original once, write record + job together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.cases import get_by_case_no
from archive.db import session_scope
from archive.models import CaseEvent, CaseStatus, FileRole, Job, Record, RecordForm, Stage, StoredFile, utcnow
from archive.storage import HashMismatchError, hash_file
from archive.timeutil import to_utc
from pipelines.compliance import refresh_cases
from pipelines.context import Services
from pipelines.detect import detect_mime, family_of
from pipelines.steps import Step, done_through

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordMeta:
    """What the uploader says about a file (第二十六条 metadata and its place in the case)."""

    case_no: str | None = None
    stage: Stage | None = None
    document_type: str | None = None
    title: str | None = None
    doc_no: str | None = None
    made_how: str | None = None
    made_at: datetime | None = None
    made_by: str | None = None
    proves: str | None = None
    event_id: int | None = None  # the case event (询问, 现场检查, 送达 …) this record documents


@dataclass(frozen=True)
class IngestOutcome:
    """Result for one path."""

    path: str
    status: Literal["ingested", "duplicate", "failed"]
    record_id: int | None = None
    reason: str | None = None


def _existing(svc: Services, sha256: str, case_no: str | None) -> int | None:
    """The record of these bytes in that case (or outside any case): one record per case."""
    with session_scope(svc.engine) as s:
        case = get_by_case_no(session=s, case_no=case_no) if case_no else None
        in_case = Record.case_id == case.id if case is not None else Record.case_id.is_(None)
        return s.scalar(select(Record.id).where(Record.sha256 == sha256, in_case))


def ingest_file(svc: Services, path: Path, meta: RecordMeta) -> IngestOutcome:
    """Store ``path`` as a new record with a pending processing job, or report a duplicate (the same
    bytes already in that case; in another case they make a record of their own)."""
    shown = str(path)
    try:
        sha256, size = hash_file(path)
        mime = detect_mime(path)
    except OSError as exc:
        return IngestOutcome(shown, "failed", reason=f"无法读取文件：{exc.strerror or exc}")

    existing = _existing(svc, sha256, meta.case_no)
    if existing is not None:
        if not svc.store.exists(sha256):  # the record survived a lost object: put it back
            svc.store.put_file(path, sha256, mime=mime, lock=True)
        return IngestOutcome(shown, "duplicate", record_id=existing)

    try:
        # Object first: it is content-addressed, so a crash before the DB commit leaves only
        # an orphan object that the next run reuses; never a record without its original.
        svc.store.put_file(path, sha256, mime=mime, lock=True)
    except HashMismatchError:
        return IngestOutcome(shown, "failed", reason="文件在读取过程中被修改，请在文件写入完成后重新导入")
    except OSError as exc:
        return IngestOutcome(shown, "failed", reason=f"无法读取文件：{exc.strerror or exc}")

    try:
        with session_scope(svc.engine) as s:
            case = get_by_case_no(session=s, case_no=meta.case_no) if meta.case_no else None
            if case is not None and case.status is CaseStatus.ARCHIVED:
                raise ValueError(f"案件 {case.case_no} 已归档，不能再添加记录")
            case_id = case.id if case else None
            form = RecordForm.AUDIOVISUAL if family_of(mime).is_audiovisual else RecordForm.TEXT
            record = Record(
                case_id=case_id,
                sha256=sha256,
                stage=meta.stage,
                form=form,
                document_type=meta.document_type,
                title=meta.title or Path(path).stem,
                doc_no=meta.doc_no,
                made_how=meta.made_how,
                made_at=to_utc(meta.made_at) if meta.made_at else None,
                made_by=meta.made_by,
                proves=meta.proves,
                event_id=_event_of(s, case_id, meta.event_id),
                stored_at=utcnow(),
                original_name=Path(path).name,
                mime=mime,
                size=size,
            )
            key_info = svc.store.stat(sha256)
            record.files.append(
                StoredFile(
                    role=FileRole.ORIGINAL,
                    kind="original",
                    sha256=sha256,
                    size=key_info.size,
                    mime=mime,
                    storage_key=sha256,
                )
            )
            record.jobs.append(Job(kind="process", steps=done_through(Step.STORE)))
            s.add(record)
            s.flush()
            record_id = record.id
    except ValueError as exc:  # an event of another case: nothing was written but the object
        return IngestOutcome(shown, "failed", reason=str(exc))
    except IntegrityError:
        # Another ingest stored the same bytes between our check and our insert.
        existing = _existing(svc, sha256, meta.case_no)
        if existing is None:
            raise
        return IngestOutcome(shown, "duplicate", record_id=existing)
    refresh_cases(svc, [case_id])  # e.g. 第二十五条 counts from this moment of storage
    return IngestOutcome(shown, "ingested", record_id=record_id)


def _event_of(s: Session, case_id: int | None, event_id: int | None) -> int | None:
    if event_id is None:
        return None
    event = s.get(CaseEvent, event_id)
    if event is None or event.case_id != case_id:
        raise ValueError(f"执法活动 {event_id} 不属于该案件")
    return event_id
