"""Browser tests: a live `archive serve` on demo data, Debian's Chromium, screenshots, a11y checks."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.demo import DEMO_PASSWORD
from tests.conftest import BIN, IN_CI, REPO, cli_env, run_cli

CHROMIUM = os.environ.get("ARCHIVE_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",
]
UNSAFE_NAME = re.compile(r"[^0-9A-Za-z_.〔〕\u4e00-\u9fff-]+")  # Chinese kept: page names differ by it
# CI keeps this folder as an artifact: one PNG per page the tests visit.
SCREENSHOTS = Path(os.environ.get("ARCHIVE_SCREENSHOTS", REPO / "artifacts" / "screenshots"))


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server(data: Path) -> Iterator[str]:
    """`archive demo`, then `archive serve` on a free port; yields its base URL."""
    assert run_cli(["demo"], data).returncode == 0
    with served(data) as base:
        yield base


@contextmanager
def served(data: Path, tries: int = 150, **env: str) -> Iterator[str]:
    """`archive serve` on ``data`` on a free port (log beside it), ``env`` added to its
    environment; yields its base URL once it answers (``tries`` × ~0.2 s: a large archive takes
    longer to open)."""
    port = free_port()
    log = (data.parent / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "archive"), "serve", "--port", str(port)],
        env=cli_env(data, **env),
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(tries):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("archive serve did not come up")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"Chromium is required in CI: {CHROMIUM} not found (.ci/run installs it)")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, width: int = 1280, height: int = 900) -> Any:
    """A page in a fresh zh-CN context (own cookies)."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True
    )
    return context.new_page()


def api_token(base: str, username: str, password: str = DEMO_PASSWORD) -> str:
    """A bearer token for ``username`` from the running server."""
    r = httpx.post(f"{base}/api/v1/auth/token", json={"username": username, "password": password})
    r.raise_for_status()
    return str(r.json()["token"])


def sign_in(page: Any, base: str, username: str, password: str = DEMO_PASSWORD, target: str = "/") -> None:
    """Sign in through the login form, landing on ``target``."""
    page.goto(f"{base}{target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state()


def shoot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (UNSAFE_NAME.sub("_", name).strip("_") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


A11Y_JS = (Path(__file__).parent / "a11y.js").read_text(encoding="utf-8")


def a11y_problems(page: Any) -> list[str]:
    """WCAG basics on the current page: lang, one h1, labelled fields, alt text, named
    controls, unique ids, text contrast (AA, 4.5:1; 3:1 for large text)."""
    return list(page.evaluate(A11Y_JS))


FOCUS_JS = (Path(__file__).parent / "focus.js").read_text(encoding="utf-8")


def tab_through(page: Any, presses: int = 60) -> list[dict[str, Any]]:
    """Press Tab from the top of the page; what took the focus each time."""
    # Focus a marker at the very top, so the next Tab goes where a fresh visitor's first Tab goes.
    page.evaluate(
        """() => { const m = document.createElement("span"); m.tabIndex = -1; m.id = "tab-start";
                   document.body.prepend(m); m.focus(); m.removeAttribute("tabindex"); }"""
    )
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUS_JS)
        if focused is None:
            break
        # Tab inside one control (a date field's parts, a player's buttons) moves through the
        # browser's own sub-controls, which draw their own rings: keep the entry into it.
        if seen and {**seen[-1], "ring": 0} == {**focused, "ring": 0}:
            continue
        seen.append(focused)
    return seen


def wait_js(page: Any, expression: str, timeout: float = 30_000) -> None:
    """Wait until ``expression`` is true in the page. Polls with ``page.evaluate`` (run by the
    browser's debugger protocol): Playwright's ``wait_for_function`` compiles its predicate with
    eval, which the app's Content-Security-Policy (no unsafe-eval) rightly refuses."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout / 1000:.0f} s: {expression}")
        time.sleep(0.1)
