"""A record's derived files (text, transcripts, thumbnails …): reading and linking them. Their
kinds (:class:`DerivedKind`, :func:`thumb_kind`) and :func:`derived_file` are defined in
:mod:`archive.media` and re-exported here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.media import THUMB_PREFIX as THUMB_PREFIX
from archive.media import DerivedKind as DerivedKind
from archive.media import derived_file as derived_file
from archive.media import is_thumb as is_thumb
from archive.media import thumb_kind as thumb_kind
from archive.models import FileRole, Record, StoredFile
from archive.storage import ObjectInfo, ObjectStore


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
