"""Sign-in: cookie sessions for pages, bearer tokens for the API, and who is calling.

The signed cookie carries only a random session id; the session itself lives in the database
(``user_sessions``, hashed), so signing out, a password change or deactivation ends it at once,
and signing in always starts a new id (no session fixation). Failed sign-ins are limited per
name and client address (search_api.throttle); no account is ever locked by wrong passwords.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from archive import audit
from archive.access import visibility
from archive.actor import Actor
from archive.models import Role
from archive.permissions import Action, may
from archive.settings import Settings
from archive.users import (
    COOKIE_HOURS,
    authenticate,
    open_session,
    resolve_session,
    revoke_session,
)
from indexer.documents import AccessFilter
from search_api.throttle import SignInThrottle, TooManyAttemptsError, throttle_for

SESSION_COOKIE = "archive_session"


class NotAuthenticatedError(Exception):
    """The request carries no valid signed-in session or token."""


CSRF_EXPIRED = "表单已过期，请刷新页面后重试"


class CsrfError(Exception):
    """A form was posted without the token of the session that rendered it."""


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
        return Actor(self.username, self.role, self.ip, user_id=self.user_id, display_name=self.display_name)


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Networks) -> bool:
    return any(addr.version == net.version and addr in net for net in proxies)


def client_ip(request: Request) -> str:
    """The caller's address: the direct peer, or behind a trusted proxy the right-most address of
    X-Forwarded-For that is not itself a trusted proxy. Always a valid address or ''."""
    peer = _address(request.client.host) if request.client else None
    if peer is None:
        return ""
    proxies: Networks = getattr(request.app.state, "trusted_proxies", ())
    if not proxies or not _trusted(peer, proxies):
        return str(peer)
    hops = [h for v in request.headers.getlist("x-forwarded-for") for h in v.split(",")]
    client = peer
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:
            break  # a forged or garbled entry: trust nothing to its left
        client = addr
        if not _trusted(addr, proxies):
            break
    return str(client)


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


def check_password(request: Request, engine: Engine, username: str, password: str) -> SignedIn | None:
    """The user if the password is right, None if not; TooManyAttemptsError while this name from
    this address is held back (the password is then not even checked). Audited either way.

    A real and an unknown user name take the same path and get the same answers."""
    ip = client_ip(request)
    throttle: SignInThrottle = request.app.state.login_throttle
    name = username.strip()[:64]
    throttle.check(name, ip)
    with Session(engine) as s:
        user = authenticate(session=s, username=name, password=password)
        found = SignedIn(user.id, user.username, user.role) if user is not None else None
    if found is None:
        held = throttle.failed(name, ip)
        audit.record(engine, "login_failed", Actor(name, "", ip), f"user:{name}", "denied")
        if held:
            audit.record(
                engine,
                "login_throttled",
                Actor(name, "", ip),
                f"user:{name}",
                "denied",
                minutes=round(throttle.window / 60),
            )
        return None
    throttle.succeeded(name, ip)
    audit.record(engine, "login", Actor(found.username, found.role.value, ip), f"user:{found.username}")
    return found


def home_of(role: Role) -> str:
    """Where a user lands after signing in."""
    return "/" if may(role, Action.USE_STAFF_PAGES) else "/portal"


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


def install(app: FastAPI, settings: Settings) -> None:
    """Signed session cookies and the answers to unauthenticated requests."""
    assert settings.secret_key is not None  # the settings validator guarantees it
    app.state.login_throttle = throttle_for(settings)
    app.state.trusted_proxies = tuple(
        ipaddress.ip_network(p, strict=False) for p in settings.signin.trusted_proxies
    )
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
    def _throttled(_request: Request, exc: TooManyAttemptsError) -> Response:
        return JSONResponse(
            {"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after)}
        )


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
