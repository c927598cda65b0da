"""Online backup, its verification, and restore (docs/operations.md, "Backup and restore").

A backup directory (``DEST``) holds:

- ``objects/`` — every stored object a snapshot refers to, content-addressed with the layout of
  :class:`archive.storage.local.LocalStore` (written by it). Snapshots share it, so each run copies
  only the objects not already there.
- ``snapshots/<stamp>/`` — one directory per run: the database (``archive.db``, an SQLite
  online-backup copy, or ``archive.dump``, ``pg_dump -Fc``) and that run's ``manifest.json`` with
  ``manifest.json.sha256``. A run works in ``snapshots/.partial-<stamp>/`` and renames it at the
  end, so a crashed backup never looks complete.
- ``manifest.json`` and ``manifest.json.sha256`` — a copy of the latest run's manifest.

The database is snapshotted first (SQLite: one step of the online backup API; PostgreSQL: an
exported snapshot that ``pg_dump --snapshot`` and our own reads share); the objects to copy are
read from that snapshot, never from the live database. Objects are written to the store before
the row that names them is committed and are never deleted, so every object the snapshot names
can be copied while the system goes on writing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from archive import audit
from archive.actor import Actor
from archive.db import get_engine, migrate
from archive.models import (
    AuditEvent,
    AuditHead,
    Case,
    Dossier,
    FileRole,
    Record,
    StoredFile,
    TranscriptVersion,
    User,
)
from archive.settings import Settings
from archive.storage import CHUNK, HashMismatchError, ObjectNotFoundError, ObjectStore, hash_file, object_key
from archive.storage.factory import make_store
from archive.storage.local import LocalStore
from archive.timeutil import to_local
from pipelines.context import Services
from pipelines.dossier import retain_until

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_SHA = "manifest.json.sha256"
OBJECTS = "objects"
SNAPSHOTS = "snapshots"
QUARANTINE = "quarantine"
DB_FILES = {"sqlite": "archive.db", "postgresql": "archive.dump"}
ENV_FILE = "archive.env"

# on_progress(phase, done, total): phase is the Chinese label a progress bar shows.
ProgressFn = Callable[[str, int, int | None], None]
COUNTED = {
    "cases": Case,
    "records": Record,
    "stored_files": StoredFile,
    "transcript_versions": TranscriptVersion,
    "dossiers": Dossier,
    "users": User,
    "audit_events": AuditEvent,
}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message tells the operator why (Chinese)."""


class RestoreRefusedError(BackupError):
    """The restore target was refused before anything was written (wrong or shared target)."""


@dataclass(frozen=True)
class BackedUpObject:
    """One object of a snapshot, as the manifest lists it."""

    sha256: str
    size: int
    mime: str
    original: bool


@dataclass(frozen=True)
class Unavailable:
    """An object the snapshot names that could not be copied from the live store."""

    sha256: str
    reason: str


class _Outcome:
    """What the results below share: ``ok`` when nothing is listed as wrong, and JSON output."""

    def wrong(self) -> list[Any]:
        """What went wrong (none: ok)."""
        raise NotImplementedError

    @property
    def ok(self) -> bool:
        """Nothing went wrong."""
        return not self.wrong()

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"ok": self.ok, **asdict(cast(Any, self))}


@dataclass(frozen=True)
class BackupResult(_Outcome):
    """What one ``archive backup`` run did; not ok when an object could not be copied."""

    dest: str
    snapshot: str
    created_at: str
    database: str
    database_sha256: str
    manifest_sha256: str
    objects: int
    copied: int
    present: int
    repaired: int
    bytes_copied: int
    audit_seq: int
    audit_hash: str
    counts: dict[str, int]
    seconds: float
    unavailable: list[Unavailable] = field(default_factory=list)

    def wrong(self) -> list[Any]:
        """The objects of the snapshot not in the backup."""
        return list(self.unavailable)


