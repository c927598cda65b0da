"""The access layer end to end: roles and assignment, the 查阅 flow (第二十八条), redacted
renditions, and the attacks a public-facing archive meets (IDOR, traversal, XSS, CSRF, session
fixation, brute force). One demo archive is built for the module."""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from archive import audit
from archive.access import link_party
from archive.db import session_scope
from archive.models import AccessGrant, AuditEvent, Record, Role, SensitiveSpan
from archive.timeutil import CST
from archive.users import create_user
from pipelines.demo import COMPANY, DEMO_CASE_NO, DEMO_PASSWORD, ENDED_CASE_NO
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.queue import make_queue, retry_processing
from tests.support.access import (
    OTHER_CASE,
    OTHER_MARKER,
    PARTY_NEVER,
    Archive,
    build,
    login,
    mark_spoken_word,
    signed_in,
)
from tests.support.watermark import first_page, read_mark
from ui.cli_common import OPERATOR

pytestmark = pytest.mark.slow
Clients = dict[str, TestClient]


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build(tmp_path_factory.mktemp("access"))


@pytest.fixture(scope="module")
def clients(arc: Archive) -> Iterator[dict[str, TestClient]]:
    with signed_in(arc.app, ["demo", "archivist", "leader", "legal", "admin", "party"]) as out:
        yield out


