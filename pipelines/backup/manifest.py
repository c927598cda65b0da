"""The manifest and the files of a backup directory: writing them atomically with the manifest's
SHA-256 beside it, reading a manifest back, and ``archive backup verify``."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.storage import hash_file, object_key
from pipelines.backup.common import (
    DB_FILES,
    FORMAT,
    MANIFEST,
    MANIFEST_SHA,
    SNAPSHOTS,
    BackupProblem,
    ProgressFn,
    VerifyResult,
    _notify,
)
from pipelines.backup.objects import object_path


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _sha_line(body: bytes) -> bytes:
    """The manifest's checksum file, in the format ``sha256sum -c`` reads."""
    return f"{hashlib.sha256(body).hexdigest()}  {MANIFEST}\n".encode()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S") + f".{moment.microsecond // 1000:03d}Z"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
