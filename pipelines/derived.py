"""A record's derived files (text, transcripts, thumbnails …): their kinds, reading, linking."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from archive.models import FileRole, Record, StoredFile
from archive.storage import ObjectInfo, ObjectStore

THUMB_PREFIX = "thumb-"


class DerivedKind(StrEnum):
    """The ``kind`` of a derived file that processing stores beside the original (one row per
    record and kind). Thumbnails are numbered: :func:`thumb_kind`; a party's renditions have
    kinds of their own (:mod:`pipelines.renditions`)."""

    TEXT = "text"  # the full text (UTF-8): the offsets of the sensitive spans
    PAGES = "pages"  # JSON {"pages": [...]}: text per page (one entry for unpaged formats)
    OCR = "ocr"  # JSON {"0": OcrPage.to_json(), ...}: boxes of pages read by OCR
    TRANSCRIPT = "transcript"  # Transcript JSON (sound records)
    TRANSCRIPT_SRT = "transcript-srt"
    TRANSCRIPT_VTT = "transcript-vtt"


def thumb_kind(n: int) -> str:
    """The kind of the ``n``-th thumbnail (1-based: a page, an image frame or a keyframe)."""
    return f"{THUMB_PREFIX}{n}"


def derived_file(record: Record, kind: DerivedKind | str) -> StoredFile | None:
    """The record's file of ``kind`` (its files must be loaded), None if it has none."""
    return next((f for f in record.files if f.kind == kind), None)


def read_derived(store: ObjectStore, record: Record, kind: DerivedKind | str) -> bytes | None:
    """The bytes of the record's file of ``kind`` (its files must be loaded), None if it has none."""
    found = derived_file(record, kind)
    return None if found is None else b"".join(store.iter_bytes(found.sha256))


def link_derived(
    s: Session, record_id: int, rows: dict[str, StoredFile], kind: str, info: ObjectInfo, mime: str
) -> None:
    """Point the record's ``kind`` file at a stored object: update its row or add one (a re-run
    replaces, never duplicates; (record, kind) is unique)."""
    kind = str(kind)  # a DerivedKind is stored (and keyed) as its plain value
    row = rows.get(kind)
    if row is None:
        row = StoredFile(record_id=record_id, role=FileRole.DERIVATIVE, kind=kind)
        s.add(row)
        rows[kind] = row
    row.sha256, row.size, row.mime, row.storage_key = info.sha256, info.size, mime, info.sha256
