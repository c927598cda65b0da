"""Editing and deleting records through the API reaches the search index; suggestions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from archive.db import session_scope
from archive.models import Case, CaseStatus, Role
from archive.settings import Settings
from archive.users import create_user
from pipelines.context import open_services
from pipelines.demo import COMPANY, DEMO_CASE_NO, ensure_demo_user, load_demo
from tests.support.access import login, search_hits
from ui.web import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    settings = Settings(data_dir=tmp_path_factory.mktemp("records-api") / "var")
    svc = open_services(settings)
    ensure_demo_user(svc)
    load_demo(svc, settings.data_dir / "demo-files")
    with session_scope(svc.engine) as s:
        create_user(
            session=s, username="arch", display_name="李档案", role=Role.ARCHIVIST, password="arch-pass-1"
        )
        create_user(
            session=s, username="party1", display_name="张建国", role=Role.PARTY, password="party-pass-1"
        )
    return create_app(settings)


def _client(app: FastAPI, user: str, password: str) -> Iterator[TestClient]:
    with TestClient(app) as c:
        login(c, user, password)
        c.headers["X-CSRF-Token"] = c.get("/api/v1/me").json()["csrf"]
        yield c


@pytest.fixture
def officer(app: FastAPI) -> Iterator[TestClient]:
    from pipelines.demo import DEMO_PASSWORD, DEMO_USER

    yield from _client(app, DEMO_USER, DEMO_PASSWORD)


@pytest.fixture
def archivist(app: FastAPI) -> Iterator[TestClient]:
    yield from _client(app, "arch", "arch-pass-1")


def _record_id(c: TestClient, q: str) -> int:
    (hit,) = search_hits(c, q)
    return int(hit["record_id"])  # type: ignore[call-overload]


def test_a_metadata_correction_is_searchable_at_once(officer: TestClient) -> None:
    rid = _record_id(officer, "伍万元")
    r = officer.patch(
        f"/api/v1/records/{rid}",
        json={"made_by": "孙立军、周晓梅", "document_type": "行政处罚决定书（更正）"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["made_by"] == "孙立军、周晓梅"
    assert [h["record_id"] for h in search_hits(officer, "伍万元", made_by="孙立军、周晓梅")] == [rid]
    assert [h["record_id"] for h in search_hits(officer, "伍万元", kind="行政处罚决定书（更正）")] == [rid]
    assert search_hits(officer, "伍万元", kind="行政处罚决定书") == []


def test_edits_are_checked(officer: TestClient, app: FastAPI) -> None:
    rid = _record_id(officer, "伍万元")
    assert officer.patch(f"/api/v1/records/{rid}", json={"sha256": "0" * 64}).status_code == 422
    r = officer.patch(f"/api/v1/records/{rid}", json={"classification": "绝密"})
    assert r.status_code == 422 and "classification" in r.json()["detail"]
    # without the session's CSRF token the change is refused
    del officer.headers["X-CSRF-Token"]
    assert officer.patch(f"/api/v1/records/{rid}", json={"made_by": "某人"}).status_code == 400
    assert officer.get(f"/api/v1/records/{rid}").json()["made_by"] != "某人"


def test_only_archivists_delete_and_the_record_leaves_the_index(
    officer: TestClient, archivist: TestClient
) -> None:
    rid = _record_id(officer, "报警器去年坏了")
    assert officer.delete(f"/api/v1/records/{rid}").status_code == 403
    assert archivist.delete(f"/api/v1/records/{rid}").status_code == 204
    assert search_hits(officer, "报警器去年坏了") == []
    assert officer.get(f"/api/v1/records/{rid}").status_code == 404
    assert archivist.delete(f"/api/v1/records/{rid}").status_code == 404


def test_a_filed_case_is_frozen(app: FastAPI, officer: TestClient, archivist: TestClient) -> None:
    rid = _record_id(officer, "收件人签名")
    svc = app.state.services
    with session_scope(svc.engine) as s:
        case = s.query(Case).filter_by(case_no=DEMO_CASE_NO).one()
        case.status = CaseStatus.ARCHIVED
    try:
        r = officer.patch(f"/api/v1/records/{rid}", json={"made_by": "某人"})
        assert r.status_code == 409 and "已归档" in r.json()["detail"]
        assert archivist.delete(f"/api/v1/records/{rid}").status_code == 409
        assert _record_id(officer, "收件人签名") == rid
    finally:
        with session_scope(svc.engine) as s:
            s.query(Case).filter_by(case_no=DEMO_CASE_NO).one().status = CaseStatus.OPEN


def test_suggestions_complete_case_numbers_and_party_names(officer: TestClient, app: FastAPI) -> None:
    got = officer.get("/api/v1/suggest", params={"q": "农应急"}).json()
    assert {"kind": "case_no", "value": DEMO_CASE_NO, "case_no": DEMO_CASE_NO} in got
    got = officer.get("/api/v1/suggest", params={"q": COMPANY[:4]}).json()
    assert got[0] == {"kind": "party", "value": COMPANY, "case_no": DEMO_CASE_NO}
    # not only the start: a fragment of the name finds it too, after the prefix matches
    assert any(s["value"] == COMPANY for s in officer.get("/api/v1/suggest", params={"q": "宏达化工"}).json())
    assert officer.get("/api/v1/suggest", params={"q": "%"}).json() == []
    with TestClient(app) as party:
        login(party, "party1", "party-pass-1")
        assert party.get("/api/v1/suggest", params={"q": "农应急"}).json() == []
