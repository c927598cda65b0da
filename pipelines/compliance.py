"""Keeping compliance findings current: case events, the responsible archivist, and the
recomputation of a case's findings whenever it or its records change (第六至二十七条)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from archive import audit
from archive.actor import Actor
from archive.cases import get_by_case_no
from archive.compliance.engine import FindingData, refresh_findings_many
from archive.db import session_scope
from archive.models import (
    Case,
    CaseEvent,
    CaseOrigin,
    CaseStatus,
    EnforcementKind,
    EventKind,
    Finding,
    Party,
    PartyType,
    Record,
    Severity,
    utcnow,
)
from archive.settings import Settings
from archive.timeutil import to_local, to_utc
from archive.workdays import WorkCalendar
from pipelines.context import Services

STALE_BATCH = 50  # cases recomputed per call by refresh_stale
FACTS_BATCH = 100  # cases whose facts are loaded together (a few queries per batch, not per case)


def calendar_for(settings: Settings) -> WorkCalendar:
    """The working-day calendar: built-in official data plus the deployment's table."""
    c = settings.compliance
    return WorkCalendar(holidays=c.holidays, workdays=c.workdays, table_years=c.calendar_years)


def refresh_cases(svc: Services, case_ids: Iterable[int | None], today: date | None = None) -> None:
    """Recompute the findings of these cases (None entries — records without a case — skipped),
    loaded ``FACTS_BATCH`` cases at a time, each batch in its own short transaction."""
    ids = sorted({i for i in case_ids if i is not None})
    if not ids:
        return
    calendar = calendar_for(svc.settings)
    days = svc.settings.compliance.archive_days
    for at in range(0, len(ids), FACTS_BATCH):
        with session_scope(svc.engine) as s:
            refresh_findings_many(s, ids[at : at + FACTS_BATCH], calendar, today, days)


def refresh_records(svc: Services, record_ids: Iterable[int]) -> None:
    """Recompute the findings of the cases these records belong to."""
    ids = list(record_ids)
    if not ids:
        return
    with Session(svc.engine) as s:
        case_ids = list(s.scalars(select(Record.case_id).where(Record.id.in_(ids)).distinct()))
    refresh_cases(svc, case_ids)


@dataclass(frozen=True)
class FindingRow(FindingData):
    """A stored finding as listed: plain data read in bulk (a province's 300,000 findings as ORM
    objects took longer to load than to compute)."""

    id: int
    case_id: int


_ROW_COLUMNS = [getattr(Finding, f.name) for f in fields(FindingRow)]


def finding_fields(f: Finding | FindingRow, historical: bool = False) -> dict[str, Any]:
    """A finding as plain data (CLI JSON and API); ``historical`` for an imported paper dossier's."""
    return {
        "historical": historical,
        "rule_id": f.rule_id,
        "article": f.article,
        "severity": f.severity.value,
        "message": f.message,
        "evidence": f.evidence,
        "record_id": f.record_id,
        "event_id": f.event_id,
    }


@dataclass(frozen=True)
class CaseFindings:
    """A case and its current findings."""

    case_no: str
    name: str
    status: str
    findings: list[FindingRow]
    # An imported paper dossier: its findings are history, reported but not counted as breaches
    legacy: bool = False

    @property
    def breaches(self) -> int:
        """How many findings are breaches (违规), historical ones included."""
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> int:
        """How many breaches (违规) count: none for a legacy dossier (its findings are history)."""
        return 0 if self.legacy else self.breaches


def check(
    svc: Services, case_nos: Iterable[str] | None = None, today: date | None = None
) -> list[CaseFindings]:
    """Recompute and list findings for the given cases (all cases if None)."""
    wanted = None if case_nos is None else list(case_nos)
    with Session(svc.engine) as s:
        query = select(Case.id)
        if wanted is not None:
            query = query.where(Case.case_no.in_(wanted))
        ids = list(s.scalars(query))
    refresh_cases(svc, ids, today)
    return _read(svc, wanted)


def refresh_stale(svc: Services, case_nos: Iterable[str] | None = None, today: date | None = None) -> int:
    """Recompute the findings of the cases (all if None) not computed for ``today`` (deadlines
    move with the day; any change to a case recomputes it at once); returns how many were."""
    day = today or today_local()
    with Session(svc.engine) as s:
        query = select(Case.id).where(Case.findings_on.is_(None) | (Case.findings_on != day))
        if case_nos is not None:
            query = query.where(Case.case_no.in_(list(case_nos)))
        stale = list(s.scalars(query))
    for at in range(0, len(stale), STALE_BATCH):  # short transactions: writers are not held up
        refresh_cases(svc, stale[at : at + STALE_BATCH], day)
    return len(stale)


