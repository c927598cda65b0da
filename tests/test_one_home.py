"""One home per action: each action, taken through each of its entry points (API, page, CLI),
leaves exactly one audit event, named the same way whichever door it came through."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from archive.db import session_scope
from archive.models import AuditEvent, CaseOrigin, EnforcementKind, EventKind, PartyType, Retention, Stage
from archive.timeutil import CST
from pipelines.compliance import add_event, create_case
from pipelines.demo import DEMO_CASE_NO, DEMO_LOADER, DEMO_PASSWORD, DEMO_USER
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.media.transcript import Transcript
from pipelines.queue import make_queue
from search_api.services import EVERYTHING
from search_api.services.cases import file_case
from tests.conftest import BIN, REPO, cli_env, run_cli
from tests.support.access import Archive, build, signed_in

COMPANY = "农安县某化工有限公司"
_CASES = itertools.count(1)


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build(tmp_path_factory.mktemp("one-home"))


@pytest.fixture(scope="module")
def web(arc: Archive) -> Iterator[dict[str, TestClient]]:
    with signed_in(arc.app, ["demo", "archivist", "leader", "admin", "party"]) as out:
        yield out


@dataclass
class Door:
    """What an entry point needs: the archive, its signed-in clients, the CLI's data directory."""

    arc: Archive
    web: dict[str, TestClient]
    data: Path

    def form(self, who: str, path: str, **fields: object) -> int:
        c = self.web[who]
        data = {"csrf": c.headers["X-CSRF-Token"], **fields}
        return c.post(path, data=data, follow_redirects=False).status_code

    def cli(self, *args: str) -> int:
        res = run_cli(list(args), self.data)
        assert res.returncode == 0, res.stderr
        return 0


def _new_case(arc: Archive, *, ended: bool = False) -> str:
    """A fresh case with a party (and, if ``ended``, a processed record and its 执行终结)."""
    n = next(_CASES)
    case_no = f"农应急罚〔2026〕{200 + n}号"
    opened = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    create_case(
        arc.svc,
        case_no,
        f"第{n}号测试案件",
        EnforcementKind.PENALTY,
        CaseOrigin.EX_OFFICIO,
        opened,
        officer="周晓梅",
        parties=[(COMPANY, PartyType.ORGANISATION)],
    )
    if ended:
        path = arc.svc.settings.data_dir / f"立案审批表{n}.txt"
        path.write_text(f"立案审批表\n案号：{case_no}\n", encoding="utf-8")
        meta = RecordMeta(case_no=case_no, stage=Stage.START, document_type="立案审批表", made_by="周晓梅")
        rid = ingest_file(arc.svc, path, meta).record_id
        assert rid is not None
        make_queue(arc.svc).run([rid])
        add_event(arc.svc, case_no, EventKind.ENFORCEMENT_ENDED, opened, actor=DEMO_LOADER)
    return case_no


