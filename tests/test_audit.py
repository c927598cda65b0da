"""The audit log: append-only in the database, and `archive audit verify` names the first
event where a change, a deletion or an insertion breaks the hash chain."""

from __future__ import annotations

import csv
import io
import itertools
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from archive import audit
from archive.actor import Actor
from archive.audit import event_hash
from pipelines.context import Services
from tests.conftest import run_cli

ALICE = Actor("sunlj", "执法人员", "10.0.0.8")


def _fill(engine: Engine, n: int = 10) -> None:
    for i in range(n):
        audit.record(engine, "view", ALICE, f"record:{i}", q=f"第{i}次", page=i)


def _drop_guards(engine: Engine) -> None:
    """What an attacker with database admin rights would do first."""
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))


def test_a_fresh_log_verifies_and_each_event_links_to_the_previous(svc: Services) -> None:
    assert audit.verify(svc.engine).ok
    _fill(svc.engine)
    result = audit.verify(svc.engine)
    assert result.ok and result.events == 10 and result.head_seq == 10
    total, rows = audit.query(svc.engine, audit.AuditQuery(), limit=100)
    rows = sorted(rows, key=lambda e: e.seq)
    assert total == 10 and rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))


def test_the_database_refuses_updates_and_deletes(svc: Services) -> None:
    _fill(svc.engine, 3)
    with pytest.raises(DBAPIError, match="append-only"), svc.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 2"))
    with pytest.raises(DBAPIError, match="append-only"), svc.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    assert audit.verify(svc.engine).ok


def test_a_changed_event_is_named(svc: Services) -> None:
    _fill(svc.engine)
    _drop_guards(svc.engine)
    with svc.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET object = 'record:999' WHERE seq = 4"))
    result = audit.verify(svc.engine)
    assert not result.ok and result.broken_seq == 4 and "改动" in result.reason


def test_a_changed_detail_or_time_is_named(svc: Services) -> None:
    _fill(svc.engine)
    _drop_guards(svc.engine)
    with svc.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET detail = :d WHERE seq = 7"), {"d": json.dumps({"q": "改"})}
        )
    assert audit.verify(svc.engine).broken_seq == 7
    with svc.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM audit_events WHERE seq = 7")).mappings().one()
        # restore 7 exactly, then move 2's time by a second
        fixed = {**row, "detail": {"q": "第6次", "page": 6}}
        conn.execute(
            text("UPDATE audit_events SET detail = :d WHERE seq = 7"), {"d": json.dumps(fixed["detail"])}
        )
        conn.execute(
            text("UPDATE audit_events SET at = :t WHERE seq = 2"), {"t": datetime(2026, 1, 1, tzinfo=UTC)}
        )
    result = audit.verify(svc.engine)
    assert result.broken_seq == 2


def test_a_deleted_event_in_the_middle_is_named(svc: Services) -> None:
    _fill(svc.engine)
    _drop_guards(svc.engine)
    with svc.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    result = audit.verify(svc.engine)
    assert not result.ok and result.broken_seq == 5 and "删除" in result.reason


def test_a_deleted_tail_is_caught_by_the_head(svc: Services) -> None:
    _fill(svc.engine)
    _drop_guards(svc.engine)
    with svc.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq >= 9"))
    result = audit.verify(svc.engine)
    assert not result.ok and result.broken_seq == 9 and "链尾" in result.reason


def test_an_inserted_event_is_named_even_with_a_correct_hash_of_its_own(svc: Services) -> None:
    _fill(svc.engine)
    _drop_guards(svc.engine)
    with svc.engine.begin() as conn:
        prev = conn.execute(text("SELECT hash FROM audit_events WHERE seq = 3")).scalar_one()
        # make room after event 3 and slip in a forged, self-consistent event 4
        for seq in range(10, 3, -1):
            conn.execute(text("UPDATE audit_events SET seq = :n WHERE seq = :o"), {"n": seq + 1, "o": seq})
        at = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
        forged = {
            "seq": 4,
            "at": at,
            "event_type": "view",
            "actor": "leader",
            "actor_role": "负责人",
            "object": "record:1",
            "outcome": "ok",
            "ip": "",
            "detail": {},
        }
        digest = event_hash(**forged, prev_hash=prev)
        conn.execute(
            text(
                "INSERT INTO audit_events (seq, at, event_type, actor, actor_role, object, outcome, ip,"
                " detail, prev_hash, hash) VALUES (:seq, :at, :event_type, :actor, :actor_role, :object,"
                " :outcome, :ip, :detail, :prev, :hash)"
            ),
            {**forged, "at": at.replace(tzinfo=None), "detail": "{}", "prev": prev, "hash": digest},
        )
    result = audit.verify(svc.engine)
    # the forged event fits after 3, but the event after it was chained to the real 4
    assert not result.ok and result.broken_seq == 5 and "前序哈希" in result.reason


def test_concurrent_writers_keep_one_chain(svc: Services) -> None:
    def write(n: int) -> None:
        for i in range(15):
            audit.record(svc.engine, "search", Actor(f"user{n}"), "search", i=i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = audit.verify(svc.engine)
    assert result.ok and result.events == 60


def test_csv_export_neutralises_formulas(svc: Services) -> None:
    audit.record(svc.engine, "search", Actor("=cmd|' /C calc'!A0"), "search", q="=1+1")
    data = "".join(audit.csv_rows(svc.engine, audit.AuditQuery()))
    rows = list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))
    assert rows[0][0] == "序号" and rows[1][3].startswith("'=")


def test_cli_verify_reports_ok_then_the_broken_link(svc: Services, tmp_path: Path) -> None:
    _fill(svc.engine, 5)
    data_dir = svc.settings.data_dir
    ok = run_cli(["audit", "verify", "--json"], data_dir)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    out = tmp_path / "audit.csv"
    exported = run_cli(["audit", "export", "--out", str(out), "--type", "view"], data_dir)
    assert exported.returncode == 0, exported.stderr
    assert out.read_text(encoding="utf-8").count("record:") == 5
    _drop_guards(svc.engine)
    with svc.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone' WHERE seq = 3"))
    broken = run_cli(["audit", "verify"], data_dir)
    assert broken.returncode == 1
    assert "#3" in broken.stderr and "篡改" in broken.stderr


@pytest.mark.postgres
def test_postgres_refuses_changes_and_verify_names_tampering(pg_url: str) -> None:
    from archive.db import get_engine, migrate

    migrate(pg_url)
    engine = get_engine(pg_url)
    _fill(engine, 6)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'x' WHERE seq = 2"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    assert audit.verify(engine).ok
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    assert audit.verify(engine).broken_seq == 2
