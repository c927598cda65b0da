"""``archive restore``: the settings of the restored copy, the targets it refuses (not empty,
not fitting the backup, shared with the live system), and the restore itself."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from archive import audit
from archive.actor import Actor
from archive.db import get_engine, migrate
from archive.models import AuditHead, Dossier, Record
from archive.settings import Settings
from archive.storage import HashMismatchError, ObjectNotFoundError, ObjectStore, hash_file
from archive.storage.factory import make_store
from archive.timeutil import to_local
from pipelines.backup.common import (
    ENV_FILE,
    BackupError,
    BackupProblem,
    ProgressFn,
    RestoreRefusedError,
    RestoreResult,
    RestoreTarget,
    _notify,
)
from pipelines.backup.database import _client, _libpq, _run, database_kind
from pipelines.backup.manifest import _database_problem, load_manifest
from pipelines.backup.objects import _copy, _file_chunks, _why, object_path
from pipelines.dossier import retain_until


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
