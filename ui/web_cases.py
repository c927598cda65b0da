"""Pages for cases: the list, a case's timeline with upload, filing (归档), and 系统管理."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.models import (
    AuditEvent,
    Case,
    CaseAssignment,
    CaseEvent,
    CaseStatus,
    Dossier,
    EnforcementKind,
    EventKind,
    Finding,
    Party,
    PartyLink,
    ProcessingStatus,
    Record,
    Retention,
    Role,
    Severity,
    Stage,
    User,
    UserSession,
    Witness,
    stage_of,
)
from archive.permissions import Action, may
from archive.timeutil import to_local
from pipelines.compliance import current, today_local
from pipelines.dossier import catalog, ordered
from search_api.auth import check_csrf
from search_api.deps import AccessDep, Id, PrincipalDep, ServicesDep, case_in_reach, get_principal
from search_api.services import Conflict, ServiceError, cases, users
from ui.render import render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_principal)])


CASES_PER_PAGE = 50
DUE_PER_PAGE = 50  # ended cases per page of 归档
FILED_SHOWN = 50  # the latest filed dossiers on 归档 (the rest: 案件, filtered by 已归档)


def _staff(who: PrincipalDep) -> None:
    if not may(who.role, Action.USE_STAFF_PAGES):
        raise HTTPException(403, "您的角色无权查看案件")


@pages.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    svc: ServicesDep,
    access: AccessDep,
    who: PrincipalDep,
    q: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[CaseStatus | None, Query()] = None,
    kind: Annotated[EnforcementKind | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """案件: the visible cases with filters, record counts and open violations, a page at a time."""
    _staff(who)
    with Session(svc.engine) as s:
        query = select(Case).order_by(Case.opened_at.desc().nulls_last(), Case.id.desc())
        if access.case_nos is not None:
            query = query.where(Case.case_no.in_(access.case_nos))
        if status is not None:
            query = query.where(Case.status == status)
        if kind is not None:
            query = query.where(Case.enforcement_kind == kind)
        if q.strip():
            like = f"%{q.strip()}%"
            query = query.where(Case.case_no.like(like) | Case.name.like(like) | Case.case_officer.like(like))
        total = int(s.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
        shown = query.options(selectinload(Case.parties)).limit(CASES_PER_PAGE)
        cases = list(s.scalars(shown.offset((page - 1) * CASES_PER_PAGE)))
        ids = [c.id for c in cases]
        records = dict(
            s.execute(
                select(Record.case_id, func.count()).where(Record.case_id.in_(ids)).group_by(Record.case_id)
            ).all()
        )
        errors = dict(
            s.execute(
                select(Finding.case_id, func.count())
                .join(Case, Case.id == Finding.case_id)
                .where(Finding.severity == Severity.ERROR, Case.legacy.is_(False), Finding.case_id.in_(ids))
                .group_by(Finding.case_id)
            ).all()
        )
        rows = [
            {
                "c": c,
                "parties": "、".join(p.name for p in c.parties),
                "records": records.get(c.id, 0),
                "errors": errors.get(c.id, 0),
            }
            for c in cases
        ]
    ctx = {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // CASES_PER_PAGE)),
        "page_link": "/cases?"
        + urlencode({k: v for k, v in {"q": q, "status": status, "kind": kind}.items() if v})
        + ("&" if q or status or kind else "")
        + "page=",
        "q": q,
        "status": status.value if status else "",
        "kind": kind.value if kind else "",
        "statuses": [x.value for x in CaseStatus],
        "kinds": [x.value for x in EnforcementKind],
    }
    return render(request, "cases.html", ctx)


@dataclass
class StageRow:
    """One stage of the timeline: its steps and records, in time order."""

    stage: str
    events: list[CaseEvent] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)


def _moment(value: datetime | None) -> datetime:
    """A stored time, comparable (a missing one sorts last)."""
    return value or datetime.max.replace(tzinfo=UTC)


def _timeline(case: Case) -> list[StageRow]:
    rows = {s: StageRow(s.value) for s in Stage}
    loose = StageRow("未标注环节")
    for e in case.events:
        rows[stage_of(e.kind)].events.append(e)
    for r in case.records:
        (rows[r.stage] if r.stage else loose).records.append(r)
    out = [*rows.values(), loose] if loose.records else list(rows.values())
    for row in out:
        row.events.sort(key=lambda e: _moment(e.occurred_at))
        row.records.sort(key=lambda r: (_moment(r.made_at), r.id))
    return out


@pages.get("/cases/{case_no}", response_class=HTMLResponse)
def case_page(
    request: Request, case_no: str, svc: ServicesDep, access: AccessDep, who: PrincipalDep
) -> HTMLResponse:
    """A case: its parties, timeline by stage, records, findings, and the upload form."""
    _staff(who)
    with Session(svc.engine) as s:
        found = s.scalar(
            select(Case)
            .where(Case.id == case_in_reach(s, case_no, access).id)
            .options(
                selectinload(Case.parties),
                selectinload(Case.events),
                selectinload(Case.records).selectinload(Record.jobs),
            )
        )
        assert found is not None
        case = found
        timeline = _timeline(case)
        dossier = s.scalar(select(Dossier).where(Dossier.case_id == case.id))
        people = _people(s, case)
        s.expunge_all()
    (result,) = current(svc, [case_no], today=today_local())
    audit.record(svc.engine, "view", who.actor, f"case:{case_no}")
    frozen = case.status is CaseStatus.ARCHIVED
    ctx = {
        "case": case,
        "timeline": timeline,
        "findings": result.findings,
        "historical": result.legacy,
        "dossier": dossier,
        "can_upload": may(who.role, Action.UPLOAD) and not frozen,
        "can_open_dossier": may(who.role, Action.READ_DOSSIER),
        "stages": [x.value for x in Stage],
        "event_kinds": [x.value for x in EventKind if x is not EventKind.FILED],
        "events": sorted(case.events, key=lambda e: _moment(e.occurred_at)),
        "event_error": request.query_params.get("event_error"),
        "people_error": request.query_params.get("people_error"),
        "can_assign": may(who.role, Action.ASSIGN_OFFICER) and not frozen,
        "can_link": may(who.role, Action.LINK_PARTY) and not frozen,
    } | people
    return render(request, "case.html", ctx)


def _accounts(s: Session, role: Role) -> list[str]:
    return list(s.scalars(select(User.username).where(User.role == role, User.is_active)))


def _people(s: Session, case: Case) -> dict[str, Any]:
    """Who works on the case, its witnesses and the party accounts linked to its 当事人."""
    officers = list(
        s.execute(
            select(User.display_name, User.username)
            .join(CaseAssignment, CaseAssignment.user_id == User.id)
            .where(CaseAssignment.case_id == case.id)
        ).all()
    )
    links = list(
        s.execute(
            select(User.display_name, Party.name, PartyLink.id_checked, PartyLink.linked_by)
            .join(PartyLink, PartyLink.user_id == User.id)
            .join(Party, Party.id == PartyLink.party_id)
            .where(Party.case_id == case.id)
        ).all()
    )
    return {
        "officers": officers,
        "witnesses": list(s.scalars(select(Witness).where(Witness.case_id == case.id))),
        "links": links,
        "officer_accounts": _accounts(s, Role.OFFICER),
        "party_accounts": _accounts(s, Role.PARTY),
    }


@pages.post("/cases/{case_no}/people")
def people_form(
    request: Request,
    case_no: str,
    svc: ServicesDep,
    access: AccessDep,
    who: PrincipalDep,
    action: Annotated[str, Form(pattern="^(assign|witness|link)$")],
    username: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=64)] = "",
    relation: Annotated[str, Form(max_length=32)] = "证人",
    party_name: Annotated[str, Form(max_length=255)] = "",
    id_checked: Annotated[str, Form(max_length=255)] = "",
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """指派执法人员, 登记证人, 关联当事人账号: the same steps as the API, from the case page."""
    check_csrf(request, csrf)
    if not may(who.role, Action.ASSIGN_OFFICER if action == "assign" else Action.LINK_PARTY):
        raise HTTPException(403, "您的角色无权执行此操作")
    target = f"/cases/{quote(case_no)}"
    try:
        if action == "assign":
            cases.assign_officer(svc, who.actor, access, case_no, username)
        elif action == "witness":
            cases.add_witness(svc, who.actor, access, case_no, name, relation)
        else:
            cases.link_party_account(svc, who.actor, access, case_no, username, party_name, id_checked)
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return RedirectResponse(f"{target}?people_error={quote(str(exc))}#people", status_code=303)
    return RedirectResponse(f"{target}#people", status_code=303)


@pages.post("/cases/{case_no}/events")
def add_event_form(
    request: Request,
    case_no: str,
    svc: ServicesDep,
    access: AccessDep,
    who: PrincipalDep,
    kind: Annotated[EventKind, Form()],
    occurred_at: Annotated[datetime, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
    av_exempt: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """记录执法活动 (立案, 询问, 送达, 执行终结 …); the case's findings are recomputed."""
    check_csrf(request, csrf)
    if not may(who.role, Action.RECORD_ACTIVITY):
        raise HTTPException(403, "您的角色无权执行此操作")
    target = f"/cases/{quote(case_no)}"
    try:
        cases.record_activity(
            svc, who.actor, access, case_no, kind, occurred_at, note=note.strip() or None, av_exempt=av_exempt
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return RedirectResponse(f"{target}?event_error={quote(str(exc))}#events", status_code=303)
    return RedirectResponse(f"{target}#events", status_code=303)


@pages.get("/archiving", response_class=HTMLResponse)
def archiving_page(
    request: Request,
    svc: ServicesDep,
    access: AccessDep,
    who: PrincipalDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """归档: ended cases with the days left to file them (第二十七条), the most urgent first, a page
    at a time; and the latest filed dossiers."""
    if not may(who.role, Action.SEE_OVERSIGHT):
        raise HTTPException(403, "您的角色无权办理归档")
    today = today_local()
    days = svc.settings.compliance.archive_days
    with Session(svc.engine) as s:
        visible = Case.case_no.in_(access.case_nos) if access.case_nos is not None else true()
        # every ended case's days left (two columns each), then the page's cases in full
        ended_on: dict[int, date | None] = {
            case_id: to_local(ended_at).date() if ended_at else None
            for case_id, ended_at in s.execute(
                select(Case.id, Case.enforcement_ended_at).where(visible, Case.status == CaseStatus.ENDED)
            )
        }
        left_of = {
            cid: (end.toordinal() + days - today.toordinal()) if end else None
            for cid, end in ended_on.items()
        }
        order = sorted(left_of, key=lambda cid: (left_of[cid] is None, left_of[cid] or 0, cid))
        pages = max(1, -(-len(order) // DUE_PER_PAGE))
        shown = order[(page - 1) * DUE_PER_PAGE : page * DUE_PER_PAGE]
        cases = {c.id: c for c in s.scalars(select(Case).where(Case.id.in_(shown)))}
        # records and those still being processed, counted by the database for the shown cases
        counts = {
            case_id: (int(n), int(busy or 0))
            for case_id, n, busy in s.execute(
                select(
                    Record.case_id,
                    func.count(),
                    func.sum(
                        case(
                            (Record.status.in_([ProcessingStatus.PENDING, ProcessingStatus.PROCESSING]), 1),
                            else_=0,
                        )
                    ),
                )
                .where(Record.case_id.in_(shown))
                .group_by(Record.case_id)
            )
        }
        filed_total = int(
            s.scalar(
                select(func.count())
                .select_from(Dossier)
                .join(Case, Case.id == Dossier.case_id)
                .where(visible)
            )
            or 0
        )
        filed = s.execute(
            select(Case, Dossier)
            .join(Dossier, Dossier.case_id == Case.id)
            .where(visible)
            .order_by(Dossier.filed_at.desc())
            .limit(FILED_SHOWN)
        ).all()
        due = []
        for cid in shown:
            c = cases[cid]
            n, busy = counts.get(cid, (0, 0))
            due.append({"c": c, "ended": ended_on[cid], "left": left_of[cid], "records": n, "busy": busy})
        dossiers = [{"c": c, "d": d} for c, d in filed]
        s.expunge_all()
    ctx = {
        "due": due,
        "due_total": len(order),
        "page": page,
        "pages": pages,
        "dossiers": dossiers,
        "filed_total": filed_total,
        "days": days,
        "today": today,
    }
    return render(request, "archiving.html", ctx)


def _dossier_context(svc: ServicesDep, access: AccessDep, case_no: str) -> dict[str, Any]:
    with Session(svc.engine) as s:
        case = case_in_reach(s, case_no, access)
        records = list(s.scalars(select(Record).where(Record.case_id == case.id)))
        dossier = s.scalar(select(Dossier).where(Dossier.case_id == case.id))
        items = catalog(records)  # numbered in ordered() order, as filing numbers the pieces
        ids = [r.id for r in ordered(records)]
        busy = [r.title for r in records if r.status.value in ("pending", "processing")]
        s.expunge_all()
    return {
        "case": case,
        "items": list(zip(items, ids, strict=True)),
        "dossier": dossier,
        "busy": busy,
        "retentions": [x.value for x in Retention],
        "error": None,
    }


@pages.get("/cases/{case_no}/dossier", response_class=HTMLResponse)
def dossier_page(
    request: Request, case_no: str, svc: ServicesDep, access: AccessDep, who: PrincipalDep
) -> HTMLResponse:
    """卷宗: the catalog the case is (or would be) filed with; file it; export the bag."""
    if not may(who.role, Action.READ_DOSSIER):
        raise HTTPException(403, "您的角色无权办理归档")
    return render(request, "dossier.html", _dossier_context(svc, access, case_no))


@pages.post("/cases/{case_no}/dossier", response_model=None)
def file_dossier_form(
    request: Request,
    case_no: str,
    svc: ServicesDep,
    access: AccessDep,
    who: PrincipalDep,
    retention: Annotated[Retention, Form()],
    archivist: Annotated[str, Form(max_length=64)] = "",
    confirm: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """归档: number the pieces, store the catalog, lock the originals and freeze the case."""
    check_csrf(request, csrf)
    if not may(who.role, Action.FILE_CASE):
        raise HTTPException(403, "只有档案管理员可以办理归档")
    ctx = _dossier_context(svc, access, case_no)
    try:
        if not confirm:
            raise Conflict("请勾选确认：归档后记录与元数据不可再修改")
        cases.file_case(svc, who.actor, access, case_no, retention, archivist)
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return render(request, "dossier.html", ctx | {"error": str(exc)}, status_code=409)
    return RedirectResponse(f"/cases/{case_no}/dossier?filed=1", status_code=303)


def _admin(who: PrincipalDep) -> None:
    if not may(who.role, Action.MANAGE_USERS):
        raise HTTPException(403, "只有系统管理员可以管理用户")


def _users_context(svc: ServicesDep) -> dict[str, Any]:
    now = datetime.now(UTC)
    with Session(svc.engine) as s:
        users = list(s.scalars(select(User).order_by(User.role, User.username)))
        last = dict(
            s.execute(
                select(UserSession.user_id, func.max(UserSession.created_at)).group_by(UserSession.user_id)
            ).all()
        )
        assigned = dict(
            s.execute(select(CaseAssignment.user_id, func.count()).group_by(CaseAssignment.user_id)).all()
        )
        # Wrong passwords lock nothing; the administrator sees who is being guessed at.
        failures = dict(
            s.execute(
                select(AuditEvent.object, func.count())
                .where(AuditEvent.event_type == "login_failed", AuditEvent.at >= now - timedelta(days=1))
                .where(AuditEvent.object.in_([f"user:{u.username}" for u in users]))
                .group_by(AuditEvent.object)
            ).all()
        )
        s.expunge_all()
    rows = [
        {
            "u": u,
            "last": last.get(u.id),
            "failures": failures.get(f"user:{u.username}", 0),
            "cases": assigned.get(u.id, 0),
        }
        for u in users
    ]
    return {"rows": rows, "roles": [r.value for r in Role], "error": None}


@pages.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, svc: ServicesDep, who: PrincipalDep) -> HTMLResponse:
    """系统管理: accounts, their roles, state and last sign-in."""
    _admin(who)
    return render(request, "users.html", _users_context(svc))


@pages.post("/admin/users", response_model=None)
def create_user_form(
    request: Request,
    svc: ServicesDep,
    who: PrincipalDep,
    username: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    display_name: Annotated[str, Form(min_length=1, max_length=64)],
    role: Annotated[Role, Form()],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """Add an account."""
    check_csrf(request, csrf)
    try:
        users.add_user(svc, who.actor, username, display_name, role, password)
    except ServiceError as exc:
        return render(
            request, "users.html", _users_context(svc) | {"error": str(exc)}, status_code=exc.status
        )
    return RedirectResponse("/admin/users?done=added", status_code=303)


@pages.post("/admin/users/{user_id}", response_model=None)
def change_user_form(
    request: Request,
    user_id: Id,
    svc: ServicesDep,
    who: PrincipalDep,
    action: Annotated[str, Form(pattern="^(role|password|disable|enable)$")],
    role: Annotated[Role | None, Form()] = None,
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """Change an account's role, set a new password, or disable/enable it (ends its sessions)."""
    check_csrf(request, csrf)
    try:
        users.change_user(svc, who.actor, user_id, action, role=role, password=password)
    except ServiceError as exc:
        if exc.status != 422:
            raise
        return render(request, "users.html", _users_context(svc) | {"error": str(exc)}, status_code=422)
    return RedirectResponse(f"/admin/users?done={action}", status_code=303)
