"""Backup and restore (pipelines/backup/, `archive backup`, `archive backup verify`,
`archive restore`): the drill on a running archive, verification that names what is damaged,
PostgreSQL and S3, and the targets a restore refuses."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from archive.models import (
    AuditEvent,
    Dossier,
    FileRole,
    Job,
    JobStatus,
    ProcessingStatus,
    Record,
    StoredFile,
    TranscriptVersion,
)
from archive.settings import Settings
from archive.storage.local import LocalStore
from archive.storage.s3 import S3Store
from pipelines import backup as bk
from pipelines.backup import run as backup_run
from pipelines.context import Services, open_services
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.queue import make_queue
from pipelines.samples import make_text_pdfs
from search_api.services import ServiceError
from search_api.services.records import edit_record
from tests.conftest import BIN, PG_ADMIN_URL, REPO, cli_env, run_cli, s3_settings
from tests.support.seaweed import SeaweedS3
from ui.cli_common import OPERATOR

N = 200
MARKER = "备份演练"


def _engine(url_or_db: str | Path) -> Engine:
    url = str(url_or_db) if "://" in str(url_or_db) else f"sqlite:///{url_or_db}"
    return create_engine(url, poolclass=NullPool)


def _referenced(engine: Engine) -> set[str]:
    """Every object the database names: originals, derived files, transcript versions, catalogs."""
    with engine.connect() as c:
        shas = set(c.scalars(select(StoredFile.sha256))) | set(c.scalars(select(Record.sha256)))
        shas |= set(c.scalars(select(TranscriptVersion.sha256)))
        return shas | set(c.scalars(select(Dossier.catalog_sha256)))


def _manifest(dest: Path, snapshot: str | None = None) -> dict[str, Any]:
    folder = dest / "snapshots" / snapshot if snapshot else dest
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _objects(manifest: dict[str, Any]) -> set[str]:
    return {o["sha256"] for o in manifest["objects"]}


def _chain(engine: Engine) -> list[tuple[int, str, str, dict[str, Any]]]:
    with engine.connect() as c:
        rows = c.execute(
            select(AuditEvent.seq, AuditEvent.hash, AuditEvent.event_type, AuditEvent.detail).order_by(
                AuditEvent.seq
            )
        )
        return [(seq, h, kind, detail or {}) for seq, h, kind, detail in rows]


def _assert_chain_continues_from(engine: Engine, manifest: dict[str, Any]) -> None:
    """The restored chain holds the snapshot's head, followed by exactly one restore event."""
    head = manifest["audit_head"]
    chain = _chain(engine)
    by_seq = {seq: h for seq, h, _, _ in chain}
    assert by_seq[head["seq"]] == head["hash"]
    last_seq, _, kind, detail = chain[-1]
    assert (last_seq, kind, detail["snapshot"]) == (head["seq"] + 1, "restore", manifest["snapshot"])


class _Editor(threading.Thread):
    """Corrects records' 证明对象 (the PATCH service) as fast as the index lock allows, logging
    each committed value with the moment the call returned."""

    def __init__(self, svc: Services) -> None:
        super().__init__(daemon=True)
        self.svc = svc
        self.log: list[tuple[int, str, float]] = []
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        rng, n = random.Random(5), 0
        try:
            while not self.halt.is_set():
                with Session(self.svc.engine) as s:
                    ids = list(s.scalars(select(Record.id)))
                if ids:
                    n += 1
                    rid, value = rng.choice(ids), f"演练修改{n}"
                    try:
                        edit_record(self.svc, OPERATOR, rid, {"proves": value})
                    except ServiceError:
                        continue
                    self.log.append((rid, value, time.monotonic()))
                self.halt.wait(0.05)
        except BaseException as exc:
            self.error = exc

    def check(self, restored: Engine, started: float) -> int:
        """Each record edited before the backup started shows that edit or a later one."""
        with restored.connect() as c:
            proves = {rid: value for rid, value in c.execute(select(Record.id, Record.proves))}
        checked = 0
        for rid in {r for r, _, _ in self.log}:
            before = [v for r, v, t in self.log if r == rid and t < started]
            if before:
                later = {v for r, v, t in self.log if r == rid and t >= started}
                assert proves[rid] in {before[-1], *later}, (rid, proves[rid], before[-1])
                checked += 1
        return checked


