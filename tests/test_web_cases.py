"""Upload, processing status, retry, page images, fixity, filing and user administration over HTTP."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from archive.db import session_scope
from archive.models import CaseStatus, Record, User
from pipelines.demo import DEMO_CASE_NO, ENDED_CASE_NO
from pipelines.samples import write_pdf
from tests.support.access import OTHER_CASE, Archive, build, login, signed_in
from tests.support.documents import photo_with_exif

Clients = dict[str, TestClient]


@pytest.fixture(scope="module")
def arc(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build(tmp_path_factory.mktemp("cases"))


@pytest.fixture(scope="module")
def clients(arc: Archive) -> Iterator[Clients]:
    with signed_in(arc.app, ["demo", "archivist", "leader", "admin", "party"]) as out:
        yield out


def _wait(c: TestClient, record_id: int, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = c.get(f"/api/v1/records/{record_id}/status").json()
        if state["status"] in ("processed", "failed"):
            return dict(state)
        time.sleep(0.3)
    raise AssertionError(f"record {record_id} still {state}")


def _upload(c: TestClient, case_no: str, name: str, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    return c.post(f"/api/v1/cases/{quote(case_no)}/records", files={"file": (name, data)}, data=fields)


def test_an_upload_is_stored_processed_searchable_and_audited(clients: Clients, tmp_path: Path) -> None:
    demo = clients["demo"]
    pdf = write_pdf(tmp_path / "x.pdf", ["第一页 封面", "第二页 可燃气体探测器安装记录"]).read_bytes()
    r = _upload(
        demo,
        DEMO_CASE_NO,
        "../../etc/探测器安装记录.pdf",  # a path in the name is dropped, the name kept
        pdf,
        stage="调查取证",
        made_how="计算机制作",
        made_at="2026-10-11T09:00",
        made_by="孙立军",
        proves="报警装置安装情况",
    )
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    assert _wait(demo, rid)["status"] == "processed"
    record = demo.get(f"/api/v1/records/{rid}").json()
    assert record["original_name"] == "探测器安装记录.pdf" and record["made_by"] == "孙立军"
    assert record["stage"] == "调查取证" and record["page_count"] == 2
    hits = demo.get("/api/v1/search", params={"q": "可燃气体探测器"}).json()["hits"]
    assert any(h["record_id"] == rid and h["page"] == 2 for h in hits)
    # the page image for the viewer
    page = demo.get(f"/api/v1/records/{rid}/pages/2")
    assert page.status_code == 200 and page.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(page.content)).width >= 1000
    assert demo.get(f"/api/v1/records/{rid}/pages/3").status_code == 404
    # the same bytes again: not stored twice
    again = _upload(demo, DEMO_CASE_NO, "副本.pdf", pdf)
    assert again.status_code == 201 and again.json() == {
        "status": "duplicate",
        "record_id": rid,
        "message": "相同内容的文件已在本案中，未重复保存",
    }
    # fixity on demand, and the audit trail
    fix = demo.get(f"/api/v1/records/{rid}/fixity").json()
    assert fix["ok"] is True and fix["sha256"] == record["sha256"]
    events = clients["leader"].get("/api/v1/audit", params={"object": f"record:{rid}"}).json()["events"]
    assert {"upload", "fixity"} <= {e["event_type"] for e in events}


def test_a_file_already_in_a_case_out_of_sight_is_stored_again_in_ones_own_case(
    arc: Archive, clients: Clients
) -> None:
    demo = clients["demo"]
    with session_scope(arc.svc.engine) as s:
        other = s.get(Record, arc.other_record)
        assert other is not None and other.case.case_no == OTHER_CASE
        data = b"".join(arc.svc.store.iter_bytes(other.sha256))
    assert demo.get(f"/api/v1/records/{arc.other_record}").status_code == 404
    r = _upload(demo, DEMO_CASE_NO, "另案材料副本.txt", data, stage="调查取证")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "ingested" and body["record_id"] != arc.other_record
    assert OTHER_CASE not in r.text and "无权" not in r.text
    mine = demo.get(f"/api/v1/records/{body['record_id']}").json()
    assert mine["case_no"] == DEMO_CASE_NO and mine["sha256"] == other.sha256
    again = _upload(demo, DEMO_CASE_NO, "再次上传.txt", data)
    assert again.json()["status"] == "duplicate" and again.json()["record_id"] == body["record_id"]
    # one object in the store serves both records; each has its own fixity answer
    assert demo.get(f"/api/v1/records/{body['record_id']}/fixity").json()["ok"] is True


def test_a_gb18030_original_is_served_as_gb18030(clients: Clients) -> None:
    demo = clients["demo"]
    text = "询问笔录（GB18030 编码）\n被询问人：王某某，联系地址：农安县。\n"
    r = _upload(demo, DEMO_CASE_NO, "国标编码笔录.txt", text.encode("gb18030"), stage="调查取证")
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    assert _wait(demo, rid)["status"] == "processed"
    original = demo.get(f"/api/v1/records/{rid}/original")
    assert original.headers["content-type"] == "text/plain; charset=gb18030"
    assert original.content.decode("gb18030") == text  # what a browser or editor will show


def test_bad_uploads_are_refused_or_kept_failed_with_a_reason(arc: Archive, clients: Clients) -> None:
    demo = clients["demo"]
    # a case the officer is not assigned to does not exist for them
    assert _upload(demo, OTHER_CASE, "a.txt", "询问笔录".encode()).status_code == 404
    assert _upload(demo, "不存在的案号", "a.txt", b"x").status_code == 404
    # roles that may not upload
    assert _upload(clients["party"], DEMO_CASE_NO, "a.txt", b"x").status_code == 403
    # without the CSRF header a cookie upload is refused
    headers = dict(demo.headers)
    demo.headers.pop("X-CSRF-Token")
    try:
        assert _upload(demo, DEMO_CASE_NO, "a.txt", b"csrf").status_code == 400
    finally:
        demo.headers.update(headers)
    # too big
    arc.svc.settings.upload_max_mb = 1
    try:
        big = _upload(demo, DEMO_CASE_NO, "大文件.bin", b"\0" * (2 << 20))
        assert big.status_code == 413 and "上传上限" in big.json()["detail"]
    finally:
        arc.svc.settings.upload_max_mb = 4096
    # a corrupt PDF is kept, fails with a reason, and can be retried
    r = _upload(demo, DEMO_CASE_NO, "损坏.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8)
    assert r.status_code == 201
    rid = r.json()["record_id"]
    state = _wait(demo, rid)
    assert state["status"] == "failed" and "PDF" in str(state["error"])
    assert demo.get(f"/api/v1/records/{rid}/original").status_code == 200  # the original is kept
    page = demo.get(f"/records/{rid}").text
    assert "处理失败" in page and "重新处理" in page
    assert demo.post(f"/api/v1/records/{rid}/retry").json()["status"] == "pending"
    assert _wait(demo, rid)["status"] == "failed"  # still corrupt: failed again, nothing lost
    assert demo.post(f"/api/v1/records/{rid + 10_000}/retry").status_code == 404


def test_case_pages_show_the_timeline_and_refuse_other_cases(clients: Clients) -> None:
    demo = clients["demo"]
    listing = demo.get("/cases").text
    assert DEMO_CASE_NO in listing and OTHER_CASE not in listing
    assert demo.get(f"/cases/{quote(OTHER_CASE)}").status_code == 404
    page = demo.get(f"/cases/{quote(DEMO_CASE_NO)}").text
    for stage in ("程序启动", "调查取证", "审查决定", "送达执行", "归档管理"):
        assert stage in page
    assert "第二十五条" in page and 'id="upload-form"' in page
    filtered = clients["archivist"].get("/cases", params={"status": "执行终结"}).text
    assert ENDED_CASE_NO in filtered and DEMO_CASE_NO not in filtered
    assert clients["party"].get("/cases").status_code == 403


def test_an_archivist_files_a_case_and_exports_the_bag(arc: Archive, clients: Clients) -> None:
    archivist, leader, demo = clients["archivist"], clients["leader"], clients["demo"]
    assert ENDED_CASE_NO in archivist.get("/archiving").text
    assert demo.get("/archiving").status_code == 403
    preview = archivist.get(f"/api/v1/cases/{quote(ENDED_CASE_NO)}/dossier/preview.pdf")
    assert preview.status_code == 200 and preview.content.startswith(b"%PDF")
    # an open case cannot be filed; the 负责人 cannot file
    body = {"retention": "30年", "archivist": "刘淑芬"}
    assert archivist.post(f"/api/v1/cases/{quote(DEMO_CASE_NO)}/dossier", json=body).status_code == 409
    assert leader.post(f"/api/v1/cases/{quote(ENDED_CASE_NO)}/dossier", json=body).status_code == 403
    # the web form needs the confirmation box
    csrf = archivist.headers["X-CSRF-Token"]
    form = {"retention": "30年", "archivist": "刘淑芬", "csrf": csrf}
    unconfirmed = archivist.post(f"/cases/{quote(ENDED_CASE_NO)}/dossier", data=form)
    assert unconfirmed.status_code == 409 and "请勾选确认" in unconfirmed.text
    filed = archivist.post(
        f"/cases/{quote(ENDED_CASE_NO)}/dossier", data=form | {"confirm": "true"}, follow_redirects=False
    )
    assert filed.status_code == 303
    with session_scope(arc.svc.engine) as s:
        statuses = {r.case.case_no: r.case.status for r in s.scalars(select(Record)) if r.case}
    assert statuses[ENDED_CASE_NO] is CaseStatus.ARCHIVED
    bag = leader.get(f"/api/v1/cases/{quote(ENDED_CASE_NO)}/dossier/bag.zip")
    assert bag.status_code == 200 and bag.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(bag.content)).namelist()
    assert any(n.endswith("bagit.txt") for n in names) and sum("/originals/" in n for n in names) == 3
    # frozen: no more uploads or steps
    assert _upload(demo, ENDED_CASE_NO, "迟到.txt", "补充材料".encode()).status_code == 409
    assert 'id="upload-form"' not in demo.get(f"/cases/{quote(ENDED_CASE_NO)}").text
    # not filed yet: no bag
    assert archivist.get(f"/api/v1/cases/{quote(DEMO_CASE_NO)}/dossier/bag.zip").status_code == 409


def test_recording_a_step_ends_a_case(clients: Clients) -> None:
    demo = clients["demo"]
    csrf = demo.headers["X-CSRF-Token"]
    url = f"/cases/{quote(DEMO_CASE_NO)}/events"
    refused = demo.post(
        url, data={"kind": "查封扣押", "occurred_at": "2026-10-12T10:00", "av_exempt": "true", "csrf": csrf}
    )
    assert "须写明理由" in refused.text
    ok = demo.post(url, data={"kind": "执行终结", "occurred_at": "2026-11-20T10:00", "csrf": csrf})
    assert ok.status_code == 200
    # the step is on the timeline (the word alone is also in the form's list of kinds)
    assert '<span class="when">2026-11-20 10:00</span> <strong>执行终结</strong>' in ok.text
    assert DEMO_CASE_NO in clients["archivist"].get("/archiving").text


def test_the_administrator_manages_users(arc: Archive, clients: Clients) -> None:
    admin = clients["admin"]
    csrf = admin.headers["X-CSRF-Token"]
    assert clients["archivist"].get("/admin/users").status_code == 403
    weak = admin.post(
        "/admin/users",
        data={
            "username": "wanghai",
            "display_name": "王海涛",
            "role": "执法人员",
            "password": "short",
            "csrf": csrf,
        },
    )
    assert weak.status_code == 422 and "密码至少" in weak.text
    added = admin.post(
        "/admin/users",
        data={
            "username": "wanghai",
            "display_name": "王海涛",
            "role": "执法人员",
            "password": "correct-horse-2026",
            "csrf": csrf,
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    with session_scope(arc.svc.engine) as s:
        uid = s.scalar(select(User.id).where(User.username == "wanghai"))
        me = s.scalar(select(User.id).where(User.username == "admin"))
    new = TestClient(arc.app)
    login(new, "wanghai", "correct-horse-2026")
    assert new.get("/api/v1/me").json()["role"] == "执法人员"
    admin.post(f"/admin/users/{uid}", data={"action": "disable", "csrf": csrf})
    assert new.get("/api/v1/me").status_code == 401  # the session ended with the account
    page = admin.get("/admin/users").text
    assert "已停用" in page and "王海涛" in page
    own = admin.post(f"/admin/users/{me}", data={"action": "disable", "csrf": csrf})
    assert own.status_code == 422 and "不能更改或停用自己的账号" in own.text
    events = clients["leader"].get("/api/v1/audit", params={"object": "user:wanghai"}).json()["events"]
    assert sorted(e["detail"]["action"] for e in events if e["event_type"] == "user_admin") == [
        "add",
        "disable",
    ]


def test_people_on_the_case_page_assign_witnesses_and_party_links(clients: Clients) -> None:
    archivist, demo = clients["archivist"], clients["demo"]

    def post(c: TestClient, case_no: str, **form: str):  # type: ignore[no-untyped-def]
        data = form | {"csrf": c.headers["X-CSRF-Token"]}
        return c.post(f"/cases/{quote(case_no)}/people", data=data)

    assert demo.get(f"/cases/{quote(OTHER_CASE)}").status_code == 404
    assert post(demo, DEMO_CASE_NO, action="assign", username="demo").status_code == 403  # officers cannot
    assert post(archivist, OTHER_CASE, action="assign", username="demo").status_code == 200
    assert demo.get(f"/cases/{quote(OTHER_CASE)}").status_code == 200  # now assigned
    page = post(demo, OTHER_CASE, action="witness", name="钱卫东", relation="证人").text
    assert "钱卫东（证人）" in page
    refused = post(
        demo, OTHER_CASE, action="link", username="party", party_name="农安县另一化工有限公司", id_checked="x"
    )
    assert "身份核验方式至少 2 个字" in refused.text
    linked = post(
        demo,
        OTHER_CASE,
        action="link",
        username="party",
        party_name="农安县另一化工有限公司",
        id_checked="营业执照原件核验",
    ).text
    assert "宏达化工（代理人） → 农安县另一化工有限公司（营业执照原件核验" in linked
    assert post(clients["party"], OTHER_CASE, action="witness", name="某某").status_code == 403


def test_a_photo_is_shown_whole_with_its_exif(clients: Clients, tmp_path: Path) -> None:
    demo = clients["demo"]
    photo = photo_with_exif(tmp_path / "现场照片.jpg").read_bytes()
    r = _upload(demo, DEMO_CASE_NO, "现场照片.jpg", photo, stage="调查取证", proves="仓库现场状况")
    rid = r.json()["record_id"]
    assert _wait(demo, rid)["status"] == "processed"
    page = demo.get(f"/records/{rid}").text
    assert f'class="photo" src="/api/v1/records/{rid}/media"' in page and "拍摄设备" in page
    shown = demo.get(f"/api/v1/records/{rid}/media")
    assert shown.status_code == 200 and shown.content == photo  # the original, unaltered


def test_case_and_compliance_lists_come_a_page_at_a_time(tmp_path: Path) -> None:
    from datetime import datetime

    from archive.models import CaseOrigin, EnforcementKind
    from pipelines.compliance import create_case

    arc = build(tmp_path)
    for n in range(1, 61):  # with the demo's cases, more than one page of 50
        create_case(arc.svc, f"分页〔2026〕{n}号", f"分页测试案件{n}", EnforcementKind.SUPERVISION,
                    CaseOrigin.EX_OFFICIO, datetime(2026, 1, 1, 9, 0))  # fmt: skip
    with signed_in(arc.app, ["archivist"]) as c:
        first = c["archivist"].get("/cases").text
        second = c["archivist"].get("/cases", params={"page": 2}).text
        total = len(re.findall(r'href="/cases/[^"/]+"', first)) + len(
            re.findall(r'href="/cases/[^"/]+"', second)
        )
        assert len(re.findall(r'href="/cases/[^"/]+"', first)) == 50 and "第 1/2 页" in first
        assert total >= 61 and 'rel="next"' in first and 'rel="prev"' in second
        shown = set(re.findall(r'href="/cases/([^"/]+)"', first)) & set(
            re.findall(r'href="/cases/([^"/]+)"', second)
        )
        assert not shown  # no case on both pages
        filtered = c["archivist"].get("/cases", params={"q": "分页测试案件6"}).text  # 6 and 60
        assert len(re.findall(r'href="/cases/[^"/]+"', filtered)) == 2 and "下一页" not in filtered
        compliance = c["archivist"].get("/compliance").text
        assert compliance.count('class="case-findings"') == 50 and 'href="/compliance?page=2"' in compliance
        last = c["archivist"].get("/compliance", params={"page": 2}).text
        assert last.count('class="case-findings"') >= 11 and "上一页" in last
        home = c["archivist"].get("/").text
        assert "最近的 30 件" in home


def test_archiving_pages_ended_cases_most_urgent_first(arc: Archive, clients: Clients) -> None:
    """归档 lists ended cases 50 a page, the fewest days left first; every case on some page once."""
    from datetime import datetime, timedelta

    from archive.models import CaseOrigin, EnforcementKind, EventKind
    from pipelines.compliance import add_event, create_case
    from ui.cli_common import OPERATOR

    start = datetime(2026, 9, 1, 10)
    for n in range(55):  # ended on successive days: the last ended has the most days left
        no = f"归档分页〔2026〕{n + 1}号"
        create_case(arc.svc, no, f"分页案件{n + 1}", EnforcementKind.PENALTY, CaseOrigin.EX_OFFICIO, start)
        add_event(arc.svc, no, EventKind.ENFORCEMENT_ENDED, start + timedelta(days=n), actor=OPERATOR)
    archivist = clients["archivist"]
    first, second = archivist.get("/archiving").text, archivist.get("/archiving?page=2").text
    rows = [
        re.findall(r'<tr class="[^"]*">\s*<td><a href="/cases/[^"]+">([^<]+)</a>', t) for t in (first, second)
    ]
    assert len(rows[0]) == 50 and rows[1]
    ours = [no for page in rows for no in page if no.startswith("归档分页")]
    assert ours == [f"归档分页〔2026〕{n + 1}号" for n in range(55)]  # once each, most overdue first
    assert 'href="/archiving?page=2" rel="next"' in first and 'rel="prev"' in second
    assert (
        archivist.get("/archiving?page=0").status_code == 422
        or "参数" in archivist.get("/archiving?page=0").text
    )
