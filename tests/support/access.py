"""A demo archive with every role, a second case the party has nothing to do with, and a
國家秘密 record: the ground the access tests and the leak test stand on."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from archive.db import session_scope
from archive.models import CaseOrigin, Classification, EnforcementKind, PartyType, Record, Stage
from archive.settings import Settings
from archive.timeutil import CST
from pipelines.compliance import create_case
from pipelines.context import Services, open_services
from pipelines.demo import DEMO_CASE_NO, DEMO_PASSWORD, DEMO_USER, ensure_demo_user, load_demo
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.queue import make_queue
from pipelines.transcripts import current_transcript
from ui.web import create_app

OTHER_CASE = "农应急罚〔2026〕99号"
OTHER_MARKER = "另案专有标记甲乙丙"
SECRET_MARKER = "国家秘密专有标记丁戊己"
# What the party must never receive: the other people's details in the demo 询问笔录, another
# case's content, a 国家秘密 record's content.
PARTY_NEVER = [
    "220122198503154214",
    "13904318866",
    "黄龙路188号",
    "李明",
    OTHER_MARKER,
    SECRET_MARKER,
]
ROLES = ["demo", "archivist", "leader", "legal", "admin", "party"]


@dataclass
class Archive:
    """The app and the ids the tests need."""

    app: FastAPI
    svc: Services
    records: dict[str, int] = field(default_factory=dict)  # title → id
    other_record: int = 0
    secret_record: int = 0


def login(c: TestClient, username: str = DEMO_USER, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form (CSRF token from the page)."""
    form = c.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None
    r = c.post(
        "/login",
        data={"username": username, "password": password, "csrf": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    c.headers["X-CSRF-Token"] = c.get("/api/v1/me").json()["csrf"]


@contextmanager
def signed_in(app: FastAPI, usernames: Iterable[str]) -> Iterator[dict[str, TestClient]]:
    """One signed-in client per user name (each with its own cookie jar)."""
    clients = {}
    with ExitStack() as stack:
        for name in usernames:
            clients[name] = stack.enter_context(TestClient(app))
            login(clients[name], name)
        yield clients


def build(tmp: Path) -> Archive:
    """Demo case + accounts, a second case, a 国家秘密 record in the demo case."""
    settings = Settings(data_dir=tmp / "var")
    svc = open_services(settings)
    ensure_demo_user(svc)
    load_demo(svc, settings.data_dir / "demo-files")
    create_case(
        svc,
        OTHER_CASE,
        "另一企业未按规定开展安全培训案",
        EnforcementKind.PENALTY,
        CaseOrigin.EX_OFFICIO,
        datetime(2026, 11, 2, 9, 0, tzinfo=CST),
        officer="周晓梅",
        parties=[("农安县另一化工有限公司", PartyType.ORGANISATION)],
    )
    other = tmp / "另案询问笔录.txt"
    other.write_text(
        f"询问笔录\n{OTHER_MARKER}\n被询问人：赵某某，联系电话 13512345678。\n", encoding="utf-8"
    )
    secret = tmp / "涉密情况说明.txt"
    secret.write_text(f"情况说明\n{SECRET_MARKER}\n", encoding="utf-8")
    o1 = ingest_file(svc, other, RecordMeta(case_no=OTHER_CASE, stage=Stage.INVESTIGATION, made_by="周晓梅"))
    o2 = ingest_file(
        svc, secret, RecordMeta(case_no=DEMO_CASE_NO, stage=Stage.INVESTIGATION, made_by="孙立军")
    )
    assert o1.record_id and o2.record_id
    make_queue(svc).run([o1.record_id, o2.record_id])
    with session_scope(svc.engine) as s:
        s.execute(
            update(Record).where(Record.id == o2.record_id).values(classification=Classification.STATE_SECRET)
        )
        titles = {r.title: r.id for r in s.scalars(select(Record))}
    return Archive(
        app=create_app(settings),
        svc=svc,
        records=titles,
        other_record=o1.record_id,
        secret_record=o2.record_id,
    )


def mark_spoken_word(arc: Archive, archivist: TestClient, audio: int) -> tuple[float, float]:
    """Mark a word of the recording's transcript as sensitive; its seconds (inside the padding)."""
    with session_scope(arc.svc.engine) as s:
        record = s.get(Record, audio)
        assert record is not None
        transcript = current_transcript(arc.svc.store, record)
    words = [w for seg in transcript.segments for w in seg.words if w.text.strip() and w.end - w.start >= 0.2]
    assert words, "the demo recording's transcript has timed words"
    word = words[0]
    r = archivist.post(f"/api/v1/records/{audio}/spans", json={"text": word.text.strip(), "kind": "其他"})
    assert r.status_code == 201, r.text
    return word.start, word.end


def search_hits(c: TestClient, q: str, **params: str) -> list[dict[str, object]]:
    """The hits of ``GET /api/v1/search`` for the client (asserting the call succeeded)."""
    r = c.get("/api/v1/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    hits: list[dict[str, object]] = r.json()["hits"]
    return hits
