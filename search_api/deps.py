"""Dependencies declared once: services, the signed-in principal, its access filter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.models import Case, Record
from archive.permissions import Action, may
from archive.timeutil import CST
from indexer.documents import AccessFilter
from pipelines.background import Background
from pipelines.context import Services
from search_api.auth import Principal, access_filter_for, check_csrf, load_principal
from search_api.records import NOT_FOUND, NotVisibleError, get_record
from search_api.search import parse_day

MAX_ID = 2**31 - 1
# A database id in a path: positive and within the column's range (larger is a 422, not a crash).
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
IdItem = Annotated[int, Field(ge=1, le=MAX_ID)]  # an id inside a JSON body


def get_services(request: Request) -> Services:
    """The process's services, built by create_app."""
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(request: Request, svc: ServicesDep) -> Principal:
    """The signed-in user (NotAuthenticatedError → 401 for the API, a redirect for pages)."""
    return load_principal(request, svc.engine)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_access(principal: PrincipalDep, svc: ServicesDep) -> AccessFilter:
    """The server-built access filter of the caller; never taken from the request."""
    return access_filter_for(principal, svc.engine)


AccessDep = Annotated[AccessFilter, Depends(get_access)]


def get_visible_record(record_id: Id, svc: ServicesDep, access: AccessDep, who: PrincipalDep) -> Record:
    """The record of the path, unredacted, if the caller may see it; else 404 (never saying which).

    Callers limited to redacted renditions (parties) never get here: their records are served
    by the portal routes, only redacted.
    """
    with Session(svc.engine) as s:
        try:
            if access.redacted:
                raise NotVisibleError(record_id)
            return get_record(session=s, record_id=record_id, access=access)
        except NotVisibleError:
            audit.record(svc.engine, "view", who.actor, f"record:{record_id}", "denied")
            raise HTTPException(404, NOT_FOUND) from None


VisibleRecordDep = Annotated[Record, Depends(get_visible_record)]


def case_in_reach(s: Session, case_no: str, access: AccessFilter) -> Case:
    """The case if the caller may see it; else 404 with the same words whether it exists or not."""
    case = s.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or (access.case_nos is not None and case_no not in access.case_nos):
        raise HTTPException(404, "案件不存在或无权查看")
    return case


def check_csrf_header(request: Request, principal: PrincipalDep) -> None:
    """A state-changing API call made with the session cookie carries the session's CSRF token
    in the X-CSRF-Token header (a cross-site form cannot set it). A bearer token is not sent
    by browsers on their own, so token calls need none."""
    if principal.via != "token":
        check_csrf(request, request.headers.get("x-csrf-token", ""))


def allowed_to(action: Action) -> Callable[[Principal], Principal]:
    """A dependency admitting only principals whose role may take ``action`` (403 otherwise)."""

    def _check(principal: PrincipalDep) -> Principal:
        if not may(principal.role, action):
            raise HTTPException(403, "您的角色无权执行此操作")
        return principal

    return _check


StaffDep = Annotated[Principal, Depends(allowed_to(Action.USE_STAFF_PAGES))]
EditorDep = Annotated[Principal, Depends(allowed_to(Action.EDIT_RECORD))]
UploaderDep = Annotated[Principal, Depends(allowed_to(Action.UPLOAD))]
RecordRemoverDep = Annotated[Principal, Depends(allowed_to(Action.DELETE_RECORD))]


def background(request: Request) -> Background:
    """The app's background threads (created with the app)."""
    bg: Background = request.app.state.background
    return bg


def audit_query(
    event_type: Annotated[str | None, Query(alias="type", max_length=32, description="事件类型")] = None,
    actor: Annotated[str | None, Query(max_length=64, description="操作人用户名")] = None,
    object: Annotated[str | None, Query(max_length=255, description="对象（包含）")] = None,
    outcome: Annotated[str | None, Query(description="结果：ok / denied / failed")] = None,
    since: Annotated[str | None, Query(alias="from", description="起始日期（含），YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(alias="to", description="截止日期（含），YYYY-MM-DD")] = None,
) -> audit.AuditQuery:
    """The filters of the audit view (Beijing dates)."""
    if event_type and event_type not in audit.EVENT_TYPES:
        raise HTTPException(400, f"未知事件类型：{event_type}")
    if outcome and outcome not in audit.OUTCOMES:
        raise HTTPException(400, f"未知结果：{outcome}（可选：ok、denied、failed）")
    start, end = parse_day(since, "起始日期"), parse_day(until, "截止日期")
    return audit.AuditQuery(
        event_type=event_type or None,
        actor=actor or None,
        object=object or None,
        outcome=outcome or None,
        since=datetime.combine(start, datetime.min.time(), CST) if start else None,
        until=datetime.combine(end + timedelta(days=1), datetime.min.time(), CST) if end else None,
    )


AuditQueryDep = Annotated[audit.AuditQuery, Depends(audit_query)]