@dataclass(frozen=True)
class BackupProblem:
    """One thing wrong with a backup: ``kind`` is manifest, database or object."""

    kind: str
    message: str
    sha256: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class VerifyResult(_Outcome):
    """What ``archive backup verify`` found; ok when the manifest, the database file and every
    object are as recorded."""

    dest: str
    snapshot: str | None
    objects: int
    bytes_checked: int
    problems: list[BackupProblem]

    def wrong(self) -> list[Any]:
        """Each problem found."""
        return list(self.problems)


@dataclass(frozen=True)
class RestoreTarget:
    """Where a restore goes: a new data directory (``to``: SQLite database, objects, index), or a
    PostgreSQL database (``db_url``) and/or an S3 bucket (``bucket``); and the names the restored
    copy must use so that it shares nothing with the live system."""

    to: Path | None = None
    db_url: str | None = None
    bucket: str | None = None
    es_alias: str | None = None
    queue_name: str | None = None


@dataclass(frozen=True)
class RestoreResult(_Outcome):
    """What ``archive restore`` did, and the settings the restored copy runs with; ok when every
    object was restored and the chain's head is the manifest's."""

    snapshot: str
    database: str
    objects: int
    bytes_restored: int
    audit_seq: int
    audit_hash: str
    restore_event: int
    env: dict[str, str]
    seconds: float
    problems: list[BackupProblem] = field(default_factory=list)

    def wrong(self) -> list[Any]:
        """Each problem met."""
        return list(self.problems)


def _notify(on_progress: ProgressFn | None, phase: str, done: int, total: int | None) -> None:
    if on_progress is not None:
        on_progress(phase, done, total)


# --- the database snapshot -----------------------------------------------------------------------


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
    row = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == audit.HEAD_ID)).first()
    head = (int(row[0]), str(row[1])) if row else (0, audit.GENESIS)
    counts = {name: int(conn.scalar(select(func.count()).select_from(m)) or 0) for name, m in COUNTED.items()}
    return _Contents(refs, head, counts)


def database_kind(url: str) -> str:
    """``sqlite`` or ``postgresql`` (BackupError for any other database)."""
    backend = make_url(url).get_backend_name()
    if backend not in DB_FILES:
        raise BackupError(f"不支持备份这种数据库：{backend}（只支持 SQLite 和 PostgreSQL）")
    return backend


def _sqlite_snapshot(url: str, target: Path) -> _Contents:
    source = make_url(url).database
    if not source or source == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            # One step (pages=-1) reads the whole database in one read transaction: a consistent
            # snapshot while writers go on (WAL), never a file copy of a database being written.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            check = dst.execute("PRAGMA quick_check").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    if check is None or check[0] != "ok":
        raise BackupError(f"数据库快照自检未通过：{check[0] if check else '无结果'}")
    engine = create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _contents(conn)
    finally:
        engine.dispose()


