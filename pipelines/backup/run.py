"""One ``archive backup`` run: under the backup directory's lock, the database snapshot, the
objects it names copied incrementally, the manifest, the rename into place, the audit event."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from archive import audit
from archive.actor import Actor
from archive.storage import HashMismatchError, ObjectNotFoundError, hash_file
from archive.storage.local import LocalStore, fsync_dir
from pipelines.backup.common import (
    DB_FILES,
    FORMAT,
    MANIFEST,
    MANIFEST_SHA,
    OBJECTS,
    QUARANTINE,
    SNAPSHOTS,
    BackedUpObject,
    BackupError,
    BackupResult,
    ProgressFn,
    Unavailable,
    _notify,
)
from pipelines.backup.database import _pg_snapshot, _sqlite_snapshot, database_kind
from pipelines.backup.manifest import _iso, _sha_line, _stamp, _write_atomic
from pipelines.backup.objects import _copy, _sound, _why, object_path
from pipelines.context import Services


@contextlib.contextmanager
def _locked(dest: Path) -> Iterator[None]:
    with (dest / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"另一个备份正在写入 {dest}，请等它结束后再试") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def backup(
    svc: Services,
    dest: Path,
    *,
    actor: Actor = audit.SYSTEM,
    verify_present: bool = True,
    on_progress: ProgressFn | None = None,
) -> BackupResult:
    """Back up the database and every object it names into ``dest`` while the system runs.

    Objects already in ``dest`` are re-hashed (``verify_present``) and a damaged copy is moved to
    ``quarantine/`` and copied again; the others are counted as present. An object the live store
    cannot give (missing or damaged there) is listed in the manifest as unavailable and the result
    is not ``ok``. Writes one ``backup`` audit event in the live database."""
    started = time.monotonic()
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    kind = database_kind(svc.settings.db_url)
    with _locked(dest):
        snapshots = dest / SNAPSHOTS
        snapshots.mkdir(exist_ok=True)
        for leftover in snapshots.glob(".partial-*"):  # a killed run's (we hold the lock)
            shutil.rmtree(leftover, ignore_errors=True)
        created = datetime.now(UTC)
        stamp = _stamp(created)
        work = snapshots / f".partial-{stamp}"
        work.mkdir()
        try:
            result = _backup_into(svc, dest, work, kind, created, stamp, verify_present, on_progress)
            os.rename(work, snapshots / stamp)
            fsync_dir(snapshots)
            body = (snapshots / stamp / MANIFEST).read_bytes()
            _write_atomic(dest / MANIFEST_SHA, _sha_line(body))
            _write_atomic(dest / MANIFEST, body)
            fsync_dir(dest)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    result = replace(result, seconds=round(time.monotonic() - started, 3))
    audit.record(
        svc.engine,
        "backup",
        actor,
        str(dest),
        "ok" if result.ok else "failed",
        snapshot=stamp,
        manifest_sha256=result.manifest_sha256,
        database_sha256=result.database_sha256,
        objects=result.objects,
        copied=result.copied,
        present=result.present,
        repaired=result.repaired,
        unavailable=[u.sha256 for u in result.unavailable],
        audit_seq=result.audit_seq,
        audit_hash=result.audit_hash,
    )
    return result


def _backup_into(
    svc: Services,
    dest: Path,
    work: Path,
    kind: str,
    created: datetime,
    stamp: str,
    verify_present: bool,
    on_progress: ProgressFn | None,
) -> BackupResult:
    db_file = work / DB_FILES[kind]
    _notify(on_progress, "数据库快照", 0, 1)
    contents = (
        _sqlite_snapshot(svc.settings.db_url, db_file) if kind == "sqlite" else _pg_snapshot(svc, db_file)
    )
    _notify(on_progress, "数据库快照", 1, 1)
    db_sha, db_size = hash_file(db_file)

    target = LocalStore(dest / OBJECTS)
    entries: list[BackedUpObject] = []
    unavailable: list[Unavailable] = []
    copied = present = repaired = bytes_copied = 0
    total = len(contents.refs)
    _notify(on_progress, "复制对象", 0, total)
    for n, (sha, ref) in enumerate(sorted(contents.refs.items()), start=1):
        try:
            if target.exists(sha) and _sound(target, sha, ref, verify_present):
                size = target.stat(sha).size
                present += 1
            else:
                damaged = target.exists(sha)
                if damaged:  # a damaged copy in the backup: set it aside, copy again
                    aside = dest / QUARANTINE / stamp / sha
                    aside.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(object_path(dest, sha), aside)
                size = _copy(
                    svc.store.iter_bytes(sha), target, sha, mime=ref.mime, lock=False, tmp=target.tmp
                )
                bytes_copied += size
                repaired, copied = (repaired + 1, copied) if damaged else (repaired, copied + 1)
            entries.append(BackedUpObject(sha, size, ref.mime, ref.original))
        except (ObjectNotFoundError, HashMismatchError, OSError) as exc:
            unavailable.append(Unavailable(sha, _why(exc)))
        _notify(on_progress, "复制对象", n, total)

    seq, head_hash = contents.head
    counts = {**contents.counts, "objects": len(entries), "bytes": sum(e.size for e in entries)}
    db_path = f"{SNAPSHOTS}/{stamp}/{db_file.name}"
    manifest = {
        "format": FORMAT,
        "snapshot": stamp,
        "created_at": _iso(created),
        "source": {
            "database": kind,
            "storage": svc.settings.storage.backend,
            "index": svc.settings.index.backend,
        },
        "database": {
            "kind": kind,
            "file": db_path,
            "sha256": db_sha,
            "size": db_size,
        },
        "audit_head": {"seq": seq, "hash": head_hash},
        "counts": counts,
        "objects_dir": OBJECTS,
        "objects": [asdict(e) for e in entries],
        "unavailable": [asdict(u) for u in unavailable],
    }
    body = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    _write_atomic(work / MANIFEST, body)
    _write_atomic(work / MANIFEST_SHA, _sha_line(body))
    fsync_dir(work)
    return BackupResult(
        dest=str(dest),
        snapshot=stamp,
        created_at=_iso(created),
        database=db_path,
        database_sha256=db_sha,
        manifest_sha256=hashlib.sha256(body).hexdigest(),
        objects=len(entries),
        copied=copied,
        present=present,
        repaired=repaired,
        bytes_copied=bytes_copied,
        audit_seq=seq,
        audit_hash=head_hash,
        counts=counts,
        seconds=0.0,
        unavailable=unavailable,
    )
