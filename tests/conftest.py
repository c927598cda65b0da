"""Shared fixtures: isolated settings, real PostgreSQL, a real SeaweedFS S3 server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from archive.settings import IndexSettings, Settings, get_settings
from indexer.backend import SearchIndex
from indexer.es_index import ElasticsearchIndex
from indexer.tantivy_index import TantivyIndex
from pipelines.context import Services, open_services
from tests.support.seaweed import SeaweedS3, seaweed_s3

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get("ARCHIVE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No ARCHIVE_* variable from the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("ARCHIVE_"):
            monkeypatch.delenv(key)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded-default settings on a fresh data directory."""
    return Settings(data_dir=tmp_path / "var")


@pytest.fixture
def svc(settings: Settings) -> Services:
    """Migrated services on the embedded default."""
    return open_services(settings)


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for running the `archive` command against ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env["ARCHIVE_DATA_DIR"] = str(data_dir)
    env["ARCHIVE_QUEUE__WORKERS"] = "2"
    env.update(extra)
    return env


def run_cli(args: list[str], data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run `archive ARGS` as a user would."""
    return subprocess.run(
        [str(BIN / "archive"), *args],
        env=cli_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except OperationalError as exc:
        return str(exc).splitlines()[0]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards. In CI a missing server is a failure."""
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"archive_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        from archive.db import get_engine

        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A real SeaweedFS S3 server on loopback for the whole session."""
    with seaweed_s3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def s3_settings(server: SeaweedS3, data_dir: Path, bucket: str, retention_days: int = 0) -> Settings:
    """Settings that put objects in ``bucket`` on the test S3 server."""
    return Settings.model_validate(
        {
            "data_dir": data_dir,
            "storage": {
                "backend": "s3",
                "s3_endpoint": server.endpoint,
                "s3_access_key": server.access_key,
                "s3_secret_key": server.secret_key,
                "s3_bucket": bucket,
                "retention_days": retention_days,
            },
        }
    )


# The Elasticsearch backend is exercised against osmem-server, an in-memory OpenSearch-compatible
# test server: it proves our client code, template, alias swap, bulk handling and query DSL give
# the same hits and facet counts as the embedded index. It proves nothing about a real
# Elasticsearch cluster's analysis, scoring, performance or operations (none can run here).
ES_STANDIN = "es-client-on-osmem-standin"


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    """URL of a running osmem-server (Elasticsearch stand-in) for the whole session."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(freeze=False, japanese=False)
    try:
        yield server.url
    finally:
        server.close()


def es_index_settings(url: str, alias: str | None = None) -> dict[str, object]:
    """Index settings for the Elasticsearch backend on the stand-in (a fresh alias each call).

    ``server_mode=serverless`` only turns off the client's versioned media types, which the
    stand-in refuses with 406; a real cluster runs with the default ``stack``.
    """
    return {
        "backend": "elasticsearch",
        "es_url": url,
        "es_alias": alias or f"t-{uuid.uuid4().hex[:12]}",
        "es_server_mode": "serverless",
        "es_retries": 2,
    }


def make_test_index(backend: str, path: Path, request: pytest.FixtureRequest) -> SearchIndex:
    """A fresh, empty index of ``backend`` ("tantivy" or ES_STANDIN)."""
    if backend == "tantivy":
        return TantivyIndex(path)
    url = request.getfixturevalue("es_url")
    return ElasticsearchIndex(IndexSettings.model_validate(es_index_settings(url)))


BACKENDS = ["tantivy", ES_STANDIN]
