"""The search page in a real headless Chromium, against `archive serve`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.demo import DEMO_PASSWORD, DEMO_USER
from tests.support.browser import chromium, demo_server, wait_js

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("browser") / "var") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def test_search_page_finds_a_demo_record_and_opens_it(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/")
    assert page.title().startswith("登录")  # nothing without signing in
    page.fill("input[name=username]", DEMO_USER)
    page.fill("input[name=password]", "wrong-password")
    page.click("form.login button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("p.error")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("div.dashboard")  # the home page: what needs attention
    assert page.title().startswith("工作台")
    assert "农应急罚〔2026〕12号" in page.inner_text("div.dashboard")
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    page.click("header nav >> text=检索")
    page.wait_for_selector("section.cases")
    assert page.title().startswith("检索")
    assert "孙立军" in page.inner_text("header")
    assert "农应急罚〔2026〕12号" in page.inner_text("section.cases")
    page.fill("input[name=q]", "报警装置")
    page.select_option("select[name=stage]", "调查取证")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("ol.hits")
    assert page.inner_text("#total") == "2"
    marks = page.locator("ol.hits mark").all_inner_texts()
    assert marks and set(marks) == {"报警装置"}
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    page.click("ol.hits a.hit-title >> nth=0")
    page.wait_for_selector("dl.meta")
    assert "调查取证" in page.inner_text("dl.meta")
    assert "报警装置" in page.inner_text("section.text")
    page.close()


def test_empty_result_says_what_to_do(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{server}/search?q=不存在的检索词")
    page.fill("input[name=username]", DEMO_USER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")  # back to the page asked for
    page.wait_for_selector("p.empty")
    assert "不存在的检索词" in page.input_value("input[name=q]")
    assert "没有找到" in page.inner_text("p.empty")
    page.close()


def test_the_search_box_suggests_case_numbers_and_parties(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{server}/search")
    page.fill("input[name=username]", DEMO_USER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("section.cases")
    page.locator("input[name=q]").press_sequentially("罚款 农安县宏达", delay=30)
    wait_js(page, "document.querySelectorAll('#suggestions option').length > 0")
    values = page.eval_on_selector_all("#suggestions option", "os => os.map(o => [o.value, o.label])")
    assert ["罚款 农安县宏达化工有限公司", "当事人 · 农应急罚〔2026〕12号"] in values
    page.screenshot(path=str(tmp_path / "suggest.png"))
    page.close()


def test_a_search_hit_opens_the_recording_at_its_second_and_the_transcript_follows(  # type: ignore[no-untyped-def]
    server: str, browser, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/search")
    page.fill("input[name=username]", DEMO_USER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("section.cases")  # back to the page asked for
    # a word Whisper actually wrote (what it hears in the synthetic demo recording varies)
    segments = page.evaluate(
        """async () => {
            const found = await (await fetch('/api/v1/search?q=现场检查录音&form=音像')).json();
            const id = found.hits[0].record_id;
            const t = await (await fetch(`/api/v1/records/${id}/files/transcript`)).json();
            return t.segments.map(s => [s.start, s.text]);
        }"""
    )
    words = [(start, w) for start, text in segments for w in re.findall(r"[\u4e00-\u9fff]{2}", text)]
    assert words, segments
    second, word = words[-1]
    second = next(start for start, text in segments if word in "".join(text.split()))
    page.goto(f"{server}/search?q={word}&form=音像")
    page.wait_for_selector("ol.hits a.hit-title")
    href = page.get_attribute("ol.hits a.hit-title >> nth=0", "href") or ""
    assert f"?t={int(second)}" in href  # a transcript hit carries its second
    page.click("ol.hits a.hit-title >> nth=0")
    page.wait_for_selector("#player")
    wait_js(page, "document.getElementById('player').readyState >= 1")
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {int(second)}) < 0.6")
    lines = page.locator("ol.segments li[data-start]")
    assert lines.count() >= 1
    last = lines.nth(lines.count() - 1)
    target = float(last.get_attribute("data-start") or "0")
    last.click()  # clicking a line seeks there; the line is then the current one
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {target}) < 0.6")
    page.wait_for_selector("ol.segments li.current[aria-current=true]")
    # keyboard: the lines are focusable and Enter seeks too
    lines.nth(0).focus()
    page.keyboard.press("Enter")
    first = float(lines.nth(0).get_attribute("data-start") or "0")
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {first}) < 0.6")
    page.screenshot(path=str(tmp_path / "player.png"), full_page=True)
    page.close()
