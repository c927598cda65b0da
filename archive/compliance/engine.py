"""The rules engine: each rule of docs/rules.md is data (id, article, severity, message) plus a small
predicate over a case's facts; evaluating a case gives its findings with the evidence used.

Findings are stored per case (table ``findings``) and recomputed whenever the case, its events or
its records change (``refresh_findings``), and by ``archive check``; deadline rules depend on
today, so a listing recomputes cases whose findings were computed on an earlier day.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session, selectinload

from archive.models import (
    Case,
    CaseEvent,
    Finding,
    ProcessingStatus,
    Record,
    RecordForm,
    Severity,
    StoredFile,
    utcnow,
)
from archive.timeutil import to_local
from archive.workdays import WorkCalendar


@dataclass(frozen=True)
class Hit:
    """One breach a predicate found: the message's details and the evidence behind it."""

    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)
    record_id: int | None = None
    event_id: int | None = None
    severity: Severity | None = None  # overrides the rule's (e.g. a deadline not yet passed)


class RecordFacts(Protocol):
    """What the rules read of a record: a `Record`, or a row of `RULE_COLUMNS` read in bulk."""

    @property
    def id(self) -> int: ...
    @property
    def case_id(self) -> int | None: ...
    @property
    def event_id(self) -> int | None: ...
    @property
    def form(self) -> RecordForm: ...
    @property
    def document_type(self) -> str | None: ...
    @property
    def title(self) -> str: ...
    @property
    def made_how(self) -> str | None: ...
    @property
    def made_at(self) -> datetime | None: ...
    @property
    def made_by(self) -> str | None: ...
    @property
    def proves(self) -> str | None: ...
    @property
    def stored_at(self) -> datetime: ...
    @property
    def mime(self) -> str: ...
    @property
    def source_meta(self) -> dict[str, Any] | None: ...
    @property
    def status(self) -> ProcessingStatus: ...
    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True)
class CaseFacts:
    """What the predicates may look at."""

    case: Case
    events: list[CaseEvent]
    records: Sequence[RecordFacts]
    today: date
    calendar: WorkCalendar
    archive_days: int = 30  # 第二十七条: 30 days unless a law sets another period
    # Ids of the records that have a transcript, when loaded in bulk (then the records' files are
    # not loaded); None: read each record's files.
    transcribed: frozenset[int] | None = None
    # What the rules work out once per case and reuse (e.g. which records are audio-visual)
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def has_transcript(self, record: RecordFacts) -> bool:
        """Whether the record has its transcript (第二十六条)."""
        if self.transcribed is not None:
            return record.id in self.transcribed
        from archive.media import DerivedKind, derived_file

        assert isinstance(record, Record), "a record read in bulk comes with the transcribed ids"
        return derived_file(record, DerivedKind.TRANSCRIPT) is not None

    def local_day(self, moment: datetime) -> date:
        """The Beijing-time calendar day of an instant."""
        return to_local(moment).date()


@dataclass(frozen=True)
class Rule:
    """A rule of docs/rules.md: ``message`` is shown with each hit's detail after it."""

    id: str  # e.g. art25.av_upload_deadline
    article: str  # e.g. 第二十五条
    severity: Severity
    message: str
    check: Callable[[CaseFacts], Iterable[Hit]]


@dataclass(frozen=True)
class FindingData:
    """A finding before it is stored."""

    rule_id: str
    article: str
    severity: Severity
    message: str
    evidence: dict[str, Any]
    record_id: int | None
    event_id: int | None


_DATA_COLUMNS = [Finding.case_id, *(getattr(Finding, f.name) for f in fields(FindingData))]


def evaluate(facts: CaseFacts, rules: Iterable[Rule]) -> list[FindingData]:
    """Every finding of every rule for one case."""
    out = []
    for rule in rules:
        for hit in rule.check(facts):
            out.append(
                FindingData(
                    rule_id=rule.id,
                    article=rule.article,
                    severity=hit.severity or rule.severity,
                    message=f"{rule.article}：{rule.message}" + (f"（{hit.detail}）" if hit.detail else ""),
                    evidence=hit.evidence,
                    record_id=hit.record_id,
                    event_id=hit.event_id,
                )
            )
    return out


def load_facts(
    s: Session, case_id: int, calendar: WorkCalendar, today: date, archive_days: int = 30
) -> CaseFacts:
    """A case with its events and records loaded."""
    facts = load_facts_many(s, [case_id], calendar, today, archive_days)
    if not facts:
        raise LookupError(f"案件不存在：{case_id}")
    return facts[0]