@dataclass
class _Taken:
    result: bk.BackupResult
    started: float
    ids_before: set[int]
    ids_after: set[int]


def _record_ids(engine: Engine) -> set[int]:
    with engine.connect() as c:
        return set(c.scalars(select(Record.id)))


def _backup_when(
    svc: Services, dest: Path, ready: Callable[[], bool], proc: subprocess.Popen[bytes]
) -> _Taken:
    deadline = time.monotonic() + 300
    while not ready():
        assert proc.poll() is None, "the ingest ended before the moment of the backup"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    ids_before = _record_ids(svc.engine)
    started = time.monotonic()
    result = bk.backup(svc, dest)
    return _Taken(result, started, ids_before, _record_ids(svc.engine))


def _count(svc: Services, *where: Any) -> int:
    with svc.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(Job).where(*where)) or 0)


@pytest.mark.slow
def test_drill_backup_during_ingest_and_edits_restore_and_increment(
    settings: Settings, svc: Services, tmp_path: Path
) -> None:
    src = tmp_path / "incoming"
    make_text_pdfs(src, N, marker=MARKER, every=5, seed=11)
    live, dest = settings.data_dir, tmp_path / "backup"
    proc = subprocess.Popen(
        [str(BIN / "archive"), "ingest", str(src), "--json"],
        env=cli_env(live),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    editor = _Editor(svc)
    editor.start()
    try:
        # 1: while the originals are being stored; 2: while they are being parsed and indexed.
        first = _backup_when(svc, dest, lambda: 40 <= len(_record_ids(svc.engine)) < N - 40, proc)
        second = _backup_when(svc, dest, lambda: _count(svc, Job.status == JobStatus.DONE) >= N // 5, proc)
        assert proc.poll() is None, "both backups ran while the ingest was writing"
        out, _ = proc.communicate(timeout=600)
    finally:
        editor.halt.set()
        editor.join(timeout=60)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, out
    assert json.loads(out)["ingested"] == N
    assert editor.error is None, editor.error
    m1, m2 = _manifest(dest, first.result.snapshot), _manifest(dest, second.result.snapshot)
    assert first.result.ok and second.result.ok
    assert second.result.copied == len(_objects(m2) - _objects(m1)) > 0
    assert second.result.present == len(_objects(m2) & _objects(m1))

    # The first snapshot: mid-way through storing, every record committed before it began is there.
    r1 = tmp_path / "restored-1"
    restored = bk.restore(settings, dest, bk.RestoreTarget(to=r1), snapshot=first.result.snapshot)
    assert restored.ok, restored.problems
    e1 = _engine(r1 / "archive.db")
    ids1 = _record_ids(e1)
    assert first.ids_before <= ids1 <= first.ids_after
    assert 0 < len(ids1) < N == len(_record_ids(svc.engine))
    assert m1["counts"]["records"] == len(ids1)
    editor.check(e1, first.started)
    _assert_chain_continues_from(e1, m1)

    # The second, by the command: records, originals and derived files, the chain, then the
    # restored copy passes fixity, audit verify and reindex, and finds what it should.
    r2 = tmp_path / "restored-2"
    res = run_cli(
        ["restore", str(dest), "--to", str(r2), "--snapshot", second.result.snapshot, "--json"], live
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["audit_seq"] == m2["audit_head"]["seq"]
    assert "archive reindex" in res.stderr
    e2 = _engine(r2 / "archive.db")
    ids2 = _record_ids(e2)
    assert second.ids_before <= ids2 <= second.ids_after
    edited = editor.check(e2, second.started)
    with e2.connect() as c:
        processed = c.scalar(
            select(func.count()).select_from(Record).where(Record.status == ProcessingStatus.PROCESSED)
        )
        derived = c.scalar(
            select(func.count()).select_from(StoredFile).where(StoredFile.role == FileRole.DERIVATIVE)
        )
    assert processed is not None and derived is not None
    assert 0 < processed < N and derived > 0
    restored_store = LocalStore(r2 / "objects")
    refs = _referenced(e2)
    assert refs == _objects(m2)
    assert all(restored_store.verify(sha) for sha in refs)
    _assert_chain_continues_from(e2, m2)
    fixity = run_cli(["fixity", "--json"], r2)
    assert fixity.returncode == 0, fixity.stderr
    verify = run_cli(["audit", "verify", "--json"], r2)
    assert verify.returncode == 0, verify.stderr
    chain = json.loads(verify.stdout)
    assert chain["ok"] and chain["events"] == chain["head_seq"] >= m2["audit_head"]["seq"] + 1
    reindex = run_cli(["reindex", "--json"], r2)
    assert reindex.returncode == 0, reindex.stderr
    assert json.loads(reindex.stdout)["indexed"] == processed
    found = run_cli(["search", MARKER, "--limit", "500", "--json"], r2)
    assert found.returncode == 0, found.stderr
    hits = {h["record_id"] for h in json.loads(found.stdout)["hits"]}
    assert hits and hits <= ids2

    # Once the ingest is over, the next backup copies exactly the objects added since.
    third = run_cli(["backup", str(dest), "--json"], live)
    assert third.returncode == 0, third.stderr
    summary = json.loads(third.stdout)
    m3 = _manifest(dest)
    assert m3["snapshot"] == summary["snapshot"]
    assert _objects(m3) == _referenced(svc.engine)
    assert summary["copied"] == len(_objects(m3) - _objects(m2)) > 0
    assert summary["present"] == len(_objects(m2)) and summary["repaired"] == 0
    with svc.engine.connect() as c:
        events = list(c.execute(select(AuditEvent.detail).where(AuditEvent.event_type == "backup")).scalars())
    assert [e["snapshot"] for e in events] == [first.result.snapshot, second.result.snapshot, m3["snapshot"]]
    print(
        f"\ndrill: {N} files; snapshot 1: {len(ids1)} records, {first.result.objects} objects "
        f"in {first.result.seconds:.2f} s; snapshot 2: {len(ids2)} records ({processed} processed), "
        f"{second.result.objects} objects ({second.result.copied} copied, {second.result.present} there) "
        f"in {second.result.seconds:.2f} s; after ingest: {summary['objects']} objects, "
        f"{summary['copied']} copied in {summary['seconds']:.2f} s; {len(editor.log)} edits, {edited} checked"
    )


def _small_archive(svc: Services, folder: Path, n: int = 3) -> list[int]:
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for i in range(n):
        path = folder / f"询问笔录_{i}.txt"
        path.write_text(f"询问笔录 第{i}份 {uuid.uuid4().hex}\n当事人对违法事实无异议。\n", encoding="utf-8")
        outcome = ingest_file(svc, path, RecordMeta(made_by="张三"))
        assert outcome.record_id is not None
        ids.append(outcome.record_id)
    return ids


def _flip_byte(path: Path) -> None:
    path.chmod(0o644)  # objects are written read-only
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_names_a_damaged_object_a_changed_manifest_and_database(svc: Services, tmp_path: Path) -> None:
    ids = _small_archive(svc, tmp_path / "files")
    make_queue(svc).run(ids)
    dest = tmp_path / "backup"
    result = bk.backup(svc, dest)
    assert result.ok and result.objects == len(_referenced(svc.engine)) > len(ids)
    ok = run_cli(["backup", "verify", str(dest), "--json"], tmp_path / "unused")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["problems"] == []

    victim = sorted(_objects(_manifest(dest)))[1]
    _flip_byte(bk.object_path(dest, victim))
    bad = run_cli(["backup", "verify", str(dest), "--json"], tmp_path / "unused")
    assert bad.returncode == 1
    [problem] = json.loads(bad.stdout)["problems"]
    assert problem["sha256"] == victim and problem["path"] == str(bk.object_path(dest, victim))
    assert victim in bad.stderr and "被改动" in bad.stderr

    # --quick checks size only: a flipped byte goes unseen; the next full backup finds the damaged
    # copy, sets it aside and copies the object again.
    quick = bk.backup(svc, dest, verify_present=False)
    assert (quick.repaired, quick.copied, quick.present) == (0, 0, quick.objects)
    again = bk.backup(svc, dest)
    assert (again.repaired, again.copied) == (1, 0)
    assert (dest / "quarantine" / again.snapshot / victim).is_file()
    assert bk.verify_backup(dest).ok

    manifest = dest / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"records": 3', '"records": 2'))
    changed = run_cli(["backup", "verify", str(dest)], tmp_path / "unused")
    assert changed.returncode == 1
    assert "清单被改动" in changed.stderr and "manifest.json" in changed.stderr

    snapshot = _manifest(dest)["snapshot"]
    _flip_byte(dest / "snapshots" / snapshot / "archive.db")
    problems = bk.verify_backup(dest, snapshot=snapshot).problems
    assert [p.kind for p in problems] == ["database"]
    with pytest.raises(bk.RestoreRefusedError, match="数据库快照文件被改动"):
        bk.restore(svc.settings, dest, bk.RestoreTarget(to=tmp_path / "r"), snapshot=snapshot)
    assert not (tmp_path / "r").exists()


def test_a_backup_that_dies_midway_never_looks_complete(
    svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_archive(svc, tmp_path / "files")
    dest = tmp_path / "backup"
    copies = 0
    real_copy = backup_run._copy

    def dying_copy(*args: Any, **kwargs: Any) -> int:
        nonlocal copies
        copies += 1
        if copies == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a crash
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(backup_run, "_copy", dying_copy)  # where a backup run looks it up
    with pytest.raises(KeyboardInterrupt):
        bk.backup(svc, dest)
    assert not (dest / "manifest.json").exists()
    assert list((dest / "snapshots").iterdir()) == []
    result = bk.verify_backup(dest)
    assert not result.ok and "缺少清单" in result.problems[0].message
    monkeypatch.setattr(backup_run, "_copy", real_copy)
    done = bk.backup(svc, dest)
    assert (done.copied, done.present) == (2, 1)  # the object copied before the crash is kept
    assert bk.verify_backup(dest).ok


def test_a_missing_object_is_named_and_the_backup_fails(svc: Services, tmp_path: Path) -> None:
    ids = _small_archive(svc, tmp_path / "files")
    with svc.engine.connect() as c:
        lost = c.scalar(select(Record.sha256).where(Record.id == ids[0]))
    assert lost is not None
    (svc.settings.objects_dir / "sha256" / lost[:2] / lost[2:4] / lost).unlink()
    dest = tmp_path / "backup"
    res = run_cli(["backup", str(dest)], svc.settings.data_dir)
    assert res.returncode == 1
    assert lost in res.stderr and "找不到" in res.stderr
    problems = bk.verify_backup(dest).problems
    assert [p.sha256 for p in problems] == [lost]


def test_pg_dump_missing_is_said_in_plain_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        data_dir=tmp_path / "var", db={"url": "postgresql+psycopg://archive@127.0.0.1:1/none"}
    )
    monkeypatch.setattr(bk.shutil, "which", lambda _name: None)
    with pytest.raises(bk.BackupError, match="找不到 PostgreSQL 客户端程序 pg_dump"):
        bk.backup(Services(settings), tmp_path / "backup")
    assert not (tmp_path / "backup" / "manifest.json").exists()


@pytest.fixture
def second_pg_db() -> Iterator[str]:
    """Another fresh PostgreSQL database (as the pg_url fixture makes them) to restore into."""
    name = f"archive_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from archive.db import get_engine

        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_backup_and_restore_into_another_database(
    pg_url: str, second_pg_db: str, tmp_path: Path
) -> None:
    if bk.shutil.which("pg_dump") is None or bk.shutil.which("pg_restore") is None:
        pytest.skip("the PostgreSQL client programs (pg_dump, pg_restore) are not installed")
    settings = Settings(data_dir=tmp_path / "live", db={"url": pg_url})
    svc = open_services(settings)
    ids = _small_archive(svc, tmp_path / "files", n=4)
    make_queue(svc).run(ids)
    edit_record(svc, OPERATOR, ids[0], {"proves": "现场存放危险化学品"})
    dest = tmp_path / "backup"
    res = run_cli(["backup", str(dest), "--json"], settings.data_dir, ARCHIVE_DB__URL=pg_url)
    assert res.returncode == 0, res.stderr
    manifest = _manifest(dest)
    assert manifest["database"]["kind"] == "postgresql"
    assert manifest["database"]["file"].endswith("archive.dump")
    assert bk.verify_backup(dest).ok

    # Refused: the live database itself, and a SQLite data directory for a pg_dump.
    with pytest.raises(bk.RestoreRefusedError, match="不是空的"):
        bk.restore(settings, dest, bk.RestoreTarget(to=tmp_path / "r0", db_url=pg_url))
    with pytest.raises(bk.RestoreRefusedError, match="--db-url"):
        bk.restore(settings, dest, bk.RestoreTarget(to=tmp_path / "r0"))

    restored_dir = tmp_path / "restored"
    res = run_cli(
        ["restore", str(dest), "--to", str(restored_dir), "--db-url", second_pg_db],
        settings.data_dir,
        ARCHIVE_DB__URL=pg_url,
    )
    assert res.returncode == 0, res.stderr
    live, copy = _engine(pg_url), _engine(second_pg_db)
    try:
        columns = (Record.id, Record.sha256, Record.title, Record.proves, Record.status)
        with live.connect() as a, copy.connect() as b:
            assert list(a.execute(select(*columns).order_by(Record.id))) == list(
                b.execute(select(*columns).order_by(Record.id))
            )
        head = manifest["audit_head"]
        assert {s: h for s, h, _, _ in _chain(live)}[head["seq"]] == head["hash"]
        _assert_chain_continues_from(copy, manifest)
        assert "ARCHIVE_DB__URL=" + second_pg_db in (restored_dir / "archive.env").read_text()
        env = {"ARCHIVE_DB__URL": second_pg_db}
        for args in (["fixity"], ["audit", "verify"], ["reindex"]):
            done = run_cli(args, restored_dir, **env)
            assert done.returncode == 0, (args, done.stderr)
    finally:
        live.dispose()
        copy.dispose()


@pytest.fixture
def backed_up(svc: Services, tmp_path: Path) -> Path:
    _small_archive(svc, tmp_path / "files", n=2)
    dest = tmp_path / "backup"
    assert bk.backup(svc, dest).ok
    return dest


def test_restore_refuses_a_directory_that_is_not_empty(
    svc: Services, backed_up: Path, tmp_path: Path
) -> None:
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "notes.txt").write_text("已有的文件", encoding="utf-8")
    res = run_cli(["restore", str(backed_up), "--to", str(target)], svc.settings.data_dir)
    assert res.returncode == 2
    assert "不是空的" in res.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    live = run_cli(["restore", str(backed_up), "--to", str(svc.settings.data_dir)], svc.settings.data_dir)
    assert live.returncode == 2 and "不是空的" in live.stderr


def test_restore_refuses_to_share_the_live_queue_or_index_alias(
    svc: Services, backed_up: Path, tmp_path: Path
) -> None:
    live = svc.settings.data_dir
    target = tmp_path / "restored"
    queue = {"ARCHIVE_QUEUE__BACKEND": "redis", "ARCHIVE_QUEUE__NAME": "archive-live"}
    res = run_cli(["restore", str(backed_up), "--to", str(target)], live, **queue)
    assert res.returncode == 2
    assert (
        "ARCHIVE_QUEUE__NAME" in res.stderr and "--queue-name" in res.stderr and "archive-live" in res.stderr
    )
    assert not target.exists()

    es = {"ARCHIVE_INDEX__BACKEND": "elasticsearch", "ARCHIVE_INDEX__ES_ALIAS": "records-live"}
    res = run_cli(
        ["restore", str(backed_up), "--to", str(target), "--queue-name", "archive-drill"], live, **queue, **es
    )
    assert res.returncode == 2
    assert "ARCHIVE_INDEX__ES_ALIAS" in res.stderr and "--es-alias" in res.stderr
    assert "ARCHIVE_QUEUE__NAME" not in res.stderr
    assert not target.exists()

    args = ["restore", str(backed_up), "--to", str(target), "--queue-name", "archive-drill"]
    res = run_cli([*args, "--es-alias", "records-drill", "--json"], live, **queue, **es)
    assert res.returncode == 0, res.stderr
    env = json.loads(res.stdout)["env"]
    assert env["ARCHIVE_QUEUE__NAME"] == "archive-drill" and env["ARCHIVE_INDEX__ES_ALIAS"] == "records-drill"
    assert env["ARCHIVE_DATA_DIR"] == str(target.resolve())
    assert "ARCHIVE_QUEUE__NAME=archive-drill" in (target / "archive.env").read_text()

    # An explicit tantivy directory would be shared too: the restored copy gets its own.
    current = Settings(data_dir=live, index={"path": live / "index"})
    restored = bk.restored_settings(current, "sqlite", bk.RestoreTarget(to=tmp_path / "other"))
    assert restored.index_dir == (tmp_path / "other" / "index").resolve()
    assert bk.shared_with_live(current, restored) == []
    pg_like = bk.restored_settings(
        Settings(data_dir=live),
        "postgresql",
        bk.RestoreTarget(db_url="postgresql+psycopg://a@b/c", bucket="x"),
    )
    [shared] = bk.shared_with_live(Settings(data_dir=live), pg_like)
    assert "ARCHIVE_INDEX__PATH" in shared


@pytest.mark.s3
def test_s3_source_backs_up_and_restores_into_a_new_bucket(seaweed: SeaweedS3, tmp_path: Path) -> None:
    settings = s3_settings(seaweed, tmp_path / "live", bucket=f"bk-src-{uuid.uuid4().hex[:8]}")
    svc = open_services(settings)
    _small_archive(svc, tmp_path / "files", n=3)
    dest = tmp_path / "backup"
    first = bk.backup(svc, dest)
    assert first.ok and first.copied == 3 and first.present == 0
    assert bk.verify_backup(dest).ok
    assert bk.backup(svc, dest).copied == 0

    bucket = f"bk-restored-{uuid.uuid4().hex[:8]}"
    result = bk.restore(settings, dest, bk.RestoreTarget(to=tmp_path / "restored", bucket=bucket))
    assert result.ok, result.problems
    assert result.env["ARCHIVE_STORAGE__S3_BUCKET"] == bucket
    restored = s3_settings(seaweed, tmp_path / "restored", bucket=bucket)
    store = S3Store.from_settings(restored.storage)
    shas = _objects(_manifest(dest))
    assert all(store.verify(sha) for sha in shas)
    fixity = run_cli(
        ["fixity"],
        tmp_path / "restored",
        ARCHIVE_STORAGE__BACKEND="s3",
        ARCHIVE_STORAGE__S3_ENDPOINT=seaweed.endpoint,
        ARCHIVE_STORAGE__S3_ACCESS_KEY=seaweed.access_key,
        ARCHIVE_STORAGE__S3_SECRET_KEY=seaweed.secret_key,
        ARCHIVE_STORAGE__S3_BUCKET=bucket,
    )
    assert fixity.returncode == 0, fixity.stderr
