"""Crash safety: SIGKILL the ingest mid-run, run it again, lose and duplicate nothing."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.db import get_engine, migrate, session_scope
from archive.models import FileRole, Job, JobStatus, ProcessingStatus, Record, StoredFile
from archive.settings import Settings
from archive.storage import make_store
from indexer.backend import make_index
from pipelines.samples import make_text_pdfs
from tests.conftest import BIN, REPO, cli_env, run_cli

N = 240
MARKER = "氯气钢瓶露天存放"


def _progress(settings: Settings) -> tuple[int, int]:
    with session_scope(get_engine(settings.db_url)) as s:
        records = s.scalar(select(func.count()).select_from(Record)) or 0
        done = s.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.DONE)) or 0
    return records, done


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["storing", "processing"])
def test_sigkill_mid_ingest_then_rerun_loses_and_duplicates_nothing(tmp_path: Path, phase: str) -> None:
    src = tmp_path / "pdfs"
    expected = make_text_pdfs(src, N, marker=MARKER, every=5, seed=7)
    data = tmp_path / "var"
    settings = Settings(data_dir=data)
    migrate(settings.db_url)

    proc = subprocess.Popen(
        [str(BIN / "archive"), "ingest", str(src), "--json"],
        env=cli_env(data),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its worker processes share the group and die with it
    )
    deadline = time.monotonic() + 300
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:
        records, done = _progress(settings)
        if (phase == "storing" and 10 <= records < N - 10) or (phase == "processing" and 0 < done < N):
            os.killpg(proc.pid, signal.SIGKILL)
            killed_at = (records, done)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert killed_at is not None, "the ingest finished before it could be killed"
    assert proc.returncode == -signal.SIGKILL
    records, done = _progress(settings)
    assert done < N  # really interrupted

    rerun = run_cli(["ingest", str(src), "--json"], data)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["ingested"] + report["duplicates"] == N and report["failed"] == []
    assert report["duplicates"] == records  # everything committed before the kill was kept

    store = make_store(settings)
    source_hashes = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in src.iterdir()}
    with session_scope(get_engine(settings.db_url)) as s:
        rows = s.scalars(select(Record)).all()
        assert len(rows) == N
        assert {r.sha256 for r in rows} == set(source_hashes)  # none lost, none twice
        assert all(r.status is ProcessingStatus.PROCESSED for r in rows)
        jobs = s.scalars(select(Job)).all()
        assert len(jobs) == N and all(j.status is JobStatus.DONE for j in jobs)
        files = s.scalars(select(StoredFile)).all()
        assert sum(f.role is FileRole.ORIGINAL for f in files) == N
        assert sorted(f.kind for f in files).count("text") == N
        for f in files:
            assert store.verify(f.sha256), f"object {f.sha256} does not match its SHA-256"
    assert make_index(settings).count() == N  # the index holds each record once
    found = json.loads(run_cli(["search", MARKER, "--limit", "1000", "--json"], data).stdout)
    with session_scope(get_engine(settings.db_url)) as s:
        names = {rid: name for rid, name in s.execute(select(Record.id, Record.original_name))}
    assert {names[h["record_id"]] for h in found["hits"]} == expected
