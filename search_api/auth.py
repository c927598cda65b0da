"""Sign-in: cookie sessions for pages, bearer tokens for the API, and who is calling.

The signed cookie carries only a random session id; the session itself lives in the database
(``user_sessions``, hashed), so signing out, a password change or deactivation ends it at once,
and signing in always starts a new id (no session fixation). Failed sign-ins are limited per
account (lockout, archive.users) and per client address (here).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from archive import audit
from archive.access import visibility
from archive.audit import Actor
from archive.models import Role
from archive.settings import Settings
from archive.users import (
    COOKIE_HOURS,
    AccountLockedError,
    authenticate,
    open_session,
    resolve_session,
    revoke_session,
)
from indexer.documents import AccessFilter

SESSION_COOKIE = "archive_session"


class NotAuthenticatedError(Exception):
    """The request carries no valid signed-in session or token."""


CSRF_EXPIRED = "表单已过期，请刷新页面后重试"


class CsrfError(Exception):
    """A form was posted without the token of the session that rendered it."""


class TooManyAttemptsError(Exception):
    """Too many failed sign-ins from one address."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the request handlers see it."""

    user_id: int
    username: str
    display_name: str
    role: Role
    via: str = "cookie"  # cookie | token
    ip: str = ""

    @property
    def actor(self) -> Actor:
        """The principal as the audit log names it."""
        return Actor(self.username, self.role.value, self.ip)


def client_ip(request: Request) -> str:
    """The caller's address (the direct peer; a proxy in front must be configured to pass it)."""
    return request.client.host if request.client else ""


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def load_principal(request: Request, engine: Engine) -> Principal:
    """The principal of this request's bearer token or session cookie, or NotAuthenticatedError."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    token = _bearer(request)
    kind = "token" if token is not None else "cookie"
    if token is None:
        sid = request.session.get("sid")
        token = sid if isinstance(sid, str) else None
    if token is None:
        raise NotAuthenticatedError
    with Session(engine) as s:
        user = resolve_session(session=s, token=token, kind=kind)
        if user is None:
            if kind == "cookie":
                request.session.clear()
            raise NotAuthenticatedError
        principal = Principal(user.id, user.username, user.display_name, user.role, kind, client_ip(request))
    request.state.principal = principal
    return principal


def access_filter_for(principal: Principal, engine: Engine) -> AccessFilter:
    """What a principal may search and read now (roles, assignments, active grants)."""
    with Session(engine) as s:
        v = visibility(session=s, user_id=principal.user_id, role=principal.role)
    return AccessFilter(
        principal=principal.username,
        case_nos=v.case_nos,
        classifications=v.classifications,
        record_ids=v.record_ids,
        redacted=v.redacted,
    )


@dataclass(frozen=True)
class SignedIn:
    """Who passed the password check."""

    id: int
    username: str
    role: Role


def check_password(engine: Engine, username: str, password: str, ip: str) -> SignedIn | None:
    """The user if the password is right (AccountLockedError while locked); audited either way."""
    with Session(engine) as s:
        try:
            user = authenticate(session=s, username=username, password=password)
        except AccountLockedError:
            s.commit()
            audit.record(
                engine,
                "login_failed",
                Actor(username[:64], "", ip),
                f"user:{username[:64]}",
                "denied",
                reason="locked",
            )
            raise
        s.commit()
        if user is None:
            audit.record(
                engine, "login_failed", Actor(username[:64], "", ip), f"user:{username[:64]}", "denied"
            )
            return None
        found = SignedIn(user.id, user.username, user.role)
    audit.record(engine, "login", Actor(found.username, found.role.value, ip), f"user:{found.username}")
    return found


def home_of(role: Role) -> str:
    """Where a user lands after signing in."""
    return "/portal" if role is Role.PARTY else "/"


def sign_in(request: Request, engine: Engine, user_id: int) -> None:
    """Start a fresh server-side session; whatever id the browser carried before is dropped."""
    old = request.session.get("sid")
    request.session.clear()
    with Session(engine) as s:
        if isinstance(old, str):
            revoke_session(session=s, token=old)
        request.session["sid"] = open_session(session=s, user_id=user_id, kind="cookie", hours=COOKIE_HOURS)
        s.commit()
    request.session["csrf"] = secrets.token_urlsafe(32)


def sign_out(request: Request, engine: Engine) -> None:
    """End the session on the server and clear the cookie."""
    sid = request.session.get("sid")
    if isinstance(sid, str):
        with Session(engine) as s:
            revoke_session(session=s, token=sid)
            s.commit()
    request.session.clear()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: str) -> None:
    """Refuse a form whose token is not this session's."""
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, submitted or ""):
        raise CsrfError


class LoginThrottle:
    """At most ``limit`` failed sign-ins per client address in ``window`` seconds (per process)."""

    def __init__(self, limit: int = 20, window: float = 600.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, ip: str, now: float) -> deque[float]:
        q = self._failures.setdefault(ip, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def check(self, ip: str) -> None:
        """TooManyAttemptsError when this address has failed too often lately."""
        with self._lock:
            if len(self._recent(ip, time.monotonic())) >= self.limit:
                raise TooManyAttemptsError

    def failed(self, ip: str) -> None:
        """Count one failed sign-in."""
        with self._lock:
            self._recent(ip, time.monotonic()).append(time.monotonic())
            if len(self._failures) > 100_000:  # bound memory under a spray of addresses
                self._failures.clear()


def install(app: FastAPI, settings: Settings) -> None:
    """Signed session cookies and the answers to unauthenticated requests."""
    assert settings.secret_key is not None  # the settings validator guarantees it
    app.state.login_throttle = LoginThrottle()
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=COOKIE_HOURS * 3600,
        same_site="lax",
        https_only=settings.profile == "prod",
    )

    @app.exception_handler(NotAuthenticatedError)
    def _unauthenticated(request: Request, _exc: NotAuthenticatedError) -> Response:
        if request.url.path.startswith(("/api/", "/openapi.json")):
            return JSONResponse(
                {"detail": "请先登录"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(CsrfError)
    def _csrf(_request: Request, _exc: CsrfError) -> Response:
        return JSONResponse({"detail": CSRF_EXPIRED}, status_code=400)

    @app.exception_handler(TooManyAttemptsError)
    def _throttled(_request: Request, _exc: TooManyAttemptsError) -> Response:
        return JSONResponse({"detail": "登录失败次数过多，请 10 分钟后再试"}, status_code=429)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
