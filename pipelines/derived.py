"""Linking derived files (text, transcripts, thumbnails …) to their record."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.models import FileRole, StoredFile
from archive.storage import ObjectInfo


def link_derived(
    s: Session, record_id: int, rows: dict[str, StoredFile], kind: str, info: ObjectInfo, mime: str
) -> None:
    """Point the record's ``kind`` file at a stored object: update its row or add one (a re-run
    replaces, never duplicates; (record, kind) is unique)."""
    row = rows.get(kind)
    if row is None:
        row = StoredFile(record_id=record_id, role=FileRole.DERIVATIVE, kind=kind)
        s.add(row)
        rows[kind] = row
    row.sha256, row.size, row.mime, row.storage_key = info.sha256, info.size, mime, info.sha256