def _client(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"找不到 PostgreSQL 客户端程序 {name}：请在本机安装与数据库服务器同一主版本（或更新）的 "
            f"PostgreSQL 客户端（Debian/Ubuntu：apt install postgresql-client），确认 {name} 在 PATH 中后重试"
        )
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for pg_dump/pg_restore (password in PGPASSWORD, never on the command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise BackupError(f"{what}失败（退出码 {done.returncode}）：{detail}")


def _pg_snapshot(svc: Services, target: Path) -> _Contents:
    pg_dump = _client("pg_dump")
    uri, env = _libpq(svc.settings.db_url)
    with svc.engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump and our reads see the same snapshot: the one this transaction exports.
            snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
            contents = _contents(conn)
            args = [pg_dump, "-Fc", "--no-password", f"--snapshot={snapshot}", "-f", str(target), "-d", uri]
            _run(args, env, "pg_dump ")
    return contents


# --- copying objects -----------------------------------------------------------------------------


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


# --- files of the backup directory ---------------------------------------------------------------


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha_line(body: bytes) -> bytes:
    """The manifest's checksum file, in the format ``sha256sum -c`` reads."""
    return f"{hashlib.sha256(body).hexdigest()}  {MANIFEST}\n".encode()


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


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S") + f".{moment.microsecond // 1000:03d}Z"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- backup --------------------------------------------------------------------------------------


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
            _fsync_dir(snapshots)
            body = (snapshots / stamp / MANIFEST).read_bytes()
            _write_atomic(dest / MANIFEST_SHA, _sha_line(body))
            _write_atomic(dest / MANIFEST, body)
            _fsync_dir(dest)
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


def _sound(target: LocalStore, sha: str, ref: _Ref, rehash: bool) -> bool:
    """Whether the copy already in the backup can stay: re-hashed, or (quick) of the right size."""
    if rehash:
        return target.verify(sha)
    return ref.size is None or target.stat(sha).size == ref.size


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
    _fsync_dir(work)
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


# --- verify --------------------------------------------------------------------------------------


def _manifest_dir(dest: Path, snapshot: str | None) -> Path:
    return Path(dest) / SNAPSHOTS / snapshot if snapshot else Path(dest)


def load_manifest(
    dest: Path, snapshot: str | None = None
) -> tuple[dict[str, Any] | None, list[BackupProblem]]:
    """The manifest of the latest (or the named) snapshot, and what is wrong with it: missing,
    changed (its SHA-256 no longer that of ``manifest.json.sha256``) or unreadable."""
    if snapshot is not None and (Path(snapshot).name != snapshot or snapshot.startswith(".")):
        return None, [BackupProblem("manifest", f"快照名不正确：{snapshot}（snapshots/ 下的目录名）")]
    folder = _manifest_dir(dest, snapshot)
    path, sha_path = folder / MANIFEST, folder / MANIFEST_SHA
    shown = str(path)
    if not path.is_file():
        why = f"快照 {snapshot} 不存在" if snapshot else "不是备份目录，或备份从未完成"
        return None, [BackupProblem("manifest", f"缺少清单 {shown}：{why}", path=shown)]
    body = path.read_bytes()
    problems: list[BackupProblem] = []
    actual = hashlib.sha256(body).hexdigest()
    if not sha_path.is_file():
        problems.append(BackupProblem("manifest", f"缺少清单校验文件 {sha_path}", path=str(sha_path)))
    else:
        recorded = sha_path.read_text(encoding="utf-8", errors="replace").split()
        if not recorded or recorded[0] != actual:
            message = f"清单被改动：{shown} 的 SHA-256 为 {actual}，与 {MANIFEST_SHA} 记录的不符"
            problems.append(BackupProblem("manifest", message, path=shown))
    try:
        manifest = json.loads(body)
    except ValueError as exc:
        return None, [*problems, BackupProblem("manifest", f"清单无法读取：{exc}", path=shown)]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None, [
            *problems,
            BackupProblem("manifest", f"清单格式不认识（应为第 {FORMAT} 版）", path=shown),
        ]
    if (flaw := _flaw(manifest)) is not None:
        return None, [*problems, BackupProblem("manifest", f"清单内容不完整：{flaw}", path=shown)]
    copy = Path(dest) / SNAPSHOTS / str(manifest.get("snapshot", "")) / MANIFEST
    if snapshot is None and copy.is_file() and copy.read_bytes() != body:
        message = f"清单被改动：{shown} 与快照目录中的副本 {copy} 不同"
        problems.append(BackupProblem("manifest", message, path=shown))
    return manifest, problems


def _flaw(manifest: dict[str, Any]) -> str | None:
    """What a manifest lacks for verify and restore to read it safely (None: nothing)."""
    db, head = manifest.get("database"), manifest.get("audit_head")
    if not isinstance(db, dict) or db.get("kind") not in DB_FILES:
        return "数据库条目"
    if (
        not isinstance(db.get("file"), str)
        or ".." in Path(db["file"]).parts
        or Path(db["file"]).is_absolute()
    ):
        return "数据库文件名"
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int):
        return "审计链头"
    objects = manifest.get("objects")
    if not isinstance(objects, list):
        return "对象列表"
    for entry in [*objects, *manifest.get("unavailable", [])]:
        try:
            object_key(entry["sha256"])
        except (KeyError, TypeError, ValueError):
            return f"对象条目 {str(entry)[:100]}"
    if any(not isinstance(e.get("size"), int) for e in objects):
        return "对象大小"
    return None


def _database_problem(dest: Path, manifest: dict[str, Any]) -> BackupProblem | None:
    db = manifest["database"]
    path = Path(dest) / db["file"]
    if not path.is_file():
        return BackupProblem("database", f"缺少数据库快照文件 {path}", path=str(path))
    sha, _ = hash_file(path)
    if sha != db["sha256"]:
        message = f"数据库快照文件被改动：{path} 的 SHA-256 为 {sha}，清单记录为 {db['sha256']}"
        return BackupProblem("database", message, sha256=sha, path=str(path))
    return None


def verify_backup(
    dest: Path, *, snapshot: str | None = None, on_progress: ProgressFn | None = None
) -> VerifyResult:
    """Check the manifest's own hash, the database file's hash and every object's presence and
    hash; each problem names what is wrong (an object by its SHA-256 and path). Reads only."""
    dest = Path(dest)
    manifest, problems = load_manifest(dest, snapshot)
    if manifest is None:
        return VerifyResult(str(dest), snapshot, 0, 0, problems)
    if (db_problem := _database_problem(dest, manifest)) is not None:
        problems.append(db_problem)
    for u in manifest.get("unavailable", []):
        message = f"对象 {u['sha256']} 不在备份中：备份时{u['reason']}"
        problems.append(BackupProblem("object", message, sha256=u["sha256"]))
    objects = manifest["objects"]
    checked = 0
    _notify(on_progress, "校验对象", 0, len(objects))
    for n, entry in enumerate(objects, start=1):
        sha = entry["sha256"]
        path = object_path(dest, sha)
        if not path.is_file():
            problems.append(BackupProblem("object", f"缺少对象 {sha}（{path}）", sha256=sha, path=str(path)))
        else:
            actual, size = hash_file(path)
            checked += size
            if actual != sha:
                message = f"对象被改动：{sha}（{path}）的内容现在的 SHA-256 为 {actual}"
                problems.append(BackupProblem("object", message, sha256=sha, path=str(path)))
            elif size != entry["size"]:
                message = f"对象大小不符：{sha}（{path}）为 {size} 字节，清单记录为 {entry['size']}"
                problems.append(BackupProblem("object", message, sha256=sha, path=str(path)))
        _notify(on_progress, "校验对象", n, len(objects))
    return VerifyResult(str(dest), manifest.get("snapshot"), len(objects), checked, problems)


# --- restore -------------------------------------------------------------------------------------


def restored_settings(current: Settings, kind: str, target: RestoreTarget) -> Settings:
    """The settings the restored copy runs with: the current ones with the data directory, the
    database, the object store and the names of ``target``. RestoreRefusedError for a target that
    does not fit the backup."""
    if kind == "sqlite" and target.db_url:
        raise RestoreRefusedError(
            "这份备份的数据库是 SQLite 快照，只能恢复为数据目录（--to DIR），"
            "不能恢复到 PostgreSQL（--db-url）"
        )
    if kind == "sqlite" and target.to is None:
        raise RestoreRefusedError("这份备份的数据库是 SQLite 快照：请用 --to DIR 指定恢复出的新数据目录")
    if kind == "postgresql" and not target.db_url:
        raise RestoreRefusedError(
            "这份备份的数据库是 PostgreSQL（pg_dump）：请用 --db-url 指定一个已建好的空数据库"
            "（如 postgresql+psycopg://archive@db/archive_restored）"
        )
    if target.db_url and database_kind(target.db_url) != "postgresql":
        raise RestoreRefusedError(f"--db-url 须为 PostgreSQL 数据库：{_shown_url(target.db_url)}")
    if target.to is None and target.bucket is None:
        raise RestoreRefusedError("请指定对象恢复到哪里：--to DIR（本地目录）或 --bucket NAME（S3 存储桶）")
    new = current.model_copy(deep=True)
    to = target.to.resolve() if target.to is not None else None
    if to is not None:
        new.data_dir = to
    if kind == "postgresql":
        new.db.url = target.db_url
    elif current.db.url is not None:
        new.db.url = f"sqlite:///{new.data_dir / 'archive.db'}"
    if target.bucket:
        new.storage.backend, new.storage.s3_bucket = "s3", target.bucket
    else:
        new.storage.backend = "local"
        new.storage.local_dir = new.data_dir / "objects" if current.storage.local_dir is not None else None
    if current.index.path is not None and to is not None:
        new.index.path = to / "index"
    if target.es_alias:
        new.index.es_alias = target.es_alias
    if target.queue_name:
        new.queue.name = target.queue_name
    return new


def shared_with_live(current: Settings, restored: Settings) -> list[str]:
    """What the restored copy would share with the system configured now, each naming the setting
    to change: its search index (tantivy directory, Elasticsearch alias) or its Redis queue."""
    out: list[str] = []
    if (
        current.index.backend == restored.index.backend == "tantivy"
        and current.index_dir.resolve() == restored.index_dir.resolve()
    ):
        out.append(
            f"恢复出的系统会与当前系统共用检索索引目录 {current.index_dir}（ARCHIVE_INDEX__PATH）："
            "请用 --to DIR 指定新的数据目录，或为恢复出的系统另设 ARCHIVE_INDEX__PATH"
        )
    if (
        current.index.backend == restored.index.backend == "elasticsearch"
        and current.index.es_url == restored.index.es_url
        and current.index.es_alias == restored.index.es_alias
    ):
        out.append(
            f"恢复出的系统会与当前系统共用 Elasticsearch 别名 {current.index.es_alias}"
            "（ARCHIVE_INDEX__ES_ALIAS；重建索引会替换当前系统的索引）：请用 --es-alias 另取一个别名"
        )
    if (
        current.queue.backend == restored.queue.backend == "redis"
        and current.queue.redis_url == restored.queue.redis_url
        and current.queue.name == restored.queue.name
    ):
        out.append(
            f"恢复出的系统会与当前系统共用 Redis 任务队列 {current.queue.name}"
            "（ARCHIVE_QUEUE__NAME；两边的任务进程会互相取走对方的任务）：请用 --queue-name 另取一个队列名"
        )
    return out


def _shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def restored_env(current: Settings, restored: Settings) -> dict[str, str]:
    """The ARCHIVE_* variables the restored copy needs beyond the current configuration."""

    def env(s: Settings) -> dict[str, str]:
        return {
            "ARCHIVE_DATA_DIR": str(s.data_dir.resolve()),
            "ARCHIVE_DB__URL": _shown_url(s.db.url) if s.db.url else "",
            "ARCHIVE_STORAGE__BACKEND": s.storage.backend,
            "ARCHIVE_STORAGE__LOCAL_DIR": str(s.storage.local_dir or ""),
            "ARCHIVE_STORAGE__S3_BUCKET": s.storage.s3_bucket,
            "ARCHIVE_INDEX__PATH": str(s.index.path or ""),
            "ARCHIVE_INDEX__ES_ALIAS": s.index.es_alias,
            "ARCHIVE_QUEUE__NAME": s.queue.name,
        }

    now, then = env(current), env(restored)
    return {key: value for key, value in then.items() if value and value != now[key]}


def _refuse_non_empty(target: RestoreTarget, restored: Settings, kind: str) -> None:
    if target.to is not None:
        to = target.to
        if to.exists() and not to.is_dir():
            raise RestoreRefusedError(f"目标 {to} 不是目录")
        if to.is_dir() and any(to.iterdir()):
            raise RestoreRefusedError(f"目标目录 {to} 不是空的：恢复只写入新的或空的目录，不会覆盖已有数据")
    if kind == "postgresql":
        engine = create_engine(restored.db_url, poolclass=NullPool)
        try:
            tables = inspect(engine).get_table_names()
        except SQLAlchemyError as exc:
            first = str(exc).splitlines()[0]
            raise RestoreRefusedError(
                f"无法连接目标数据库 {_shown_url(restored.db_url)}：{first}；"
                "请先建好一个空数据库（createdb 库名）"
            ) from None
        finally:
            engine.dispose()
        if tables:
            raise RestoreRefusedError(
                f"目标数据库 {_shown_url(restored.db_url)} 不是空的（已有 {len(tables)} 张表）："
                "请指定一个新建的空数据库"
            )


def restore(
    current: Settings,
    dest: Path,
    target: RestoreTarget,
    *,
    snapshot: str | None = None,
    actor: Actor = audit.SYSTEM,
    on_progress: ProgressFn | None = None,
) -> RestoreResult:
    """Restore the latest (or the named) snapshot of ``dest`` as a new system beside the one
    configured now (``current``): database, every object (re-hashed as it is copied), an empty
    index; then one ``restore`` audit event in the restored chain, right after the snapshot's head.

    Refused (RestoreRefusedError) before anything is written when the backup's manifest or
    database file does not verify, the target is not empty, or the copy would share the live
    system's index or Redis queue (:func:`shared_with_live`). The search index is rebuilt by
    ``archive reindex`` afterwards."""
    started = time.monotonic()
    dest = Path(dest)
    manifest, problems = load_manifest(dest, snapshot)
    if manifest is None or problems:
        raise RestoreRefusedError("备份清单有问题，不能恢复：" + "；".join(p.message for p in problems))
    if (db_problem := _database_problem(dest, manifest)) is not None:
        raise RestoreRefusedError("备份的数据库文件有问题，不能恢复：" + db_problem.message)
    kind = str(manifest["database"]["kind"])
    restored = restored_settings(current, kind, target)
    _refuse_non_empty(target, restored, kind)
    shared = shared_with_live(current, restored)
    if shared:
        raise RestoreRefusedError("；".join(shared))
    to = target.to.resolve() if target.to is not None else None
    created = to is not None and not to.exists()
    try:
        return _restore_into(current, restored, dest, manifest, kind, to, actor, on_progress, started)
    except BaseException:
        if to is not None:  # it was new or empty: leave no half-restored copy behind
            if created:
                shutil.rmtree(to, ignore_errors=True)
            else:
                for child in to.iterdir():
                    if child.is_dir():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink()
        raise


def _restore_into(
    current: Settings,
    restored: Settings,
    dest: Path,
    manifest: dict[str, Any],
    kind: str,
    to: Path | None,
    actor: Actor,
    on_progress: ProgressFn | None,
    started: float,
) -> RestoreResult:
    if to is not None:
        to.mkdir(parents=True, exist_ok=True)
    try:  # opened first: an unreachable bucket stops the restore before the database is written
        store = make_store(restored)
    except Exception as exc:
        raise BackupError(f"无法打开目标对象存储（{restored.storage.backend}）：{exc}") from exc
    db_file = dest / manifest["database"]["file"]
    _notify(on_progress, "恢复数据库", 0, 1)
    if kind == "sqlite":
        path = Path(make_url(restored.db_url).database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(db_file, path)
        if hash_file(path)[0] != manifest["database"]["sha256"]:
            raise BackupError(f"复制后的数据库文件 {path} 与备份中的不同")
    else:
        uri, env = _libpq(str(restored.db_url))
        args = [_client("pg_restore"), "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction"]
        _run([*args, "--no-password", "-d", uri, str(db_file)], env, "pg_restore ")
    migrate(restored.db_url)  # a snapshot of an older release gets the newer migrations
    _notify(on_progress, "恢复数据库", 1, 1)

    problems: list[BackupProblem] = []
    restored_bytes = 0
    objects = manifest["objects"]
    _notify(on_progress, "恢复对象", 0, len(objects))
    with tempfile.TemporaryDirectory(prefix="restore-", dir=to) as tmp:
        for n, entry in enumerate(objects, start=1):
            sha = entry["sha256"]
            path = object_path(dest, sha)
            try:
                chunks = _file_chunks(path)
                restored_bytes += _copy(
                    chunks, store, sha, mime=entry["mime"], lock=entry["original"], tmp=Path(tmp)
                )
            except (ObjectNotFoundError, HashMismatchError, OSError) as exc:
                message = f"对象 {sha}（{path}）未能恢复：{_why(exc)}"
                problems.append(BackupProblem("object", message, sha256=sha, path=str(path)))
            _notify(on_progress, "恢复对象", n, len(objects))
    for u in manifest.get("unavailable", []):
        message = f"对象 {u['sha256']} 不在备份中（备份时{u['reason']}），未能恢复"
        problems.append(BackupProblem("object", message, sha256=u["sha256"]))

    engine = get_engine(restored.db_url)
    head = manifest["audit_head"]
    with engine.connect() as conn:
        _reapply_retention(conn, store)
        row = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == audit.HEAD_ID)).first()
    found = (int(row[0]), str(row[1])) if row else (0, audit.GENESIS)
    if found != (head["seq"], head["hash"]):
        message = f"恢复出的审计链头 #{found[0]} {found[1]} 与清单记录的 #{head['seq']} {head['hash']} 不符"
        problems.append(BackupProblem("database", message))
    if restored.index.backend == "tantivy":
        from indexer.backend import make_index

        make_index(restored)  # empty: `archive reindex` fills it from the database and the objects
    event = audit.record(
        engine,
        "restore",
        actor,
        f"backup:{manifest['snapshot']}",
        "ok" if not problems else "failed",
        source=str(dest.resolve()),
        snapshot=manifest["snapshot"],
        audit_seq=head["seq"],
        audit_hash=head["hash"],
        objects=len(objects),
        problems=len(problems),
    )
    env = restored_env(current, restored)
    if to is not None:
        lines = [f"# archive restore {dest.resolve()} (snapshot {manifest['snapshot']})"]
        lines += [f"{key}={value}" for key, value in env.items()]
        (to / ENV_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return RestoreResult(
        snapshot=str(manifest["snapshot"]),
        database=_shown_url(restored.db_url),
        objects=len(objects),
        bytes_restored=restored_bytes,
        audit_seq=int(head["seq"]),
        audit_hash=str(head["hash"]),
        restore_event=event,
        env=env,
        seconds=round(time.monotonic() - started, 3),
        problems=problems,
    )


def _reapply_retention(conn: Connection, store: ObjectStore) -> None:
    """Filed cases keep their originals and catalog undeletable in the restored store too."""
    rows = conn.execute(select(Dossier.case_id, Dossier.retention, Dossier.filed_at, Dossier.catalog_sha256))
    for case_id, retention, filed_at, catalog in list(rows):
        until: date = retain_until(retention, to_local(filed_at).date())
        shas = [sha for (sha,) in conn.execute(select(Record.sha256).where(Record.case_id == case_id))]
        for sha in [*shas, catalog]:
            with contextlib.suppress(ObjectNotFoundError):
                store.retain(sha, until)
