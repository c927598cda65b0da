"""The database snapshot: SQLite through its online backup API, PostgreSQL by ``pg_dump -Fc`` in
an exported snapshot; and the PostgreSQL client programs that restore also runs."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from pipelines.backup.common import DB_FILES, BackupError
from pipelines.backup.objects import _Contents, _contents
from pipelines.context import Services


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
