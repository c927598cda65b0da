"""Cases, events and records built in memory for the rules engine (no database)."""

from __future__ import annotations

from datetime import date, datetime
from itertools import count

from archive.compliance.engine import CaseFacts, FindingData, evaluate
from archive.compliance.rulebook import RULES
from archive.models import (
    Case,
    CaseEvent,
    CaseOrigin,
    CaseStatus,
    EnforcementKind,
    EventKind,
    ProcessingStatus,
    Record,
    RecordForm,
    StoredFile,
)
from archive.timeutil import CST
from archive.workdays import WorkCalendar

_ids = count(1)
TODAY = date(2026, 3, 2)


def at(day: str, hm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=CST)


def case(**kw: object) -> Case:
    base: dict[str, object] = {
        "case_no": "农应急罚〔2026〕3号",
        "name": "测试案",
        "enforcement_kind": EnforcementKind.PENALTY,
        "origin": CaseOrigin.EX_OFFICIO,
        "status": CaseStatus.OPEN,
    }
    return Case(id=1, **(base | kw))


def record(title: str, doc_type: str = "", *, event: CaseEvent | None = None, **kw: object) -> Record:
    base: dict[str, object] = {
        "title": title,
        "document_type": doc_type or title,
        "form": RecordForm.TEXT,
        "mime": "application/pdf",
        "made_how": "计算机制作",
        "made_at": at("2026-02-10"),
        "made_by": "孙立军",
        "proves": "案件事实",
        "stored_at": at("2026-02-10", "16:00"),
        "status": ProcessingStatus.PROCESSED,
        "original_name": f"{title}.pdf",
        "size": 1,
        "sha256": f"{next(_ids):064d}",
        "event_id": event.id if event else None,
    }
    r = Record(id=next(_ids), **(base | kw))
    r.files = []
    return r


def sound(title: str, *, event: CaseEvent | None = None, transcribed: bool = True, **kw: object) -> Record:
    r = record(title, "录音", event=event, form=RecordForm.AUDIOVISUAL, mime="audio/mpeg", **kw)
    if transcribed:
        r.files = [StoredFile(kind="transcript", sha256="t" * 64, size=1, mime="application/json")]
    return r


def event(kind: EventKind, when: datetime, **kw: object) -> CaseEvent:
    return CaseEvent(id=next(_ids), kind=kind, occurred_at=when, **kw)


def findings(
    c: Case, events: list[CaseEvent], records: list[Record], today: date = TODAY
) -> list[FindingData]:
    return evaluate(CaseFacts(c, events, records, today, WorkCalendar()), RULES)


def rule_ids(found: list[FindingData]) -> set[str]:
    return {f.rule_id for f in found}


START = [record("立案审批表")]
