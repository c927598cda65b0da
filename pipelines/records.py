"""Editing and deleting records, keeping the search index in step with the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.access import forget_in_grants
from archive.db import session_scope
from archive.models import CaseStatus, Classification, Record, Stage
from archive.timeutil import to_utc
from pipelines.compliance import refresh_cases
from pipelines.context import Services
from pipelines.documents import documents_for

# Metadata an officer or archivist may correct (第二十六条 fields and the description).
EDITABLE = (
    "title",
    "stage",
    "document_type",
    "doc_no",
    "made_how",
    "made_at",
    "made_by",
    "proves",
    "classification",
)


class RecordFrozenError(PermissionError):
    """The record's case is filed: its records and metadata are immutable."""


class RecordMissingError(LookupError):
    """No record with this id."""


def load_for_change(s: Session, record_id: int) -> Record:
    """The record, locked for a change; RecordMissingError, or RecordFrozenError once filed."""
    record = s.scalar(
        select(Record)
        .where(Record.id == record_id)
        .options(selectinload(Record.files), selectinload(Record.case))
        .with_for_update()
    )
    if record is None:
        raise RecordMissingError(f"记录不存在：{record_id}")
    if record.case is not None and record.case.status is CaseStatus.ARCHIVED:
        raise RecordFrozenError(f"案件 {record.case.case_no} 已归档，其记录不可修改或删除")
    return record


def _coerce(name: str, value: Any) -> Any:
    if value in (None, ""):
        if name in ("title", "classification"):
            raise ValueError(f"{name} 不能为空")
        return None
    if name == "stage":
        return Stage(value)
    if name == "classification":
        return Classification(value)
    if name == "made_at":
        return to_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))
    return str(value).strip()


# How restrictive each 密级 is: moving a record down this order opens it to more eyes.
_LEVEL = {
    Classification.PUBLIC: 0,
    Classification.INTERNAL: 1,
    Classification.TRADE_SECRET: 2,
    Classification.PRIVACY: 2,
    Classification.STATE_SECRET: 3,
}


class ClassificationLoweringError(PermissionError):
    """Only a 负责人 may lower a record's 密级."""


def update_record(
    svc: Services, record_id: int, changes: Mapping[str, Any], *, may_lower: bool = False
) -> tuple[Record, dict[str, Any]]:
    """Apply metadata corrections, then re-index the record (search sees them at once); returns the
    record and what changed (a 密级 change as ``{"classification": [from, to]}``).

    Raises ValueError for an unknown field or value, RecordFrozenError on a filed case, and
    ClassificationLoweringError when the 密级 would become less restrictive and ``may_lower`` is
    False (only a 负责人 may lower it).
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError("不可修改的字段：" + "、".join(sorted(unknown)))
    with session_scope(svc.engine) as s:
        record = load_for_change(s, record_id)
        prefilled = set(record.prefilled or [])
        detail: dict[str, Any] = {}
        for name, value in changes.items():
            try:
                new = _coerce(name, value)
            except ValueError as exc:
                raise ValueError(f"字段 {name} 的值无效：{value}") from exc
            if name == "classification" and new is not record.classification:
                if _LEVEL[new] < _LEVEL[record.classification] and not may_lower:
                    raise ClassificationLoweringError(
                        f"将密级从“{record.classification.value}”降为“{new.value}”须由负责人决定"
                    )
                detail["classification"] = [record.classification.value, new.value]
            setattr(record, name, new)
            prefilled.discard(name)  # a person has now confirmed or corrected it
        record.prefilled = sorted(prefilled) or None
        s.flush()
        docs = documents_for(svc.store, [record])
        s.expunge(record)
    if docs:
        svc.index.upsert(docs)
    refresh_cases(svc, [record.case_id])  # 第二十六条 metadata may now be complete
    return record, detail


def delete_record(svc: Services, record_id: int) -> None:
    """Remove a record (registered by mistake) from the index and the database.

    The index goes first, so a crash in between leaves a record that `archive reindex`
    brings back, never a hit that points at nothing. The original stays in the object store:
    stored objects are never deleted (they may be under retention).
    """
    with Session(svc.engine) as s:
        load_for_change(s, record_id)
    svc.index.delete([record_id])
    with session_scope(svc.engine) as s:
        record = load_for_change(s, record_id)
        case_id = record.case_id
        forget_in_grants(s, record_id)
        s.delete(record)
    refresh_cases(svc, [case_id])
