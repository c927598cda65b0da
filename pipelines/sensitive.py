"""Sensitive spans of a record: detected after processing, checked and edited by an archivist.

Spans are offsets into the record's extracted text. Re-detection (after re-processing or a
transcript correction changed the text) replaces the automatic spans but keeps what the
archivist decided: a dismissed automatic span stays dismissed, and a span marked by hand is
found again by its text wherever it now occurs (never silently dropped while its text is there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from archive.db import session_scope
from archive.models import ProcessingStatus, Record, SensitiveSpan, SpanKind
from archive.release import case_names
from pipelines.context import Services
from pipelines.derived import DerivedKind, read_derived
from pipelines.detect import family_of
from pipelines.pii import Detected, detect


class SpanError(ValueError):
    """A span edit was refused; the message says why (in Chinese)."""


@dataclass(frozen=True)
class SpanView:
    """A span as the archivist's review and the renditions see it."""

    id: int
    kind: str
    start: int
    end: int
    text: str
    source: str
    active: bool


def record_text(svc: Services, record: Record) -> str | None:
    """The record's current extracted text (the offsets of its spans), None before processing."""
    data = read_derived(svc.store, record, DerivedKind.TEXT)
    return None if data is None else data.decode("utf-8")


def _occurrences(text: str, needle: str) -> list[int]:
    out, at = [], text.find(needle)
    while needle and at >= 0:
        out.append(at)
        at = text.find(needle, at + 1)
    return out


@dataclass(frozen=True)
class Prepared:
    """Spans detected where the record was parsed (so that detection runs on every core), with
    what they were detected in: the ``spans`` step stores them only if the record's stored text
    and its case's names are still those."""

    text_sha256: str
    names: tuple[str, ...]
    spoken: bool
    found: tuple[Detected, ...]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _detected_in(s: Session, record: Record) -> tuple[tuple[str, ...], bool]:
    """What detection reads besides the text: the case's names, and whether the text is a transcript."""
    return tuple(case_names(s, record.case_id)), family_of(record.mime).is_sound


def prepare_spans(svc: Services, record: Record, text: str) -> Prepared:
    """Detect the spans of a record's parsed text without storing them (see :func:`detect_spans`)."""
    with session_scope(svc.engine) as s:
        names, spoken = _detected_in(s, record)
    return Prepared(_sha(text), names, spoken, tuple(detect(text, names=names, spoken=spoken)))


def detect_spans(svc: Services, record_id: int, prepared: Prepared | None = None) -> int:
    """(Re)detect a processed record's spans; returns how many are active now. ``prepared``:
    spans detected in the worker that parsed it, used if made from the same text and names."""
    with session_scope(svc.engine) as s:
        record = s.get(Record, record_id)
        if record is None or record.status is not ProcessingStatus.PROCESSED:
            return 0
        text = record_text(svc, record)
        if text is None:
            return 0
        names, spoken = _detected_in(s, record)
        found: Iterable[Detected]
        if prepared is not None and prepared == Prepared(_sha(text), names, spoken, prepared.found):
            found = prepared.found
        else:
            found = detect(text, names=names, spoken=spoken)
        old = list(s.scalars(select(SensitiveSpan).where(SensitiveSpan.record_id == record_id)))
        dismissed = {(o.kind, o.text) for o in old if o.source == "auto" and not o.active}
        manual = [o for o in old if o.source == "manual"]
        s.execute(delete(SensitiveSpan).where(SensitiveSpan.record_id == record_id))
        s.flush()
        rows: dict[tuple[int, int, SpanKind], SensitiveSpan] = {}
        for d in found:
            key = (d.start, d.end, d.kind)
            active = (d.kind, d.text) not in dismissed
            rows[key] = SensitiveSpan(
                record_id=record_id, kind=d.kind, start=d.start, end=d.end, text=d.text, active=active
            )
        for m in manual:
            for at in _occurrences(text, m.text):
                key = (at, at + len(m.text), m.kind)
                rows[key] = SensitiveSpan(
                    record_id=record_id,
                    kind=m.kind,
                    start=at,
                    end=at + len(m.text),
                    text=m.text,
                    source="manual",
                    active=m.active,
                    changed_by=m.changed_by,
                )
        s.add_all(rows.values())
        return sum(1 for r in rows.values() if r.active)


def spans_of(session: Session, record_id: int, *, active_only: bool = False) -> list[SpanView]:
    """The record's spans in text order."""
    stmt = select(SensitiveSpan).where(SensitiveSpan.record_id == record_id)
    if active_only:
        stmt = stmt.where(SensitiveSpan.active.is_(True))
    return [
        SpanView(r.id, r.kind.value, r.start, r.end, r.text, r.source, r.active)
        for r in session.scalars(stmt.order_by(SensitiveSpan.start, SensitiveSpan.end))
    ]


def add_span(svc: Services, record_id: int, *, text: str, kind: str, by: str) -> int:
    """Mark every occurrence of ``text`` in the record as sensitive; returns how many were found."""
    needle = text.strip()
    if not needle:
        raise SpanError("请填写要遮盖的文字")
    try:
        span_kind = SpanKind(kind)
    except ValueError:
        raise SpanError(
            f"未知的敏感信息类别：{kind}（可选：{'、'.join(k.value for k in SpanKind)}）"
        ) from None
    with session_scope(svc.engine) as s:
        record = s.get(Record, record_id)
        text_now = record_text(svc, record) if record is not None else None
        if record is None or text_now is None:
            raise SpanError("该记录尚无提取文本，无法标注")
        found = _occurrences(text_now, needle)
        if not found:
            raise SpanError(f"记录文本中没有“{needle}”")
        existing = {
            (r.start, r.end, r.kind): r
            for r in s.scalars(select(SensitiveSpan).where(SensitiveSpan.record_id == record_id))
        }
        for at in found:
            key = (at, at + len(needle), span_kind)
            if key in existing:
                existing[key].active, existing[key].changed_by = True, by
            else:
                s.add(
                    SensitiveSpan(
                        record_id=record_id,
                        kind=span_kind,
                        start=at,
                        end=at + len(needle),
                        text=needle,
                        source="manual",
                        active=True,
                        changed_by=by,
                    )
                )
        return len(found)


def set_active(svc: Services, record_id: int, span_ids: Iterable[int], *, active: bool, by: str) -> int:
    """Dismiss (``active`` False) or restore spans of a record; returns how many changed."""
    ids = sorted(set(span_ids))
    with session_scope(svc.engine) as s:
        rows = list(
            s.scalars(
                select(SensitiveSpan).where(SensitiveSpan.record_id == record_id, SensitiveSpan.id.in_(ids))
            )
        )
        if len(rows) != len(ids):
            raise SpanError("有的遮盖范围不属于该记录")
        for r in rows:
            r.active, r.changed_by = active, by
        return len(rows)
