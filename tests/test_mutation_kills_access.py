"""archive/access.py at unit level, on an in-memory database: every step of the 查阅 workflow,
each refusal with its reason, and the boundaries (a grant ending this very instant, 4-character
reasons, 1 and 180 days). The release gate is tested elsewhere (tests/test_access.py, slow): here
it is replaced by a stub that answers what each test needs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from archive import access
from archive.access import AccessError, Visibility
from archive.actor import Actor
from archive.models import (
    AccessGrant,
    AccessRequest,
    Base,
    Case,
    CaseAssignment,
    CaseOrigin,
    Classification,
    EnforcementKind,
    Party,
    PartyLink,
    PartyType,
    ProcessingStatus,
    Record,
    RequestStatus,
    Role,
    User,
)

S, R, A, D, W = (
    RequestStatus.SUBMITTED,
    RequestStatus.REVIEWED,
    RequestStatus.APPROVED,
    RequestStatus.DENIED,
    RequestStatus.WITHDRAWN,
)


@pytest.fixture
def s() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@dataclass
class Gate:
    """The stubbed release gate: what it answers (empty: the records may be released) and what
    it was asked (request id, record ids)."""

    problems: list[str] = field(default_factory=list)
    calls: list[tuple[int, list[int]]] = field(default_factory=list)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    stub = Gate()

    def release_problems(session: Session, req: AccessRequest, record_ids: list[int]) -> list[str]:
        assert isinstance(session, Session) and req in session  # the gate reads the same transaction
        stub.calls.append((req.id, list(record_ids)))
        return list(stub.problems)

    monkeypatch.setattr(access, "release_problems", release_problems)
    return stub


def _user(s: Session, username: str, role: Role, name: str | None = None) -> User:
    user = User(username=username, display_name=name or username, role=role, password_hash=None)
    s.add(user)
    s.flush()
    return user


def _case(s: Session, no: str, party: str = "张三") -> Case:
    case = Case(
        case_no=no, name=f"{no}案", enforcement_kind=EnforcementKind.PENALTY, origin=CaseOrigin.EX_OFFICIO
    )
    case.parties.append(Party(name=party, party_type=PartyType.PERSON, id_number=None))
    s.add(case)
    s.flush()
    return case


def _record(
    s: Session,
    case: Case | None,
    title: str,
    classification: Classification = Classification.INTERNAL,
    status: ProcessingStatus = ProcessingStatus.PROCESSED,
) -> Record:
    record = Record(
        case=case,
        sha256=title.encode().hex()[:64].ljust(64, "0"),
        title=title,
        original_name=f"{title}.pdf",
        mime="application/pdf",
        size=1,
        classification=classification,
        status=status,
    )
    s.add(record)
    s.flush()
    return record


def _actor(user: User) -> Actor:
    return Actor(user.username, user.role, user_id=user.id, display_name=user.display_name)


class World:
    """Two cases, a party linked to the first, staff of every role, and records."""

    def __init__(self, s: Session) -> None:
        self.case = _case(s, "农应急罚〔2026〕1号", "张三")
        self.other = _case(s, "农应急罚〔2026〕2号", "李四")
        self.party = _user(s, "party", Role.PARTY, "张三")
        self.stranger = _user(s, "party2", Role.PARTY, "王五")
        self.officer = _user(s, "officer", Role.OFFICER, "周警官")
        self.archivist = _user(s, "arch", Role.ARCHIVIST, "李档案")
        self.leader = _user(s, "lead", Role.LEADER, "赵局长")
        self.legal = _user(s, "legal", Role.LEGAL_REVIEWER, "钱法制")
        self.admin = _user(s, "admin", Role.ADMIN, "孙管理")
        self.r1 = _record(s, self.case, "询问笔录")
        self.r2 = _record(s, self.case, "现场照片")
        self.secret = _record(s, self.case, "密件", Classification.STATE_SECRET)
        self.pending = _record(s, self.case, "未处理", status=ProcessingStatus.PENDING)
        self.foreign = _record(s, self.other, "他案记录")
        access.link_party(
            session=s,
            username="party",
            case_no=self.case.case_no,
            party_name="张三",
            id_checked="身份证",
            by="周",
        )


@pytest.fixture
def w(s: Session) -> World:
    return World(s)


def _approved(s: Session, w: World, scope: list[int], days: int = 7) -> AccessGrant:
    req = access.create_request(
        session=s, actor=_actor(w.party), case_no=w.case.case_no, record_ids=None, reason="申请查阅"
    )
    access.review(session=s, actor=_actor(w.archivist), request_id=req.id, scope=scope, days=days)
    grant = access.decide(session=s, actor=_actor(w.leader), request_id=req.id, approve=True, reason="同意")
    assert grant is not None
    return grant


# --- the workflow table ---------------------------------------------------------------------------


def test_every_step_of_the_table_is_allowed_to_its_roles_only() -> None:
    table = {
        (S, R): {Role.ARCHIVIST},
        (R, R): {Role.ARCHIVIST},
        (R, A): {Role.LEADER},
        (S, D): {Role.LEADER},
        (R, D): {Role.LEADER},
        (S, W): {Role.PARTY},
        (R, W): {Role.PARTY},
    }
    for current in RequestStatus:
        for to in RequestStatus:
            for role in Role:
                if role in table.get((current, to), set()):
                    access.check_transition(current, to, role)
                    continue
                with pytest.raises(AccessError) as refused:
                    access.check_transition(current, to, role)
                if (current, to) in table:
                    assert str(refused.value) == f"{role.value}不能把“{current.value}”的申请改为“{to.value}”"
                else:
                    assert str(refused.value) == f"申请当前为“{current.value}”，不能改为“{to.value}”"


def test_now_is_an_aware_utc_time() -> None:
    before = datetime.now(UTC)
    now = access.now_utc()
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)


# --- visibility -----------------------------------------------------------------------------------


def test_staff_who_see_every_case_have_no_restriction(s: Session, w: World) -> None:
    for user in (w.archivist, w.leader, w.legal, w.admin):
        assert access.visibility(session=s, user_id=user.id, role=user.role) == Visibility()


def test_an_officer_sees_the_cases_assigned_to_them(s: Session, w: World) -> None:
    assert access.visibility(session=s, user_id=w.officer.id, role=Role.OFFICER) == Visibility(
        case_nos=frozenset()
    )
    access.assign(session=s, case_no=w.other.case_no, username="officer", by="赵局长")
    seen = access.visibility(session=s, user_id=w.officer.id, role=Role.OFFICER)
    assert seen == Visibility(case_nos=frozenset({w.other.case_no}))
    # another officer's assignment is not theirs
    _user(s, "officer2", Role.OFFICER)
    access.assign(session=s, case_no=w.case.case_no, username="officer2", by="赵局长")
    assert access.visibility(session=s, user_id=w.officer.id, role=Role.OFFICER).case_nos == {w.other.case_no}


def test_an_unknown_role_sees_nothing(s: Session, w: World) -> None:
    seen = access.visibility(session=s, user_id=w.admin.id, role=cast(Role, "访客"))
    assert seen == Visibility(case_nos=frozenset())


def test_a_party_sees_the_records_of_active_grants_redacted(s: Session, w: World, gate: Gate) -> None:
    assert access.visibility(session=s, user_id=w.party.id, role=Role.PARTY) == Visibility(
        case_nos=frozenset(), record_ids=frozenset(), classifications=access.PARTY_LEVELS, redacted=True
    )
    _approved(s, w, [w.r1.id])
    seen = access.visibility(session=s, user_id=w.party.id, role=Role.PARTY)
    assert seen == Visibility(
        case_nos=frozenset({w.case.case_no}),
        record_ids=frozenset({w.r1.id}),
        classifications=access.PARTY_LEVELS,
        redacted=True,
    )
    assert Classification.STATE_SECRET.value not in access.PARTY_LEVELS
    assert {c.value for c in Classification} - {"国家秘密"} == access.PARTY_LEVELS


def test_a_party_never_sees_a_record_made_secret_or_moved_after_the_grant(
    s: Session, w: World, gate: Gate
) -> None:
    _approved(s, w, [w.r1.id, w.r2.id])
    w.r1.classification = Classification.STATE_SECRET
    w.r2.case_id = w.other.id
    s.flush()
    seen = access.visibility(session=s, user_id=w.party.id, role=Role.PARTY)
    assert seen.record_ids == frozenset() and seen.case_nos == frozenset()
    w.r1.classification = Classification.PRIVACY
    s.flush()
    seen = access.visibility(session=s, user_id=w.party.id, role=Role.PARTY)
    assert seen.record_ids == {w.r1.id} and seen.case_nos == {w.case.case_no}


# --- grants ---------------------------------------------------------------------------------------


def test_active_grants_end_at_their_expiry_instant_and_on_revocation(
    s: Session, w: World, gate: Gate
) -> None:
    grant = _approved(s, w, [w.r1.id], days=3)
    expires = grant.granted_at + timedelta(days=3)
    assert grant.expires_at == expires
    ids = [
        g.id for g in access.active_grants(session=s, user_id=w.party.id, now=expires - timedelta(seconds=1))
    ]
    assert ids == [grant.id]
    assert access.active_grants(session=s, user_id=w.party.id, now=expires) == []
    assert access.active_grants(session=s, user_id=w.stranger.id, now=expires - timedelta(days=1)) == []
    assert [g.id for g in access.active_grants(session=s, user_id=w.party.id)] == [grant.id]  # now by default
    assert access.grant_state(grant, expires - timedelta(seconds=1)) == "有效"
    assert access.grant_state(grant, expires) == "已过期"
    assert access.grant_state(grant) == "有效"
    access.revoke(session=s, actor=_actor(w.leader), grant_id=grant.id, reason="误批")
    assert access.active_grants(session=s, user_id=w.party.id, now=expires - timedelta(days=1)) == []
    assert access.grant_state(grant, expires - timedelta(days=1)) == "已撤销"


def test_granted_pairs_name_the_case_and_record_of_each_active_grant(
    s: Session, w: World, gate: Gate
) -> None:
    assert access.granted_pairs(session=s, user_id=w.party.id) == frozenset()
    _approved(s, w, [w.r2.id, w.r1.id])
    pairs = access.granted_pairs(session=s, user_id=w.party.id)
    assert pairs == {(w.case.id, w.r1.id), (w.case.id, w.r2.id)}


def test_a_deleted_record_leaves_every_grant_and_request(s: Session, w: World, gate: Gate) -> None:
    grant = _approved(s, w, [w.r1.id, w.r2.id])
    asked = access.create_request(
        session=s,
        actor=_actor(w.party),
        case_no=w.case.case_no,
        record_ids=[w.r2.id, w.r1.id],
        reason="再次申请",
    )
    access.review(session=s, actor=_actor(w.archivist), request_id=asked.id, scope=[w.r1.id, w.r2.id], days=5)
    whole = access.create_request(
        session=s, actor=_actor(w.party), case_no=w.case.case_no, record_ids=None, reason="整个案件"
    )
    access.forget_in_grants(s, w.r1.id)
    s.flush()
    assert grant.record_ids == [w.r2.id]
    assert asked.scope == [w.r2.id] and asked.requested_records == [w.r2.id]
    assert whole.requested_records is None and whole.scope is None
    access.forget_in_grants(s, 99999)  # a record named nowhere changes nothing
    assert grant.record_ids == [w.r2.id] and asked.scope == [w.r2.id]


def test_revocation_is_for_leaders_and_archivists_with_a_reason(s: Session, w: World, gate: Gate) -> None:
    grant = _approved(s, w, [w.r1.id])
    for user in (w.officer, w.party, w.legal, w.admin):
        with pytest.raises(AccessError, match=rf"^{user.role.value}不能撤销查阅授权$"):
            access.revoke(session=s, actor=_actor(user), grant_id=grant.id, reason="理由充分")
    with pytest.raises(AccessError, match=r"^查阅授权不存在：999$"):
        access.revoke(session=s, actor=_actor(w.leader), grant_id=999, reason="理由充分")
    with pytest.raises(AccessError, match=r"^请写明撤销理由$"):
        access.revoke(session=s, actor=_actor(w.archivist), grant_id=grant.id, reason=" 误 ")
    before = access.now_utc()
    done = access.revoke(session=s, actor=_actor(w.archivist), grant_id=grant.id, reason="  已结案  ")
    assert done is grant
    assert grant.revoked_by == "李档案" and grant.revoke_reason == "已结案"
    assert grant.revoked_at is not None and before <= grant.revoked_at <= access.now_utc()
    with pytest.raises(AccessError, match=r"^该授权已撤销$"):
        access.revoke(session=s, actor=_actor(w.leader), grant_id=grant.id, reason="再撤一次")
    other = _approved(s, w, [w.r2.id])
    access.revoke(session=s, actor=_actor(w.leader), grant_id=other.id, reason="两字")
    assert other.revoked_by == "赵局长"


# --- assignment and links -------------------------------------------------------------------------


def test_only_officers_are_assigned_and_twice_is_once(s: Session, w: World) -> None:
    with pytest.raises(AccessError, match=r"^只能指派执法人员，李档案是档案管理员$"):
        access.assign(session=s, case_no=w.case.case_no, username="arch", by="赵局长")
    with pytest.raises(AccessError, match=r"^案件不存在：无此案$"):
        access.assign(session=s, case_no="无此案", username="officer", by="赵局长")
    with pytest.raises(AccessError, match=r"^用户不存在：nobody$"):
        access.assign(session=s, case_no=w.case.case_no, username="nobody", by="赵局长")
    first = access.assign(session=s, case_no=w.case.case_no, username="officer", by="赵局长")
    assert first.id is not None
    assert (first.case_id, first.user_id, first.assigned_by) == (w.case.id, w.officer.id, "赵局长")
    again = access.assign(session=s, case_no=w.case.case_no, username="officer", by="别人")
    assert again.id == first.id and again.assigned_by == "赵局长"
    access.assign(session=s, case_no=w.other.case_no, username="officer", by="赵局长")
    assert len(s.scalars(select(CaseAssignment)).all()) == 2


def test_a_party_account_is_linked_after_an_id_check(s: Session, w: World) -> None:
    def link(**kw: str) -> PartyLink:
        args = {
            "username": "party2",
            "case_no": w.other.case_no,
            "party_name": "李四",
            "id_checked": "身份证",
        }
        return access.link_party(session=s, by="周警官", **(args | kw))

    for blank in ("", "   "):
        with pytest.raises(AccessError, match=r"^请写明核验身份的方式（如：身份证原件核验）$"):
            link(id_checked=blank)
    with pytest.raises(AccessError, match=r"^只能关联当事人账号，周警官是执法人员$"):
        link(username="officer")
    with pytest.raises(AccessError, match=r"^案件 农应急罚〔2026〕2号 没有当事人“张三”$"):
        link(party_name="张三")
    with pytest.raises(AccessError, match=r"^案件不存在：无此案$"):
        link(case_no="无此案")
    found = link(id_checked="  身份证原件核验  ")
    assert found.id is not None
    assert (found.user_id, found.id_checked, found.linked_by) == (w.stranger.id, "身份证原件核验", "周警官")
    assert s.get(Party, found.party_id).name == "李四"  # type: ignore[union-attr]
    again = link(id_checked="护照")
    assert again.id == found.id and again.id_checked == "身份证原件核验"
    assert [c.case_no for c in access.linked_cases(session=s, user_id=w.stranger.id)] == [w.other.case_no]


def test_linked_cases_are_each_case_once_in_order(s: Session, w: World) -> None:
    assert [c.id for c in access.linked_cases(session=s, user_id=w.party.id)] == [w.case.id]
    # a second 当事人 of the same case with the same account, and a link to the other case
    w.case.parties.append(Party(name="张三之父", party_type=PartyType.PERSON, id_number=None))
    s.flush()
    for name, no in (("张三之父", w.case.case_no), ("李四", w.other.case_no)):
        access.link_party(
            session=s, username="party", case_no=no, party_name=name, id_checked="身份证", by="周"
        )
    assert [c.id for c in access.linked_cases(session=s, user_id=w.party.id)] == [w.case.id, w.other.id]
    assert access.linked_cases(session=s, user_id=w.officer.id) == []


# --- requests -------------------------------------------------------------------------------------


def test_a_request_is_made_by_a_linked_party_with_a_reason(s: Session, w: World) -> None:
    def ask(actor: User, **kw: object) -> AccessRequest:
        args: dict[str, object] = {"case_no": w.case.case_no, "record_ids": None, "reason": "了解案情"}
        return access.create_request(session=s, actor=_actor(actor), **(args | kw))  # type: ignore[arg-type]

    for staff in (w.officer, w.archivist, w.leader, w.admin):
        with pytest.raises(AccessError, match=r"^只有当事人账号可以提出查阅申请$"):
            ask(staff)
    for short in ("", "三个字", "  三个字  "):
        with pytest.raises(AccessError, match=r"^请写明查阅理由（至少 4 个字）$"):
            ask(w.party, reason=short)
    unlinked = "^只能申请查阅与您的账号关联的案件；如需关联，请携带身份证件到执法机关办理$"
    for no, who in ((w.case.case_no, w.stranger), (w.other.case_no, w.party), ("无此案", w.party)):
        with pytest.raises(AccessError, match=unlinked):
            ask(who, case_no=no)
    with pytest.raises(AccessError, match=r"^请至少选择一份记录，或申请查阅整个案件$"):
        ask(w.party, record_ids=[])
    for wrong in ([w.r1.id, w.secret.id], [w.foreign.id], [12345]):
        with pytest.raises(AccessError, match=r"^所选记录中有不能申请查阅的记录$"):
            ask(w.party, record_ids=wrong)
    whole = ask(w.party, reason="  四个字的  ")
    assert whole.id is not None
    assert (whole.requester_id, whole.case_id, whole.requested_records) == (w.party.id, w.case.id, None)
    assert whole.reason == "四个字的" and whole.status is S
    chosen = ask(w.party, record_ids=iter([w.r2.id, w.pending.id, w.r2.id]), reason="四个字了")
    assert chosen.requested_records == sorted({w.r2.id, w.pending.id})
    assert chosen.id != whole.id


def test_requests_are_listed_for_the_party_and_the_staff_who_work_them(s: Session, w: World) -> None:
    mine = [
        access.create_request(
            session=s, actor=_actor(w.party), case_no=w.case.case_no, record_ids=None, reason=f"第{i}次申请"
        )
        for i in range(2)
    ]
    access.link_party(
        session=s, username="party2", case_no=w.other.case_no, party_name="李四", id_checked="身份证", by="周"
    )
    theirs = access.create_request(
        session=s, actor=_actor(w.stranger), case_no=w.other.case_no, record_ids=None, reason="他人的申请"
    )
    ids = [r.id for r in [*mine, theirs]]
    assert [r.id for r in access.requests_for(session=s, actor=_actor(w.party))] == ids[1::-1]
    assert [r.id for r in access.requests_for(session=s, actor=_actor(w.stranger))] == [theirs.id]
    for staff in (w.archivist, w.leader, w.admin):
        assert [r.id for r in access.requests_for(session=s, actor=_actor(staff))] == ids[::-1]
    for outsider in (w.officer, w.legal):
        assert access.requests_for(session=s, actor=_actor(outsider)) == []


def _submitted(s: Session, w: World) -> AccessRequest:
    return access.create_request(
        session=s, actor=_actor(w.party), case_no=w.case.case_no, record_ids=None, reason="申请查阅"
    )


def test_a_review_sets_the_scope_and_the_days(s: Session, w: World, gate: Gate) -> None:
    req = _submitted(s, w)

    def review(actor: User = w.archivist, **kw: object) -> AccessRequest:
        args: dict[str, object] = {"request_id": req.id, "scope": [w.r1.id], "days": 7}
        return access.review(session=s, actor=_actor(actor), **(args | kw))  # type: ignore[arg-type]

    with pytest.raises(AccessError, match=r"^查阅申请不存在：4040$"):
        review(request_id=4040)
    with pytest.raises(AccessError, match=r"不能把"):
        review(w.leader)
    with pytest.raises(AccessError, match=r"^请至少选择一份可以提供查阅的记录$"):
        review(scope=[])
    for days in (0, -1, 181):
        with pytest.raises(AccessError, match=r"^查阅期限应为 1–180 天$"):
            review(days=days)
    with pytest.raises(AccessError, match=rf"^记录 {w.foreign.id} 不属于该案件$"):
        review(scope=[w.r1.id, w.foreign.id])
    with pytest.raises(AccessError, match=r"^记录 777 不属于该案件$"):
        review(scope=[777])
    with pytest.raises(AccessError, match=r"^记录“密件”为国家秘密，不得向当事人提供$"):
        review(scope=[w.secret.id])
    with pytest.raises(AccessError, match=r"^记录“未处理”尚未处理完成（pending），无法生成脱敏件$"):
        review(scope=[w.pending.id])
    gate.problems.extend(["“询问笔录”尚未预览", "“现场照片”尚未经过发布检查"])
    with pytest.raises(AccessError, match=r"^“询问笔录”尚未预览；“现场照片”尚未经过发布检查$"):
        review(scope=[w.r1.id, w.r2.id])
    assert req.status is S and req.scope is None
    gate.problems.clear()
    before = access.now_utc()
    done = review(scope=[w.r2.id, w.r1.id, w.r2.id], days=1, note="  已核对  ")
    assert done is req
    assert (req.scope, req.days, req.review_note) == (sorted([w.r1.id, w.r2.id]), 1, "已核对")
    assert req.status is R and req.reviewed_by == "李档案"
    assert req.reviewed_at is not None and before <= req.reviewed_at <= access.now_utc()
    assert gate.calls[-1] == (req.id, sorted([w.r1.id, w.r2.id]))
    review(scope=[w.r1.id], days=180, note="   ")  # the scope revised, at the longest
    assert (req.scope, req.days, req.review_note, req.status) == ([w.r1.id], 180, None, R)


def test_a_decision_grants_for_the_reviewed_days_or_denies(s: Session, w: World, gate: Gate) -> None:
    req = _submitted(s, w)
    rid = req.id

    def refused(match: str, actor: User = w.leader, reason: str = "同意") -> None:
        # as its callers do (session_scope), a refused step is rolled back
        with pytest.raises(AccessError) as refusal:
            access.decide(session=s, actor=_actor(actor), request_id=rid, approve=True, reason=reason)
        assert str(refusal.value) == match
        s.rollback()

    s.commit()
    refused("申请当前为“待审查”，不能改为“已批准”")  # not reviewed yet
    access.review(session=s, actor=_actor(w.archivist), request_id=rid, scope=[w.r2.id, w.r1.id], days=9)
    s.commit()
    refused("档案管理员不能把“待审批”的申请改为“已批准”", actor=w.archivist)
    refused("请写明批准或驳回的理由", reason="  好 ")
    w.r2.classification = Classification.STATE_SECRET
    s.flush()
    refused("审查后有记录被定为国家秘密，请退回档案管理员重新审查")
    assert w.r2.classification is Classification.INTERNAL  # rolled back
    gate.problems.extend(["甲变了", "乙未检查"])
    refused("审查后脱敏件有变化或未通过发布检查，请退回档案管理员重新审查：甲变了；乙未检查")
    assert gate.calls[-1] == (rid, sorted([w.r1.id, w.r2.id]))
    gate.problems.clear()
    assert s.scalars(select(AccessGrant)).all() == []
    before = access.now_utc()
    grant = access.decide(
        session=s, actor=_actor(w.leader), request_id=rid, approve=True, reason="  同意查阅  "
    )
    req = s.get(AccessRequest, rid)  # type: ignore[assignment]
    assert grant is not None and grant.id is not None and req is not None
    assert req.status is A and req.decided_by == "赵局长" and req.decision_reason == "同意查阅"
    assert req.decided_at is not None and before <= req.decided_at <= access.now_utc()
    assert (grant.request_id, grant.user_id, grant.case_id) == (rid, w.party.id, w.case.id)
    assert grant.record_ids == sorted([w.r1.id, w.r2.id]) and grant.granted_by == "赵局长"
    assert grant.granted_at == req.decided_at
    assert grant.expires_at == req.decided_at + timedelta(days=9)


def test_a_denial_gives_no_grant(s: Session, w: World, gate: Gate) -> None:
    req = _submitted(s, w)
    gate.problems.append("不会被问到")
    before = access.now_utc()
    assert (
        access.decide(session=s, actor=_actor(w.leader), request_id=req.id, approve=False, reason="不符")
        is None
    )
    assert req.status is D and req.decided_by == "赵局长" and req.decision_reason == "不符"
    assert req.decided_at is not None and before <= req.decided_at <= access.now_utc()
    assert s.scalars(select(AccessGrant)).all() == []
    assert gate.calls == []
    with pytest.raises(AccessError, match=r"^申请当前为“已驳回”，不能改为“已批准”$"):
        access.decide(session=s, actor=_actor(w.leader), request_id=req.id, approve=True, reason="改判")


def test_only_the_requester_withdraws_and_only_before_the_decision(s: Session, w: World, gate: Gate) -> None:
    req = _submitted(s, w)
    with pytest.raises(AccessError, match=rf"^查阅申请不存在：{req.id}$"):
        access.withdraw(session=s, actor=_actor(w.stranger), request_id=req.id)
    with pytest.raises(AccessError, match=rf"^查阅申请不存在：{req.id + 100}$"):
        access.withdraw(session=s, actor=_actor(w.party), request_id=req.id + 100)
    assert access.withdraw(session=s, actor=_actor(w.party), request_id=req.id) is req
    assert req.status is W
    with pytest.raises(AccessError, match=r"^申请当前为“已撤回”，不能改为“已撤回”$"):
        access.withdraw(session=s, actor=_actor(w.party), request_id=req.id)
    reviewed = _submitted(s, w)
    access.review(session=s, actor=_actor(w.archivist), request_id=reviewed.id, scope=[w.r1.id], days=3)
    access.withdraw(session=s, actor=_actor(w.party), request_id=reviewed.id)
    assert s.get(AccessRequest, reviewed.id).status is W  # type: ignore[union-attr]


def test_each_officer_and_each_party_account_has_a_row_of_its_own(s: Session, w: World) -> None:
    _user(s, "officer2", Role.OFFICER, "吴警官")
    first = access.assign(session=s, case_no=w.case.case_no, username="officer", by="赵局长")
    second = access.assign(session=s, case_no=w.case.case_no, username="officer2", by="赵局长")
    assert first.id != second.id and (first.user_id, second.user_id) == (
        w.officer.id,
        s.scalar(select(User.id).where(User.username == "officer2")),
    )
    _user(s, "party3", Role.PARTY, "张三的代理人")
    own = access.link_party(
        session=s, username="party3", case_no=w.case.case_no, party_name="张三", id_checked="护照", by="周"
    )
    assert own.user_id != w.party.id and own.id_checked == "护照"
    assert len(s.scalars(select(PartyLink).where(PartyLink.party_id == own.party_id)).all()) == 2


def test_a_party_may_ask_for_every_record_it_may_see(s: Session, w: World, gate: Gate) -> None:
    every = [w.r1.id, w.r2.id, w.pending.id]  # all of the case but the 国家秘密 one
    req = access.create_request(
        session=s, actor=_actor(w.party), case_no=w.case.case_no, record_ids=every, reason="全部记录"
    )
    assert req.requested_records == sorted(every)
    access.review(session=s, actor=_actor(w.archivist), request_id=req.id, scope=[w.r1.id], days=2)
    assert req.review_note is None  # no note given
