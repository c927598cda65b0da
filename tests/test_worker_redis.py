"""Workers on a real Redis queue: two `archive worker` processes share the work, one is
SIGKILLed mid-way, and every file still ends processed exactly once (PostgreSQL, Redis and the
worker processes are all real)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from archive.db import session_scope
from archive.models import Job, JobStatus, Record, StoredFile
from archive.settings import Settings
from indexer.documents import AccessFilter, SearchQuery
from pipelines.context import Services, open_services
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.queue import make_queue
from pipelines.samples import write_pdf
from tests.conftest import BIN, IN_CI, REPO

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
REDIS_URL = os.environ.get("ARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FILES = 100
WAIT_S = 300  # for a fifth of the jobs to be done, and then for worker a to hold one


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required in CI but unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")


@pytest.fixture
def redis_settings(pg_url: str, tmp_path: Path) -> Iterator[Settings]:
    _redis_or_skip()
    name = f"test-{uuid.uuid4().hex[:8]}"
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path / "var",
            "db": {"url": pg_url},
            "queue": {"backend": "redis", "redis_url": REDIS_URL, "name": name, "stale_after_s": 600},
        }
    )
    yield settings
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


def _worker(settings: Settings, log: Path, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env |= {
        "ARCHIVE_DATA_DIR": str(settings.data_dir),
        "ARCHIVE_DB__URL": settings.db_url,
        "ARCHIVE_QUEUE__BACKEND": "redis",
        "ARCHIVE_QUEUE__REDIS_URL": settings.queue.redis_url,
        "ARCHIVE_QUEUE__NAME": settings.queue.name,
    } | (extra or {})
    out = log.open("wb")
    return subprocess.Popen(
        [str(BIN / "archive"), "worker", "--workers", "2"], env=env, stdout=out, stderr=out, cwd=REPO
    )


def _files(tmp: Path) -> list[Path]:
    out = []
    for i in range(FILES):
        path = tmp / f"现场检查记录-{i:03d}.pdf"
        write_pdf(
            path, [f"现场检查记录 第{i}号\n检查发现消防通道堵塞，责令限期整改。编号 {i:05d}"], title=path.stem
        )
        out.append(path)
    return out


def _done(svc: Services) -> int:
    with session_scope(svc.engine) as s:
        return s.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.DONE)) or 0


def _held_by(svc: Services, pid: int) -> dict[int, int]:
    """Record id → attempts so far, of the jobs running in worker process ``pid``."""
    with session_scope(svc.engine) as s:
        rows = s.execute(
            select(Job.record_id, Job.attempts).where(
                Job.status == JobStatus.RUNNING, Job.worker.like(f"%:{pid}")
            )
        ).all()
    return {rid: attempts for rid, attempts in rows}


def test_two_workers_one_killed_every_file_processed_exactly_once(
    redis_settings: Settings, tmp_path: Path
) -> None:
    svc = open_services(redis_settings)
    files = _files(tmp_path)
    a = _worker(redis_settings, tmp_path / "worker-a.log")
    b = _worker(redis_settings, tmp_path / "worker-b.log")
    try:
        ids = [ingest_file(svc, f, RecordMeta(made_by="孙立军")).record_id for f in files]
        assert all(ids) and len(set(ids)) == FILES
        outcomes: list[object] = []
        runner = threading.Thread(target=lambda: outcomes.extend(make_queue(svc).run(ids)))  # type: ignore[arg-type]
        runner.start()
        deadline = time.monotonic() + WAIT_S
        while _done(svc) < FILES // 5:
            assert time.monotonic() < deadline, f"only {_done(svc)} of {FILES} jobs done after {WAIT_S} s"
            time.sleep(0.2)
        # Kill worker a while it holds jobs. Freeze it first (a stopped process is alive, so none of
        # its jobs is taken from it, and it commits nothing), read what it holds, then SIGKILL it;
        # if it held nothing at that instant, let it go on and try again.
        in_flight: dict[int, int] = {}
        while not in_flight:
            assert time.monotonic() < deadline, f"worker a never held a running job ({_done(svc)} done)"
            os.kill(a.pid, signal.SIGSTOP)
            in_flight = _held_by(svc, a.pid)
            if not in_flight:
                os.kill(a.pid, signal.SIGCONT)
                time.sleep(0.02)
        os.kill(a.pid, signal.SIGKILL)
        a.wait(10)
        runner.join(600)
        assert not runner.is_alive(), "the queue did not finish"
        assert _done(svc) > 0 and len(outcomes) == FILES
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)  # a may be frozen if the test failed at the kill
                p.send_signal(signal.SIGINT)
        for p in (a, b):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    logs = (tmp_path / "worker-b.log").read_text(encoding="utf-8", errors="replace")
    with session_scope(svc.engine) as s:
        jobs = s.scalars(select(Job)).all()
        assert len(jobs) == FILES and {j.status for j in jobs} == {JobStatus.DONE}, logs[-2000:]
        # the other worker finished what the killed one was doing: each of those jobs ran again
        taken_over = {j.record_id: j for j in jobs if j.record_id in in_flight}
        assert in_flight and taken_over.keys() == in_flight.keys(), (in_flight, logs[-2000:])
        for rid, j in taken_over.items():
            assert j.worker is None and j.status is JobStatus.DONE, (rid, j.worker, j.status)
            assert j.attempts > in_flight[rid], (rid, j.attempts, in_flight[rid])
        # one text file per record, no record twice
        texts = s.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.kind == "text"))
        assert texts == FILES
        assert s.scalar(select(func.count()).select_from(Record)) == FILES
        attempts = sum(j.attempts for j in jobs)
    # a job runs again only if the killed worker had it
    assert FILES <= attempts <= FILES + len(in_flight) + 2
    found = svc.index.search(SearchQuery("消防通道", limit=200), AccessFilter.unrestricted("test"))
    assert found.total == FILES and len({h.record_id for h in found.hits}) == FILES
    print(f"killed worker had {len(in_flight)} job(s) running; total attempts {attempts} for {FILES} files")


def test_a_worker_retries_with_backoff_until_the_database_lets_it_in(
    redis_settings: Settings, tmp_path: Path
) -> None:
    """Infrastructure trouble (here: the worker's database role may not connect yet) is retried
    with growing delays, not turned into a failed job; once the role may connect, the job runs."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    svc = open_services(redis_settings)
    url = make_url(redis_settings.db_url)
    role = f"worker_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE ROLE {role} LOGIN"))
        c.execute(text(f'REVOKE CONNECT ON DATABASE "{url.database}" FROM PUBLIC'))
    (path,) = _files(tmp_path)[:1]
    rid = ingest_file(svc, path, RecordMeta(made_by="孙立军")).record_id
    assert rid
    worker_settings = redis_settings.model_copy(
        update={
            "db": redis_settings.db.model_copy(update={"url": url.set(username=role).render_as_string(False)})
        }
    )
    log = tmp_path / "worker.log"
    env_extra = {"ARCHIVE_QUEUE__RETRY_DELAY_S": "1", "ARCHIVE_QUEUE__RETRIES": "6"}
    worker = _worker(worker_settings, log, env_extra)
    try:
        from pipelines.tasks import enqueue

        enqueue(redis_settings, [rid])
        deadline = time.monotonic() + 60
        while log.read_text(errors="replace").count("将重试") < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert log.read_text(errors="replace").count("将重试") >= 2, log.read_text(errors="replace")[-3000:]
        with session_scope(svc.engine) as s:
            assert s.scalar(select(Job.status).where(Job.record_id == rid)) is JobStatus.PENDING
        with admin.connect() as c:
            c.execute(text(f'GRANT CONNECT ON DATABASE "{url.database}" TO {role}'))
            c.execute(text(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}"))
            c.execute(text(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_scope(svc.engine) as s:
                status = s.scalar(select(Job.status).where(Job.record_id == rid))
            if status is JobStatus.DONE:
                break
            time.sleep(0.5)
        assert status is JobStatus.DONE, log.read_text(errors="replace")[-3000:]
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        with admin.connect() as c:
            c.execute(text(f'GRANT CONNECT ON DATABASE "{url.database}" TO PUBLIC'))
            c.execute(text(f"REASSIGN OWNED BY {role} TO CURRENT_USER"))
            c.execute(text(f"DROP OWNED BY {role}"))
        admin.dispose()
