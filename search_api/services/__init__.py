"""One home per action: each service checks the permission table, does the work and writes
its audit event. Routes, pages and CLI commands only adapt input and output.

Services raise `ServiceError` subclasses carrying the words a user sees; the app turns them into
the HTTP status of their kind (an API error, or the page's error view)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.actor import Actor
from archive.models import Case
from archive.permissions import Action, may
from indexer.documents import AccessFilter

EVERYTHING = AccessFilter("cli")  # the reach of the server's operator (the `archive` command)
NO_CASE = "案件不存在或无权查看"


class ServiceError(Exception):
    """An action was refused or failed; the message says why, in Chinese."""

    status = 422


class NotFound(ServiceError):
    """The thing does not exist or is out of the caller's reach (the same words either way)."""

    status = 404


class Refused(ServiceError):
    """The caller's role may not take this action."""

    status = 403


class Conflict(ServiceError):
    """The action does not fit the current state (a frozen case, a step out of order …)."""

    status = 409


def require(who: Actor, action: Action) -> None:
    """Refused unless the permission table lets the caller's role take ``action``."""
    if not may(who.role, action):
        raise Refused("您的角色无权执行此操作")


def case_in_reach(s: Session, case_no: str, reach: AccessFilter) -> Case:
    """The case if the caller may see it; NotFound with the same words whether it exists or not."""
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or (reach.case_nos is not None and case_no not in reach.case_nos):
        raise NotFound(NO_CASE)
    return case
