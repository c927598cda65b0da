"""Who may see what, and the 查阅 workflow (第二十八条).

Staff roles see cases by role (档案管理员, 负责人, 法制审核人员, 系统管理员: every case) or by
assignment (执法人员: the cases they are assigned to). A 当事人 sees nothing but the records of
an active grant, and only as redacted renditions; a 国家秘密 record never. A grant comes from an
approved request: party asks (待审查) → archivist prepares the scope and checks the redactions
(待审批) → 负责人 approves or denies with a written reason. The allowed steps are one table
(:data:`TRANSITIONS`), checked in one function.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.actor import Actor
from archive.models import (
    AccessGrant,
    AccessRequest,
    Case,
    CaseAssignment,
    Classification,
    Party,
    PartyLink,
    ProcessingStatus,
    Record,
    RequestStatus,
    Role,
    User,
)
from archive.permissions import ROLES_FOR, Action, may
from archive.release import release_problems

SEES_EVERY_CASE = ROLES_FOR[Action.SEE_EVERY_CASE]
NEVER_TO_PARTIES = frozenset({Classification.STATE_SECRET})
PARTY_LEVELS = frozenset(c.value for c in Classification if c not in NEVER_TO_PARTIES)
MAX_GRANT_DAYS = 180


class AccessError(ValueError):
    """A request, review, decision or link was refused; the message says why (in Chinese)."""


# (from, to) → the action that step is (its roles come from the permission table)
TRANSITIONS: dict[tuple[RequestStatus, RequestStatus], Action] = {
    (RequestStatus.SUBMITTED, RequestStatus.REVIEWED): Action.REVIEW_REQUEST,
    (RequestStatus.REVIEWED, RequestStatus.REVIEWED): Action.REVIEW_REQUEST,  # scope revised
    (RequestStatus.REVIEWED, RequestStatus.APPROVED): Action.DECIDE_REQUEST,
    (RequestStatus.SUBMITTED, RequestStatus.DENIED): Action.DECIDE_REQUEST,
    (RequestStatus.REVIEWED, RequestStatus.DENIED): Action.DECIDE_REQUEST,
    (RequestStatus.SUBMITTED, RequestStatus.WITHDRAWN): Action.REQUEST_ACCESS,
    (RequestStatus.REVIEWED, RequestStatus.WITHDRAWN): Action.REQUEST_ACCESS,
}


def check_transition(current: RequestStatus, to: RequestStatus, role: Role) -> None:
    """Refuse a step the workflow table does not allow for this role."""
    action = TRANSITIONS.get((current, to))
    if action is None:
        raise AccessError(f"申请当前为“{current.value}”，不能改为“{to.value}”")
    if not may(role, action):
        raise AccessError(f"{role.value}不能把“{current.value}”的申请改为“{to.value}”")


def now_utc() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


def active_grants(*, session: Session, user_id: int, now: datetime | None = None) -> list[AccessGrant]:
    """The user's grants that are neither expired nor revoked."""
    now = now or now_utc()
    rows = session.scalars(
        select(AccessGrant).where(AccessGrant.user_id == user_id, AccessGrant.revoked_at.is_(None))
    )
    return [g for g in rows if (g.expires_at or now) > now]


def forget_in_grants(session: Session, record_id: int) -> None:
    """A deleted record leaves every grant and request that names it."""
    for grant in session.scalars(select(AccessGrant)):
        if record_id in grant.record_ids:
            grant.record_ids = [r for r in grant.record_ids if r != record_id]
    for req in session.scalars(select(AccessRequest)):
        for field in ("scope", "requested_records"):
            ids = getattr(req, field)
            if ids and record_id in ids:
                setattr(req, field, [r for r in ids if r != record_id])


def granted_pairs(*, session: Session, user_id: int) -> frozenset[tuple[int, int]]:
    """(case id, record id) of every record an active grant of the user names: a grant covers a
    record only while that record is in the grant's case."""
    return frozenset(
        (g.case_id, rid) for g in active_grants(session=session, user_id=user_id) for rid in g.record_ids
    )


@dataclass(frozen=True)
class Visibility:
    """What a user may see: ``None`` means no restriction on that axis."""

    case_nos: frozenset[str] | None = None
    record_ids: frozenset[int] | None = None
    classifications: frozenset[str] | None = None
    redacted: bool = False  # only redacted renditions (a party)