def current(
    svc: Services, case_nos: Iterable[str] | None = None, today: date | None = None
) -> list[CaseFindings]:
    """The findings of the given cases (all if None) as of ``today``, read from the database: only
    cases not yet computed for the day are recomputed (what pages show; `archive check`
    recomputes everything)."""
    wanted = None if case_nos is None else list(case_nos)
    refresh_stale(svc, wanted, today)
    return _read(svc, wanted)


def _read(svc: Services, wanted: list[str] | None) -> list[CaseFindings]:
    """The stored findings of the given cases (all if None), by 案号; two queries in all."""
    with Session(svc.engine) as s:
        cases = select(Case.id, Case.case_no, Case.name, Case.status, Case.legacy).order_by(Case.case_no)
        if wanted is not None:
            cases = cases.where(Case.case_no.in_(wanted))
        rows = list(s.execute(cases))
        found: dict[int, list[FindingRow]] = {}
        query = select(*_ROW_COLUMNS).order_by(Finding.severity, Finding.id)
        if wanted is not None:
            query = query.join(Case, Case.id == Finding.case_id).where(Case.case_no.in_(wanted))
        for row in s.execute(query):
            f = FindingRow(*row)
            found.setdefault(f.case_id, []).append(f)
    return [
        CaseFindings(no, name, status.value, found.get(cid, []), legacy=legacy)
        for cid, no, name, status, legacy in rows
    ]


@dataclass(frozen=True)
class Found:
    """Findings of some rules over many cases: the first ``limit`` of them and how many in all."""

    rows: list[tuple[str, Finding]]  # (案号, finding)
    total: int


def _scope(s: Session, wanted: list[str] | None) -> tuple[list[int] | None, list[int]]:
    """The ids of the given cases (None: every case) and of the legacy dossiers among them.

    Queries below filter findings by case id, never by joining every finding to its case: at a
    province's scale the join alone took longer than counting the findings.
    """
    legacy_q = select(Case.id).where(Case.legacy.is_(True))
    if wanted is None:
        return None, list(s.scalars(legacy_q))
    ids = list(s.scalars(select(Case.id).where(Case.case_no.in_(wanted))))
    return ids, list(s.scalars(legacy_q.where(Case.id.in_(ids))))


def _count(s: Session, where: list[Any], ids: list[int] | None, legacy: list[int]) -> int:
    """Findings matching ``where`` in the cases ``ids`` (all if None), legacy dossiers' excepted:
    all of them minus the legacy dossiers' few (each count reads an index)."""
    query = select(func.count()).select_from(Finding).where(*where)
    if ids is not None:
        query = query.where(Finding.case_id.in_(ids))
    total = int(s.scalar(query) or 0)
    if legacy:
        total -= int(s.scalar(query.where(Finding.case_id.in_(legacy))) or 0)
    return total


def findings_of(
    svc: Services,
    case_nos: Iterable[str] | None,
    rule_ids: Iterable[str] | None = None,
    *,
    limit: int = 50,
    today: date | None = None,
) -> Found:
    """The findings of ``rule_ids`` (all if None) in the given cases (all if None), breaches
    first, legacy dossiers left out (their findings are history); stale cases are recomputed
    first. A few indexed queries, whatever the number of cases."""
    wanted = None if case_nos is None else list(case_nos)
    refresh_stale(svc, wanted, today)
    where: list[Any] = [] if rule_ids is None else [Finding.rule_id.in_(list(rule_ids))]
    with Session(svc.engine) as s:
        ids, legacy = _scope(s, wanted)
        page = select(Case.case_no, Finding).join(Case, Case.id == Finding.case_id).where(*where)
        if ids is not None:
            page = page.where(Finding.case_id.in_(ids))
        if legacy:
            page = page.where(Finding.case_id.not_in(legacy))
        rows: list[tuple[str, Finding]] = []
        for worst in (Finding.severity == Severity.ERROR, Finding.severity != Severity.ERROR):
            if len(rows) < limit:
                query = page.where(worst).order_by(Finding.id).limit(limit - len(rows))
                rows += [(no, f) for no, f in s.execute(query)]
        total = _count(s, where, ids, legacy)
        s.expunge_all()
    return Found(rows, total)


