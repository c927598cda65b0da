"""Record and case read services (thin routes call these)."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from archive.models import Case, Record
from archive.storage import ObjectStore
from indexer.documents import AccessFilter
from pipelines.derived import DerivedKind, read_derived
from search_api.schemas import CaseOut, RecordOut, StoredFileOut

NOT_FOUND = "记录不存在或无权查看"


class NotVisibleError(LookupError):
    """The record does not exist or the caller may not see it (never say which)."""


def _visible(record: Record, access: AccessFilter) -> bool:
    case_no = record.case.case_no if record.case else ""
    if access.case_nos is not None and case_no not in access.case_nos:
        return False
    return access.classifications is None or record.classification.value in access.classifications


def get_record(*, session: Session, record_id: int, access: AccessFilter) -> Record:
    """A record the caller may see, or NotVisibleError."""
    record = session.scalar(
        select(Record)
        .where(Record.id == record_id)
        .options(selectinload(Record.files), selectinload(Record.case), selectinload(Record.jobs))
    )
    if record is None or not _visible(record, access):
        raise NotVisibleError(record_id)
    return record


def page_texts(store: ObjectStore, record: Record) -> list[str]:
    """Text of each page (one entry for unpaged formats); empty before parsing."""
    pages = read_derived(store, record, DerivedKind.PAGES)
    if pages is None:
        return []
    return [str(p) for p in json.loads(pages).get("pages", [])]


def extracted_text(store: ObjectStore, record: Record) -> str | None:
    """The record's extracted text, or None before it has been parsed."""
    text = read_derived(store, record, DerivedKind.TEXT)
    return None if text is None else text.decode("utf-8")


def record_out(record: Record) -> RecordOut:
    """API view of a record."""
    return RecordOut(
        id=record.id,
        case_no=record.case.case_no if record.case else None,
        title=record.title,
        stage=record.stage.value if record.stage else None,
        form=record.form.value,
        document_type=record.document_type,
        doc_no=record.doc_no,
        made_how=record.made_how,
        made_at=record.made_at,
        made_by=record.made_by,
        proves=record.proves,
        stored_at=record.stored_at,
        classification=record.classification.value,
        original_name=record.original_name,
        mime=record.mime,
        size=record.size,
        sha256=record.sha256,
        page_count=record.page_count,
        status=record.status.value,
        error=record.error,
        warnings=record.warnings or [],
        captured_at=record.captured_at,
        source_meta=record.source_meta or {},
        prefilled=record.prefilled or [],
        files=[
            StoredFileOut(kind=f.kind, role=f.role.value, sha256=f.sha256, size=f.size, mime=f.mime)
            for f in record.files
        ],
    )


def count_cases(*, session: Session, access: AccessFilter) -> int:
    """How many cases the caller may see."""
    query = select(func.count()).select_from(Case)
    if access.case_nos is not None:
        query = query.where(Case.case_no.in_(access.case_nos))
    return int(session.scalar(query) or 0)


def list_cases(*, session: Session, access: AccessFilter, limit: int | None = None) -> list[CaseOut]:
    """Cases the caller may see, newest first, with record counts (the first ``limit``)."""
    query = select(Case).order_by(Case.opened_at.desc().nulls_last(), Case.id.desc())
    if access.case_nos is not None:
        query = query.where(Case.case_no.in_(access.case_nos))
    cases = list(session.scalars(query.limit(limit)))
    counted = select(Record.case_id, func.count()).group_by(Record.case_id)
    if limit is not None:  # only the cases shown
        counted = counted.where(Record.case_id.in_([c.id for c in cases]))
    counts = {case_id: n for case_id, n in session.execute(counted)}
    return [
        CaseOut(
            case_no=c.case_no,
            name=c.name,
            enforcement_kind=c.enforcement_kind.value,
            origin=c.origin.value,
            case_officer=c.case_officer,
            status=c.status.value,
            opened_at=c.opened_at,
            records=counts.get(c.id, 0),
        )
        for c in cases
    ]
