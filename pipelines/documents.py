"""Search documents of records: what the index holds for each one."""

from __future__ import annotations

import json

from archive.models import ProcessingStatus, Record
from archive.storage import ObjectStore
from indexer.documents import IndexDoc
from pipelines.derived import DerivedKind, read_derived
from pipelines.media.transcript import Transcript


def _page_starts(pages: list[str]) -> tuple[int, ...]:
    starts, pos = [], 0
    for text in pages:
        starts.append(pos)
        pos += len(text) + 2  # join_pages puts a blank line between pages
    return tuple(starts)


def index_doc(
    record: Record, text: str, pages: list[str], segments: tuple[tuple[int, float], ...] = ()
) -> IndexDoc:
    """The search document of a record (its case must be loaded)."""
    return IndexDoc(
        record_id=record.id,
        title=record.title,
        text=text,
        case_no=record.case.case_no if record.case else "",
        stage=record.stage.value if record.stage else "",
        form=record.form.value,
        document_type=record.document_type or "",
        made_by=record.made_by or "",
        classification=record.classification.value,
        made_at=record.made_at,
        page_starts=_page_starts(pages) if not segments else (),
        segments=segments,
    )


def stored_document(store: ObjectStore, record: Record) -> IndexDoc | None:
    """The search document of a record from its stored ``text``/``pages``/``transcript`` files;
    None if it has no text yet (its case and files must be loaded)."""
    stored_text = read_derived(store, record, DerivedKind.TEXT)
    if stored_text is None:
        return None
    text = stored_text.decode("utf-8")
    stored_pages = read_derived(store, record, DerivedKind.PAGES)
    pages = [text] if stored_pages is None else json.loads(stored_pages)["pages"]
    stored_transcript = read_derived(store, record, DerivedKind.TRANSCRIPT)
    segments: tuple[tuple[int, float], ...] = ()
    if stored_transcript is not None:
        segments = Transcript.from_json(stored_transcript).index_segments()
    return index_doc(record, text, pages, segments)


def documents_for(store: ObjectStore, records: list[Record]) -> list[IndexDoc]:
    """Search documents of processed records from their stored files."""
    docs = [stored_document(store, r) for r in records if r.status is ProcessingStatus.PROCESSED]
    return [d for d in docs if d is not None]