def ranked_cases(svc: Services, case_nos: Iterable[str] | None, today: date | None = None) -> list[str]:
    """The 案号 of the given cases (all if None), most breaches first, then most findings, then by
    案号 (a legacy dossier's findings are history: it counts none); stale cases recomputed first."""
    wanted = None if case_nos is None else list(case_nos)
    refresh_stale(svc, wanted, today)
    counted = select(
        Finding.case_id, func.sum(case((Finding.severity == Severity.ERROR, 1), else_=0)), func.count()
    ).group_by(Finding.case_id)
    cases = select(Case.id, Case.case_no, Case.legacy)
    with Session(svc.engine) as s:
        if wanted is not None:
            ids, _ = _scope(s, wanted)
            assert ids is not None
            counted, cases = counted.where(Finding.case_id.in_(ids)), cases.where(Case.id.in_(ids))
        counts = {cid: (int(errors or 0), int(n)) for cid, errors, n in s.execute(counted)}
        rows = [
            (no, 0 if legacy else counts.get(cid, (0, 0))[0], counts.get(cid, (0, 0))[1])
            for cid, no, legacy in s.execute(cases)
        ]
    return [no for no, errors, n in sorted(rows, key=lambda r: (-r[1], -r[2], r[0]))]


def breaches(svc: Services, case_nos: Iterable[str] | None) -> int:
    """How many breaches (违规) the given cases (all if None) have now, legacy dossiers aside."""
    wanted = None if case_nos is None else list(case_nos)
    with Session(svc.engine) as s:
        ids, legacy = _scope(s, wanted)
        return _count(s, [Finding.severity == Severity.ERROR], ids, legacy)


def add_event(
    svc: Services,
    case_no: str,
    kind: EventKind,
    occurred_at: datetime,
    *,
    actor: Actor,
    note: str | None = None,
    av_exempt: bool = False,
) -> int:
    """Record a dated step of a case for ``actor`` (audited as ``event_add``); 执行终结 also ends
    the case. Returns the event id. ValueError when a step without recording (第十条) gives no
    reason; PermissionError once the case is filed; CaseNotFoundError for an unknown 案号."""
    if av_exempt and not (note or "").strip():
        raise ValueError("不得或不宜录音录像时须写明理由（填在说明 note 中）")
    with session_scope(svc.engine) as s:
        case = get_by_case_no(session=s, case_no=case_no)
        if case.status is CaseStatus.ARCHIVED:
            raise PermissionError(f"案件 {case_no} 已归档，不能再添加执法活动")
        when = to_utc(occurred_at)
        event = CaseEvent(case_id=case.id, kind=kind, occurred_at=when, note=note, av_exempt=av_exempt)
        s.add(event)
        if kind is EventKind.ENFORCEMENT_ENDED:
            case.status = CaseStatus.ENDED
            case.enforcement_ended_at = when
        s.flush()
        event_id, case_id = event.id, case.id
    refresh_cases(svc, [case_id])
    at = occurred_at.isoformat()
    audit.record(svc.engine, "event_add", actor, f"case:{case_no}", kind=kind.value, event=event_id, at=at)
    return event_id


def create_case(
    svc: Services,
    case_no: str,
    name: str,
    kind: EnforcementKind,
    origin: CaseOrigin,
    opened_at: datetime,
    officer: str = "",
    parties: Iterable[tuple[str, PartyType]] = (),
) -> int:
    """Register a case and its 立案 step; ValueError if the 案号 is taken."""
    with session_scope(svc.engine) as s:
        if s.scalar(select(Case.id).where(Case.case_no == case_no)) is not None:
            raise ValueError(f"案号已存在：{case_no}")
        when = to_utc(opened_at)
        case = Case(
            case_no=case_no.strip(),
            name=name.strip(),
            enforcement_kind=kind,
            origin=origin,
            case_officer=officer,
            opened_at=when,
        )
        for party_name, party_type in parties:
            case.parties.append(Party(name=party_name, party_type=party_type))
        case.events.append(CaseEvent(kind=EventKind.STARTED, occurred_at=when))
        s.add(case)
        s.flush()
        case_id = case.id
    refresh_cases(svc, [case_id])
    return case_id


def set_archivist(svc: Services, case_no: str, name: str) -> None:
    """Name the person responsible for filing and keeping the case's records (第二十七条)."""
    with session_scope(svc.engine) as s:
        case = get_by_case_no(session=s, case_no=case_no)
        case.archivist = name.strip() or None
        case_id = case.id
    refresh_cases(svc, [case_id])


def today_local() -> date:
    """Today in Beijing time (deadlines are counted in local days)."""
    return to_local(utcnow()).date()