# What the rules read of a record (`RecordFacts`), read as plain rows: a hundred thousand records
# as ORM objects took most of a province-wide recomputation's time. A rule that reads one more
# column fails loudly (AttributeError) until it is added here and to `RecordFacts`.
RULE_COLUMNS = (
    Record.id,
    Record.case_id,
    Record.event_id,
    Record.form,
    Record.document_type,
    Record.title,
    Record.made_how,
    Record.made_at,
    Record.made_by,
    Record.proves,
    Record.stored_at,
    Record.mime,
    Record.source_meta,
    Record.status,
    Record.error,
)


def load_facts_many(
    s: Session, case_ids: Iterable[int], calendar: WorkCalendar, today: date, archive_days: int = 30
) -> list[CaseFacts]:
    """Many cases with their events and records, in a few queries whatever their number (which
    records have a transcript is one query, instead of every record's files)."""
    from archive.media import DerivedKind

    ids = sorted(set(case_ids))
    if not ids:
        return []
    cases = list(
        s.scalars(
            select(Case)
            .where(Case.id.in_(ids))
            .order_by(Case.id)
            .options(selectinload(Case.events), selectinload(Case.parties))
        )
    )
    records: dict[int, list[RecordFacts]] = {i: [] for i in ids}
    for row in s.execute(select(*RULE_COLUMNS).where(Record.case_id.in_(ids)).order_by(Record.id)):
        records[row.case_id].append(cast(RecordFacts, row))
    transcribed = frozenset(
        s.scalars(
            select(StoredFile.record_id)
            .join(Record, Record.id == StoredFile.record_id)
            .where(Record.case_id.in_(ids), StoredFile.kind == DerivedKind.TRANSCRIPT)
        )
    )
    return [
        CaseFacts(case, list(case.events), records[case.id], today, calendar, archive_days, transcribed)
        for case in cases
    ]


def refresh_findings(
    s: Session, case_id: int, calendar: WorkCalendar, today: date | None = None, archive_days: int = 30
) -> list[Finding]:
    """Recompute and store one case's findings (replacing the previous ones); returns them."""
    facts = load_facts(s, case_id, calendar, today or to_local(utcnow()).date(), archive_days)
    _replace(s, [facts])
    # populate_existing: a new row may take the id of one just deleted that the session still holds
    query = select(Finding).where(Finding.case_id == case_id).order_by(Finding.id)
    return list(s.scalars(query.execution_options(populate_existing=True)))


def refresh_findings_many(
    s: Session,
    case_ids: Iterable[int],
    calendar: WorkCalendar,
    today: date | None = None,
    archive_days: int = 30,
) -> int:
    """Recompute and store the findings of many cases at once (missing ids are skipped); returns
    how many findings they have."""
    return _replace(
        s, load_facts_many(s, case_ids, calendar, today or to_local(utcnow()).date(), archive_days)
    )


_KEPT = 1000  # finding ids per DELETE statement


def _same(case_id: int, d: Any) -> tuple[Any, ...]:
    """What makes two findings of a case the same finding (``d``: a `FindingData` or a stored row)."""
    evidence = json.dumps(d.evidence, ensure_ascii=False, sort_keys=True, default=str)
    return (case_id, d.rule_id, d.article, d.severity, d.message, evidence, d.record_id, d.event_id)


def _replace(s: Session, facts: list[CaseFacts]) -> int:
    """Make the stored findings of these cases their evaluation; returns how many there are.

    Only what changed is written: a finding still there keeps its row (and its ``computed_at``,
    so that is when it was first found), those gone are deleted, new ones inserted in bulk. A
    check over a province's cases mostly finds what the last one found, and rewriting 300,000
    unchanged rows was half its time.
    """
    from archive.compliance.rulebook import RULES

    if not facts:
        return 0
    ids = [f.case.id for f in facts]
    stored: dict[tuple[Any, ...], list[int]] = {}
    for row in s.execute(select(Finding.id, *_DATA_COLUMNS).where(Finding.case_id.in_(ids))):
        stored.setdefault(_same(row.case_id, row), []).append(row.id)
    new: list[dict[str, Any]] = []
    count = 0
    for f in facts:
        for d in evaluate(f, RULES):
            count += 1
            same = stored.get(_same(f.case.id, d))
            if same:
                same.pop()
            else:
                new.append({"case_id": f.case.id, **vars(d)})
    gone = [fid for fids in stored.values() for fid in fids]
    for at in range(0, len(gone), _KEPT):
        s.execute(delete(Finding).where(Finding.id.in_(gone[at : at + _KEPT])))
    if new:
        s.execute(insert(cast(Table, Finding.__table__)), new)  # Core: ORM bulk costs 2×
    s.execute(update(Case).where(Case.id.in_(ids)).values(findings_on=facts[0].today))
    return count