def _request(door: Door) -> int:
    r = door.web["party"].post(
        "/api/v1/portal/requests", json={"case_no": DEMO_CASE_NO, "reason": "核对事实"}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _reviewable(door: Door) -> tuple[int, int]:
    """A submitted request and a record previewed for it (what a review needs)."""
    rid, record = _request(door), door.arc.records["询问笔录"]
    r = door.web["archivist"].get(f"/api/v1/access/requests/{rid}/records/{record}/preview")
    assert r.status_code == 200 and r.json()["passed"], r.text
    return rid, record


def _approved(door: Door) -> tuple[int, int]:
    """An approved request and its grant id."""
    rid, record = _reviewable(door)
    assert (
        door.web["archivist"]
        .post(f"/api/v1/access/requests/{rid}/review", json={"scope": [record]})
        .is_success
    )
    r = door.web["leader"].post(
        f"/api/v1/access/requests/{rid}/decision", json={"approve": True, "reason": "同意"}
    )
    assert r.status_code == 200, r.text
    return rid, int(r.json()["grant"]["id"])


# Each entry: (audit event type, entry point, who acts, run → the audited object).
Run = Callable[[Door], str]


def _event_api(d: Door) -> str:
    case = _new_case(d.arc)
    body = {"case_no": case, "kind": "现场检查", "occurred_at": "2026-11-03T10:00:00+08:00"}
    assert d.web["archivist"].post("/api/v1/events", json=body).status_code == 201
    return f"case:{case}"


def _event_page(d: Door) -> str:
    case = _new_case(d.arc)
    assert (
        d.form("archivist", f"/cases/{case}/events", kind="现场检查", occurred_at="2026-11-03T10:00") == 303
    )
    return f"case:{case}"


def _event_cli(d: Door) -> str:
    case = _new_case(d.arc)
    d.cli("activity", "add", case, "--kind", "现场检查", "--at", "2026-11-03T10:00")
    return f"case:{case}"


def _assign_api(d: Door) -> str:
    case = _new_case(d.arc)
    assert (
        d.web["archivist"].post(f"/api/v1/cases/{case}/assignments", json={"username": "demo"}).status_code
        == 204
    )
    return f"case:{case}"


def _assign_page(d: Door) -> str:
    case = _new_case(d.arc)
    assert d.form("archivist", f"/cases/{case}/people", action="assign", username="demo") == 303
    return f"case:{case}"


def _assign_cli(d: Door) -> str:
    case = _new_case(d.arc)
    d.cli("access", "assign", case, "demo")
    return f"case:{case}"


LINK = {"username": "party", "party_name": COMPANY, "id_checked": "营业执照及授权委托书核验"}


def _link_api(d: Door) -> str:
    case = _new_case(d.arc)
    assert d.web["archivist"].post(f"/api/v1/cases/{case}/party-links", json=LINK).status_code == 204
    return f"case:{case}"


def _link_page(d: Door) -> str:
    case = _new_case(d.arc)
    assert d.form("archivist", f"/cases/{case}/people", action="link", **LINK) == 303
    return f"case:{case}"


def _link_cli(d: Door) -> str:
    case = _new_case(d.arc)
    d.cli("access", "link-party", case, "party", "--party", COMPANY, "--id-checked", LINK["id_checked"])
    return f"case:{case}"


def _witness_api(d: Door) -> str:
    case = _new_case(d.arc)
    r = d.web["archivist"].post(f"/api/v1/cases/{case}/witnesses", json={"name": "王五", "relation": "证人"})
    assert r.status_code == 204
    return f"case:{case}"


def _witness_page(d: Door) -> str:
    case = _new_case(d.arc)
    assert d.form("archivist", f"/cases/{case}/people", action="witness", name="王五", relation="证人") == 303
    return f"case:{case}"


def _file_api(d: Door) -> str:
    case = _new_case(d.arc, ended=True)
    r = d.web["archivist"].post(
        f"/api/v1/cases/{case}/dossier", json={"retention": "永久", "archivist": "王档案"}
    )
    assert r.status_code == 201, r.text
    return f"case:{case}"


def _file_page(d: Door) -> str:
    case = _new_case(d.arc, ended=True)
    status = d.form(
        "archivist", f"/cases/{case}/dossier", retention="永久", archivist="王档案", confirm="true"
    )
    assert status == 303
    return f"case:{case}"


def _file_cli(d: Door) -> str:
    case = _new_case(d.arc, ended=True)
    d.cli("dossier", "file", case, "--retention", "永久", "--archivist", "王档案")
    return f"case:{case}"


def _request_api(d: Door) -> str:
    return f"request:{_request(d)}"


def _request_page(d: Door) -> str:
    before = {r["id"] for r in d.web["party"].get("/api/v1/portal/requests").json()}
    assert d.form("party", "/portal/requests", case_no=DEMO_CASE_NO, reason="核对事实") == 303
    [rid] = {r["id"] for r in d.web["party"].get("/api/v1/portal/requests").json()} - before
    return f"request:{rid}"


def _withdraw_api(d: Door) -> str:
    rid = _request(d)
    assert d.web["party"].post(f"/api/v1/portal/requests/{rid}/withdraw").status_code == 200
    return f"request:{rid}"


def _withdraw_page(d: Door) -> str:
    rid = _request(d)
    assert d.form("party", f"/portal/requests/{rid}/withdraw") == 303
    return f"request:{rid}"


def _review_api(d: Door) -> str:
    rid, record = _reviewable(d)
    r = d.web["archivist"].post(f"/api/v1/access/requests/{rid}/review", json={"scope": [record]})
    assert r.status_code == 200, r.text
    return f"request:{rid}"


def _review_page(d: Door) -> str:
    rid, record = _reviewable(d)
    assert d.form("archivist", f"/requests/{rid}/review", scope=record, days=7) == 303
    return f"request:{rid}"


def _deny_api(d: Door) -> str:
    rid = _request(d)
    r = d.web["leader"].post(
        f"/api/v1/access/requests/{rid}/decision", json={"approve": False, "reason": "不符合"}
    )
    assert r.status_code == 200, r.text
    return f"request:{rid}"


def _deny_page(d: Door) -> str:
    rid = _request(d)
    assert d.form("leader", f"/requests/{rid}/decision", decision="deny", reason="不符合") == 303
    return f"request:{rid}"


def _approve_api(d: Door) -> str:
    rid, record = _reviewable(d)
    assert (
        d.web["archivist"].post(f"/api/v1/access/requests/{rid}/review", json={"scope": [record]}).is_success
    )
    r = d.web["leader"].post(
        f"/api/v1/access/requests/{rid}/decision", json={"approve": True, "reason": "同意"}
    )
    assert r.status_code == 200, r.text
    return f"request:{rid}"


def _approve_page(d: Door) -> str:
    rid, record = _reviewable(d)
    assert d.form("archivist", f"/requests/{rid}/review", scope=record, days=7) == 303
    assert d.form("leader", f"/requests/{rid}/decision", decision="approve", reason="同意") == 303
    return f"request:{rid}"


def _revoke_api(d: Door) -> str:
    _, grant = _approved(d)
    assert (
        d.web["leader"].post(f"/api/v1/access/grants/{grant}/revoke", json={"reason": "核查完毕"}).is_success
    )
    return f"grant:{grant}"


def _revoke_page(d: Door) -> str:
    rid, grant = _approved(d)
    assert d.form("leader", f"/requests/{rid}/revoke", reason="核查完毕") == 303
    return f"grant:{grant}"


def _mark_api(d: Door) -> str:
    record = d.arc.other_record
    r = d.web["archivist"].post(f"/api/v1/records/{record}/spans", json={"text": "赵某某", "kind": "其他"})
    assert r.status_code == 201, r.text
    return f"record:{record}"


def _mark_page(d: Door) -> str:
    rid, record = _request(d), d.arc.records["询问笔录"]
    assert d.form("archivist", f"/records/{record}/spans", back=rid, text="宏达", kind="其他") == 303
    return f"record:{record}"


def _upload_api(d: Door) -> str:
    case = _new_case(d.arc)
    files = {"file": ("补充说明.txt", f"补充说明 {case}".encode())}
    r = d.web["archivist"].post(f"/api/v1/cases/{case}/records", files=files, data={"title": "补充说明"})
    assert r.status_code == 201, r.text
    return f"record:{r.json()['record_id']}"


def _upload_cli(d: Door) -> str:
    case = _new_case(d.arc)
    path = d.data.parent / f"{case}-补充说明.txt"
    path.write_text(f"补充说明 {case}", encoding="utf-8")
    res = run_cli(["ingest", str(path), "--case", case, "--json"], d.data)
    assert res.returncode == 0, res.stderr
    [rid] = json.loads(res.stdout)["record_ids"]
    return f"record:{rid}"


def _sound(d: Door) -> tuple[int, str]:
    """The demo recording and its current transcript, one character changed per line."""
    rid = d.arc.records["现场检查录音"]
    r = d.web["archivist"].get(f"/api/v1/records/{rid}/files/transcript")
    assert r.status_code == 200
    lines = [seg.text.strip() or "。" for seg in Transcript.from_json(r.content).segments]
    return rid, "\n".join(line[:-1] + ("。" if line[-1] != "。" else "，") for line in lines)


def _correct_api(d: Door) -> str:
    rid, text = _sound(d)
    r = d.web["archivist"].post(f"/api/v1/records/{rid}/transcript", data={"text": text})
    assert r.status_code == 201, r.text
    return f"record:{rid}"


def _correct_page(d: Door) -> str:
    rid, text = _sound(d)
    assert d.form("archivist", f"/records/{rid}/transcript", text=text) == 303
    return f"record:{rid}"


def _view_api(d: Door) -> str:
    rid = d.arc.records["询问笔录"]
    assert d.web["demo"].get(f"/api/v1/records/{rid}").status_code == 200
    return f"record:{rid}"


def _view_page(d: Door) -> str:
    rid = d.arc.records["询问笔录"]
    assert d.web["demo"].get(f"/records/{rid}").status_code == 200
    return f"record:{rid}"


_USERS = itertools.count(1)


def _user_page(d: Door) -> str:
    name = f"clerk{next(_USERS)}"
    fields = {"username": name, "display_name": "新同事", "role": "执法人员", "password": "Xq7-rW2m-pT9z"}
    assert d.form("admin", "/admin/users", **fields) == 303
    return f"user:{name}"


def _user_cli(d: Door) -> str:
    name = f"clerk{next(_USERS)}"
    res = subprocess.run(
        [
            str(BIN / "archive"),
            "user",
            "add",
            name,
            "--name",
            "新同事",
            "--role",
            "执法人员",
            "--password-stdin",
        ],
        input="Xq7-rW2m-pT9z\n",
        env=cli_env(d.data),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert res.returncode == 0, res.stderr
    return f"user:{name}"


def _token_api(d: Door) -> str:
    body = {"username": DEMO_USER, "password": DEMO_PASSWORD, "name": "脚本", "days": 1}
    with TestClient(d.arc.app) as anonymous:
        assert anonymous.post("/api/v1/auth/token", json=body).status_code == 201
    return f"user:{DEMO_USER}"


def _token_cli(d: Door) -> str:
    d.cli("user", "token", DEMO_USER, "--days", "1")
    return f"user:{DEMO_USER}"


def _filed(d: Door) -> str:
    case = _new_case(d.arc, ended=True)
    file_case(d.arc.svc, DEMO_LOADER, EVERYTHING, case, Retention.YEARS_10, "王档案")
    return case


def _export_api(d: Door) -> str:
    case = _filed(d)
    assert d.web["archivist"].get(f"/api/v1/cases/{case}/dossier/bag.zip").status_code == 200
    return f"case:{case}"


def _export_cli(d: Door) -> str:
    case = _filed(d)
    d.cli("dossier", "export", case, str(d.data.parent / f"bag-{next(_USERS)}"))
    return f"case:{case}"


def _audit_view_api(d: Door) -> str:
    assert d.web["admin"].get("/api/v1/audit", params={"type": "login"}).status_code == 200
    return "audit"


def _audit_view_page(d: Door) -> str:
    assert d.web["admin"].get("/audit").status_code == 200
    return "audit"


def _audit_export_api(d: Door) -> str:
    assert d.web["admin"].get("/api/v1/audit/export.csv").status_code == 200
    return "audit"


def _audit_export_cli(d: Door) -> str:
    d.cli("audit", "export", "--out", str(d.data.parent / "audit.csv"))
    return "audit"


ENTRIES: list[tuple[str, str, str, Run]] = [
    ("event_add", "api", "archivist", _event_api),
    ("event_add", "page", "archivist", _event_page),
    ("event_add", "cli", "cli", _event_cli),
    ("assign", "api", "archivist", _assign_api),
    ("assign", "page", "archivist", _assign_page),
    ("assign", "cli", "cli", _assign_cli),
    ("party_link", "api", "archivist", _link_api),
    ("party_link", "page", "archivist", _link_page),
    ("party_link", "cli", "cli", _link_cli),
    ("edit", "api", "archivist", _witness_api),
    ("edit", "page", "archivist", _witness_page),
    ("dossier_file", "api", "archivist", _file_api),
    ("dossier_file", "page", "archivist", _file_page),
    ("dossier_file", "cli", "cli", _file_cli),
    ("access_request", "api", "party", _request_api),
    ("access_request", "page", "party", _request_page),
    ("access_withdraw", "api", "party", _withdraw_api),
    ("access_withdraw", "page", "party", _withdraw_page),
    ("access_review", "api", "archivist", _review_api),
    ("access_review", "page", "archivist", _review_page),
    ("access_deny", "api", "leader", _deny_api),
    ("access_deny", "page", "leader", _deny_page),
    ("access_approve", "api", "leader", _approve_api),
    ("access_approve", "page", "leader", _approve_page),
    ("access_revoke", "api", "leader", _revoke_api),
    ("access_revoke", "page", "leader", _revoke_page),
    ("spans_edit", "api", "archivist", _mark_api),
    ("spans_edit", "page", "archivist", _mark_page),
    ("upload", "api", "archivist", _upload_api),
    ("upload", "cli", "cli", _upload_cli),
    ("transcript_correct", "api", "archivist", _correct_api),
    ("transcript_correct", "page", "archivist", _correct_page),
    ("view", "api", "demo", _view_api),
    ("view", "page", "demo", _view_page),
    ("user_admin", "page", "admin", _user_page),
    ("user_admin", "cli", "cli", _user_cli),
    ("token_created", "api", "demo", _token_api),
    ("token_created", "cli", "cli", _token_cli),
    ("export", "api", "archivist", _export_api),
    ("export", "cli", "cli", _export_cli),
    ("audit_view", "api", "admin", _audit_view_api),
    ("audit_view", "page", "admin", _audit_view_page),
    ("audit_export", "api", "admin", _audit_export_api),
    ("audit_export", "cli", "cli", _audit_export_cli),
]


def _events(arc: Archive, event_type: str) -> list[tuple[int, str, str, str]]:
    with session_scope(arc.svc.engine) as s:
        rows = s.execute(
            select(AuditEvent.seq, AuditEvent.actor, AuditEvent.object, AuditEvent.outcome).where(
                AuditEvent.event_type == event_type
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("event_type", "door", "actor", "run"), ENTRIES, ids=[f"{e}-{d}" for e, d, _, _ in ENTRIES]
)
def test_each_entry_point_writes_exactly_one_event(
    arc: Archive, web: dict[str, TestClient], event_type: str, door: str, actor: str, run: Run
) -> None:
    before = {seq for seq, *_ in _events(arc, event_type)}
    obj = run(Door(arc, web, arc.svc.settings.data_dir))
    new = [(a, o, outcome) for seq, a, o, outcome in _events(arc, event_type) if seq not in before]
    assert new == [(actor, obj, "ok")]


def test_every_action_with_several_doors_is_in_the_table() -> None:
    doors: dict[str, set[str]] = {}
    for event_type, door, _, _ in ENTRIES:
        doors.setdefault(event_type, set()).add(door)
    assert doors["event_add"] == doors["assign"] == doors["party_link"] == {"api", "page", "cli"}
    assert doors["dossier_file"] == {"api", "page", "cli"}
    assert len(ENTRIES) == len({(e, d) for e, d, _, _ in ENTRIES}) == 44
