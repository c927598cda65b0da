"""The FastAPI app: health, OpenAPI, search, records, downloads, pages."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive.settings import Settings
from pipelines.context import open_services
from pipelines.demo import DEMO_CASE_NO, load_demo
from ui.web import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("api") / "var")
    load_demo(open_services(settings), settings.data_dir / "demo-files")
    with TestClient(create_app(settings)) as c:
        yield c


def test_health(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert (body["database"], body["storage"], body["index"]) == ("sqlite", "local", "tantivy")
    assert body["records"] == 5


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
    assert client.get("/api/v1/search", params={"q": "复议", "stage": "不存在"}).status_code == 422
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
    assert {f["kind"] for f in rec["files"]} == {"original", "text", "pages"}
    assert "直接送达" in client.get(f"/api/v1/records/{rid}/text").text
    original = client.get(f"/api/v1/records/{rid}/original")
    assert original.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(original.content).hexdigest() == rec["sha256"]
    assert "filename*=UTF-8''" in original.headers["content-disposition"]
    missing = client.get("/api/v1/records/99999")
    assert missing.status_code == 404 and missing.json()["detail"] == "记录不存在或无权查看"


def test_cases(client: TestClient) -> None:
    cases = client.get("/api/v1/cases").json()
    assert [(c["case_no"], c["records"], c["origin"]) for c in cases] == [(DEMO_CASE_NO, 5, "依职权")]


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