def visibility(*, session: Session, user_id: int, role: Role) -> Visibility:
    """What this user may see now; every query is filtered by it on the server."""
    if role in SEES_EVERY_CASE:
        return Visibility()
    if role is Role.OFFICER:
        case_nos = session.scalars(
            select(Case.case_no)
            .join(CaseAssignment, CaseAssignment.case_id == Case.id)
            .where(CaseAssignment.user_id == user_id)
        )
        return Visibility(case_nos=frozenset(case_nos))
    if role is Role.PARTY:
        pairs = granted_pairs(session=session, user_id=user_id)
        rows = session.execute(
            select(Record.id, Record.case_id, Case.case_no)
            .join(Case, Record.case_id == Case.id)
            .where(
                Record.id.in_(sorted({rid for _, rid in pairs})),
                Record.classification.notin_(list(NEVER_TO_PARTIES)),
            )
        ).all()
        visible = [(rid, case_no) for rid, case_id, case_no in rows if (case_id, rid) in pairs]
        return Visibility(
            case_nos=frozenset(c for _, c in visible),
            record_ids=frozenset(r for r, _ in visible),
            classifications=PARTY_LEVELS,
            redacted=True,
        )
    return Visibility(case_nos=frozenset())


def _case(session: Session, case_no: str) -> Case:
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise AccessError(f"案件不存在：{case_no}")
    return case


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccessError(f"用户不存在：{username}")
    return user


def assign(*, session: Session, case_no: str, username: str, by: str) -> CaseAssignment:
    """Assign an officer to a case (idempotent)."""
    case, user = _case(session, case_no), _user(session, username)
    if user.role is not Role.OFFICER:
        raise AccessError(f"只能指派执法人员，{user.display_name}是{user.role.value}")
    found = session.scalar(
        select(CaseAssignment).where(CaseAssignment.case_id == case.id, CaseAssignment.user_id == user.id)
    )
    if found is None:
        found = CaseAssignment(case_id=case.id, user_id=user.id, assigned_by=by)
        session.add(found)
        session.flush()
    return found


def link_party(
    *, session: Session, username: str, case_no: str, party_name: str, id_checked: str, by: str
) -> PartyLink:
    """Link a party account to the 当事人 of a case, after an officer checked their ID."""
    if not id_checked.strip():
        raise AccessError("请写明核验身份的方式（如：身份证原件核验）")
    case, user = _case(session, case_no), _user(session, username)
    if user.role is not Role.PARTY:
        raise AccessError(f"只能关联当事人账号，{user.display_name}是{user.role.value}")
    party = session.scalar(select(Party).where(Party.case_id == case.id, Party.name == party_name))
    if party is None:
        raise AccessError(f"案件 {case_no} 没有当事人“{party_name}”")
    link = select(PartyLink).where(PartyLink.user_id == user.id, PartyLink.party_id == party.id)
    found = session.scalar(link)
    if found is None:
        found = PartyLink(user_id=user.id, party_id=party.id, id_checked=id_checked.strip(), linked_by=by)
        session.add(found)
        session.flush()
    return found


def linked_cases(*, session: Session, user_id: int) -> list[Case]:
    """Cases where the party account is linked to a 当事人."""
    return list(
        session.scalars(
            select(Case)
            .join(Party, Party.case_id == Case.id)
            .join(PartyLink, PartyLink.party_id == Party.id)
            .where(PartyLink.user_id == user_id)
            .order_by(Case.id)
            .distinct()
        )
    )


def _requestable(session: Session, case_id: int) -> set[int]:
    """Records of the case a party may ask for (never a 国家秘密 one)."""
    return set(
        session.scalars(
            select(Record.id).where(
                Record.case_id == case_id, Record.classification.notin_(list(NEVER_TO_PARTIES))
            )
        )
    )


def create_request(
    *, session: Session, actor: Actor, case_no: str, record_ids: Iterable[int] | None, reason: str
) -> AccessRequest:
    """A party asks to view a case (``record_ids`` None) or chosen records, with a reason."""
    if actor.role != Role.PARTY or actor.user_id is None:
        raise AccessError("只有当事人账号可以提出查阅申请")
    reason = reason.strip()
    if len(reason) < 4:
        raise AccessError("请写明查阅理由（至少 4 个字）")
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or case.id not in {c.id for c in linked_cases(session=session, user_id=actor.user_id)}:
        # the same answer whether the case exists or not
        raise AccessError("只能申请查阅与您的账号关联的案件；如需关联，请携带身份证件到执法机关办理")
    wanted = sorted(set(record_ids)) if record_ids is not None else None
    if wanted is not None:
        if not wanted:
            raise AccessError("请至少选择一份记录，或申请查阅整个案件")
        if not set(wanted) <= _requestable(session, case.id):
            # one answer whether the record is of another case, does not exist or is 国家秘密
            raise AccessError("所选记录中有不能申请查阅的记录")
    req = AccessRequest(requester_id=actor.user_id, case_id=case.id, requested_records=wanted, reason=reason)
    session.add(req)
    session.flush()
    return req


def _request(session: Session, request_id: int) -> AccessRequest:
    req = session.get(AccessRequest, request_id)
    if req is None:
        raise AccessError(f"查阅申请不存在：{request_id}")
    return req


