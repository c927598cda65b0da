"""Sensitive spans (第二十八条): the archivist marks what detection missed and dismisses what
it got wrong; each change is one audited ``spans_edit``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive import audit
from archive.actor import Actor
from archive.models import Record
from archive.permissions import Action
from pipelines.context import Services
from pipelines.sensitive import SpanError, add_span, set_active
from search_api.services import NotFound, ServiceError, require


def _exists(svc: Services, record_id: int) -> None:
    with Session(svc.engine) as s:
        if s.get(Record, record_id) is None:
            raise NotFound("记录不存在")


def mark_span(svc: Services, who: Actor, record_id: int, text: str, kind: str) -> int:
    """Mark every occurrence of ``text`` in the record as ``kind``; returns how many were found."""
    require(who, Action.EDIT_SPANS)
    _exists(svc, record_id)
    try:
        found = add_span(svc, record_id, text=text, kind=kind, by=who.shown_name)
    except SpanError as exc:
        raise ServiceError(str(exc)) from None
    audit.record(svc.engine, "spans_edit", who, f"record:{record_id}", kind=kind, added=found)
    return found


def set_spans_active(svc: Services, who: Actor, record_id: int, ids: list[int], active: bool) -> int:
    """Dismiss (``active`` false) or restore spans of the record; returns how many changed."""
    require(who, Action.EDIT_SPANS)
    _exists(svc, record_id)
    try:
        changed = set_active(svc, record_id, ids, active=active, by=who.shown_name)
    except SpanError as exc:
        raise ServiceError(str(exc)) from None
    audit.record(
        svc.engine,
        "spans_edit",
        who,
        f"record:{record_id}",
        ids=sorted(set(ids)),
        active=active,
        changed=changed,
    )
    return changed
