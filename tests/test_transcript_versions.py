"""An officer's corrected transcript (第二十六条): it becomes current and searchable, the machine
transcript stays as version 1, bad corrections are refused with a reason, a filed case is frozen,
and re-processing the recording never displaces the correction.

The demo case's inspection recording (synthetic Mandarin) is transcribed for real once per module.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from archive.db import session_scope
from archive.models import Case, CaseStatus, Record, Role, TranscriptVersion
from archive.settings import Settings
from archive.users import create_user
from pipelines.context import Services, open_services
from pipelines.demo import DEMO_PASSWORD, DEMO_USER, ensure_demo_user, load_demo
from pipelines.media.transcript import Transcript
from tests.support.access import login, search_hits
from ui.web import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Services:
    settings = Settings(data_dir=tmp_path_factory.mktemp("versions") / "var")
    services = open_services(settings)
    ensure_demo_user(services)
    load_demo(services, settings.data_dir / "demo-files")
    with session_scope(services.engine) as s:
        create_user(
            session=s, username="party1", display_name="张建国", role=Role.PARTY, password="party-pass-1"
        )
    return services


@pytest.fixture(scope="module")
def app(svc: Services) -> FastAPI:
    return create_app(svc.settings)


@pytest.fixture
def officer(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        login(c, DEMO_USER, DEMO_PASSWORD)
        c.headers["X-CSRF-Token"] = c.get("/api/v1/me").json()["csrf"]
        yield c


@pytest.fixture(scope="module")
def rid(svc: Services) -> int:
    with session_scope(svc.engine) as s:
        return int(s.scalar(select(Record.id).where(Record.original_name == "现场检查录音.ogg")) or 0)


def _current(c: TestClient, rid: int) -> Transcript:
    r = c.get(f"/api/v1/records/{rid}/files/transcript")
    assert r.status_code == 200
    return Transcript.from_json(r.content)


def test_the_machine_transcript_is_version_one(officer: TestClient, rid: int) -> None:
    (v1,) = officer.get(f"/api/v1/records/{rid}/transcript/versions").json()
    assert (v1["version"], v1["source"], v1["current"]) == (1, "machine", True)
    assert v1["engine"] == "faster-whisper / whisper-base-ct2" and v1["segments"] >= 1
    assert officer.get(f"/api/v1/records/{rid}").json()["source_meta"]["transcript_status"] == "已转写"


def test_a_line_by_line_correction_becomes_current_and_searchable(officer: TestClient, rid: int) -> None:
    machine = _current(officer, rid)
    lines = [s.text for s in machine.segments]
    assert not search_hits(officer, "复核无误")
    r = officer.post(f"/api/v1/records/{rid}/transcript", data={"text": "只有一行\n多出一行\n" * 5})
    assert r.status_code == 422 and f"转写稿有 {len(lines)} 段" in r.json()["detail"]

    corrected = [*lines[:-1], lines[-1] + "，经复核无误"]
    r = officer.post(
        f"/api/v1/records/{rid}/transcript", data={"text": "\n".join(corrected), "note": "据笔录更正"}
    )
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert (v2["version"], v2["source"], v2["author_name"], v2["note"], v2["current"]) == (
        2, "officer", "孙立军", "据笔录更正", True,
    )  # fmt: skip
    now = _current(officer, rid)
    assert [s.text for s in now.segments] == corrected and now.source == "officer" and now.author == "孙立军"
    assert [s.start for s in now.segments] == [s.start for s in machine.segments]  # times unchanged
    assert now.segments[-1].words == []  # its text changed: the machine's word times no longer fit
    if len(lines) > 1:
        assert now.segments[0].words == machine.segments[0].words  # unchanged text keeps them
    (hit,) = search_hits(officer, "复核无误")
    assert hit["record_id"] == rid and hit["start_s"] == round(machine.segments[-1].start, 2)
    assert officer.get(f"/api/v1/records/{rid}/text").text == "\n".join(corrected)
    meta = officer.get(f"/api/v1/records/{rid}").json()["source_meta"]
    assert meta["transcript_status"] == "已校对" and meta["transcript_corrected_by"] == "孙立军"
    # the machine version is kept, unchanged
    kept = Transcript.from_json(officer.get(f"/api/v1/records/{rid}/transcript/versions/1").content)
    assert kept == machine


def test_an_edited_srt_can_move_times(officer: TestClient, rid: int) -> None:
    srt = officer.get(f"/api/v1/records/{rid}/files/transcript-srt").text
    first = re.search(r"(\d\d:\d\d:\d\d,\d\d\d) --> ", srt)
    assert first is not None
    moved = srt.replace(first.group(1), "00:00:00,400", 1).replace("复核无误", "复核无误并盖章", 1)
    r = officer.post(
        f"/api/v1/records/{rid}/transcript",
        files={"file": ("校对稿.srt", moved.encode("utf-8"), "application/x-subrip")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 3
    assert _current(officer, rid).segments[0].start == 0.4
    (hit,) = search_hits(officer, "并盖章")
    assert hit["record_id"] == rid


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.srt", b"\xff\xfe\x00garbage\x00\x9c", "UTF-8"),
        ("a.srt", "1\n00:00:05,000 --> 00:00:02,000\n倒置\n".encode(), "时间倒置"),
        ("a.srt", "1\n00:99:05,000 --> 01:00:00,000\n太晚\n".encode(), "无法识别"),
        ("a.srt", "1\n00:50:05,000 --> 01:00:00,000\n太晚\n".encode(), "超出录音时长"),
        ("a.json", b'{"segments": 3}', "JSON"),
        ("a.txt", b"   \n", "为空"),
    ],
)
def test_bad_corrections_are_refused_with_a_reason(
    officer: TestClient, rid: int, name: str, data: bytes, reason: str
) -> None:
    before = officer.get(f"/api/v1/records/{rid}/transcript/versions").json()
    r = officer.post(f"/api/v1/records/{rid}/transcript", files={"file": (name, data)})
    assert r.status_code == 422 and reason in r.json()["detail"], r.text
    assert officer.get(f"/api/v1/records/{rid}/transcript/versions").json() == before


def test_who_may_correct(officer: TestClient, app: FastAPI, rid: int) -> None:
    r = officer.post(
        f"/api/v1/records/{rid}/transcript", data={"text": "x"}, headers={"X-CSRF-Token": "forged"}
    )
    assert r.status_code == 400
    assert (
        officer.post(
            f"/api/v1/records/{rid}/transcript", data={"text": "x"}, files={"file": ("a.txt", b"y")}
        ).status_code
        == 422
    )
    other = officer.get("/api/v1/search", params={"q": "伍万元"}).json()["hits"][0]["record_id"]
    r = officer.post(f"/api/v1/records/{other}/transcript", data={"text": "x"})
    assert r.status_code == 422 and "没有转写稿" in r.json()["detail"]
    with TestClient(app) as party:
        login(party, "party1", "party-pass-1")
        party.headers["X-CSRF-Token"] = party.get("/api/v1/me").json()["csrf"]
        assert party.post(f"/api/v1/records/{rid}/transcript", data={"text": "x"}).status_code in (403, 404)
        assert party.get(f"/api/v1/records/{rid}/transcript/versions/1").status_code in (403, 404)


def test_the_record_page_lists_versions_and_takes_a_correction(officer: TestClient, rid: int) -> None:
    page = officer.get(f"/records/{rid}").text
    assert "转写版本" in page and "第 3 版（当前）" in page and "机器转写：faster-whisper" in page
    assert "人工校对：孙立军" in page and "据笔录更正" in page
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    lines = [s.text for s in _current(officer, rid).segments]
    r = officer.post(
        f"/records/{rid}/transcript", data={"csrf": token.group(1), "text": "\n".join(lines) + "\n多一行"}
    )
    assert r.status_code == 422 and "校对稿有" in r.text and "多一行" in r.text  # the typed text is kept
    lines[0] = lines[0] + "（页面校对）"
    r = officer.post(
        f"/records/{rid}/transcript",
        data={"csrf": token.group(1), "text": "\n".join(lines), "note": "网页校对"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = officer.get(r.headers["location"]).text
    assert "第 4 版（当前）" in page and "页面校对" in page and "校对稿已保存为第 4 版" in page


def _reprocess_in_a_worker(svc: Services, rid: int) -> None:
    """Take the record's job up again in a fresh process, as a worker would after a crash (not
    in this process: forking the test process, with its threads, can deadlock the child)."""
    code = (
        "import sys; from archive.settings import Settings; from pipelines.context import open_services; "
        "from pipelines.process import process_record; from pipelines.steps import finish; "
        "svc = open_services(Settings(data_dir=sys.argv[1])); o = process_record(svc, int(sys.argv[2])); "
        "finish(svc, [o]); print(o.error or 'ok')"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(svc.settings.data_dir), str(rid)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr[-2000:]


def test_reprocessing_keeps_the_correction_current(svc: Services, officer: TestClient, rid: int) -> None:
    before = _current(officer, rid)
    _reprocess_in_a_worker(svc, rid)
    assert _current(officer, rid) == before
    with session_scope(svc.engine) as s:
        sources = [
            v.source for v in s.scalars(select(TranscriptVersion).where(TranscriptVersion.record_id == rid))
        ]
    assert sources.count("machine") == 1 and len(sources) == 4
    assert [h["record_id"] for h in search_hits(officer, "页面校对")] == [rid]
    assert officer.get(f"/api/v1/records/{rid}").json()["source_meta"]["transcript_status"] == "已校对"


def test_a_filed_case_is_frozen(svc: Services, officer: TestClient, rid: int) -> None:
    with session_scope(svc.engine) as s:
        case = s.scalar(select(Case))
        assert case is not None
        case.status = CaseStatus.ARCHIVED
    try:
        r = officer.post(f"/api/v1/records/{rid}/transcript", data={"text": "x"})
        assert r.status_code == 409 and "已归档" in r.json()["detail"]
        assert "校对转写" not in officer.get(f"/records/{rid}").text
    finally:
        with session_scope(svc.engine) as s:
            case = s.scalar(select(Case))
            assert case is not None
            case.status = CaseStatus.OPEN
