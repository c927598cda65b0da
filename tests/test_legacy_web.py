"""导入卷宗 in a real headless Chromium against `archive serve`: an archivist uploads a scanned
dossier (no spreadsheet), reviews the proposed split with each 件's first and last page, moves a
boundary (and sees an overlap refused), corrects a field, confirms, and the case is read and filed
as a legacy dossier whose findings are shown as history. Other roles cannot reach the pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.browser import a11y_problems, chromium, demo_server, new_page, shoot, sign_in, wait_js
from tests.support.legacy_dossier import LegacyDossier, make_dossier

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("legacy-web") / "var") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def dossier(tmp_path_factory: pytest.TempPathFactory) -> LegacyDossier:
    return make_dossier(tmp_path_factory.mktemp("legacy-web-scan"), 8, pages=30)


def _field(page: Any, seq: int, name: str) -> Any:
    return page.locator(f"#piece-{seq} input[name=p{seq}_{name}]")


def test_an_archivist_uploads_reviews_and_confirms_a_paper_dossier(
    server: str, browser: Any, dossier: LegacyDossier
) -> None:
    t = dossier.truth
    page = new_page(browser)
    sign_in(page, server, "archivist", target="/imports")
    assert page.title().startswith("导入卷宗")
    page.set_input_files("#scan", str(dossier.pdf))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#review-form", timeout=240_000)  # read in the background; the page refreshes
    shoot(page, "import-review")
    assert a11y_problems(page) == []

    # the proposal, per 件: its catalog row, its first and last page, its fields
    pieces = page.locator("fieldset.piece")
    assert pieces.count() == len(t.pieces)
    for p in t.pieces:
        assert _field(page, p.seq, "first").input_value() == str(p.first_page + 1)
        assert _field(page, p.seq, "last").input_value() == str(p.last_page + 1)
    assert page.input_value("input[name=case_no]") == t.case.case_no
    assert page.input_value("input[name=catalog_pages]") == ",".join(str(i + 1) for i in t.catalog_pages)
    blank = next(p for p in t.pieces if not p.catalog_pages)
    assert "页号 （未写）" in page.inner_text(f"#piece-{blank.seq} .catalog-row")
    multi = next(p for p in t.pieces if p.page_count >= 2)
    thumbs = page.locator(f"#piece-{multi.seq} .thumbs img")
    assert thumbs.count() == 2
    thumbs.first.scroll_into_view_if_needed()
    wait_js(
        page,
        f"[...document.querySelectorAll('#piece-{multi.seq} .thumbs img')].every(i => i.naturalWidth > 100)",
    )

    # a boundary moved onto the next 件 is refused, with the reason, and nothing changes
    second = t.pieces[1]
    _field(page, 1, "last").fill(str(second.first_page + 1))
    page.click("button[value=save]")
    page.wait_for_selector("#problems")
    assert "重叠" in page.inner_text("#problems")
    shoot(page, "import-overlap")
    # moved back, a field corrected, saved
    _field(page, 1, "last").fill(str(t.pieces[0].last_page + 1))
    _field(page, 2, "author").fill("执法人员张三")
    page.click("button[value=save]")
    page.wait_for_selector("p.notice >> text=已保存核对")
    assert page.locator("#problems").count() == 0
    assert _field(page, 2, "author").input_value() == "执法人员张三"

    # confirm: registered, read, filed
    page.click("#confirm-import")
    page.wait_for_selector("#import-done", timeout=600_000)
    shoot(page, "import-filed")
    page.click("#import-done a >> nth=0")
    page.wait_for_selector("h1 .badge.legacy")
    assert "历史卷宗" in page.inner_text("h1")
    assert "仅供参考" in page.inner_text("section[aria-labelledby=findings-h]")
    timeline = page.inner_text("ol.timeline")
    assert t.pieces[0].title[:12] in timeline and "执法人员张三" in timeline
    page.goto(f"{server}/cases")
    row = page.locator("table.cases-table tr", has_text=t.case.case_no)
    assert "历史卷宗" in row.inner_text()
    page.close()


def test_only_archivists_reach_the_import_pages(server: str) -> None:
    for user, status in (("demo", 403), ("leader", 403), ("legal", 403), ("admin", 403), ("party", 403)):
        with httpx.Client(base_url=server) as client:
            login = client.post("/api/v1/auth/token", json={"username": user, "password": "demo-2026"})
            assert login.status_code == 201, login.text
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            assert client.get("/imports", headers=headers).status_code == status
            assert client.get("/imports/1", headers=headers).status_code == status
            assert client.get("/imports/1/pages/1.png", headers=headers).status_code == status
    with httpx.Client(base_url=server) as anonymous:
        assert anonymous.get("/imports", follow_redirects=False).status_code in (302, 303, 401)
        assert anonymous.get("/imports/1/pages/1.png", follow_redirects=False).status_code in (302, 303, 401)
