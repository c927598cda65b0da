"""A confirmed plan written into the archive in one transaction: the case with its historical
dates and activities, one record per 件 (its pages as their own PDF, cut from the scan), each
with a pending processing job. Nothing is half-imported: the objects are stored first
(content-addressed, so a failure leaves at most objects no row names), then every row at once.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import select

from archive.db import session_scope
from archive.models import (
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    FileRole,
    Job,
    Party,
    PartyType,
    Record,
    RecordForm,
    StoredFile,
    utcnow,
)
from archive.storage import hash_file
from archive.timeutil import to_utc
from pipelines.compliance import refresh_cases
from pipelines.context import Services
from pipelines.detect import detect_mime, family_of
from pipelines.legacy.plan import Plan, PlannedPiece, problems
from pipelines.legacy.source import cut
from pipelines.steps import Step, done_through

PDF = "application/pdf"
SCAN_KIND = "scan"  # a 件's stored file that is the whole dossier as scanned
# A date with no time of day is taken as the start of the working day (Beijing time).
WORKDAY_START = time(9, 0)


class PlanError(ValueError):
    """The plan cannot be imported; ``problems`` lists why (Chinese)."""

    def __init__(self, found: list[str]) -> None:
        super().__init__("；".join(found))
        self.problems = found


@dataclass(frozen=True)
class Registered:
    """What the import made."""

    case_no: str
    case_id: int
    record_ids: list[int]


def moment(day: date) -> datetime:
    """A catalog date as a point in time (UTC)."""
    return to_utc(datetime.combine(day, WORKDAY_START))


def _party_type(name: str) -> PartyType:
    organisation = ("公司", "厂", "店", "中心", "合作社", "集团", "学校", "医院", "站", "场", "部")
    return PartyType.ORGANISATION if any(w in name for w in organisation) else PartyType.PERSON


@dataclass(frozen=True)
class _Kept:
    sha256: str
    size: int
    mime: str


def _store_pieces(svc: Services, source_path: Path, plan: Plan) -> list[_Kept]:
    """Each 件's original in the store: its pages cut from the scan, or its own file."""
    out: list[_Kept] = []
    with tempfile.TemporaryDirectory(prefix="dossier-cut-") as tmp:
        paged = [p for p in plan.pieces if p.file is None]
        cuts = iter(
            cut(source_path, [(p.first_index, p.last_index) for p in paged], Path(tmp)) if paged else []
        )
        for p in plan.pieces:
            path = next(cuts) if p.file is None else source_path / p.file
            if not path.is_file():
                raise PlanError([f"第 {p.seq} 件的文件 {p.file} 不在文件夹中"])
            sha256, size = hash_file(path)
            mime = PDF if p.file is None else detect_mime(path)
            svc.store.put_file(path, sha256, mime=mime, lock=True)
            out.append(_Kept(sha256, size, mime))
    return out


def made_how(piece: PlannedPiece, source_name: str) -> str:
    """制作方法 of a 件: where its pages come from."""
    if piece.file is not None:
        return f"随纸质卷宗移交的文件（{source_name}/{piece.file}）"[:255]
    pages = (
        f"第 {piece.first_index + 1} 页"
        if piece.pages == 1
        else f"第 {piece.first_index + 1}–{piece.last_index + 1} 页"
    )
    return f"纸质文书扫描（卷宗扫描件 {source_name} {pages}）"[:255]


def register(
    svc: Services, source_path: Path, plan: Plan, *, source_name: str, source_sha256: str, source_mime: str
) -> Registered:
    """Write the case and its 件 (PlanError when the plan has problems or the 案号 is taken).
    ``source_path`` is the scan as a PDF, or the folder holding each 件's file."""
    found = problems(plan)
    with session_scope(svc.engine) as s:
        if plan.case_no and s.scalar(select(Case.id).where(Case.case_no == plan.case_no)) is not None:
            found.append(f"案号 {plan.case_no} 已有案件：请核对案号，或先查看该案件")
    if found:
        raise PlanError(found)
    assert plan.opened is not None and plan.closed is not None
    source = svc.store.stat(source_sha256)  # stored when it was uploaded
    stored = _store_pieces(svc, source_path, plan)
    with session_scope(svc.engine) as s:
        opened, closed = moment(plan.opened), moment(plan.closed)
        case = Case(
            case_no=plan.case_no,
            name=plan.name,
            enforcement_kind=plan.kind,
            origin=plan.origin,
            case_officer="",
            status=CaseStatus.ENDED,
            opened_at=opened,
            enforcement_ended_at=closed,
            archivist=plan.archivist,
            legacy=True,
        )
        for name in [n for n in plan.party.replace("，", "、").split("、") if n.strip()]:
            case.parties.append(Party(name=name.strip()[:255], party_type=_party_type(name)))
        note = f"自纸质卷宗 {source_name} 导入"[:500]
        events = {EventKind.STARTED: CaseEvent(kind=EventKind.STARTED, occurred_at=opened, note=note)}
        for p in plan.pieces:
            if (
                p.activity is not None
                and p.activity not in events
                and p.activity is not EventKind.ENFORCEMENT_ENDED
            ):
                at = moment(p.day) if p.day else opened
                events[p.activity] = CaseEvent(
                    kind=p.activity, occurred_at=at, note=f"据第 {p.seq} 件“{p.title[:60]}”"
                )
        events[EventKind.ENFORCEMENT_ENDED] = CaseEvent(
            kind=EventKind.ENFORCEMENT_ENDED, occurred_at=closed, note=note
        )
        case.events.extend(events.values())
        s.add(case)
        s.flush()
        now = utcnow()
        records = []
        for n, (p, kept) in enumerate(zip(plan.pieces, stored, strict=True), start=1):
            event = events.get(p.activity) if p.activity else None
            legacy: dict[str, object] = {"source_name": source_name, "seq": p.seq}
            if p.file is None:
                legacy |= {"source_sha256": source_sha256, "pages": [p.first_index + 1, p.last_index + 1]}
            else:
                legacy["file"] = p.file
            record = Record(
                case_id=case.id,
                event_id=event.id if event is not None else None,
                piece_no=n,
                sha256=kept.sha256,
                stage=p.stage,
                form=RecordForm.AUDIOVISUAL if family_of(kept.mime).is_audiovisual else RecordForm.TEXT,
                document_type=p.document_type or None,
                title=p.title,
                doc_no=p.doc_no or None,
                made_how=made_how(p, source_name),
                made_at=moment(p.day) if p.day else None,
                made_by=p.author or None,
                stored_at=now,
                original_name=p.file or f"{n:03d}-{p.title[:80]}.pdf",
                mime=kept.mime,
                size=kept.size,
                page_count=p.pages if p.file is None else None,
                source_meta={"legacy": legacy},
            )
            record.files.append(
                StoredFile(
                    role=FileRole.ORIGINAL,
                    kind="original",
                    sha256=kept.sha256,
                    size=kept.size,
                    mime=kept.mime,
                    storage_key=kept.sha256,
                )
            )
            if p.file is None:  # the whole scan, as it came, beside each 件 cut from it
                record.files.append(
                    StoredFile(
                        role=FileRole.ORIGINAL,
                        kind=SCAN_KIND,
                        sha256=source_sha256,
                        size=source.size,
                        mime=source_mime,
                        storage_key=source_sha256,
                    )
                )
            record.jobs.append(Job(kind="process", steps=done_through(Step.STORE)))
            s.add(record)
            records.append(record)
        s.flush()
        out = Registered(plan.case_no, case.id, [r.id for r in records])
    refresh_cases(svc, [out.case_id])
    return out
