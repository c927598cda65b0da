"""Compliance end to end: `archive check`, `archive event add`, `archive case archivist`, the
findings API, and findings that follow changes to records and events at once."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from archive.db import get_engine, session_scope
from archive.models import AuditEvent, CaseOrigin, EnforcementKind, EventKind, Role
from archive.settings import Settings
from archive.users import create_user
from pipelines.context import Services, open_services
from pipelines.demo import DEMO_CASE_NO, DEMO_PASSWORD, DEMO_USER
from pipelines.samples import write_pdf
from tests.conftest import run_cli
from tests.support.access import login
from ui.cli_common import OPERATOR
from ui.web import create_app


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data as `archive demo` leaves it; never changed (tests work on copies)."""
    d = tmp_path_factory.mktemp("compliance") / "demo"
    assert run_cli(["demo"], d).returncode == 0
    return d


@pytest.fixture(scope="module")
def data(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo data shared by the tests below that build on one another's events."""
    d = tmp_path_factory.mktemp("compliance") / "var"
    shutil.copytree(pristine, d)
    return d


@pytest.fixture
def own_data(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo data for one test: no other test's events or records."""
    d = tmp_path / "var"
    shutil.copytree(pristine, d)
    return d


def _check(data: Path, *extra: str) -> tuple[int, dict[str, list[dict[str, object]]]]:
    res = run_cli(["check", "--json", *extra], data)
    assert res.returncode in (0, 1), res.stderr
    return res.returncode, {c["case_no"]: c["findings"] for c in json.loads(res.stdout)}


def _rules(findings: list[dict[str, object]]) -> set[object]:
    return {f["rule_id"] for f in findings}


def test_the_demo_case_is_checked(data: Path) -> None:
    rc, cases = _check(data)
    findings = cases[DEMO_CASE_NO]
    # the demo recording was made on 9 October and stored today: late under 第二十五条
    late = [f for f in findings if f["rule_id"] == "art25.av_upload_deadline"]
    assert rc == 1 and len(late) == 1
    assert late[0]["evidence"]["due"] == "2026-10-12"  # type: ignore[index]  # 10 Oct is a make-up workday
    assert "第二十五条" in str(late[0]["message"])
    assert "art6_8.start_records" not in _rules(findings)  # 立案审批表 is there
    res = run_cli(["check"], data)
    assert "违规" in res.stderr and "art25.av_upload_deadline" in res.stderr
    late_line = next(line for line in res.stderr.splitlines() if "art25.av_upload_deadline" in line)
    assert late_line.startswith("   违规 第二十五条") and "[" not in late_line  # plain text, no markup
    assert f"✗ {DEMO_CASE_NO} " in res.stderr


def test_events_drive_the_findings(data: Path, tmp_path: Path) -> None:
    res = run_cli(["activity", "add", DEMO_CASE_NO, "--kind", "作出决定", "--at", "2026-10-28T16:00"], data)
    assert res.returncode == 0, res.stderr
    _, cases = _check(data)
    assert {"art12.decision_approval", "art13.rights_notice"} <= _rules(cases[DEMO_CASE_NO])

    # 留置送达 needs its written record and a recording of the whole process (第十九条)
    res = run_cli(["activity", "add", DEMO_CASE_NO, "--kind", "留置送达", "--at", "2026-10-29T10:00"], data)
    left = res.stdout.strip()
    _, cases = _check(data)
    av = [f for f in cases[DEMO_CASE_NO] if f["rule_id"] == "art10_23.full_av_record"]
    assert len(av) == 1 and av[0]["event_id"] == int(left)
    # an unlinked photo does not count; one linked to the event does
    photo = tmp_path / "留置送达现场.png"
    from PIL import Image

    Image.new("RGB", (64, 48), "white").save(photo)
    meta = ["--case", DEMO_CASE_NO, "--kind", "现场照片", "--made-by", "吴国庆", "--method", "数码拍摄",
            "--made-at", "2026-10-29T10:05", "--proves", "留置送达过程"]  # fmt: skip
    assert run_cli(["ingest", str(photo), *meta, "--activity", left], data).returncode == 0
    _, cases = _check(data)
    assert not [f for f in cases[DEMO_CASE_NO] if f["rule_id"] == "art10_23.full_av_record"]
    # a record cannot be linked to an event of another case
    other = tmp_path / "其他.pdf"
    write_pdf(other, ["送达回证"], title="送达回证")
    res = run_cli(["ingest", str(other), "--event", "99999", "--json"], data)
    assert res.returncode == 1 and "不属于该案件" in res.stdout


def test_the_end_of_enforcement_starts_the_30_days(data: Path) -> None:
    res = run_cli(["activity", "add", DEMO_CASE_NO, "--kind", "执行终结", "--at", "2026-11-02T09:00"], data)
    assert res.returncode == 0, res.stderr
    # the step is audited once, as done from the command line (as from the API and the page)
    with session_scope(get_engine(Settings(data_dir=data).db_url)) as s:
        added = [
            (e.actor, e.detail["kind"])
            for e in s.scalars(select(AuditEvent).where(AuditEvent.event_type == "event_add"))
            if e.detail["event"] == int(res.stdout)
        ]
    assert added == [("cli", "执行终结")]
    _, cases = _check(data, "--today", "2026-11-28")
    found = {f["rule_id"]: f for f in cases[DEMO_CASE_NO]}
    assert found["art27.archive_deadline"]["severity"] == "提醒"  # due 2 December, 4 days left
    assert "art27.archivist_named" in found
    assert run_cli(["case", "archivist", DEMO_CASE_NO, "李档案"], data).returncode == 0
    _, cases = _check(data, "--today", "2026-12-03")
    found = {f["rule_id"]: f for f in cases[DEMO_CASE_NO]}
    assert found["art27.archive_deadline"]["severity"] == "违规" and "art27.archivist_named" not in found
    assert found["art27.archive_deadline"]["evidence"] == {
        "ended": "2026-11-02",
        "due": "2026-12-02",
        "days_left": -1,
    }


def test_bad_commands_say_why(data: Path) -> None:
    res = run_cli(["event", "add", DEMO_CASE_NO, "--kind", "喝茶", "--at", "2026-10-28"], data)
    assert res.returncode == 2 and "未知执法活动" in res.stderr
    res = run_cli(["event", "add", "不存在的案号", "--kind", "立案", "--at", "2026-10-28"], data)
    assert res.returncode == 2 and "案件不存在" in res.stderr
    res = run_cli(
        ["event", "add", DEMO_CASE_NO, "--kind", "查封扣押", "--at", "2026-10-28", "--av-exempt"], data
    )
    assert res.returncode == 2 and "--note" in res.stderr
    assert run_cli(["check", "--case", "不存在的案号"], data).returncode == 2


def _ensure_user(data: Path, username: str, display_name: str, role: Role, password: str) -> None:
    from sqlalchemy import select

    from archive.models import User

    svc = open_services(Settings(data_dir=data))
    with session_scope(svc.engine) as s:
        if s.scalar(select(User).where(User.username == username)) is None:
            create_user(session=s, username=username, display_name=display_name, role=role, password=password)


@contextmanager
def _officer_on(data: Path) -> Iterator[TestClient]:
    """The demo officer signed in on ``data`` (and a party user, party9, created there)."""
    _ensure_user(data, "party9", "王某", Role.PARTY, "party-pass-9")
    with TestClient(create_app(Settings(data_dir=data))) as c:
        login(c, DEMO_USER, DEMO_PASSWORD)
        c.headers["X-CSRF-Token"] = c.get("/api/v1/me").json()["csrf"]
        yield c


@pytest.fixture
def officer(data: Path) -> Iterator[TestClient]:
    with _officer_on(data) as c:
        yield c


def test_the_findings_api_and_metadata_fixes(officer: TestClient) -> None:
    rows = officer.get("/api/v1/findings", params={"case": DEMO_CASE_NO}).json()
    assert rows and all(r["case_no"] == DEMO_CASE_NO for r in rows)
    every = officer.get("/api/v1/findings").json()
    errors = officer.get("/api/v1/findings", params={"severity": "违规"}).json()
    # the filter keeps exactly the 违规 findings: the demo case is late under 第二十五条 (one of them)
    assert "art25.av_upload_deadline" in {r["rule_id"] for r in errors}
    assert errors == [r for r in every if r["severity"] == "违规"]
    assert {r["severity"] for r in errors} == {"违规"}
    assert officer.get("/api/v1/findings", params={"case": "不存在"}).status_code == 404
    # a record missing its 证明对象 is found, and fixed through the API
    rid = officer.get("/api/v1/search", params={"q": "伍万元"}).json()["hits"][0]["record_id"]
    assert officer.patch(f"/api/v1/records/{rid}", json={"proves": ""}).status_code == 200
    meta = [r for r in officer.get("/api/v1/findings").json() if r["rule_id"] == "art26.metadata"]
    assert [r["record_id"] for r in meta] == [rid] and "证明对象" in meta[0]["message"]
    assert officer.patch(f"/api/v1/records/{rid}", json={"proves": "处罚决定"}).status_code == 200
    assert not [r for r in officer.get("/api/v1/findings").json() if r["rule_id"] == "art26.metadata"]


def test_events_api(own_data: Path) -> None:
    def rule_ids(c: TestClient) -> set[str]:
        return {r["rule_id"] for r in c.get("/api/v1/findings", params={"case": DEMO_CASE_NO}).json()}

    def kinds(c: TestClient) -> list[str]:
        return [e["kind"] for e in c.get("/api/v1/events", params={"case": DEMO_CASE_NO}).json()]

    with _officer_on(own_data) as officer:
        before = kinds(officer)
        assert "art13.rights_notice" not in rule_ids(officer)  # no decision yet
        # a penalty decision without a rights notice before it breaks 第十三条 …
        decision = {"case_no": DEMO_CASE_NO, "kind": "作出决定", "occurred_at": "2026-10-28T16:00:00+08:00"}
        assert officer.post("/api/v1/events", json=decision).status_code == 201
        assert "art13.rights_notice" in rule_ids(officer)
        # … and the notice, recorded through the API before the decision, mends it
        body = {"case_no": DEMO_CASE_NO, "kind": "告知陈述申辩", "occurred_at": "2026-10-20T09:00:00+08:00"}
        r = officer.post("/api/v1/events", json=body)
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "告知陈述申辩"
        ended = {**body, "kind": "执行终结", "occurred_at": "2026-11-02T09:00:00+08:00"}
        assert officer.post("/api/v1/events", json=ended).status_code == 201
        after = kinds(officer)
        assert sorted(after) == sorted([*before, "作出决定", "告知陈述申辩", "执行终结"])
        assert after[-3:] == ["告知陈述申辩", "作出决定", "执行终结"]  # in the order they happened
        assert "art13.rights_notice" not in rule_ids(officer)
        r = officer.post("/api/v1/events", json={**body, "kind": "查封扣押", "av_exempt": True})
        assert r.status_code == 422
        assert officer.post("/api/v1/events", json={**body, "kind": "吃饭"}).status_code == 422
        r = officer.post("/api/v1/events", json=body, headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 400
        assert kinds(officer) == after  # none of the refused ones was recorded
    with TestClient(create_app(Settings(data_dir=own_data))) as party:
        login(party, "party9", "party-pass-9")
        assert party.get("/api/v1/findings").status_code == 403
        assert party.get("/api/v1/events", params={"case": DEMO_CASE_NO}).status_code == 403


def test_the_compliance_page(officer: TestClient, data: Path) -> None:
    page = officer.get("/compliance")
    assert page.status_code == 200
    assert DEMO_CASE_NO in page.text and "第二十五条" in page.text and "art25.av_upload_deadline" in page.text
    assert 'href="/compliance"' in page.text  # in the navigation for staff
    with TestClient(create_app(Settings(data_dir=data))) as party:
        login(party, "party9", "party-pass-9")
        assert party.get("/compliance").status_code == 403
        assert 'href="/compliance"' not in party.get("/search").text


def test_fixity_through_the_api(officer: TestClient, data: Path) -> None:
    assert officer.get("/api/v1/fixity").status_code == 403  # an officer (执法人员) may not
    _ensure_user(data, "arch9", "李档案", Role.ARCHIVIST, "arch-pass-9")
    with TestClient(create_app(Settings(data_dir=data))) as archivist:
        login(archivist, "arch9", "arch-pass-9")
        report = archivist.get("/api/v1/fixity").json()
        assert report["checked"] >= 6 and report["mismatches"] == []


def test_pages_read_findings_computed_today_and_recompute_only_stale_cases(
    svc: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date, datetime

    from archive.compliance import engine
    from archive.models import Case, Finding
    from pipelines.compliance import add_event, create_case, current, refresh_stale

    evaluated: list[int] = []
    evaluate = engine.evaluate
    monkeypatch.setattr(
        engine, "evaluate", lambda f, rules: evaluated.append(f.case.id) or evaluate(f, rules)
    )

    for n in (1, 2):
        create_case(svc, f"测试〔2026〕{n}号", f"案件{n}", EnforcementKind.PENALTY, CaseOrigin.EX_OFFICIO,
                    datetime(2026, 11, 2, 9, 0))  # fmt: skip
        add_event(svc, f"测试〔2026〕{n}号", EventKind.ENFORCEMENT_ENDED, datetime(2026, 11, 2, 10, 0),
                  actor=OPERATOR)  # fmt: skip
    with session_scope(svc.engine) as s:
        s.execute(update(Case).values(findings_on=date(2026, 11, 28)))  # as computed on the 28th
    assert refresh_stale(svc, today=date(2026, 11, 28)) == 0  # nothing is stale that day

    def deadline(day: date) -> dict[str, str]:
        return {
            r.case_no: next(f.severity.value for f in r.findings if f.rule_id == "art27.archive_deadline")
            for r in current(svc, today=day)
        }

    assert deadline(date(2026, 11, 28)) == {"测试〔2026〕1号": "提醒", "测试〔2026〕2号": "提醒"}
    with session_scope(svc.engine) as s:
        before = dict(s.execute(select(Finding.id, Finding.rule_id)).all())
    evaluated.clear()
    assert deadline(date(2026, 11, 28)) == {"测试〔2026〕1号": "提醒", "测试〔2026〕2号": "提醒"}
    assert evaluated == []  # read, not recomputed
    # a day later the deadline has passed: every case is recomputed once, on the first read
    assert deadline(date(2026, 12, 3)) == {"测试〔2026〕1号": "违规", "测试〔2026〕2号": "违规"}
    assert sorted(evaluated) == sorted(set(evaluated)) and len(evaluated) == 2
    with session_scope(svc.engine) as s:
        assert set(s.scalars(select(Case.findings_on))) == {date(2026, 12, 3)}
        after = dict(s.execute(select(Finding.id, Finding.rule_id)).all())
    # only what changed was rewritten: the deadline findings are new rows, the others kept theirs
    deadline_rows = {i for i, rule in before.items() if rule == "art27.archive_deadline"}
    assert len(deadline_rows) == 2 and not deadline_rows & after.keys()
    kept = {i: r for i, r in before.items() if i not in deadline_rows}
    assert kept and {i: after[i] for i in kept if i in after} == kept
    assert sorted(after.values()) == sorted(before.values())
    # only the cases asked for are recomputed
    assert [r.case_no for r in current(svc, ["测试〔2026〕1号"], today=date(2026, 12, 4))] == [
        "测试〔2026〕1号"
    ]
    with session_scope(svc.engine) as s:
        days = dict(s.execute(select(Case.case_no, Case.findings_on)).all())
    assert days == {"测试〔2026〕1号": date(2026, 12, 4), "测试〔2026〕2号": date(2026, 12, 3)}


def test_counts_and_lists_over_every_case_match_the_findings_case_by_case(svc: Services) -> None:
    """The 工作台 and 合规检查 count and list findings over all cases with a few indexed queries:
    they must agree with the findings read case by case, legacy dossiers' left out."""
    from datetime import date, datetime

    from archive.models import Case, Severity
    from pipelines.compliance import add_event, breaches, create_case, current, findings_of, ranked_cases

    today = date(2026, 12, 1)
    ended = {1: datetime(2026, 11, 5, 10), 2: datetime(2026, 6, 1, 10), 3: datetime(2026, 5, 1, 10)}
    for n, when in ended.items():
        create_case(svc, f"合计〔2026〕{n}号", f"案件{n}", EnforcementKind.PENALTY, CaseOrigin.EX_OFFICIO,
                    when.replace(day=1))  # fmt: skip
        add_event(svc, f"合计〔2026〕{n}号", EventKind.ENFORCEMENT_ENDED, when, actor=OPERATOR)
    with session_scope(svc.engine) as s:
        s.execute(update(Case).where(Case.case_no == "合计〔2026〕3号").values(legacy=True))
    by_case = {c.case_no: c for c in current(svc, today=today)}
    live = [(c.case_no, f) for c in by_case.values() if not c.legacy for f in c.findings]
    legacy_errors = sum(f.severity is Severity.ERROR for f in by_case["合计〔2026〕3号"].findings)
    assert legacy_errors >= 1  # the legacy dossier has breaches that must not be counted
    assert any(f.severity is not Severity.ERROR for _, f in live)

    assert breaches(svc, None) == sum(f.severity is Severity.ERROR for _, f in live)
    assert breaches(svc, ["合计〔2026〕3号"]) == 0
    worst_first = sorted(live, key=lambda r: (r[1].severity is not Severity.ERROR, r[1].id))
    found = findings_of(svc, None, limit=len(live) - 1, today=today)
    assert found.total == len(live)
    assert [(no, f.id) for no, f in found.rows] == [(no, f.id) for no, f in worst_first[: len(live) - 1]]

    rule = "art27.archive_deadline"
    mine = findings_of(svc, ["合计〔2026〕1号", "合计〔2026〕3号"], [rule], today=today)
    expected = [(no, f.id) for no, f in worst_first if f.rule_id == rule and no == "合计〔2026〕1号"]
    assert [(no, f.id) for no, f in mine.rows] == expected and mine.total == len(expected) == 1

    def rank(c: object) -> tuple[int, int, str]:
        errors = 0 if c.legacy else c.breaches  # type: ignore[attr-defined]
        return (-errors, -len(c.findings), c.case_no)  # type: ignore[attr-defined]

    assert ranked_cases(svc, None, today) == [c.case_no for c in sorted(by_case.values(), key=rank)]
    assert ranked_cases(svc, ["合计〔2026〕3号", "合计〔2026〕1号"], today) == [
        c.case_no for c in sorted([by_case["合计〔2026〕1号"], by_case["合计〔2026〕3号"]], key=rank)
    ]
