"""Sign-in under attack: no lock anyone can trigger, no user-name oracle, a client address that
cannot be forged, and counts shared between processes through Redis."""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from archive import audit
from archive.db import session_scope
from archive.models import AuditEvent
from archive.settings import Settings
from pipelines.context import open_services
from pipelines.demo import DEMO_PASSWORD, ensure_demo_user
from search_api.throttle import MemoryAttempts, RedisAttempts, SignInThrottle, TooManyAttemptsError
from ui.web import create_app

REDIS_URL = os.environ.get("ARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ALICE, BOB = ("10.1.0.7", 50001), ("10.1.0.8", 50002)


def _app(tmp_path: Path, **signin: object) -> FastAPI:
    settings = Settings.model_validate({"data_dir": tmp_path / "var", "signin": signin})
    ensure_demo_user(open_services(settings))
    return create_app(settings)


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return _app(tmp_path)


def _token(c: TestClient, username: str, password: str) -> tuple[int, str, str | None]:
    r = c.post("/api/v1/auth/token", json={"username": username, "password": password})
    return r.status_code, r.json()["detail"] if r.status_code != 201 else "", r.headers.get("retry-after")


def _form_login(c: TestClient, username: str, password: str) -> tuple[int, str]:
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert csrf is not None
    r = c.post(
        "/login",
        data={"username": username, "password": password, "csrf": csrf.group(1)},
        follow_redirects=False,
    )
    error = re.search(r'class="error"[^>]*>([^<]*)<', r.text)
    return r.status_code, error.group(1) if error else ""


def test_wrong_passwords_hold_back_that_name_from_that_address_but_never_lock_the_account(
    app: FastAPI,
) -> None:
    with TestClient(app, client=ALICE) as attacker, TestClient(app, client=BOB) as owner:
        codes = [_token(attacker, "admin", "wrong-password")[0] for _ in range(5)]
        assert codes == [401] * 5
        # the sixth try from that address is refused before the password is looked at, even the right one
        status, detail, retry = _token(attacker, "admin", DEMO_PASSWORD)
        assert status == 429 and "分钟后再试" in detail
        assert retry is not None and 800 < int(retry) <= 900  # the 15-minute window
        # the administrator at their own desk is not locked out: the name rests a second (the backoff
        # that slows guessing from many addresses), then signs in; nor is another name at that address
        status, _, retry = _token(owner, "admin", DEMO_PASSWORD)
        assert status == 429 and retry == "1"
        time.sleep(1.05)
        assert _token(owner, "admin", DEMO_PASSWORD)[0] == 201
        assert _token(attacker, "legal", DEMO_PASSWORD)[0] == 201
        # the sign-in page answers the same way
        assert _form_login(attacker, "admin", DEMO_PASSWORD)[0] == 429
        assert _form_login(owner, "admin", DEMO_PASSWORD)[0] == 303


def test_a_real_and_an_unknown_user_name_answer_alike(app: FastAPI) -> None:
    with TestClient(app, client=ALICE) as c:
        real = [_token(c, "legal", "wrong-password") for _ in range(7)]
        unknown = [_token(c, "no-such-user", "wrong-password") for _ in range(7)]
        page_real = [_form_login(c, "archivist", "wrong-password") for _ in range(7)]
        page_unknown = [_form_login(c, "no-such-clerk", "wrong-password") for _ in range(7)]
    assert [s for s, _, _ in real] == [401] * 5 + [429] * 2
    assert [(s, d) for s, d, _ in real] == [(s, d) for s, d, _ in unknown]
    assert [s for s, _ in page_real] == [401] * 5 + [429] * 2
    assert page_real == page_unknown


def test_guessing_one_name_from_many_addresses_meets_a_growing_backoff(app: FastAPI) -> None:
    throttle: SignInThrottle = app.state.login_throttle
    assert [throttle.backoff(n) for n in range(3, 14)] == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    for i in range(5):
        with TestClient(app, client=(f"198.51.100.{i}", 40000)) as c:
            assert _token(c, "leader", "wrong-password")[0] == 401
    with TestClient(app, client=("198.51.100.77", 40000)) as c:
        status, _, retry = _token(c, "leader", "wrong-password")
        assert (status, retry) == (429, "1")  # not even checked
        time.sleep(1.05)
        assert _token(c, "leader", "wrong-password")[0] == 401  # the 6th failure: now 2 s
        assert _token(c, "leader", DEMO_PASSWORD)[2] == "2"
        time.sleep(2.05)
        assert _token(c, "leader", DEMO_PASSWORD)[0] == 201


def test_a_right_password_clears_that_names_count(app: FastAPI) -> None:
    with TestClient(app, client=ALICE) as c:
        for _ in range(4):
            assert _token(c, "legal", "wrong-password")[0] == 401
        assert _token(c, "legal", DEMO_PASSWORD)[0] == 201
        assert [_token(c, "legal", "wrong-password")[0] for _ in range(5)] == [401] * 5


def test_one_address_spraying_many_names_is_held_back(tmp_path: Path) -> None:
    app = _app(tmp_path, failures_per_address=8)
    with TestClient(app, client=ALICE) as sprayer, TestClient(app, client=BOB) as colleague:
        codes = [_token(sprayer, f"guess{i}", "123456")[0] for i in range(10)]
        assert codes == [401] * 8 + [429] * 2
        assert _token(sprayer, "legal", DEMO_PASSWORD)[0] == 429
        assert _token(colleague, "legal", DEMO_PASSWORD)[0] == 201


def test_throttling_is_audited_once_and_the_admin_sees_the_failures(app: FastAPI) -> None:
    with TestClient(app, client=ALICE) as c:
        for _ in range(8):
            _token(c, "legal", "wrong-password")
    engine = app.state.services.engine
    with session_scope(engine) as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.object == "user:legal")))
        kinds = [(e.event_type, e.ip) for e in rows]
    assert kinds.count(("login_failed", ALICE[0])) == 5  # refusals after the limit check no password
    assert kinds.count(("login_throttled", ALICE[0])) == 1
    assert audit.verify(engine).ok
    with TestClient(app, client=BOB) as admin:
        assert _form_login(admin, "admin", DEMO_PASSWORD)[0] == 303
        row = admin.get("/admin/users").text.split("<td>legal</td>", 1)[1].split("</tr>", 1)[0]
    assert "24 小时内登录失败 5 次" in row and "已锁定" not in row


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    forged = {"X-Forwarded-For": "<script>alert(1)</script>, 203.0.113.9"}
    plain = _app(tmp_path / "a")
    with TestClient(plain, client=ALICE) as c:
        c.post("/api/v1/auth/token", json={"username": "legal", "password": "x"}, headers=forged)
    proxied = _app(tmp_path / "b", trusted_proxies=["10.1.0.0/24"])
    with TestClient(proxied, client=ALICE) as via_proxy:
        for header in (
            "198.51.100.20, 203.0.113.9",  # client, then an untrusted hop: that hop is who we know
            "198.51.100.20, 10.1.0.99",  # a second trusted proxy is skipped
            "<script>x</script>, 10.1.0.99",  # garbage stops the walk at the last good address
        ):
            via_proxy.post(
                "/api/v1/auth/token",
                json={"username": "archivist", "password": "x"},
                headers={"X-Forwarded-For": header},
            )
    seen = {}
    for name, app in (("plain", plain), ("proxied", proxied)):
        with session_scope(app.state.services.engine) as s:
            seen[name] = list(
                s.scalars(
                    select(AuditEvent.ip)
                    .where(AuditEvent.event_type == "login_failed")
                    .order_by(AuditEvent.seq)
                )
            )
    assert seen["plain"] == [ALICE[0]]  # not a proxy: the header is ignored
    assert seen["proxied"] == ["203.0.113.9", "198.51.100.20", "10.1.0.99"]


