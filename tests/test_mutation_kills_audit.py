"""archive/audit.py to the letter, on a plain SQLite database (no triggers, so a test can tamper
directly): what an event stores and hashes, every verdict of ``verify`` compared whole (also
across pages), the filters of the audit view at their boundaries, the trail, and the CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, select, update
from sqlalchemy.orm import Session

from archive import audit
from archive.actor import Actor
from archive.audit import GENESIS, AuditQuery, Verification
from archive.models import AuditEvent, AuditHead, Base

BOB = Actor("bob", "档案管理员", "10.0.0.9")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    Base.metadata.create_all(e)
    yield e
    e.dispose()


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time is Beijing's (UTC must still be written as UTC)."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        rows = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        s.expunge_all()
    return rows


def _head(engine: Engine) -> AuditHead | None:
    with Session(engine) as s:
        head = s.get(AuditHead, audit.HEAD_ID)
        s.expunge_all()
    return head


def _fill(engine: Engine, n: int) -> None:
    for i in range(n):
        audit.record(engine, "view", BOB, f"record:{i + 1}", n=i + 1)


# --- writing -------------------------------------------------------------------------------------


def test_unknown_types_and_outcomes_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match=r"^unknown audit event type: nope$"):
        audit.record(engine, "nope", BOB)
    with pytest.raises(ValueError, match=r"^unknown audit outcome: maybe$"):
        audit.record(engine, "view", BOB, outcome="maybe")
    assert _events(engine) == []
    assert [audit.record(engine, "view", BOB, outcome=o) for o in ("ok", "denied", "failed")] == [1, 2, 3]


def test_an_event_stores_what_it_hashes_and_links_to_the_previous(engine: Engine, shanghai: None) -> None:
    long = Actor("名" * 70, "角" * 40, "1" * 70)
    before = datetime.now(UTC)
    first = audit.record(
        engine, "search", long, "对象" * 200, "denied", q="执法", when=datetime(2026, 1, 2, 3, 4)
    )
    second = audit.record(engine, "login", Actor("alice"))
    assert (first, second) == (1, 2)
    one, two = _events(engine)
    assert (len(one.actor), len(one.actor_role), len(one.object), len(one.ip)) == (64, 32, 255, 64)
    assert (one.event_type, one.outcome, one.detail) == (
        "search",
        "denied",
        {"q": "执法", "when": "2026-01-02 03:04:00"},
    )
    assert (two.actor, two.actor_role, two.object, two.outcome, two.ip, two.detail) == (
        "alice",
        "",
        "",
        "ok",
        "",
        {},
    )
    assert before <= one.at <= datetime.now(UTC)
    assert one.prev_hash == GENESIS and two.prev_hash == one.hash
    for e in (one, two):
        body = {
            "seq": e.seq,
            "at": e.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "type": e.event_type,
            "actor": e.actor,
            "role": e.actor_role,
            "object": e.object,
            "outcome": e.outcome,
            "ip": e.ip,
            "detail": e.detail,
            "prev": e.prev_hash,
        }
        canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert e.hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    head = _head(engine)
    assert head is not None and (head.seq, head.hash) == (2, two.hash)


def test_times_are_written_in_utc_whatever_their_zone(shanghai: None) -> None:
    naive_utc = datetime(2026, 1, 2, 3, 4, 5, 6)  # as SQLite returns it
    assert audit._at(naive_utc) == "2026-01-02T03:04:05.000006Z"
    beijing = datetime(2026, 1, 2, 11, 4, 5, 6, tzinfo=timezone(timedelta(hours=8)))
    assert audit._at(beijing) == "2026-01-02T03:04:05.000006Z"


def test_a_locked_database_is_waited_for_and_other_errors_are_not(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    real = audit.Session
    failures = iter(["database is locked", "database is busy"])
    slept: list[float] = []

    class Flaky(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kw: object) -> None:
            reason = next(failures, None)
            if reason is not None:
                raise OperationalError("BEGIN", {}, Exception(reason))
            super().__init__(*args, **kw)

    monkeypatch.setattr(audit, "Session", Flaky)
    monkeypatch.setattr(audit.time, "sleep", slept.append)
    assert audit.record(engine, "view", BOB) == 1
    assert slept == [0.01, 0.02]
    failures = iter(["disk I/O error"])
    with pytest.raises(OperationalError, match=r"disk I/O error"):
        audit.record(engine, "view", BOB)


def test_a_writer_that_never_gets_the_lock_gives_up_after_50_tries(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    tries: list[int] = []

    def busy(*args: object, **kw: object) -> Session:
        tries.append(1)
        if len(tries) % 2:
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        raise OperationalError("BEGIN", {}, Exception("database is locked"))

    monkeypatch.setattr(audit, "Session", busy)
    monkeypatch.setattr(audit.time, "sleep", lambda s: None)
    with pytest.raises(RuntimeError, match=r"^审计日志写入冲突过多，请稍后重试$"):
        audit.record(engine, "view", BOB)
    assert len(tries) == 50


# --- verifying -----------------------------------------------------------------------------------


def test_verify_an_empty_and_a_whole_log_across_pages(engine: Engine) -> None:
    assert audit.verify(engine) == Verification(True, 0, 0, GENESIS)
    _fill(engine, 5)
    head = _head(engine)
    assert head is not None
    for batch in (1, 2, 5, 6, 5000):
        assert audit.verify(engine, batch=batch) == Verification(True, 5, 5, head.hash), batch
    assert audit.verify(engine).as_dict() == {
        "ok": True,
        "events": 5,
        "head_seq": 5,
        "head_hash": head.hash,
        "broken_seq": None,
        "reason": "",
    }


def _tamper(engine: Engine, *statements: object) -> str:
    with engine.begin() as conn:
        for st in statements:
            conn.execute(st)  # type: ignore[call-overload]
    head = _head(engine)
    return head.hash if head else GENESIS


@pytest.mark.parametrize("batch", [2, 5000])
def test_a_changed_event_is_named_with_the_events_before_it(engine: Engine, batch: int) -> None:
    _fill(engine, 5)
    hh = _tamper(engine, update(AuditEvent).where(AuditEvent.seq == 3).values(actor="mallory"))
    found = audit.verify(engine, batch=batch)
    assert found == Verification(False, 2, 5, hh, 3, "第 3 号事件内容与其哈希不符（被改动）")
    assert found.as_dict() == {
        "ok": False,
        "events": 2,
        "head_seq": 5,
        "head_hash": hh,
        "broken_seq": 3,
        "reason": "第 3 号事件内容与其哈希不符（被改动）",
    }


@pytest.mark.parametrize("batch", [2, 5000])
def test_a_deleted_event_is_named(engine: Engine, batch: int) -> None:
    _fill(engine, 5)
    hh = _tamper(engine, delete(AuditEvent).where(AuditEvent.seq == 3))
    assert audit.verify(engine, batch=batch) == Verification(False, 2, 5, hh, 3, "第 3 号事件缺失（被删除）")


def test_an_event_before_the_first_is_an_insertion(engine: Engine) -> None:
    _fill(engine, 2)
    first = _events(engine)[0]
    forged = {
        c: getattr(first, c) for c in ("at", "event_type", "actor", "actor_role", "object", "outcome", "ip")
    }
    with Session(engine) as s, s.begin():
        s.add(AuditEvent(seq=0, prev_hash=GENESIS, hash="e" * 64, detail={}, **forged))
    hh = _head(engine).hash  # type: ignore[union-attr]
    assert audit.verify(engine) == Verification(False, 0, 2, hh, 1, "第 1 号事件重复或被插入")


def test_a_broken_link_is_named(engine: Engine) -> None:
    _fill(engine, 5)
    fourth = _events(engine)[3]
    fields = {
        "seq": 4,
        "at": fourth.at,
        "event_type": fourth.event_type,
        "actor": fourth.actor,
        "actor_role": fourth.actor_role,
        "object": fourth.object,
        "outcome": fourth.outcome,
        "ip": fourth.ip,
        "detail": fourth.detail,
    }
    forged = audit.event_hash(**fields, prev_hash="f" * 64)  # consistent in itself, not with #3
    hh = _tamper(
        engine, update(AuditEvent).where(AuditEvent.seq == 4).values(prev_hash="f" * 64, hash=forged)
    )
    reason = "第 4 号事件的前序哈希与上一事件不符（插入或改动）"
    assert audit.verify(engine, batch=3) == Verification(False, 3, 5, hh, 4, reason)


def test_a_deleted_tail_a_changed_head_and_a_deleted_head(engine: Engine) -> None:
    _fill(engine, 5)
    events = _events(engine)
    hh = _tamper(engine, delete(AuditEvent).where(AuditEvent.seq == 5))
    tail = "链尾缺失：链头记录到第 5 号，日志只到第 4 号（末尾事件被删除）"
    assert audit.verify(engine, batch=2) == Verification(False, 4, 5, hh, 5, tail)
    # the head made to fit the shortened log is not caught here (the module says so) …
    _tamper(engine, update(AuditHead).values(seq=4, hash=events[3].hash))
    assert audit.verify(engine) == Verification(True, 4, 4, events[3].hash)
    # … a head whose hash alone is wrong is, and so is one behind the log
    _tamper(engine, update(AuditHead).values(hash="0" * 63 + "1"))
    changed = "链头与最后一个事件不符（被改动）"
    assert audit.verify(engine) == Verification(False, 4, 4, "0" * 63 + "1", 4, changed)
    _tamper(engine, update(AuditHead).values(seq=3, hash=events[2].hash))
    assert audit.verify(engine) == Verification(False, 4, 3, events[2].hash, 3, changed)
    _tamper(engine, delete(AuditHead))
    missing = "缺少链头记录（audit_head 被删除）"
    assert audit.verify(engine) == Verification(False, 4, 0, GENESIS, 4, missing)


# --- the audit view ------------------------------------------------------------------------------


def _mixed(engine: Engine) -> list[AuditEvent]:
    audit.record(engine, "view", BOB, "record:1", page=2)
    audit.record(engine, "search", Actor("alice"), "search", "denied", q="50%")
    audit.record(engine, "download", BOB, "record:50%", "failed")
    audit.record(engine, "download", BOB, "record:50x")
    audit.record(engine, "view", Actor("alice"), "record:12")
    return _events(engine)


def _seqs(engine: Engine, q: AuditQuery, **kw: int) -> tuple[int, list[int]]:
    total, rows = audit.query(engine, q, **kw)
    return total, [r.seq for r in rows]


def test_each_filter_of_the_audit_view(engine: Engine) -> None:
    events = _mixed(engine)
    assert _seqs(engine, AuditQuery()) == (5, [5, 4, 3, 2, 1])
    assert _seqs(engine, AuditQuery(event_type="download")) == (2, [4, 3])
    assert _seqs(engine, AuditQuery(actor="alice")) == (2, [5, 2])
    assert _seqs(engine, AuditQuery(object="50%")) == (1, [3])  # % is a character, not a wildcard
    assert _seqs(engine, AuditQuery(object="record:1")) == (2, [5, 1])
    assert _seqs(engine, AuditQuery(outcome="failed")) == (1, [3])
    third = events[2].at
    assert _seqs(engine, AuditQuery(since=third)) == (3, [5, 4, 3])
    assert _seqs(engine, AuditQuery(until=third)) == (2, [2, 1])
    assert _seqs(engine, AuditQuery(since=events[1].at, until=events[3].at)) == (2, [3, 2])
    assert _seqs(engine, AuditQuery(actor="bob", event_type="view")) == (1, [1])
    assert _seqs(engine, AuditQuery(actor="nobody")) == (0, [])
    assert _seqs(engine, AuditQuery(), limit=2) == (5, [5, 4])
    assert _seqs(engine, AuditQuery(), limit=2, offset=2) == (5, [3, 2])
    rows = audit.query(engine, AuditQuery())[1]
    assert rows[0].actor == "alice"  # usable after the session is gone


def test_a_page_is_100_events_by_default(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        for i in range(1, 102):
            fields = {"event_type": "view", "actor": "a", "actor_role": "", "object": "", "outcome": "ok"}
            s.add(
                AuditEvent(
                    seq=i, at=datetime.now(UTC), ip="", detail={}, prev_hash="", hash=f"{i:064d}", **fields
                )
            )
    total, seqs = _seqs(engine, AuditQuery())
    assert total == 101 and seqs == list(range(101, 1, -1))


def test_the_trail_of_some_objects_oldest_first(engine: Engine, shanghai: None) -> None:
    events = _mixed(engine)
    trail = audit.trail(engine, ["record:50x", "record:1", "record:404"])
    assert trail == [
        {
            "seq": e.seq,
            "at": e.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "type": e.event_type,
            "actor": e.actor,
            "role": e.actor_role,
            "object": e.object,
            "outcome": e.outcome,
            "detail": e.detail or {},
            "hash": e.hash,
        }
        for e in (events[0], events[3])
    ]
    assert trail[0]["type"] == "view" and trail[1]["actor"] == "bob" and trail[1]["role"] == "档案管理员"
    assert (trail[0]["detail"], trail[1]["detail"]) == ({"page": 2}, {})
    assert audit.trail(engine, []) == []


def test_the_csv_export_row_by_row(engine: Engine) -> None:
    audit.record(engine, "view", BOB, "record:1", q="执法", a=1)
    for i, lead in enumerate(["=", "+", "-", "@", "\t", "\r"]):
        audit.record(engine, "search", Actor(f"{lead}x{i}", f"{lead}role"), f"{lead}obj")
    with engine.begin() as conn:  # a type the view has no label for
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(event_type="legacy"))
    events = _events(engine)
    chunks = list(audit.csv_rows(engine, AuditQuery()))
    assert chunks[0] == "\ufeff序号,时间,类型,操作人,角色,对象,结果,IP,详情,前序哈希,哈希\r\n"
    assert len(chunks) == 1 + len(events)
    first = next(csv.reader(io.StringIO(chunks[1])))
    local = audit.to_local(events[0].at).strftime("%Y-%m-%d %H:%M:%S")
    assert first == ["1", local, "查看", "bob", "档案管理员", "record:1", "ok", "10.0.0.9",
                     '{"a": 1, "q": "执法"}', GENESIS, events[0].hash]  # fmt: skip
    assert local[10] == " " and len(local) == 19
    rows = [next(csv.reader(io.StringIO(c))) for c in chunks[2:]]
    assert rows[0][2] == "legacy" and rows[1][2] == "检索"
    for row in rows:
        assert row[3].startswith("'") and row[4].startswith("'") and row[5].startswith("'"), row
        assert row[3][1:2] in "=+-@\t\r"
    assert [r[0] for r in rows] == [str(i) for i in range(2, 8)]  # plain values stay as they are
    only = list(audit.csv_rows(engine, AuditQuery(event_type="view")))
    assert len(only) == 2 and only[1] == chunks[1]


def test_a_hash_covers_details_that_are_not_json_as_their_text() -> None:
    fields = {
        "seq": 1,
        "at": datetime(2026, 1, 2, tzinfo=UTC),
        "event_type": "view",
        "actor": "a",
        "actor_role": "",
        "object": "",
        "outcome": "ok",
        "ip": "",
        "prev_hash": GENESIS,
    }
    when = datetime(2026, 1, 2, 3, 4)
    assert audit.event_hash(**fields, detail={"when": when}) == audit.event_hash(
        **fields, detail={"when": str(when)}
    )
