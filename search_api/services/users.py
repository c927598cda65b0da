"""Accounts (系统管理员) and API tokens: each change is one audited ``user_admin`` or
``token_created`` event, from the admin page, the API or the `archive` command alike."""

from __future__ import annotations

from sqlalchemy import select

from archive import audit
from archive.actor import Actor
from archive.db import session_scope
from archive.models import Role, User
from archive.permissions import Action
from archive.users import UserError, create_user, open_session, revoke_all, set_password
from pipelines.context import Services
from search_api.services import NotFound, ServiceError, require

ACCOUNT_CHANGES = ("role", "password", "disable", "enable")


def add_user(svc: Services, who: Actor, username: str, display_name: str, role: Role, password: str) -> None:
    """A new account (its password stored as an argon2 hash; audited ``user_admin``)."""
    require(who, Action.MANAGE_USERS)
    try:
        with session_scope(svc.engine) as s:
            create_user(
                session=s, username=username, display_name=display_name.strip(), role=role, password=password
            )
    except UserError as exc:
        raise ServiceError(str(exc)) from None
    audit.record(svc.engine, "user_admin", who, f"user:{username}", action="add", role=role.value)


def change_user(
    svc: Services, who: Actor, user_id: int, action: str, *, role: Role | None = None, password: str = ""
) -> str:
    """Change an account's role, set its password, or disable/enable it (a new role or a
    disabled account ends its sessions); returns its user name (audited ``user_admin``)."""
    require(who, Action.MANAGE_USERS)
    if action not in ACCOUNT_CHANGES:
        raise ServiceError(f"未知操作：{action}")
    try:
        with session_scope(svc.engine) as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("用户不存在")
            if user.id == who.user_id and action in ("role", "disable"):
                raise UserError("不能更改或停用自己的账号，请由另一名系统管理员操作")
            if action == "role":
                if role is None:
                    raise UserError("请选择角色")
                user.role = role
                revoke_all(session=s, user_id=user.id)  # the new role applies from the next sign-in
            elif action == "password":
                set_password(session=s, user=user, password=password)
            else:
                user.is_active = action == "enable"
                if not user.is_active:
                    revoke_all(session=s, user_id=user.id)
            name = user.username
    except UserError as exc:
        raise ServiceError(str(exc)) from None
    detail = {"role": role.value} if action == "role" and role else {}
    audit.record(svc.engine, "user_admin", who, f"user:{name}", action=action, **detail)
    return name


def issue_token(svc: Services, who: Actor, username: str, name: str, days: int) -> str:
    """A bearer token for ``username`` (shown once; only its hash is kept; audited
    ``token_created``). A user may issue their own; the `archive` command any active user's."""
    if who.name != username:
        require(who, Action.MANAGE_USERS)
    with session_scope(svc.engine) as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not user.is_active:
            raise NotFound(f"用户不存在或已停用：{username}")
        token = open_session(session=s, user_id=user.id, kind="token", hours=days * 24, name=name)
    audit.record(svc.engine, "token_created", who, f"user:{username}", name=name, days=days)
    return token
