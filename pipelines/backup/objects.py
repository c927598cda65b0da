"""The objects of a snapshot: listing what the database snapshot names (with its audit head and
row counts), and copying objects one by one through the object-store interface, a copy already
in the backup kept when it is sound."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, func, select

from archive import audit
from archive.models import (
    AuditEvent,
    AuditHead,
    Case,
    Dossier,
    DossierImport,
    FileRole,
    Record,
    StoredFile,
    TranscriptVersion,
    User,
)
from archive.storage import CHUNK, HashMismatchError, ObjectNotFoundError, ObjectStore, object_key
from archive.storage.local import LocalStore
from pipelines.backup.common import OBJECTS, BackupError

COUNTED = {
    "cases": Case,
    "records": Record,
    "stored_files": StoredFile,
    "transcript_versions": TranscriptVersion,
    "dossiers": Dossier,
    "users": User,
    "audit_events": AuditEvent,
}


@dataclass
class _Ref:
    mime: str
    original: bool
    size: int | None  # as the database recorded it, where it does


@dataclass
class _Contents:
    """What the snapshot holds: the objects it names, its audit head and its row counts."""

    refs: dict[str, _Ref]
    head: tuple[int, str]
    counts: dict[str, int]


def _contents(conn: Connection) -> _Contents:
    refs: dict[str, _Ref] = {}

    def add(sha: str, mime: str, original: bool, size: int | None = None) -> None:
        ref = refs.setdefault(sha, _Ref(mime, original, size))
        ref.original = ref.original or original
        ref.size = ref.size if ref.size is not None else size

    columns = (StoredFile.sha256, StoredFile.mime, StoredFile.role, StoredFile.size)
    for sha, mime, role, size in conn.execute(select(*columns)):
        add(sha, mime, role == FileRole.ORIGINAL, size)
    for sha, mime, size in conn.execute(select(Record.sha256, Record.mime, Record.size)):
        add(sha, mime, True, size)
    for (sha,) in conn.execute(select(TranscriptVersion.sha256)):
        add(sha, "application/json", False)  # earlier transcript versions, kept in the store
    for (sha,) in conn.execute(select(Dossier.catalog_sha256)):
        add(sha, "application/pdf", False)  # a filed case's cover and 卷内目录
    # a paper dossier's scan and catalog spreadsheet, uploaded for import (kept if never confirmed)
    for sha, mime, catalog in conn.execute(
        select(DossierImport.source_sha256, DossierImport.source_mime, DossierImport.catalog_sha256)
    ):
        add(sha, mime, True)
        if catalog:
            add(catalog, "application/octet-stream", True)
    row = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == audit.HEAD_ID)).first()
    head = (int(row[0]), str(row[1])) if row else (0, audit.GENESIS)
    counts = {name: int(conn.scalar(select(func.count()).select_from(m)) or 0) for name, m in COUNTED.items()}
    return _Contents(refs, head, counts)


def _copy(
    chunks: Iterator[bytes], target: ObjectStore, sha256: str, *, mime: str, lock: bool, tmp: Path
) -> int:
    """Stream one object into ``target`` through a temporary file, its SHA-256 checked on the way
    (and again by the target store); returns its size.

    What the source cannot give raises ObjectNotFoundError, HashMismatchError or OSError (that
    object is named and the others go on); a failure to write the target (a full or read-only
    disk, an unreachable bucket) raises BackupError and stops the run."""
    digest = hashlib.sha256()
    size = 0
    try:
        fd, name = tempfile.mkstemp(dir=tmp, prefix="put-copy-")
    except OSError as exc:
        raise BackupError(f"无法在 {tmp} 写入临时文件：{exc}") from exc
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for block in chunks:
                digest.update(block)
                size += len(block)
                try:
                    out.write(block)
                except OSError as exc:
                    raise BackupError(f"写入 {tmp} 失败：{exc}") from exc
        if digest.hexdigest() != sha256:
            raise HashMismatchError(f"内容的 SHA-256 为 {digest.hexdigest()}，与登记的不符")
        try:
            target.put_file(path, sha256, mime=mime, lock=lock)
        except Exception as exc:
            raise BackupError(f"对象 {sha256} 写入目标存储（{target.name}）失败：{exc}") from exc
    finally:
        path.unlink(missing_ok=True)
    return size


def _file_chunks(path: Path) -> Iterator[bytes]:
    try:
        f = path.open("rb")
    except FileNotFoundError as exc:
        raise ObjectNotFoundError(path.name) from exc
    with f:
        while block := f.read(CHUNK):
            yield block


def _why(exc: Exception) -> str:
    if isinstance(exc, ObjectNotFoundError):
        return "存储中找不到该对象"
    if isinstance(exc, HashMismatchError):
        return f"对象内容与其 SHA-256 不符（已损坏）：{exc}"
    return f"读取失败：{exc}"


def object_path(dest: Path, sha256: str) -> Path:
    """Where an object lies in a backup directory."""
    return Path(dest) / OBJECTS / object_key(sha256)


def _sound(target: LocalStore, sha: str, ref: _Ref, rehash: bool) -> bool:
    """Whether the copy already in the backup can stay: re-hashed, or (quick) of the right size."""
    if rehash:
        return target.verify(sha)
    return ref.size is None or target.stat(sha).size == ref.size
