"""Search under load: N clients search over HTTP against a running server while a batch of PDFs
is ingested, for the embedded default (SQLite + local store + tantivy + in-process workers) and
for PostgreSQL + Redis workers + SeaweedFS S3 (tantivy as index: no Elasticsearch runs here), in
one run. Prints throughput and latency percentiles; the last line is one JSON object.

    .venv/bin/python bench/load.py [--clients 8] [--base 200] [--batch 200]

Needs the PostgreSQL and Redis servers of the machine for the second configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.db import session_scope  # noqa: E402
from archive.models import Role  # noqa: E402
from archive.settings import Settings  # noqa: E402
from archive.users import create_user  # noqa: E402
from pipelines.context import open_services  # noqa: E402
from pipelines.samples import make_text_pdfs  # noqa: E402
from tests.support.seaweed import seaweed_s3  # noqa: E402

BIN = Path(sys.executable).parent
TERMS = ["液氨", "储罐", "围堰", "消防", "检查", "整改", "隐患", "通道", "仓库", "安全"]
PG_ADMIN = os.environ.get("ARCHIVE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    return env | {"ARCHIVE_DATA_DIR": str(settings.data_dir)} | extra


@contextmanager
def _pg_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    name = f"archive_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from archive.db import get_engine

        get_engine.cache_clear()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _setup(settings: Settings) -> None:
    """Migrate and create the searching user."""
    svc = open_services(settings)
    with session_scope(svc.engine) as s:
        create_user(
            session=s, username="bench", display_name="压测", role=Role.ARCHIVIST, password="bench-pass-1"
        )


def _load_base(env: dict[str, str], base: Path) -> str:
    """Ingest the base corpus (through the configured queue); returns a bearer token."""
    r = _cli(env, "ingest", str(base), "--json")
    if r.returncode != 0:
        raise RuntimeError(f"base ingest failed: {r.stderr[-2000:]}")
    return _cli(env, "user", "token", "bench").stdout.strip()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "archive"), *args], env=env, capture_output=True, text=True)


def _run(name: str, settings: Settings, extra: dict[str, str], base: Path, batch: Path, clients: int) -> dict:
    env = _env(settings, extra)
    _setup(settings)
    port = _port()
    procs: list[subprocess.Popen[bytes]] = []
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        procs.append(
            subprocess.Popen(
                [str(BIN / "archive"), "serve", "--port", str(port)],
                env=env,
                stdout=(logs / "serve.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        if extra.get("ARCHIVE_QUEUE__BACKEND") == "redis":
            procs.append(
                subprocess.Popen(
                    [str(BIN / "archive"), "worker"],
                    env=env,
                    stdout=(logs / "worker.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        token = _load_base(env, base)
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        stop = threading.Event()

        def client(seed: int) -> None:
            nonlocal errors
            rng = random.Random(seed)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
                while not stop.is_set():
                    q = " ".join(rng.sample(TERMS, rng.choice([1, 1, 2])))
                    t0 = time.perf_counter()
                    try:
                        ok = c.get("/api/v1/search", params={"q": q, "limit": 20}).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    dt = time.perf_counter() - t0
                    with lock:
                        latencies.append(dt)
                        errors += 0 if ok else 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        ingest = _cli(env, "ingest", str(batch), "--json")
        ingest_s = time.perf_counter() - t0
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        report = json.loads(ingest.stdout or "{}")
        files = len(list(batch.iterdir()))
        lat = sorted(latencies)

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else 0.0

        out = {
            "searches": len(lat),
            "errors": errors,
            "searches_per_s": round(len(lat) / elapsed, 1),
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else 0.0,
            "ingest_files": files,
            "ingest_failed": len(report.get("failed", [])),
            "ingest_s": round(ingest_s, 2),
            "ingest_files_per_s": round(files / ingest_s, 2),
        }
        print(
            f"{name:<34} {out['searches']:>6} searches {out['searches_per_s']:>7}/s  "
            f"p50 {out['p50_ms']:>7} ms  p95 {out['p95_ms']:>7} ms  p99 {out['p99_ms']:>7} ms  "
            f"errors {errors}  |  ingest {files} PDFs in {out['ingest_s']} s ({out['ingest_files_per_s']}/s)",
            file=sys.stderr,
        )
        return out
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--base", type=int, default=200, help="records indexed before the load starts")
    ap.add_argument("--batch", type=int, default=200, help="PDFs ingested while the clients search")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    base, batch = work / "base", work / "batch"
    make_text_pdfs(base, args.base, marker="液氨储罐区未设置围堰", every=5, seed=1)
    make_text_pdfs(batch, args.batch, marker="消防通道堵塞", every=5, seed=2)
    cores = os.cpu_count() or 1
    print(
        f"{cores} cores; {args.clients} search clients; base {args.base} records; batch {args.batch} PDFs",
        file=sys.stderr,
    )
    results = {}
    embedded = Settings(data_dir=work / "embedded")
    results["embedded"] = _run(
        "embedded (SQLite, local, in-process)", embedded, {}, base, batch, args.clients
    )
    with ExitStack() as stack:
        pg = stack.enter_context(_pg_database())
        s3 = stack.enter_context(seaweed_s3(work / "seaweed"))
        queue = f"load-{uuid.uuid4().hex[:6]}"
        extra = {
            "ARCHIVE_DB__URL": pg,
            "ARCHIVE_STORAGE__BACKEND": "s3",
            "ARCHIVE_STORAGE__S3_ENDPOINT": s3.endpoint,
            "ARCHIVE_STORAGE__S3_ACCESS_KEY": s3.access_key,
            "ARCHIVE_STORAGE__S3_SECRET_KEY": s3.secret_key,
            "ARCHIVE_STORAGE__S3_BUCKET": "load-bench",
            "ARCHIVE_QUEUE__BACKEND": "redis",
            "ARCHIVE_QUEUE__NAME": queue,
        }
        scaled = Settings.model_validate(
            {
                "data_dir": work / "scaled",
                "db": {"url": pg},
                "storage": {
                    "backend": "s3",
                    "s3_endpoint": s3.endpoint,
                    "s3_access_key": s3.access_key,
                    "s3_secret_key": s3.secret_key,
                    "s3_bucket": "load-bench",
                },
                "queue": {"backend": "redis", "name": queue},
            }
        )
        results["postgres_redis_s3"] = _run(
            "PostgreSQL + Redis worker + S3", scaled, extra, base, batch, args.clients
        )
    print(json.dumps({"cores": cores, "clients": args.clients, **results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