def review(
    *, session: Session, actor: Actor, request_id: int, scope: Iterable[int], days: int, note: str = ""
) -> AccessRequest:
    """The archivist sets the records to release (redactions checked) and the grant's length."""
    req = _request(session, request_id)
    check_transition(req.status, RequestStatus.REVIEWED, Role(actor.role))
    chosen = sorted(set(scope))
    if not chosen:
        raise AccessError("请至少选择一份可以提供查阅的记录")
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise AccessError(f"查阅期限应为 1–{MAX_GRANT_DAYS} 天")
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(chosen)))}
    for rid in chosen:
        record = records.get(rid)
        if record is None or record.case_id != req.case_id:
            raise AccessError(f"记录 {rid} 不属于该案件")
        if record.classification in NEVER_TO_PARTIES:
            raise AccessError(f"记录“{record.title}”为{record.classification.value}，不得向当事人提供")
        if record.status is not ProcessingStatus.PROCESSED:
            raise AccessError(f"记录“{record.title}”尚未处理完成（{record.status.value}），无法生成脱敏件")
    problems = release_problems(session, req, chosen)
    if problems:
        raise AccessError("；".join(problems))
    req.scope, req.days, req.review_note = chosen, days, note.strip() or None
    req.status, req.reviewed_by, req.reviewed_at = RequestStatus.REVIEWED, actor.shown_name, now_utc()
    session.flush()
    return req


def decide(
    *, session: Session, actor: Actor, request_id: int, approve: bool, reason: str
) -> AccessGrant | None:
    """The 负责人 approves (a grant starts now and lasts the reviewed days) or denies."""
    req = _request(session, request_id)
    to = RequestStatus.APPROVED if approve else RequestStatus.DENIED
    check_transition(req.status, to, Role(actor.role))
    if len(reason.strip()) < 2:
        raise AccessError("请写明批准或驳回的理由")
    req.status, req.decided_by, req.decided_at = to, actor.shown_name, now_utc()
    req.decision_reason = reason.strip()
    if not approve:
        session.flush()
        return None
    hidden = session.scalars(
        select(Record.id).where(Record.id.in_(req.scope or []), Record.classification.in_(NEVER_TO_PARTIES))
    ).all()
    if hidden:
        raise AccessError("审查后有记录被定为国家秘密，请退回档案管理员重新审查")
    problems = release_problems(session, req, list(req.scope or []))
    if problems:
        changed = "审查后脱敏件有变化或未通过发布检查，请退回档案管理员重新审查："
        raise AccessError(changed + "；".join(problems))
    grant = AccessGrant(
        request_id=req.id,
        user_id=req.requester_id,
        case_id=req.case_id,
        record_ids=list(req.scope or []),
        granted_by=actor.shown_name,
        granted_at=req.decided_at,
        expires_at=req.decided_at + timedelta(days=req.days),
    )
    session.add(grant)
    session.flush()
    return grant


def withdraw(*, session: Session, actor: Actor, request_id: int) -> AccessRequest:
    """The party withdraws a request not yet decided."""
    req = _request(session, request_id)
    if req.requester_id != actor.user_id:
        raise AccessError(f"查阅申请不存在：{request_id}")
    check_transition(req.status, RequestStatus.WITHDRAWN, Role(actor.role))
    req.status = RequestStatus.WITHDRAWN
    session.flush()
    return req


def revoke(*, session: Session, actor: Actor, grant_id: int, reason: str) -> AccessGrant:
    """End a grant at once (负责人 or 档案管理员), with a reason."""
    if not may(actor.role, Action.REVOKE_GRANT):
        raise AccessError(f"{actor.role}不能撤销查阅授权")
    grant = session.get(AccessGrant, grant_id)
    if grant is None:
        raise AccessError(f"查阅授权不存在：{grant_id}")
    if grant.revoked_at is not None:
        raise AccessError("该授权已撤销")
    if len(reason.strip()) < 2:
        raise AccessError("请写明撤销理由")
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = now_utc(), actor.shown_name, reason.strip()
    session.flush()
    return grant


def requests_for(*, session: Session, actor: Actor) -> list[AccessRequest]:
    """A party's own requests; for staff who work the flow, every request (newest first)."""
    stmt = select(AccessRequest).order_by(AccessRequest.id.desc())
    if actor.role == Role.PARTY:
        stmt = stmt.where(AccessRequest.requester_id == actor.user_id)
    elif not may(actor.role, Action.SEE_OVERSIGHT):
        return []
    return list(session.scalars(stmt))


def grant_state(grant: AccessGrant, now: datetime | None = None) -> str:
    """有效 / 已过期 / 已撤销."""
    now = now or now_utc()
    if grant.revoked_at is not None:
        return "已撤销"
    return "有效" if (grant.expires_at or now) > now else "已过期"
