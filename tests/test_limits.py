"""What a request may cost before anyone knows who sent it: bodies judged by their headers, 422s
that do not echo the input, undecodable text and absurd ranges answered without a server error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from archive.settings import Settings
from pipelines.context import open_services
from pipelines.demo import DEMO_CASE_NO, DEMO_PASSWORD, ensure_demo_user
from search_api.routes.api import byte_range
from ui.web import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("limits")) / "var", request_max_kb=64)
    ensure_demo_user(open_services(settings))
    with TestClient(create_app(settings)) as c:
        yield c


UPLOAD = f"/api/v1/cases/{DEMO_CASE_NO}/records"


def test_an_anonymous_upload_is_refused_before_its_body_is_parsed(client: TestClient) -> None:
    # a malformed multipart body: parsing it first would answer 400; credentials are checked first
    r = client.post(
        UPLOAD, content=b"--x\r\nnot a part", headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert r.status_code == 401 and r.json() == {"detail": "请先登录"}


def test_a_body_over_the_cap_is_refused_unread(client: TestClient) -> None:
    body = b'{"username": "' + b"A" * (65 * 1024) + b'", "password": "x"}'
    r = client.post("/api/v1/auth/token", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "64 KB" in r.json()["detail"]


def test_a_chunked_body_without_a_length_is_refused(client: TestClient) -> None:
    def parts() -> Iterator[bytes]:
        yield b'{"username": "archivist", '
        yield f'"password": "{DEMO_PASSWORD}"}}'.encode()

    r = client.post("/api/v1/auth/token", content=parts(), headers={"Content-Type": "application/json"})
    assert r.status_code == 411


def test_a_422_names_the_field_without_echoing_the_input(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", json={"username": "B" * 20_000, "password": 12345})
    assert r.status_code == 422
    assert "BBBBBBBBBB" not in r.text and len(r.content) < 2000
    assert any("password" in e["loc"] for e in r.json()["detail"])


def test_a_lone_surrogate_is_a_client_error(client: TestClient) -> None:
    body = b'{"username": "\\ud800x", "password": "x"}'
    r = client.post("/api/v1/auth/token", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text


def test_an_absurd_range_is_not_served_and_not_a_crash() -> None:
    assert byte_range("bytes=" + "9" * 5000 + "-", 1000) is None
    assert byte_range("bytes=-" + "9" * 5000, 1000) is None
    assert byte_range("bytes=10-19", 1000) == (10, 10)
