"""End-to-end flows in headless Chromium against a live `archive serve` on the demo data.

The tests run in file order on one server: an officer uploads and finds, a party's request is
approved, an archivist files a case, then every page is visited as each role: screenshot,
accessibility basics, keyboard focus, server time. Screenshots go to ``SCREENSHOTS``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from pipelines.demo import DEMO_CASE_NO, DEMO_USER, ENDED_CASE_NO
from pipelines.samples import write_pdf
from tests.conftest import IN_CI
from tests.support.browser import (
    SCREENSHOTS,
    a11y_problems,
    api_token,
    chromium,
    demo_server,
    new_page,
    shoot,
    sign_in,
    tab_through,
    wait_js,
)
from tests.support.media import run_tool, silence_wav, speech_wav

pytestmark = pytest.mark.browser
TOOLS = [shutil.which(t) for t in ("espeak-ng", "sox", "ffmpeg")]
CJK2 = re.compile(r"[\u4e00-\u9fff]{2}")
UNIQUE = "储罐区静电接地检测报告"  # a phrase only the uploaded PDF holds, on its second page
HIDDEN_ID = "220122198503154214"  # the ID number in the demo 询问笔录: redacted for the party


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("e2e") / "var") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not all(TOOLS):
        if IN_CI:
            pytest.fail("espeak-ng, sox and ffmpeg are required in CI (.ci/run installs them)")
        pytest.skip("espeak-ng, sox and ffmpeg make the test audio")
    work = tmp_path_factory.mktemp("upload")
    pdf = write_pdf(
        work / "检测报告.pdf",
        [
            "农安县宏达化工有限公司\n防雷防静电设施检测报告\n第一页：检测依据与检测仪器。",
            f"第二页\n{UNIQUE}\n二号储罐静电接地电阻 12 欧姆，不符合要求。",
        ],
    )
    parts = [work / "lead.wav", work / "speech.wav"]
    silence_wav(parts[0], 4)
    speech_wav(parts[1], "yi1 er4 san1 si4 wu3 liu4 qi1 ba1 jiu3 shi2")
    audio = work / "现场询问录音.m4a"
    run_tool("sox", *map(str, parts), str(work / "joined.wav"))
    run_tool("ffmpeg", "-v", "error", "-i", str(work / "joined.wav"), str(audio))
    return {"pdf": pdf, "audio": audio}


def _case_url(base: str, case_no: str) -> str:
    return f"{base}/cases/{quote(case_no)}"


def test_an_officer_uploads_a_pdf_and_a_recording_and_finds_both(  # type: ignore[no-untyped-def]
    server: str, browser, files: dict[str, Path]
) -> None:
    page = new_page(browser)
    sign_in(page, server, DEMO_USER)
    page.click("header nav >> text=案件")
    page.click(f"text={DEMO_CASE_NO}")
    page.wait_for_selector("ol.timeline")
    assert "第二十五条" in page.inner_text("section[aria-labelledby=findings-h]")
    page.set_input_files("#files", [str(files["pdf"]), str(files["audio"])])
    assert "已选择 2 个文件" in page.inner_text("#drop-help")
    assert page.is_visible("#av-warning")  # a recording without the four 第二十六条 fields
    page.select_option("#u-stage", "调查取证")
    page.fill("#u-type", "现场询问")
    page.fill("#u-how", "执法记录仪录音")
    page.fill("#u-at", "2026-10-10T14:00")
    page.fill("#u-proves", "二号储罐静电接地不符合要求")
    assert not page.is_visible("#av-warning")
    page.click("#upload-form button[type=submit]")
    rows = page.locator("#uploads li")
    wait_js(page, "document.querySelectorAll('#uploads li').length === 2")
    wait_js(
        page,
        "[...document.querySelectorAll('#uploads li')].every(li => li.dataset.status === 'processed')",
        timeout=240_000,
    )
    # one progress bar per uploaded file, each full
    assert page.eval_on_selector_all("#uploads progress", "ps => ps.map(p => p.value)") == [100, 100]
    assert "已完成" in rows.nth(1).inner_text()
    shoot(page, "e2e-upload-done")

    # the PDF: found by a phrase on page 2; the hit opens page 2 beside its image
    page.goto(f"{server}/search?q={UNIQUE}")
    hit = page.locator("ol.hits a.hit-title", has_text="检测报告")
    assert (hit.get_attribute("href") or "").endswith("#p2")
    hit.click()
    page.wait_for_selector("article#p2 img.page-image")
    assert page.evaluate("location.hash") == "#p2"
    assert UNIQUE in page.inner_text("article#p2")
    # record.js is deferred: it may still be marking after the page image is in the DOM
    page.wait_for_selector("article#p2 mark", timeout=10_000)
    assert page.locator("article#p2 mark").all_inner_texts() == [UNIQUE]  # the query marked on the page
    wait_js(page, "document.querySelector('article#p2 img.page-image').naturalWidth > 500")
    # the recording: found by a word of its transcript; the hit seeks to that second
    record_id = _record_id(page, "现场询问录音")
    t = httpx.Cookies()
    for c in page.context.cookies():
        t.set(c["name"], c["value"])
    transcript = httpx.get(f"{server}/api/v1/records/{record_id}/files/transcript", cookies=t).json()
    words = [
        (seg["start"], w)
        for seg in transcript["segments"]
        for w in re.findall(r"[\u4e00-\u9fff]{2}", seg["text"])
    ]
    assert words, transcript  # whatever Whisper heard in the synthetic speech, it heard something
    second, word = words[-1]
    page.goto(f"{server}/search?q={word}&form=音像")
    audio_hit = page.locator("ol.hits a.hit-title", has_text="现场询问录音")
    assert f"?t={int(second)}" in (audio_hit.get_attribute("href") or "")
    audio_hit.click()
    page.wait_for_selector("#player")
    wait_js(page, "document.getElementById('player').readyState >= 1")
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {int(second)}) < 0.6")
    assert second >= 3.0  # the speech starts after four seconds of silence
    shoot(page, "e2e-recording-at-second")
    page.context.close()


def test_a_party_requests_a_leader_approves_and_the_party_sees_only_the_redaction(  # type: ignore[no-untyped-def]
    server: str, browser
) -> None:
    party = new_page(browser)
    sign_in(party, server, "party")
    assert party.url.endswith("/portal")
    form = party.locator("form.request-form").first
    form.locator("label.check", has_text="询问笔录").locator("input").check()
    form.locator("textarea[name=reason]").fill("核对询问笔录内容，准备陈述申辩材料")
    form.locator("button[type=submit]").click()
    party.wait_for_selector("text=档案管理员审查")
    # an unapproved record cannot be opened by URL, in the portal or on the staff pages
    ids = httpx.get(  # the ids exist: the archivist can see them
        f"{server}/api/v1/search",
        params={"q": "询问笔录", "limit": 5},
        headers={"Authorization": f"Bearer {api_token(server, 'archivist')}"},
    ).json()["hits"]
    record_id = next(h["record_id"] for h in ids if h["title"] == "询问笔录")
    for path in (
        f"/portal/records/{record_id}",
        f"/records/{record_id}",
        f"/api/v1/records/{record_id}/original",
    ):
        response = party.goto(f"{server}{path}")
        assert response is not None and response.status == 404, path
        assert HIDDEN_ID not in party.content()
    shoot(party, "e2e-party-unapproved-404")

    archivist = new_page(browser)
    sign_in(archivist, server, "archivist", target="/requests")
    archivist.locator("tr.status-submitted a").first.click()
    archivist.wait_for_selector("form.workflow")
    request_page = archivist.url
    # the review needs the record's preview opened, as the party will get it, and the gate passed
    archivist.locator(f"#record-{record_id} a", has_text="预览脱敏件").click()
    archivist.wait_for_selector("text=发布检查通过")
    assert HIDDEN_ID not in archivist.locator("pre.redacted").inner_text()
    first_page = archivist.locator(".rendition-pages img").first
    first_page.scroll_into_view_if_needed()
    wait_js(
        archivist,
        "(i => i.complete && i.naturalWidth > 500)(document.querySelector('.rendition-pages img'))",
    )
    shoot(archivist, "e2e-archivist-release-preview")
    archivist.goto(request_page)
    assert archivist.locator(f"#record-{record_id} .badge.ok").inner_text() == "发布检查通过"
    archivist.locator("form.workflow textarea[name=note]").fill("已遮盖身份证号、电话、住址与证人姓名")
    archivist.locator("form.workflow button[type=submit]").click()
    archivist.wait_for_load_state()
    request_url = archivist.url.split("?")[0]

    leader = new_page(browser)
    sign_in(leader, server, "leader", target=request_url.replace(server, ""))
    leader.wait_for_selector("text=同意查阅")
    shoot(leader, "e2e-leader-approval")
    leader.locator("form.workflow textarea[name=reason]").first.fill("当事人依法申请查阅，同意")
    leader.click("button[value=approve]")
    leader.wait_for_selector("text=已批准")

    party.goto(f"{server}/portal")
    party.locator("a", has_text="询问笔录").first.click()
    party.wait_for_load_state()
    body = party.content()
    assert HIDDEN_ID not in body and "■" in body
    shoot(party, "e2e-party-redacted")
    # the party's search runs over the redacted text, and its hits open the portal's rendition
    party.goto(f"{server}/search?q=报警器")
    party_hit = party.locator("ol.hits a.hit-title", has_text="询问笔录")
    assert (party_hit.get_attribute("href") or "").startswith("/portal/records/")
    party_hit.click()
    party.wait_for_load_state()
    assert "文本（已脱敏）" in party.content() and HIDDEN_ID not in party.content()
    for p in (party, archivist, leader):
        p.context.close()


def test_an_archivist_files_an_ended_case_and_downloads_the_bag(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser)
    sign_in(page, server, "archivist")
    page.click("header nav >> text=归档")
    row = page.locator("table.due-table tr", has_text=ENDED_CASE_NO)
    assert re.search(r"还剩 \d+ 天", row.inner_text())
    row.locator("a", has_text="预览并归档").click()
    page.wait_for_selector("table.catalog")
    assert page.locator("table.catalog tbody tr").count() == 3
    page.click("#file-form button[type=submit]")  # not confirmed: the browser asks for the box
    assert page.evaluate("document.querySelector('#file-form').checkValidity()") is False
    page.check("input[name=confirm]")
    page.select_option("#retention", "30年")
    page.click("#file-form button[type=submit]")
    page.wait_for_selector("text=已归档：案件已冻结")
    assert "30年" in page.inner_text("dl.meta")
    with page.expect_download() as info:
        page.click("text=下载卷宗")
    bag = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    names = bag.namelist()
    assert any(n.endswith("bagit.txt") for n in names) and any(n.endswith("卷内目录.pdf") for n in names)
    assert sum("/originals/" in n for n in names) == 3
    shoot(page, "e2e-dossier-filed")
    page.goto(_case_url(server, ENDED_CASE_NO))
    assert "已归档" in page.inner_text("dl.case-meta") and page.locator("#upload-form").count() == 0
    page.context.close()


PAGES: list[tuple[str | None, str]] = [
    (None, "/login"),
    (DEMO_USER, "/"),
    (DEMO_USER, "/search?q=报警装置"),
    (DEMO_USER, "/search?q=没有这个词语"),
    (DEMO_USER, "/cases"),
    (DEMO_USER, f"/cases/{DEMO_CASE_NO}"),
    (DEMO_USER, "record:行政处罚决定书"),
    (DEMO_USER, "record:现场检查录音"),
    (DEMO_USER, "/compliance"),
    ("archivist", "/"),
    ("archivist", "/archiving"),
    ("archivist", f"/cases/{ENDED_CASE_NO}/dossier"),
    ("archivist", f"/cases/{DEMO_CASE_NO}/dossier"),
    ("archivist", "/requests"),
    ("archivist", "/fixity"),
    ("leader", "/"),
    ("leader", "request:1"),
    ("leader", "/audit"),
    ("admin", "/admin/users"),
    ("party", "/portal"),
    ("party", "portal-record:询问笔录"),
    (DEMO_USER, "/records/999999"),  # error pages: a page, not JSON
    ("party", "/cases"),
    (DEMO_USER, "/records/abc"),
]
ERROR_STATUS = {
    (DEMO_USER, "/records/999999"): 404,
    ("party", "/cases"): 403,
    (DEMO_USER, "/records/abc"): 422,
}


def _record_id(page: Any, title: str) -> int:
    """The id of the record titled ``title``, found by searching as the page's user."""
    return int(
        page.evaluate(
            """async (t) => (await (await fetch('/api/v1/search?q=' + encodeURIComponent(t))).json())
                .hits.find(h => h.title === t).record_id""",
            title,
        )
    )