def test_counts_are_shared_between_processes_through_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis not reachable: {exc}")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    one = SignInThrottle(
        RedisAttempts(REDIS_URL, prefix), per_name_address=3, per_address=50, window_minutes=1
    )
    two = SignInThrottle(
        RedisAttempts(REDIS_URL, prefix), per_name_address=3, per_address=50, window_minutes=1
    )
    one.failed("legal", "10.1.0.7")
    two.failed("legal", "10.1.0.7")
    one.check("legal", "10.1.0.7")
    assert two.failed("legal", "10.1.0.7") is True  # the third, counted across both
    for throttle in (one, two):
        with pytest.raises(TooManyAttemptsError) as held:
            throttle.check("LEGAL ", "10.1.0.7")  # names compare as typed, case-folded
        assert held.value.retry_after > 50  # the pair's window, not the name's 1 s rest
    with pytest.raises(TooManyAttemptsError) as rest:
        two.check("legal", "10.1.0.8")  # another address: only the name's short rest
    assert rest.value.retry_after == 1
    two.succeeded("legal", "10.1.0.7")
    one.check("legal", "10.1.0.7")
    one.check("legal", "10.1.0.8")


def test_memory_counts_stay_bounded_under_a_spray() -> None:
    store = MemoryAttempts()
    store.MAX_KEYS = 1000
    for i in range(5000):
        store.add(f"addr\x0010.{i // 65536}.{i // 256 % 256}.{i % 256}", 900)
    assert len(store._failures) <= 1000
    assert store.count("addr\x0010.0.19.135", 900).count == 1  # the newest are kept
