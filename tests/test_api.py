"""The FastAPI app: health, OpenAPI, search, records, downloads, pages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from archive.db import session_scope
from archive.models import Role
from archive.settings import Settings
from archive.users import create_user
from pipelines.context import open_services
from pipelines.demo import DEMO_CASE_NO, DEMO_PASSWORD, DEMO_USER, ENDED_CASE_NO, ensure_demo_user, load_demo
from tests.support.access import login
from ui.web import create_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    settings = Settings(data_dir=tmp_path_factory.mktemp("api") / "var")
    svc = open_services(settings)
    ensure_demo_user(svc)
    load_demo(svc, settings.data_dir / "demo-files")
    with session_scope(svc.engine) as s:
        create_user(
            session=s, username="party1", display_name="张建国", role=Role.PARTY, password="party-pass-1"
        )
    return create_app(settings)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        login(c)
        yield c


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def test_health(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert (body["database"], body["storage"], body["index"]) == ("sqlite", "local", "tantivy")


def test_health_is_the_only_open_api_route(anonymous: TestClient) -> None:
    assert anonymous.get("/api/v1/health").status_code == 200
    for path in [
        "/api/v1/search?q=复议",
        "/api/v1/records/1",
        "/api/v1/records/1/original",
        "/api/v1/records/1/text",
        "/api/v1/cases",
        "/api/v1/me",
    ]:
        r = anonymous.get(path)
        assert r.status_code == 401 and r.json()["detail"] == "请先登录", path


def test_pages_redirect_to_login(anonymous: TestClient) -> None:
    r = anonymous.get("/search?q=复议", follow_redirects=False)
    # the whole target (with its own percent-encoding) is one encoded parameter
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fsearch%3Fq%3D%25E5%25A4%258D%25E8%25AE%25AE"
    form = anonymous.get(r.headers["location"]).text
    assert 'name="next" value="/search?q=%E5%A4%8D%E8%AE%AE"' in form
    assert anonymous.get("/records/1", follow_redirects=False).status_code == 303


def test_wrong_password_and_missing_csrf_are_refused(anonymous: TestClient) -> None:
    form = anonymous.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None
    bad = anonymous.post(
        "/login", data={"username": DEMO_USER, "password": "wrong-password", "csrf": token.group(1)}
    )
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    nobody = anonymous.post(
        "/login", data={"username": "nobody", "password": "x" * 10, "csrf": token.group(1)}
    )
    assert nobody.status_code == 401 and "用户名或密码错误" in nobody.text
    forged = anonymous.post(
        "/login", data={"username": DEMO_USER, "password": DEMO_PASSWORD, "csrf": "forged"}
    )
    assert forged.status_code == 400
    assert anonymous.get("/api/v1/me").status_code == 401


def test_login_never_redirects_off_site(anonymous: TestClient) -> None:
    form = anonymous.get("/login?next=//evil.example/x").text
    assert 'name="next" value="/"' in form


def test_logout_ends_the_session(app: FastAPI) -> None:
    with TestClient(app) as c:
        login(c)
        assert c.get("/api/v1/me").json()["role"] == "执法人员"
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/search").text)
        assert token is not None
        assert c.post("/logout", data={"csrf": token.group(1)}, follow_redirects=False).status_code == 303
        assert c.get("/api/v1/me").status_code == 401


def test_a_party_without_a_grant_sees_nothing(app: FastAPI) -> None:
    with TestClient(app) as c:
        login(c, "party1", "party-pass-1")
        assert c.get("/api/v1/search", params={"q": "报警装置"}).json()["total"] == 0
        assert c.get("/api/v1/cases").json() == []
        first = c.get("/api/v1/records/1")
        assert first.status_code == 404 and first.json()["detail"] == "记录不存在或无权查看"
        assert c.get("/api/v1/records/1/original").status_code == 404


def test_openapi_lists_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/health", "/api/v1/search", "/api/v1/records/{record_id}", "/api/v1/cases"} <= set(paths)
    assert "/search" not in paths  # pages are not API


def test_search_api(client: TestClient) -> None:
    body = client.get("/api/v1/search", params={"q": "报警装置", "stage": "调查取证"}).json()
    assert body["total"] == 2
    assert all("<mark>报警装置</mark>" in h["snippet"] and h["stage"] == "调查取证" for h in body["hits"])
    assert client.get("/api/v1/search", params={"q": "复议", "case": DEMO_CASE_NO}).json()["total"] == 1
    assert client.get("/api/v1/search", params={"q": "复议", "case": "别的案号"}).json()["total"] == 0
    bad = client.get("/api/v1/search", params={"q": "复议", "stage": "不存在"})
    assert bad.status_code == 400 and "未知环节" in bad.json()["detail"]
    bad = client.get("/api/v1/search", params={"q": '"未闭合'})
    assert bad.status_code == 400 and "引号" in bad.json()["detail"]
    assert client.get("/api/v1/search", params={"q": "复议", "from": "昨天"}).status_code == 400
    faceted = client.get("/api/v1/search", params={"q": "报警装置", "facets": "true", "form": ""}).json()
    assert {"value": "调查取证", "count": 2} in faceted["facets"]["stage"]
    newest = client.get(
        "/api/v1/search", params={"q": "农安县", "sort": "date", "case": DEMO_CASE_NO}
    ).json()["hits"]
    assert [h["title"] for h in newest][:2] == ["送达回证", "行政处罚决定书"]
    assert client.get("/api/v1/search").status_code == 422


def test_record_metadata_text_and_original(client: TestClient) -> None:
    rid = client.get("/api/v1/search", params={"q": "送达回证"}).json()["hits"][0]["record_id"]
    rec = client.get(f"/api/v1/records/{rid}").json()
    assert rec["case_no"] == DEMO_CASE_NO and rec["stage"] == "送达执行"
    assert (rec["made_by"], rec["made_how"], rec["proves"]) == (
        "吴国庆",
        "计算机制作",
        "行政处罚决定书已直接送达",
    )
    assert rec["status"] == "processed" and rec["page_count"] == 1
    assert {f["kind"] for f in rec["files"]} == {"original", "text", "pages", "thumb-1"}
    assert "直接送达" in client.get(f"/api/v1/records/{rid}/text").text
    original = client.get(f"/api/v1/records/{rid}/original")
    assert original.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(original.content).hexdigest() == rec["sha256"]
    assert "filename*=UTF-8''" in original.headers["content-disposition"]
    missing = client.get("/api/v1/records/99999")
    assert missing.status_code == 404 and missing.json()["detail"] == "记录不存在或无权查看"


def test_cases(client: TestClient) -> None:
    cases = client.get("/api/v1/cases").json()
    # five documents and the inspection recording; the ended supervision case's three documents
    assert [(c["case_no"], c["records"], c["origin"]) for c in cases] == [
        (ENDED_CASE_NO, 3, "依职权"),
        (DEMO_CASE_NO, 6, "依职权"),
    ]


def test_pages_render_in_chinese(client: TestClient) -> None:
    page = client.get("/search", params={"q": "行政复议"})
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert "<mark>行政复议</mark>" in page.text and "共找到" in page.text
    empty = client.get("/search", params={"q": "没有这个词"})
    assert "没有找到" in empty.text
    home = client.get("/search")
    assert DEMO_CASE_NO in home.text
    rid = client.get("/api/v1/search", params={"q": "询问笔录"}).json()["hits"][0]["record_id"]
    rec = client.get(f"/records/{rid}")
    assert "制作方法" in rec.text and "证明对象" in rec.text and "没有设置" in rec.text
    assert "2026-10-10 14:00" in rec.text  # 制作时间 shown in Beijing time
    assert client.get("/records/99999").status_code == 404


def test_search_page_escapes_user_input(client: TestClient) -> None:
    page = client.get("/search", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_original_gbk_text_is_decoded(client: TestClient, tmp_path: Path) -> None:
    rid = client.get("/api/v1/search", params={"q": "原来的报警器"}).json()["hits"][0]["record_id"]
    assert "去年坏了" in client.get(f"/api/v1/records/{rid}/text").text


def test_derived_files(client: TestClient, anonymous: TestClient) -> None:
    rid = client.get("/api/v1/search", params={"q": "送达回证"}).json()["hits"][0]["record_id"]
    thumb = client.get(f"/api/v1/records/{rid}/files/thumb-1")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content[:3] == b"\xff\xd8\xff"
    pages = client.get(f"/api/v1/records/{rid}/files/pages").json()["pages"]
    assert len(pages) == 1 and "直接送达" in pages[0]
    assert client.get(f"/api/v1/records/{rid}/files/original").status_code == 404  # originals: /original
    assert client.get(f"/api/v1/records/{rid}/files/thumb-9").status_code == 404
    assert anonymous.get(f"/api/v1/records/{rid}/files/thumb-1").status_code == 401
    page = client.get(f"/records/{rid}").text
    assert f'src="/api/v1/records/{rid}/pages/1"' in page  # the viewer shows the page beside its text
    image = client.get(f"/api/v1/records/{rid}/pages/1")
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"


def test_every_answer_carries_the_security_headers(client: TestClient, anonymous: TestClient) -> None:
    for c, path in [
        (client, "/"),
        (client, "/api/v1/search?q=报警装置"),
        (anonymous, "/login"),
        (anonymous, "/api/v1/cases"),
    ]:
        r = c.get(path)
        csp = r.headers.get("content-security-policy", "")
        assert (
            "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        ), path
        assert "unsafe-inline" not in csp and "http" not in csp, path
        assert r.headers.get("x-content-type-options") == "nosniff", path
        assert r.headers.get("referrer-policy") == "same-origin", path
        assert r.headers.get("x-frame-options") == "DENY", path


def test_api_description_and_docs_need_sign_in_and_no_cdn(client: TestClient, anonymous: TestClient) -> None:
    assert anonymous.get("/openapi.json").status_code == 401
    r = anonymous.get("/docs", follow_redirects=False)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]
    assert anonymous.get("/redoc").status_code in (303, 401, 404)
    html = client.get("/docs").text
    assert (
        "/static/swagger/swagger-ui-bundle.js" in html and "https://" not in html and "<script>" not in html
    )
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"].startswith("执法全过程记录档案系统")
