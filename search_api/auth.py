"""Sign-in sessions: who is calling, and the access filter built from it on the server."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware

from archive.models import Role, User
from archive.settings import Settings
from indexer.documents import AccessFilter

SESSION_COOKIE = "archive_session"
SESSION_HOURS = 8


class NotAuthenticatedError(Exception):
    """The request carries no valid signed-in session."""


class CsrfError(Exception):
    """A form was posted without the token of the session that rendered it."""


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the request handlers see it."""

    user_id: int
    username: str
    display_name: str
    role: Role


def load_principal(request: Request, engine: Engine) -> Principal:
    """The principal of this request's session, or NotAuthenticatedError."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        raise NotAuthenticatedError
    with Session(engine) as s:
        user = s.get(User, uid)
        if user is None or not user.is_active:
            request.session.clear()
            raise NotAuthenticatedError
        return Principal(user.id, user.username, user.display_name, user.role)


def access_filter_for(principal: Principal) -> AccessFilter:
    """What a principal may search and read.

    Bureau staff see every case. A party sees nothing until an approved 查阅 grant exists
    (第二十八条); the grants come with the access-request workflow.
    """
    if principal.role is Role.PARTY:
        return AccessFilter(principal=principal.username, case_nos=frozenset())
    return AccessFilter(principal=principal.username)


def sign_in(request: Request, principal_id: int) -> None:
    """Start a fresh session (a new id defeats session fixation)."""
    request.session.clear()
    request.session["uid"] = principal_id
    request.session["csrf"] = secrets.token_urlsafe(32)


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
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=settings.profile == "prod",
    )

    @app.exception_handler(NotAuthenticatedError)
    def _unauthenticated(request: Request, _exc: NotAuthenticatedError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "请先登录"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(CsrfError)
    def _csrf(_request: Request, _exc: CsrfError) -> Response:
        return JSONResponse({"detail": "表单已过期，请刷新页面后重试"}, status_code=400)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
