"""Stuck work made visible and recoverable, derived files first-class: what `archive status`,
`archive jobs`, `archive retry`, `archive fixity`, `archive rederive` and `archive reindex` do
when a queue message is lost, a worker is killed or a derived file is deleted."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from archive.db import session_scope
from archive.models import Job, JobStatus, ProcessingStatus, Record, StoredFile, utcnow
from archive.settings import Settings
from archive.storage import object_key
from pipelines.context import Services, open_services
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.queue import make_queue
from pipelines.tasks import run_job
from tests.conftest import run_cli


def _status(data: Path, **env: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    res = run_cli(["status", "--json"], data, **env)
    return res.returncode, json.loads(res.stdout)


def _check(report: dict, name: str) -> dict:  # type: ignore[type-arg]
    [found] = [c for c in report["checks"] if c["name"] == name]
    return found  # type: ignore[no-any-return]


def _note(svc: Services, tmp_path: Path, n: int) -> int:
    path = tmp_path / f"检查记录{n}.txt"
    path.write_text(f"现场检查记录第{n}份：消防报警装置未保持完好有效。\n", encoding="utf-8")
    rid = ingest_file(svc, path, RecordMeta(title=f"检查记录{n}")).record_id
    assert rid is not None
    return rid


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, Services, list[int]]:
    """An embedded archive with three processed records and a clean fixity run."""
    data = tmp_path / "var"
    svc = open_services(Settings(data_dir=data))
    ids = [_note(svc, tmp_path, n) for n in range(3)]
    make_queue(svc).run(ids)
    assert run_cli(["fixity"], data).returncode == 0
    return data, svc, ids


def _age(svc: Services, rid: int, **values: object) -> None:
    stale = svc.settings.queue.stale_after_s
    with session_scope(svc.engine) as s:
        s.execute(
            update(Job)
            .where(Job.record_id == rid)
            .values(updated_at=utcnow() - timedelta(seconds=stale * 2), **values)
        )


def test_a_healthy_archive_needs_no_action(archive: tuple[Path, Services, list[int]]) -> None:
    data, _, _ = archive
    code, report = _status(data)
    levels = {c["name"]: c["level"] for c in report["checks"]}
    # the calendar may rightly warn near a year's end; everything else is in order
    assert {k: v for k, v in levels.items() if k != "calendar"} == dict.fromkeys(
        ["jobs", "queue", "index", "fixity", "audit", "disk"], "ok"
    )
    assert report["figures"]["records"] == {"processed": 3}
    assert report["figures"]["index"]["records_indexed"] == 3
    assert code == (1 if levels["calendar"] != "ok" else 0) and report["needs_action"] == (code == 1)


def test_a_pending_job_nobody_runs_is_found_and_resent(
    archive: tuple[Path, Services, list[int]], tmp_path: Path
) -> None:
    data, svc, _ = archive
    lost = _note(svc, tmp_path, 9)  # stored and pending; its queue message never arrives
    res = run_cli(["jobs", "--json"], data)
    [row] = json.loads(res.stdout)
    assert (row["record_id"], row["status"], row["step"], row["stuck"]) == (lost, "pending", "parse", False)

    _age(svc, lost)  # … and nobody took it for longer than the stale limit
    code, report = _status(data)
    assert code == 1 and _check(report, "jobs")["level"] == "error"
    assert report["figures"]["jobs"]["stuck"] == [lost]
    assert json.loads(run_cli(["jobs", "--json"], data).stdout)[0]["stuck"] is True

    res = run_cli(["retry", "--json"], data)  # no ids: every stuck job
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["resent"] == [lost]
    assert json.loads(run_cli(["jobs", "--json"], data).stdout) == []
    assert _check(_status(data)[1], "jobs")["level"] == "ok"
    assert json.loads(run_cli(["search", "第9份", "--json"], data).stdout)["total"] == 1


def test_a_job_of_a_killed_worker_is_found_and_run_again(
    archive: tuple[Path, Services, list[int]], tmp_path: Path
) -> None:
    data, svc, _ = archive
    rid = _note(svc, tmp_path, 7)
    gone = subprocess.Popen(["sleep", "60"])
    gone.kill()
    gone.wait()
    with session_scope(svc.engine) as s:  # as a worker left it when it was SIGKILLed
        s.execute(
            update(Job)
            .where(Job.record_id == rid)
            .values(status=JobStatus.RUNNING, worker=f"{socket.gethostname()}:{gone.pid}", attempts=1)
        )
    rows = json.loads(run_cli(["jobs", "--json"], data).stdout)
    assert [(r["record_id"], r["status"], r["worker"], r["stuck"]) for r in rows] == [
        (rid, "running", f"{socket.gethostname()}:{gone.pid}", True)
    ]
    code, report = _status(data)
    assert code == 1 and report["figures"]["jobs"]["stuck"] == [rid]

    res = run_cli(["retry", str(rid), "--json"], data)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["resent"] == [rid]
    with session_scope(svc.engine) as s:
        job = s.scalar(select(Job).where(Job.record_id == rid))
        assert job is not None and job.status is JobStatus.DONE and job.attempts == 2


def test_a_deleted_derived_file_is_found_skipped_by_reindex_and_made_again(
    archive: tuple[Path, Services, list[int]],
) -> None:
    data, svc, ids = archive
    victim = ids[1]
    with session_scope(svc.engine) as s:  # its text per page (a plain-text file's text is itself)
        pages = s.scalar(select(StoredFile).where(StoredFile.record_id == victim, StoredFile.kind == "pages"))
        assert pages is not None
        sha = pages.sha256
    obj = data / "objects" / object_key(sha)
    os.chmod(obj, 0o644)
    obj.unlink()

    res = run_cli(["fixity", "--json"], data)
    assert res.returncode == 1
    [bad] = json.loads(res.stdout)["mismatches"]
    assert (bad["record_id"], bad["kind"], bad["role"], bad["sha256"]) == (victim, "pages", "derivative", sha)
    assert "archive rederive --missing" in res.stderr
    code, report = _status(data)
    assert code == 1 and _check(report, "fixity")["level"] == "error"

    res = run_cli(["reindex", "--json"], data)  # reports and skips it, indexes the rest
    assert res.returncode == 1 and "Traceback" not in res.stderr
    out = json.loads(res.stdout)
    assert [x["record_id"] for x in out["skipped"]] == [victim] and out["indexed"] == 2
    assert f"archive rederive {victim}" in res.stderr

    res = run_cli(["rederive", "--missing", "--json"], data)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["rederived"] == [victim]
    assert obj.exists()  # the same pages, derived again, are the same object
    assert run_cli(["fixity"], data).returncode == 0
    assert _check(_status(data)[1], "fixity")["level"] == "ok"
    assert json.loads(run_cli(["reindex", "--json"], data).stdout)["skipped"] == []


def test_rederive_refuses_a_record_whose_original_is_damaged(
    archive: tuple[Path, Services, list[int]],
) -> None:
    data, svc, ids = archive
    with session_scope(svc.engine) as s:
        record = s.get(Record, ids[0])
        assert record is not None
        sha = record.sha256
    obj = data / "objects" / object_key(sha)
    os.chmod(obj, 0o644)
    obj.write_bytes(b"changed")
    res = run_cli(["rederive", str(ids[0]), "--json"], data)
    assert json.loads(res.stdout)["skipped"] == [ids[0]]
    with session_scope(svc.engine) as s:
        record = s.get(Record, ids[0])
        assert record is not None and record.status is ProcessingStatus.PROCESSED  # left as it was


def test_taking_a_pending_job_logs_no_take_over(
    archive: tuple[Path, Services, list[int]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, svc, _ = archive
    rid = _note(svc, tmp_path, 5)
    with caplog.at_level(logging.WARNING, logger="pipelines.tasks"):
        run_job(svc, rid)
    assert "taken over" not in caplog.text
    _age(svc, rid, status=JobStatus.RUNNING, worker="elsewhere:1")
    with caplog.at_level(logging.WARNING, logger="pipelines.tasks"):
        run_job(svc, rid)
    assert "taken over from elsewhere:1" in caplog.text


def test_the_status_is_on_the_home_page_and_the_api_for_those_who_keep_the_system(
    archive: tuple[Path, Services, list[int]],
) -> None:
    from fastapi.testclient import TestClient

    from pipelines.demo import ensure_demo_user
    from tests.support.access import signed_in
    from ui.web import create_app

    data, svc, _ = archive
    ensure_demo_user(svc)
    app = create_app(Settings(data_dir=data))
    with signed_in(app, ["admin", "demo"]) as web:
        home = web["admin"].get("/").text
        assert "系统状况" in home and "没有失败或停滞的任务" in home and "archive status" in home
        report = web["admin"].get("/api/v1/status").json()
        assert _check(report, "index")["summary"] == "索引与记录一致（3 条）"
        assert "系统状况" not in web["demo"].get("/").text  # an officer does not keep the system
        assert web["demo"].get("/api/v1/status").status_code == 403
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/status").status_code == 401
        health = anonymous.get("/api/v1/health").json()
        assert (health["status"], health["queue"], health["redis"]) == ("ok", "inprocess", "not used")


def test_health_is_degraded_when_the_queues_redis_is_unreachable(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from ui.web import create_app

    settings = Settings.model_validate(
        {"data_dir": tmp_path / "var", "queue": {"backend": "redis", "redis_url": "redis://127.0.0.1:1/0"}}
    )
    with TestClient(create_app(settings)) as anonymous:
        r = anonymous.get("/api/v1/health")
    assert r.status_code == 503
    assert (r.json()["status"], r.json()["redis"]) == ("degraded", "unreachable")
    res = run_cli(
        ["status", "--json"],
        tmp_path / "var",
        ARCHIVE_QUEUE__BACKEND="redis",
        ARCHIVE_QUEUE__REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert res.returncode == 1 and _check(json.loads(res.stdout), "queue")["level"] == "error"


def test_an_elasticsearch_that_refuses_the_request_format_is_named_not_called_unreachable(
    tmp_path: Path,
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Refusing(BaseHTTPRequestHandler):
        def _refuse(self) -> None:
            media = "application/vnd.elasticsearch+json; compatible-with=8"
            body = f'{{"error":"Content-Type header [{media}] is not supported","status":406}}'.encode()
            self.send_response(406)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_HEAD = _refuse

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        res = run_cli(
            ["init"], tmp_path / "var", ARCHIVE_INDEX__BACKEND="elasticsearch", ARCHIVE_INDEX__ES_URL=url
        )
    finally:
        server.shutdown()
    assert res.returncode == 2
    assert "不兼容" in res.stderr and "406" in res.stderr
    assert "无法连接" not in res.stderr and "Traceback" not in res.stderr


@pytest.mark.postgres
def test_a_lost_redis_message_is_found_by_status_and_resent_to_the_workers(
    pg_url: str, tmp_path: Path
) -> None:
    """PostgreSQL + Redis + an `archive worker`: a job whose queue message never reached Redis."""
    import time
    import uuid

    import redis

    from tests.conftest import BIN, IN_CI, REPO

    url = os.environ.get("ARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required in CI but unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    name = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        "ARCHIVE_DB__URL": pg_url,
        "ARCHIVE_QUEUE__BACKEND": "redis",
        "ARCHIVE_QUEUE__REDIS_URL": url,
        "ARCHIVE_QUEUE__NAME": name,
        "ARCHIVE_QUEUE__STALE_AFTER_S": "3",
    }
    data = tmp_path / "var"
    settings = Settings.model_validate(
        {
            "data_dir": data,
            "db": {"url": pg_url},
            "queue": {"backend": "redis", "redis_url": url, "name": name},
        }
    )
    svc = open_services(settings)
    lost = _note(svc, tmp_path, 1)  # stored, its job pending: the message was never sent
    worker_env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    worker_env |= env | {"ARCHIVE_DATA_DIR": str(data)}
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [str(BIN / "archive"), "worker", "--workers", "1"], env=worker_env, stdout=log, stderr=log, cwd=REPO
    )
    try:
        time.sleep(4)  # longer than the stale limit, with a worker idle beside the job
        code, report = _status(data, **env)
        assert code == 1 and report["figures"]["jobs"]["stuck"] == [lost]
        assert report["figures"]["queue"]["reachable"] is True and report["figures"]["queue"]["depth"] == 0

        res = run_cli(["retry", "--json"], data, **env)
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["resent"] == [lost]
        with session_scope(svc.engine) as s:
            job = s.scalar(select(Job).where(Job.record_id == lost))
            assert job is not None and job.status is JobStatus.DONE
        assert _check(_status(data, **env)[1], "jobs")["level"] == "ok"
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"*{name}*"):
            client.delete(key)
