"""Records: a file added to a case, its metadata corrected, its transcript corrected, a record
deleted, a record opened. Each action checks the permission table and writes its one audit
event (`search_api.services`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from archive import audit
from archive.actor import Actor
from archive.models import CaseStatus, Record
from archive.permissions import Action, may
from indexer.documents import AccessFilter
from pipelines.context import Services
from pipelines.ingest import IngestOutcome, RecordMeta, ingest_file
from pipelines.records import (
    ClassificationLoweringError,
    RecordFrozenError,
    RecordMissingError,
    delete_record,
    update_record,
)
from pipelines.transcripts import CorrectionError, TranscriptVersion, save_correction
from search_api.services import Conflict, NotFound, Refused, ServiceError, case_in_reach, require

NO_RECORD = "记录不存在或无权查看"


def add_file(
    svc: Services, who: Actor, reach: AccessFilter, path: Path, meta: RecordMeta, *, shown: str | None = None
) -> IngestOutcome:
    """Store one file unaltered as a record of ``meta.case_no`` (audited ``upload``; a refused
    attempt too). ``shown`` is the file's name as the uploader gave it. Processing is the
    caller's to start (the web's background thread or the CLI's queue)."""
    require(who, Action.UPLOAD)
    if meta.case_no is not None:
        obj = f"case:{meta.case_no[:64]}"
        with Session(svc.engine) as s:
            try:
                case = case_in_reach(s, meta.case_no, reach)
            except NotFound as exc:  # an unknown case or one out of reach: the attempt is kept
                audit.record(svc.engine, "upload", who, obj, "denied", reason=str(exc))
                raise
            if case.status is CaseStatus.ARCHIVED:
                audit.record(svc.engine, "upload", who, obj, "denied", reason="案件已归档")
                raise Conflict(f"案件 {meta.case_no} 已归档，不能再添加记录")
    outcome = ingest_file(svc, path, meta)
    if outcome.status == "ingested":
        obj = f"record:{outcome.record_id}"
        audit.record(svc.engine, "upload", who, obj, file=shown or str(path), case=meta.case_no)
    return outcome


def edit_record(svc: Services, who: Actor, record_id: int, changes: dict[str, Any]) -> Record:
    """Correct a record's metadata; the index follows at once (audited ``edit``; lowering the 密级
    without the right is refused and audited)."""
    require(who, Action.EDIT_RECORD)
    obj = f"record:{record_id}"
    try:
        updated, detail = update_record(
            svc, record_id, changes, may_lower=may(who.role, Action.LOWER_CLASSIFICATION)
        )
    except ClassificationLoweringError as exc:
        audit.record(svc.engine, "edit", who, obj, "denied", fields=sorted(changes), reason=str(exc))
        raise Refused(str(exc)) from None
    except RecordFrozenError as exc:
        raise Conflict(str(exc)) from None
    except RecordMissingError:
        raise NotFound(NO_RECORD) from None
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    audit.record(svc.engine, "edit", who, obj, fields=sorted(changes), **detail)
    return updated


def remove_record(svc: Services, who: Actor, record_id: int, sha256: str) -> None:
    """Delete a record registered by mistake (never once its case is filed; audited ``delete``)."""
    require(who, Action.DELETE_RECORD)
    try:
        delete_record(svc, record_id)
    except RecordFrozenError as exc:
        raise Conflict(str(exc)) from None
    except RecordMissingError:
        raise NotFound(NO_RECORD) from None
    audit.record(svc.engine, "delete", who, f"record:{record_id}", sha256=sha256)


def correct_transcript(
    svc: Services, who: Actor, record_id: int, data: bytes, filename: str, note: str = ""
) -> TranscriptVersion:
    """An officer's corrected transcript becomes the current version; the machine one is kept
    (audited ``transcript_correct``)."""
    require(who, Action.EDIT_RECORD)
    try:
        version = save_correction(
            svc, record_id, data, filename, author_id=who.user_id, author_name=who.shown_name, note=note
        )
    except RecordFrozenError as exc:
        raise Conflict(str(exc)) from None
    except CorrectionError as exc:
        raise ServiceError(str(exc)) from None
    audit.record(svc.engine, "transcript_correct", who, f"record:{record_id}", version=version.version)
    return version


def opened(svc: Services, who: Actor, record_id: int, *, download: bool = False, **detail: Any) -> None:
    """A record, or one of its files, was shown (``view``) or handed over (``download``) to the
    caller, who was already found to see it (audited)."""
    event = "download" if download else "view"
    audit.record(svc.engine, event, who, f"record:{record_id}", **detail)