def _resolve(page: Any, target: str) -> str:
    kind, _, arg = target.partition(":")
    if kind == "record":
        return f"/records/{_record_id(page, arg)}"
    if kind == "request":
        return f"/requests/{arg}"
    if kind == "portal-record":
        rid = page.evaluate(
            "async (t) => (await (await fetch('/api/v1/portal/records')).json()).find(r => r.title === t).id",
            arg,
        )
        return f"/portal/records/{rid}"
    return target


def test_every_page_has_a_screenshot_labels_contrast_keyboard_focus(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    timings: dict[str, float] = {}
    problems: dict[str, list[str]] = {}
    pages: dict[str | None, Any] = {}
    for user, target in PAGES:
        if user not in pages:
            pages[user] = new_page(browser)
            if user:
                sign_in(pages[user], server, user)
        page = pages[user]
        path = _resolve(page, target)
        response = page.goto(f"{server}{path}")
        expected = ERROR_STATUS.get((user, path), 200)
        assert response is not None and response.status == expected, (user, path)
        if expected != 200:
            assert page.locator("section.error-page").count() == 1, path
        page.wait_for_load_state("networkidle")
        name = f"{user or 'anonymous'}{path}"
        shoot(page, name)
        timing = re.search(r"dur=([\d.]+)", response.headers.get("server-timing", ""))
        assert timing, path  # measured by the server; the figures are kept, not asserted
        timings[name] = float(timing.group(1))
        found = a11y_problems(page)
        focus = tab_through(page, presses=25)
        if not focus or "跳到正文" not in focus[0]["text"]:
            found.append(f"first Tab stop is not the skip link: {focus[:1]}")
        found += [f"focus not visible on {f}" for f in focus if not (f["visible"] and f["ring"])]
        if found:
            problems[name] = found
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "server-timing.json").write_text(json.dumps(timings, ensure_ascii=False, indent=1))
    (SCREENSHOTS / "a11y-problems.json").write_text(json.dumps(problems, ensure_ascii=False, indent=1))
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    # a tablet: the case page keeps to the screen's width
    tablet = new_page(browser, width=820, height=1180)
    sign_in(tablet, server, DEMO_USER, target=f"/cases/{quote(DEMO_CASE_NO)}")
    assert tablet.evaluate("document.documentElement.scrollWidth") <= 820
    shoot(tablet, "tablet-case")
    for p in [*pages.values(), tablet]:
        p.context.close()