def _flow(clients: Clients, scope: list[int], days: int = 7, party: TestClient | None = None) -> int:
    """A request for the demo case (by ``party``, default the demo party), reviewed with ``scope``
    and approved; returns its id."""
    party = party or clients["party"]
    archivist, leader = clients["archivist"], clients["leader"]
    r = party.post("/api/v1/portal/requests", json={"case_no": DEMO_CASE_NO, "reason": "核对处罚依据的事实"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["status"] == "待审查"
    for record_id in scope:  # the review needs each record previewed as the party will get it
        r = archivist.get(f"/api/v1/access/requests/{rid}/records/{record_id}/preview")
        assert r.status_code == 200 and r.json()["passed"], r.text
    r = archivist.post(f"/api/v1/access/requests/{rid}/review", json={"scope": scope, "days": days})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "待审批"
    r = leader.post(
        f"/api/v1/access/requests/{rid}/decision", json={"approve": True, "reason": "符合规定，同意"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "已批准" and r.json()["grant"]["state"] == "有效"
    return int(rid)


def test_roles_see_what_their_role_or_assignment_grants(arc: Archive, clients: Clients) -> None:
    officer, archivist, party = clients["demo"], clients["archivist"], clients["party"]
    inquiry = arc.records["询问笔录"]
    assert officer.get(f"/api/v1/records/{inquiry}").status_code == 200
    # the officer is assigned to the two demo cases only
    assert officer.get(f"/api/v1/records/{arc.other_record}").status_code == 404
    cases = {c["case_no"] for c in officer.get("/api/v1/cases").json()}
    assert cases == {DEMO_CASE_NO, ENDED_CASE_NO}
    assert archivist.get(f"/api/v1/records/{arc.other_record}").status_code == 200
    assert {c["case_no"] for c in archivist.get("/api/v1/cases").json()} == {
        DEMO_CASE_NO,
        OTHER_CASE,
        ENDED_CASE_NO,
    }
    # a party sees nothing before a grant
    assert party.get("/api/v1/portal/records").json() == []
    assert party.get("/api/v1/search", params={"q": "询问"}).json()["total"] == 0
    assert party.get(f"/api/v1/records/{inquiry}").status_code == 404
    assert party.get(f"/api/v1/portal/records/{inquiry}").status_code == 404
    # the unassigned officer cannot link parties to a case they cannot see
    r = officer.post(
        f"/api/v1/cases/{OTHER_CASE}/party-links",
        json={"username": "party", "party_name": "农安县另一化工有限公司", "id_checked": "身份证原件"},
    )
    assert r.status_code == 404


def test_sensitive_spans_are_detected_in_the_demo_inquiry(arc: Archive) -> None:
    with session_scope(arc.svc.engine) as s:
        spans = s.scalars(
            select(SensitiveSpan).where(SensitiveSpan.record_id == arc.records["询问笔录"])
        ).all()
        found = {(sp.kind.value, sp.text) for sp in spans}
    assert ("身份证号", "220122198503154214") in found
    assert ("手机号", "13904318866") in found
    assert ("姓名", "李明") in found  # a witness of the case
    assert any(kind == "住址" and "黄龙路188号" in text for kind, text in found)


def _samples(data: bytes) -> tuple[np.ndarray, int]:
    with av.open(io.BytesIO(data)) as container:
        frames = [f.to_ndarray().reshape(-1) for f in container.decode(audio=0)]
        rate = container.streams.audio[0].sample_rate
    return np.concatenate(frames).astype(np.float32), rate


def _pitch(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency of a stretch of sound."""
    assert len(samples) >= rate // 10
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


@pytest.fixture
def party(arc: Archive) -> Iterator[TestClient]:
    """A party account of its own (linked to the demo case's company), signed in: what it is
    granted is this test's alone."""
    name = f"party{next(_PARTIES)}"
    with session_scope(arc.svc.engine) as s:
        create_user(
            session=s,
            username=name,
            display_name="宏达化工（代理人）",
            role=Role.PARTY,
            password=DEMO_PASSWORD,
        )
        link_party(
            session=s,
            username=name,
            case_no=DEMO_CASE_NO,
            party_name=COMPANY,
            id_checked="营业执照核验",
            by="孙立军",
        )
    with TestClient(arc.app) as c:
        login(c, name)
        yield c


_PARTIES = itertools.count(1)


def test_the_workflow_refuses_steps_out_of_order_or_by_the_wrong_role(
    arc: Archive, clients: Clients, party: TestClient
) -> None:
    archivist, leader = clients["archivist"], clients["leader"]
    inquiry = arc.records["询问笔录"]
    r = party.post("/api/v1/portal/requests", json={"case_no": DEMO_CASE_NO, "reason": "申请查阅本案材料"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    decide = {"approve": True, "reason": "同意"}
    assert leader.post(f"/api/v1/access/requests/{rid}/decision", json=decide).status_code == 409
    assert party.post(f"/api/v1/access/requests/{rid}/review", json={"scope": [inquiry]}).status_code == 403
    r = archivist.post(f"/api/v1/access/requests/{rid}/review", json={"scope": [inquiry, arc.secret_record]})
    assert r.status_code == 409 and "国家秘密" in r.json()["detail"]
    assert party.post(f"/api/v1/portal/requests/{rid}/withdraw").json()["status"] == "已撤回"
    assert party.get("/api/v1/portal/records").json() == []


def test_an_approved_party_reads_the_redacted_text(arc: Archive, clients: Clients, party: TestClient) -> None:
    inquiry, decision = arc.records["询问笔录"], arc.records["行政处罚决定书"]
    rid = _flow(clients, [inquiry, decision], party=party)
    mine = {x["id"]: x for x in party.get("/api/v1/portal/requests").json()}
    assert mine[rid]["status"] == "已批准" and mine[rid]["grant_state"] == "有效"
    assert mine[rid]["decision_reason"] == "符合规定，同意"
    assert {x["id"] for x in party.get("/api/v1/portal/records").json()} == {inquiry, decision}
    text = party.get(f"/api/v1/portal/records/{inquiry}").json()["text"]
    assert "■" in text and "询问笔录" in text
    assert [secret for secret in PARTY_NEVER if secret in text] == []
    assert "宏达化工有限公司安全负责人" in text  # the party's own company is not hidden from them


def test_the_partys_file_is_an_image_only_pdf(arc: Archive, clients: Clients, party: TestClient) -> None:
    inquiry = arc.records["询问笔录"]
    _flow(clients, [inquiry], party=party)
    r = party.get(f"/api/v1/portal/records/{inquiry}/file")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = pdfium.PdfDocument(r.content)
    layers = [page.get_textpage().get_text_range().strip() for page in pdf]
    assert len(layers) >= 1 and set(layers) == {""}  # no text layer left to copy hidden text from


def test_the_partys_recording_has_a_tone_over_the_marked_word(
    arc: Archive, clients: Clients, party: TestClient
) -> None:
    audio = arc.records["现场检查录音"]
    # the archivist listens and marks a spoken word by hand (a machine transcript of synthetic
    # speech is too unsure for automatic spans alone: the gate would block it)
    start, end = mark_spoken_word(arc, clients["archivist"], audio)
    _flow(clients, [audio], party=party)
    r = party.get(f"/api/v1/portal/records/{audio}/file")
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/")
    heard, rate = _samples(r.content)
    assert _pitch(heard[int(start * rate) : int(end * rate)], rate) == pytest.approx(1000, abs=15)
    assert _pitch(heard[int((end + 0.5) * rate) :], rate) != pytest.approx(1000, abs=15)


def test_a_party_finds_redacted_words_never_hidden_ones(
    arc: Archive, clients: Clients, party: TestClient
) -> None:
    inquiry, decision = arc.records["询问笔录"], arc.records["行政处罚决定书"]
    _flow(clients, [inquiry, decision], party=party)
    found = party.get("/api/v1/search", params={"q": "报警装置"}).json()
    assert decision in {h["record_id"] for h in found["hits"]}
    assert party.get("/api/v1/search", params={"q": "询问笔录"}).json()["total"] >= 1
    for secret in ["13904318866", "李明", "黄龙路"]:
        assert party.get("/api/v1/search", params={"q": secret}).json()["total"] == 0, secret


def test_a_revoked_grant_gives_nothing_at_once(arc: Archive, clients: Clients, party: TestClient) -> None:
    inquiry = arc.records["询问笔录"]
    rid = _flow(clients, [inquiry], party=party)
    assert party.get(f"/api/v1/portal/records/{inquiry}").status_code == 200
    leader = clients["leader"]
    grant_id = leader.get(f"/api/v1/access/requests/{rid}").json()["grant"]["id"]
    r = leader.post(f"/api/v1/access/grants/{grant_id}/revoke", json={"reason": "当事人身份存疑，暂停查阅"})
    assert r.status_code == 200 and r.json()["state"] == "已撤销"
    assert party.get("/api/v1/portal/records").json() == []
    assert party.get(f"/api/v1/portal/records/{inquiry}").status_code == 404
    assert party.get(f"/api/v1/portal/records/{inquiry}/file").status_code == 404
    assert party.get("/api/v1/search", params={"q": "询问笔录"}).json()["total"] == 0


def test_an_expired_grant_gives_nothing(arc: Archive, clients: Clients, party: TestClient) -> None:
    decision = arc.records["行政处罚决定书"]
    rid = _flow(clients, [decision], days=1, party=party)
    assert {x["id"] for x in party.get("/api/v1/portal/records").json()} == {decision}
    with session_scope(arc.svc.engine) as s:
        s.execute(
            update(AccessGrant)
            .where(AccessGrant.request_id == rid)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert party.get("/api/v1/portal/records").json() == []
    assert party.get(f"/api/v1/portal/records/{decision}").status_code == 404
    mine = {x["id"]: x for x in party.get("/api/v1/portal/requests").json()}
    assert mine[rid]["grant_state"] == "已过期"


def test_every_step_of_a_request_is_audited(arc: Archive, clients: Clients, party: TestClient) -> None:
    inquiry = arc.records["询问笔录"]
    rid = _flow(clients, [inquiry], party=party)
    party.get(f"/api/v1/portal/records/{inquiry}")
    party.get(f"/api/v1/portal/records/{inquiry}/file")
    leader = clients["leader"]
    grant_id = leader.get(f"/api/v1/access/requests/{rid}").json()["grant"]["id"]
    leader.post(f"/api/v1/access/grants/{grant_id}/revoke", json={"reason": "核查完毕"})
    with session_scope(arc.svc.engine) as s:
        rows = list(s.execute(select(AuditEvent.event_type, AuditEvent.object, AuditEvent.actor)))
    name = party.get("/api/v1/me").json()["username"]
    steps = {(kind, obj) for kind, obj, _ in rows}
    assert {
        ("access_request", f"request:{rid}"),
        ("access_review", f"request:{rid}"),
        ("access_approve", f"request:{rid}"),
        ("access_revoke", f"grant:{grant_id}"),
    } <= steps
    reads = {(kind, obj) for kind, obj, actor in rows if actor == name}
    assert {
        ("login", f"user:{name}"),
        ("view", f"record:{inquiry}"),
        ("download", f"record:{inquiry}"),
    } <= reads


def test_a_party_is_suggested_case_numbers_alike_under_any_limit(arc: Archive, clients: Clients) -> None:
    party = clients["party"]
    _flow(clients, [arc.records["行政处罚决定书"]])  # a granted case, to be suggested
    full = party.get("/api/v1/suggest", params={"q": "农", "limit": 50}).json()
    assert [s["value"] for s in full] == [DEMO_CASE_NO]  # not the company names containing 农
    for limit in range(1, 4):
        assert party.get("/api/v1/suggest", params={"q": "农", "limit": limit}).json() == full[:limit]
    # a prefix of a party's name only: nothing, so the answer tells nothing of who is named
    assert party.get("/api/v1/suggest", params={"q": "宏达", "limit": 1}).json() == []


def test_a_party_search_never_runs_the_release_gate_itself(arc: Archive, clients: Clients) -> None:
    party, archivist = clients["party"], clients["archivist"]
    decision = arc.records["行政处罚决定书"]
    _flow(clients, [decision])  # previewed for the review: its rendition is made
    found = party.get("/api/v1/search", params={"q": "报警装置"}).json()
    assert decision in {h["record_id"] for h in found["hits"]} and found["pending"] == 0
    # a span marked after the approval: the party's rendition must be made again
    spans = archivist.post(f"/api/v1/records/{decision}/spans", json={"text": "伍万元", "kind": "其他"})
    assert spans.status_code == 201, spans.text
    first = party.get("/api/v1/search", params={"q": "报警装置"}).json()
    assert first["pending"] >= 1 and decision not in {h["record_id"] for h in first["hits"]}
    deadline = time.monotonic() + 120
    while True:  # made in the background meanwhile
        again = party.get("/api/v1/search", params={"q": "报警装置"}).json()
        if decision in {h["record_id"] for h in again["hits"]}:
            break
        assert time.monotonic() < deadline, again
        time.sleep(0.5)
    assert again["pending"] == 0
    text = party.get(f"/api/v1/portal/records/{decision}").json()["text"]
    assert "伍万元" not in text and "报警装置" in text
    ids = [
        sp["id"] for sp in archivist.get(f"/api/v1/records/{decision}/spans").json() if sp["text"] == "伍万元"
    ]
    assert ids
    r = archivist.post(f"/api/v1/records/{decision}/spans/active", json={"ids": ids, "active": False})
    assert r.status_code == 200


def test_a_denial_is_shown_to_the_party_with_its_reason(clients: Clients) -> None:
    party, leader = clients["party"], clients["leader"]
    rid = party.post(
        "/api/v1/portal/requests", json={"case_no": DEMO_CASE_NO, "reason": "想看看别人的笔录"}
    ).json()["id"]
    r = leader.post(
        f"/api/v1/access/requests/{rid}/decision", json={"approve": False, "reason": "理由不充分"}
    )
    assert r.json()["status"] == "已驳回"
    mine = {x["id"]: x for x in party.get("/api/v1/portal/requests").json()}
    assert mine[rid]["status"] == "已驳回" and mine[rid]["decision_reason"] == "理由不充分"
    page = party.get("/portal").text
    assert "已驳回" in page and "理由不充分" in page


def test_a_party_can_only_ask_about_linked_cases(clients: Clients) -> None:
    party = clients["party"]
    for case_no in [OTHER_CASE, "不存在的案号"]:
        r = party.post("/api/v1/portal/requests", json={"case_no": case_no, "reason": "申请查阅本案材料"})
        assert r.status_code == 422
        assert "关联" in r.json()["detail"]  # the same answer whether the case exists or not


def test_an_archivist_corrects_the_redactions_before_release(arc: Archive, clients: Clients) -> None:
    archivist, legal = clients["archivist"], clients["legal"]
    rid = arc.records["现场检查记录"]
    before = archivist.get(f"/api/v1/records/{rid}/redacted").json()
    assert "甲醇" in before["text"]
    r = archivist.post(f"/api/v1/records/{rid}/spans", json={"text": "甲醇", "kind": "其他"})
    assert r.status_code == 201
    after = archivist.get(f"/api/v1/records/{rid}/redacted").json()
    assert "甲醇" not in after["text"] and after["spans"] == before["spans"] + 1
    added = [sp for sp in r.json() if sp["text"] == "甲醇"]
    r = archivist.post(f"/api/v1/records/{rid}/spans/active", json={"ids": [added[0]["id"]], "active": False})
    assert r.status_code == 200
    assert "甲醇" in archivist.get(f"/api/v1/records/{rid}/redacted").json()["text"]
    # only an archivist edits spans
    assert legal.post(f"/api/v1/records/{rid}/spans", json={"text": "丙酮"}).status_code == 403


def test_idor_and_path_traversal_are_refused(arc: Archive, clients: Clients) -> None:
    officer, party = clients["demo"], clients["party"]
    other = arc.other_record
    for path in [
        f"/api/v1/records/{other}",
        f"/api/v1/records/{other}/original",
        f"/api/v1/records/{other}/text",
        f"/api/v1/records/{other}/files/text",
        f"/api/v1/records/{other}/transcript/versions",
        f"/records/{other}",
    ]:
        assert officer.get(path).status_code == 404, path
        assert party.get(path).status_code in (403, 404), path
    inquiry = arc.records["询问笔录"]
    # (an unencoded ../ is resolved by the client before sending: it names another route, not a file)
    kinds = ["..%2F..%2Foriginal", "..%2F..%2F..%2Fetc%2Fpasswd", "original", "%2e%2e", "..%5C..%5Coriginal"]
    for kind in kinds:
        r = officer.get(f"/api/v1/records/{inquiry}/files/{kind}")
        assert r.status_code == 404, kind
        assert "root:" not in r.text
    for path in ["/static/..%2F..%2Farchive%2Fsettings.py", "/static/../archive/settings.py"]:
        r = officer.get(path)
        assert r.status_code == 404 and "secret_key" not in r.text
    # numeric ids only; a string id is a validation error, not a lookup
    assert officer.get("/api/v1/records/1%20OR%201=1").status_code == 422


def test_file_names_and_metadata_are_escaped(arc: Archive, clients: Clients, tmp_path: Path) -> None:
    evil = tmp_path / "<script>alert(1)<%2Fscript>.txt"
    evil.write_text("危险化学品 仓库 检查记录 跨站脚本测试", encoding="utf-8")
    meta = RecordMeta(case_no=DEMO_CASE_NO, title='<img src=x onerror="alert(2)">', made_by="<b>孙立军</b>")
    out = ingest_file(arc.svc, evil, meta)
    assert out.record_id
    make_queue(arc.svc).run([out.record_id])
    officer = clients["demo"]
    for page in [f"/records/{out.record_id}", "/search?q=跨站脚本测试"]:
        html = officer.get(page).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>孙立军</b>" not in html
        assert "&lt;img src=x" in html
    r = officer.get(f"/api/v1/records/{out.record_id}/original")
    assert "filename*=UTF-8''%3Cscript%3E" in r.headers["content-disposition"]


def test_csrf_is_required_for_cookie_sessions_but_not_bearer_tokens(arc: Archive) -> None:
    with TestClient(arc.app) as c:
        login(c, "party")
        del c.headers["X-CSRF-Token"]
        body = {"case_no": DEMO_CASE_NO, "reason": "没有令牌的请求"}
        assert c.post("/api/v1/portal/requests", json=body).status_code == 400
        assert (
            c.post("/portal/requests", data={"case_no": DEMO_CASE_NO, "reason": "表单无令牌"}).status_code
            == 400
        )
        assert c.post("/logout").status_code == 400
        c.headers["X-CSRF-Token"] = "forged"
        assert c.post("/api/v1/portal/requests", json=body).status_code == 400
    with TestClient(arc.app) as api:
        r = api.post(
            "/api/v1/auth/token", json={"username": "party", "password": DEMO_PASSWORD, "name": "测试"}
        )
        assert r.status_code == 201
        api.headers["Authorization"] = f"Bearer {r.json()['token']}"
        assert api.get("/api/v1/me").json()["username"] == "party"
        r = api.post(
            "/api/v1/portal/requests", json={"case_no": DEMO_CASE_NO, "reason": "令牌调用无需表单令牌"}
        )
        assert r.status_code == 201
        assert api.delete("/api/v1/auth/token").status_code == 204
        assert api.get("/api/v1/me").status_code == 401
        api.headers["Authorization"] = "Bearer not-a-token"
        assert api.get("/api/v1/me").status_code == 401


def test_sign_in_starts_a_new_session_and_sign_out_ends_it(arc: Archive) -> None:
    with TestClient(arc.app) as c:
        c.get("/login")
        planted = c.cookies.get("archive_session")
        assert planted
        login(c, "archivist")
        session = c.cookies.get("archive_session")
        assert session and session != planted
        # the cookie planted before sign-in is not signed in
        with TestClient(arc.app) as attacker:
            attacker.cookies.set("archive_session", planted)
            assert attacker.get("/api/v1/me").status_code == 401
        # after sign-out, a copy of the signed-in cookie is dead too (the session ended on the server)
        csrf = c.get("/api/v1/me").json()["csrf"]
        assert c.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        with TestClient(arc.app) as replay:
            replay.cookies.set("archive_session", session)
            assert replay.get("/api/v1/me").status_code == 401


def test_login_events_and_refusals_are_audited(arc: Archive, clients: Clients) -> None:
    with TestClient(arc.app) as c:
        assert (
            c.post("/api/v1/auth/token", json={"username": "legal", "password": "wrong-pw"}).status_code
            == 401
        )
    rows = audit.query(arc.svc.engine, audit.AuditQuery(event_type="login_failed"), limit=500)[1]
    assert any(e.actor == "legal" and e.outcome == "denied" for e in rows)
    # reads of records out of reach are refused and logged
    assert clients["demo"].get(f"/api/v1/records/{arc.other_record}").status_code == 404
    assert clients["party"].get(f"/api/v1/records/{arc.records['询问笔录']}").status_code in (403, 404)
    denied = audit.query(arc.svc.engine, audit.AuditQuery(event_type="view", outcome="denied"), limit=500)[1]
    assert {e.actor for e in denied} >= {"demo", "party"}
    assert audit.verify(arc.svc.engine).ok


def test_the_audit_view_is_for_leaders_and_admins(arc: Archive, clients: Clients) -> None:
    _flow(clients, [arc.records["行政处罚决定书"]])  # an approval to find
    for name in ["demo", "archivist", "legal", "party"]:
        assert clients[name].get("/api/v1/audit").status_code == 403, name
        assert clients[name].get("/audit").status_code == 403, name
    leader = clients["leader"]
    page = leader.get("/api/v1/audit", params={"type": "access_approve"}).json()
    assert page["total"] >= 1 and all(e["event_type"] == "access_approve" for e in page["events"])
    assert leader.get("/api/v1/audit/verify").json()["ok"] is True
    csv = leader.get("/api/v1/audit/export.csv", params={"type": "login"}).text
    assert csv.startswith("\ufeff序号") and "登录" in csv
    leader.get("/api/v1/search", params={"q": "<script>alert(3)</script> 询问"})
    html = clients["admin"].get("/audit").text
    assert "哈希链完整" in html
    assert "<script>alert(3)" not in html and "&lt;script&gt;alert(3)" in html  # logged queries are escaped


def test_party_pages_show_status_and_the_redacted_record(arc: Archive, clients: Clients) -> None:
    party = clients["party"]
    decision = arc.records["行政处罚决定书"]
    _flow(clients, [decision])
    page = party.get("/portal").text
    assert "已批准" in page and "可查阅的记录" in page
    html = party.get(f"/portal/records/{decision}").text
    assert "脱敏件" in html and "行政处罚决定书" in html


def test_a_partys_download_is_marked_with_their_name_and_the_minute(arc: Archive, clients: Clients) -> None:
    party = clients["party"]
    decision = arc.records["行政处罚决定书"]
    rid = _flow(clients, [decision])
    before = datetime.now(CST)
    stamped = party.get(f"/api/v1/portal/records/{decision}/file")
    after = datetime.now(CST)
    plain = clients["archivist"].get(f"/api/v1/access/requests/{rid}/records/{decision}/preview/file")
    assert stamped.status_code == plain.status_code == 200
    mark = first_page(stamped.content)
    said = read_mark(first_page(plain.content).resize(mark.size), mark)
    assert "宏达化工" in said  # the viewer's name (宏达化工（代理人）)
    minutes = {f"{t:%Y-%m-%d%H:%M}" for t in (before, after)}
    assert any(m in said for m in minutes), (said, minutes)


def test_recordings_are_served_in_byte_ranges_for_the_player(arc: Archive, clients: Clients) -> None:
    officer, party = clients["demo"], clients["party"]
    audio = arc.records["现场检查录音"]
    whole = officer.get(f"/api/v1/records/{audio}/media")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    data = whole.content
    part = officer.get(f"/api/v1/records/{audio}/media", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = officer.get(f"/api/v1/records/{audio}/media", headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    rest = officer.get(f"/api/v1/records/{audio}/media", headers={"Range": f"bytes={len(data) - 10}-"})
    assert rest.content == data[-10:]
    bad = officer.get(f"/api/v1/records/{audio}/media", headers={"Range": f"bytes={len(data)}-"})
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{len(data)}"
    assert (
        officer.get(f"/api/v1/records/{arc.records['询问笔录']}/media").status_code == 404
    )  # not a recording
    assert party.get(f"/api/v1/records/{audio}/media").status_code == 404  # parties get the bleeped rendition


def test_each_role_lands_on_what_needs_its_attention(clients: Clients) -> None:
    officer = clients["demo"].get("/").text
    assert "工作台" in officer and "需要处理的记录" in officer and DEMO_CASE_NO in officer
    assert "待您审查的查阅申请" in clients["archivist"].get("/").text
    assert "待您审批的查阅申请" in clients["leader"].get("/").text
    r = clients["party"].get("/", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/portal"


def test_failed_jobs_are_listed_with_their_reasons(arc: Archive, clients: Clients, tmp_path: Path) -> None:
    empty = tmp_path / "空白扫描件.pdf"
    empty.write_bytes(b"")
    out = ingest_file(arc.svc, empty, RecordMeta(case_no=DEMO_CASE_NO))
    assert out.record_id
    make_queue(arc.svc).run([out.record_id])
    listed = clients["archivist"].get("/api/v1/jobs/failed").json()
    assert any(j["record_id"] == out.record_id and "0 字节" in j["error"] for j in listed)
    assert clients["party"].get("/api/v1/jobs/failed").status_code == 403
    page = clients["leader"].get("/compliance").text
    assert "处理失败的记录" in page and "空白扫描件" in page


def test_a_retry_is_one_audit_event_from_the_api_the_page_and_the_cli(
    arc: Archive, clients: Clients, tmp_path: Path
) -> None:
    def failed_record(name: str) -> int:
        path = tmp_path / name
        path.write_bytes(b"%PDF-1.4\n" + name.encode() + b"\x00broken" * 50)  # distinct, all corrupt
        out = ingest_file(arc.svc, path, RecordMeta(case_no=DEMO_CASE_NO))
        assert out.record_id
        make_queue(arc.svc).run([out.record_id])
        return out.record_id

    def retries(record_id: int) -> list[tuple[str, str]]:
        with session_scope(arc.svc.engine) as s:
            rows = s.execute(
                select(AuditEvent.actor, AuditEvent.actor_role).where(
                    AuditEvent.event_type == "retry", AuditEvent.object == f"record:{record_id}"
                )
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    demo = clients["demo"]
    by_api, by_page, by_cli = (failed_record(f"损坏{n}.pdf") for n in "123")
    assert demo.post(f"/api/v1/records/{by_api}/retry").status_code == 200
    csrf = demo.headers["X-CSRF-Token"]
    assert (
        demo.post(f"/records/{by_page}/retry", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    )
    reset, skipped = retry_processing(arc.svc, [by_cli, 999_999], OPERATOR)  # what `archive retry` calls
    assert (reset, skipped) == ([by_cli], [999_999])
    assert [retries(r) for r in (by_api, by_page, by_cli)] == [
        [("demo", "执法人员")],
        [("demo", "执法人员")],
        [("cli", "系统")],
    ]


def test_the_fixity_page_reports_an_altered_original(arc: Archive, clients: Clients) -> None:
    # last in the module: it alters a stored original
    archivist = clients["archivist"]
    assert "全部与入库时一致" in archivist.get("/fixity").text
    for name in ["demo", "legal", "party"]:
        assert clients[name].get("/fixity").status_code == 403, name
    with session_scope(arc.svc.engine) as s:
        record = s.get(Record, arc.records["送达回证"])
        assert record is not None
        path = arc.svc.store._path(record.sha256)  # type: ignore[attr-defined]
    path.chmod(0o644)
    path.write_bytes(path.read_bytes() + b"tampered")
    html = archivist.get("/fixity").text
    assert "1 个不一致或缺失" in html and f"/records/{arc.records['送达回证']}" in html
    assert "原件" in html and "SHA-256 与入库时不同" in html


def test_a_grant_covers_records_of_its_own_case_only(arc: Archive, clients: Clients, tmp_path: Path) -> None:
    party, archivist, leader = clients["party"], clients["archivist"], clients["leader"]
    decision = arc.records["行政处罚决定书"]
    rid = _flow(clients, [decision])
    # a grant that names a record of another case (an id reused, a row edited) does not reach it
    with session_scope(arc.svc.engine) as s:
        grant = s.scalar(select(AccessGrant).where(AccessGrant.request_id == rid))
        assert grant is not None
        grant.record_ids = [*grant.record_ids, arc.other_record]
        grant_id = grant.id
    assert party.get(f"/api/v1/portal/records/{arc.other_record}").status_code == 404
    assert party.get(f"/api/v1/portal/records/{arc.other_record}/file").status_code == 404
    assert arc.other_record not in {x["id"] for x in party.get("/api/v1/portal/records").json()}
    assert party.get("/api/v1/search", params={"q": OTHER_MARKER}).json()["total"] == 0
    assert OTHER_CASE not in party.get("/portal").text

    # a deleted record leaves the grant, and its id is never given to the next record
    note = tmp_path / "补充说明.txt"
    note.write_text("补充说明：仓库整改情况另行报送。\n", encoding="utf-8")
    added = ingest_file(arc.svc, note, RecordMeta(case_no=DEMO_CASE_NO, made_by="孙立军"))
    assert added.record_id is not None
    make_queue(arc.svc).run([added.record_id])
    with session_scope(arc.svc.engine) as s:
        grant = s.get(AccessGrant, grant_id)
        assert grant is not None
        grant.record_ids = [*grant.record_ids, added.record_id]
    assert archivist.delete(f"/api/v1/records/{added.record_id}").status_code in (200, 204)
    with session_scope(arc.svc.engine) as s:
        grant = s.get(AccessGrant, grant_id)
        assert grant is not None and added.record_id not in grant.record_ids
    later = tmp_path / "另案补充.txt"
    later.write_text(f"另案补充材料 {OTHER_MARKER}\n", encoding="utf-8")
    nxt = ingest_file(arc.svc, later, RecordMeta(case_no=OTHER_CASE, made_by="周晓梅"))
    assert nxt.record_id is not None and nxt.record_id > added.record_id
    r = leader.post(f"/api/v1/access/grants/{grant_id}/revoke", json={"reason": "测试结束，撤销授权"})
    assert r.status_code == 200, r.text


def test_a_party_gets_one_refusal_for_any_record_it_may_not_request(arc: Archive, clients: Clients) -> None:
    party = clients["party"]

    def ask(record_id: int) -> tuple[int, str]:
        body = {"case_no": DEMO_CASE_NO, "reason": "申请查阅所选记录", "record_ids": [record_id]}
        r = party.post("/api/v1/portal/requests", json=body)
        return r.status_code, r.text

    secret, other, missing = ask(arc.secret_record), ask(arc.other_record), ask(999_999)
    assert secret[0] == 422 and secret == other == missing  # nothing tells the 国家秘密 record apart


def test_only_a_leader_lowers_a_classification(arc: Archive, clients: Clients) -> None:
    archivist, leader = clients["archivist"], clients["leader"]
    demo = clients["demo"]  # the officer assigned to the demo case
    secret = arc.secret_record
    for who in (demo, archivist):
        r = who.patch(f"/api/v1/records/{secret}", json={"classification": "公开"})
        assert r.status_code == 403 and "负责人" in r.json()["detail"], r.text
    # raising it is anyone's duty; lowering it back is the 负责人's
    inquiry = arc.records["询问笔录"]
    assert demo.patch(f"/api/v1/records/{inquiry}", json={"classification": "个人隐私"}).status_code == 200
    assert demo.patch(f"/api/v1/records/{inquiry}", json={"classification": "内部"}).status_code == 403
    r = leader.patch(f"/api/v1/records/{inquiry}", json={"classification": "内部"})
    assert r.status_code == 200 and r.json()["classification"] == "内部"
    with session_scope(arc.svc.engine) as s:
        edits = s.scalars(
            select(AuditEvent).where(
                AuditEvent.event_type == "edit", AuditEvent.object == f"record:{inquiry}"
            )
        ).all()
        secret_edits = s.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "edit", AuditEvent.object == f"record:{secret}")
        ).all()
    assert [e.detail.get("classification") for e in edits if e.outcome == "ok"][-1] == ["个人隐私", "内部"]
    assert {e.outcome for e in secret_edits} == {"denied"}
    assert archivist.get(f"/api/v1/records/{secret}").json()["classification"] == "国家秘密"


def test_a_page_image_has_a_pixel_cap_whatever_the_page_shape(
    arc: Archive, clients: Clients, tmp_path: Path
) -> None:
    from PIL import Image
    from reportlab.pdfgen import canvas

    strip = tmp_path / "长条图.pdf"
    c = canvas.Canvas(str(strip), pagesize=(300, 17000))
    c.drawString(20, 16900, "Strip map")
    c.showPage()
    c.save()
    assert strip.stat().st_size < 2000
    added = ingest_file(arc.svc, strip, RecordMeta(case_no=DEMO_CASE_NO, made_by="孙立军"))
    assert added.record_id is not None
    make_queue(arc.svc).run([added.record_id])
    r = clients["archivist"].get(f"/api/v1/records/{added.record_id}/pages/1")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(r.content)) as image:
        assert image.width * image.height <= 8_000_000, image.size
        assert image.height > 10 * image.width  # the shape is kept, only the resolution drops


def test_reads_steps_and_refusals_leave_an_audit_event(arc: Archive, clients: Clients) -> None:
    archivist, demo = clients["archivist"], clients["demo"]

    def events(event_type: str, obj: str) -> list[AuditEvent]:
        with session_scope(arc.svc.engine) as s:
            rows = s.scalars(
                select(AuditEvent).where(AuditEvent.event_type == event_type, AuditEvent.object == obj)
            ).all()
            s.expunge_all()
            return list(rows)

    with session_scope(arc.svc.engine) as s:
        pdf = s.scalars(select(Record.id).where(Record.mime == "application/pdf")).first()
    assert pdf is not None
    before = len(events("view", f"record:{pdf}"))
    assert archivist.get(f"/api/v1/records/{pdf}/pages/1").status_code == 200
    seen = events("view", f"record:{pdf}")
    assert len(seen) == before + 1 and seen[-1].detail.get("page") == 1

    audio = arc.records["现场检查录音"]
    r = archivist.get(f"/api/v1/records/{audio}/media", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert events("view", f"record:{audio}")[-1].detail.get("range") == "100-199"

    inquiry = arc.records["询问笔录"]
    assert archivist.get(f"/api/v1/records/{inquiry}/spans").status_code == 200
    assert events("view", f"record:{inquiry}")[-1].detail.get("file") == "spans"

    step = {"case_no": DEMO_CASE_NO, "kind": "现场检查", "occurred_at": "2026-10-12T09:30:00+08:00"}
    before = len(events("event_add", f"case:{DEMO_CASE_NO}"))
    assert demo.post("/api/v1/events", json=step).status_code == 201
    added = events("event_add", f"case:{DEMO_CASE_NO}")
    assert len(added) == before + 1 and added[-1].detail["kind"] == "现场检查"

    r = demo.post("/api/v1/cases/不存在的案号/records", files={"file": ("a.txt", b"x", "text/plain")})
    assert r.status_code == 404
    assert [e.outcome for e in events("upload", "case:不存在的案号")] == ["denied"]

    with TestClient(arc.app) as anonymous:
        token = anonymous.post("/api/v1/auth/token", json={"username": "legal", "password": DEMO_PASSWORD})
        bearer = {"Authorization": f"Bearer {token.json()['token']}"}
        assert anonymous.delete("/api/v1/auth/token", headers=bearer).status_code == 204
    assert events("logout", "user:legal")[-1].detail.get("via") == "token"


def test_a_failure_reason_names_the_file_not_a_server_path(arc: Archive, tmp_path: Path) -> None:
    broken = tmp_path / "现场照片.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8)
    added = ingest_file(arc.svc, broken, RecordMeta(case_no=DEMO_CASE_NO, made_by="孙立军"))
    assert added.record_id is not None
    make_queue(arc.svc).run([added.record_id])
    with session_scope(arc.svc.engine) as s:
        record = s.get(Record, added.record_id)
        assert record is not None and record.error
        error = record.error
    assert "/tmp" not in error and "original" not in error and "rec" not in error.split("：")[-1], error
