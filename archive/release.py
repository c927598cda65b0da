"""What a rendition for one viewer is made of, and whether a request may be released (第二十八条).

A party's rendition of a record is fixed by the record's bytes, its active spans, the names of
the case's people, what the viewer may keep (their own names and ID numbers), and how it is
released (whole, or a recording's transcript only). :func:`release_basis` gathers these and
names the rendition by a digest of them (its ``tag``): the release gate's verdict
(:class:`~archive.models.ReleaseCheck`) and the archivist's preview are both recorded against
that tag, so a span changed after the review makes the old verdict and preview no longer count.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import (
    AccessRequest,
    Party,
    PartyLink,
    Record,
    ReleaseCheck,
    SensitiveSpan,
    SpanKind,
    Witness,
)

GATE_VERSION = "gate-1"  # bump when the rendition or the gate changes what it releases
TRANSCRIPT_ONLY = "transcript"
NUMBER_KINDS = frozenset({SpanKind.ID_CARD, SpanKind.CREDIT_CODE})


def case_names(session: Session, case_id: int | None) -> list[str]:
    """Names of the parties (persons) and witnesses of a case: redacted unless they are the viewer."""
    if case_id is None:
        return []
    parties = session.scalars(
        select(Party.name).where(Party.case_id == case_id, Party.party_type == "自然人")
    ).all()
    witnesses = session.scalars(select(Witness.name).where(Witness.case_id == case_id)).all()
    return sorted({n.strip() for n in [*parties, *witnesses] if len(n.strip()) >= 2})


def plain(value: str) -> str:
    """A name or number without spacing, separators or width: the form own values compare in."""
    folded = unicodedata.normalize("NFKC", value)
    return "".join(c for c in folded if c.isalnum()).upper()


def own_values(session: Session, *, user_id: int, case_id: int | None) -> frozenset[str]:
    """The names and ID numbers (身份证号 / 统一社会信用代码) of the 当事人 this account stands for
    in the case: they stay visible to that viewer, everything else of a third person does not."""
    if case_id is None:
        return frozenset()
    rows = session.execute(
        select(Party.name, Party.id_number)
        .join(PartyLink, PartyLink.party_id == Party.id)
        .where(PartyLink.user_id == user_id, Party.case_id == case_id)
    ).all()
    return frozenset(v.strip() for row in rows for v in row if v and v.strip())


def is_own(kind: SpanKind | str, text: str, keep: frozenset[str]) -> bool:
    """The span shows the viewer's own name or ID number."""
    kind = SpanKind(kind)
    if kind is SpanKind.PERSON:
        return text.strip() in keep or plain(text) in {plain(k) for k in keep}
    if kind in NUMBER_KINDS:
        return plain(text) in {plain(k) for k in keep}
    return False


@dataclass(frozen=True)
class ReleaseBasis:
    """Everything a rendition of ``record_id`` for one viewer depends on."""

    record_id: int
    spans: tuple[tuple[int, int, str, str], ...]  # applied: start, end, kind, text
    hidden: frozenset[str]  # the values of the applied spans: never in a released byte
    dismissed: frozenset[tuple[str, str]]  # (kind, text) the archivist chose not to hide
    names: tuple[str, ...]  # the case's people to hide wherever they are read (not the viewer)
    keep: frozenset[str]
    mode: str  # "full" or TRANSCRIPT_ONLY
    manual: bool  # the archivist marked spans by hand
    tag: str


def release_basis(
    session: Session, record: Record, keep: frozenset[str] = frozenset(), mode: str = "full"
) -> ReleaseBasis:
    """The spans to apply and the rendition's tag for a viewer who keeps ``keep``."""
    rows = session.scalars(
        select(SensitiveSpan)
        .where(SensitiveSpan.record_id == record.id)
        .order_by(SensitiveSpan.start, SensitiveSpan.end)
    ).all()
    applied = tuple(
        (r.start, r.end, r.kind.value, r.text) for r in rows if r.active and not is_own(r.kind, r.text, keep)
    )
    dismissed = frozenset((r.kind.value, r.text) for r in rows if not r.active)
    names = tuple(n for n in case_names(session, record.case_id) if not is_own(SpanKind.PERSON, n, keep))
    manual = any(r.source == "manual" and r.active for r in rows)
    basis = [
        GATE_VERSION,
        record.sha256,
        [s[:3] for s in applied],
        sorted(dismissed),
        list(names),
        sorted(keep),
        mode,
        manual,
    ]
    tag = hashlib.sha256(json.dumps(basis, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
    hidden = frozenset(s[3] for s in applied if len(s[3].strip()) >= 2)
    return ReleaseBasis(record.id, applied, hidden, dismissed, names, keep, mode, manual, tag)


def request_keep(session: Session, req: AccessRequest) -> frozenset[str]:
    """What the requester of ``req`` keeps visible."""
    return own_values(session, user_id=req.requester_id, case_id=req.case_id)


def request_mode(req: AccessRequest, record_id: int) -> str:
    """How the request releases a record: "full" or TRANSCRIPT_ONLY."""
    return (req.release_modes or {}).get(str(record_id), "full")


def check_of(session: Session, record_id: int, tag: str) -> ReleaseCheck | None:
    """The gate's verdict on that rendition, if it was checked."""
    found = select(ReleaseCheck).where(ReleaseCheck.record_id == record_id, ReleaseCheck.tag == tag)
    return session.scalar(found)


def release_problems(session: Session, req: AccessRequest, record_ids: list[int]) -> list[str]:
    """Why these records of ``req`` may not be released yet (empty: they may): each must have been
    previewed by the archivist as the requester will get it, and have passed the release gate."""
    keep = request_keep(session, req)
    problems: list[str] = []
    for rid in record_ids:
        record = session.get(Record, rid)
        if record is None:
            problems.append(f"记录 {rid} 不存在")
            continue
        basis = release_basis(session, record, keep, request_mode(req, rid))
        seen = (req.previews or {}).get(str(rid)) or {}
        if seen.get("tag") != basis.tag:
            problems.append(f"“{record.title}”的脱敏件尚未预览，或预览后遮盖范围有变化：请先打开预览核对")
            continue
        check = check_of(session, rid, basis.tag)
        if check is None:
            problems.append(f"“{record.title}”尚未经过发布检查")
        elif not check.passed:
            problems.append(f"“{record.title}”未通过发布检查：{check.reason}")
    return problems
