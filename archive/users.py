"""User accounts: argon2 password hashes, sign-in checks, sessions and API tokens.

Wrong passwords never lock an account (anyone could lock the administrator out); they are
slowed per user name and address by the server (search_api.throttle).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.models import Role, User, UserSession

MIN_PASSWORD = 8
COOKIE_HOURS = 8
TOKEN_DAYS = 90
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserError(ValueError):
    """A user could not be created; the message is shown to the operator."""


def create_user(*, session: Session, username: str, display_name: str, role: Role, password: str) -> User:
    """A new active user with an argon2 password hash."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"用户名已存在：{username}")
    user = User(username=username, display_name=display_name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    """Replace the password; every session and token of the user ends."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符")
    user.password_hash = _hasher.hash(password)
    revoke_all(session=session, user_id=user.id)


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None.

    The hash is verified even for an unknown name (against a dummy), so the answer and its
    timing do not tell which user names exist.
    """
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active or not user.password_hash:
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(*, session: Session, user_id: int, kind: str, hours: float, name: str = "") -> str:
    """A new random session id or API token for the user; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        UserSession(
            token_sha256=_digest(token),
            kind=kind,
            name=name[:64],
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return token


def resolve_session(*, session: Session, token: str, kind: str) -> User | None:
    """The active user of a live (unexpired, unrevoked) session or token, or None."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(
        select(UserSession).where(UserSession.token_sha256 == _digest(token), UserSession.kind == kind)
    )
    now = datetime.now(UTC)
    if row is None or row.revoked_at is not None or (row.expires_at or now) <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    seen = row.last_seen_at
    if seen is None or now - seen > SEEN_EVERY:
        row.last_seen_at = now
        session.commit()
    return user


def revoke_session(*, session: Session, token: str) -> None:
    """End one session or token (signing out)."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_sha256 == _digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def revoke_all(*, session: Session, user_id: int) -> None:
    """End every session and token of a user (password change, deactivation)."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
