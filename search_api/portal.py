"""What a party (当事人) can reach: linked cases, own requests, granted records — redacted only.

Nothing here reads the search index or a record's unredacted files: a party's search runs over
the redacted text of the records an active grant covers, so neither a match nor a snippet nor
a facet count can reveal a hidden span (第二十八条).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import NEVER_TO_PARTIES, active_grants, linked_cases
from archive.models import AccessGrant, Case, Record
from archive.release import own_values, release_basis, request_mode
from indexer.documents import Hit, SearchResult
from indexer.highlight import first_match
from indexer.hits import make_hit
from indexer.query import parse_query
from pipelines.context import Services
from pipelines.renditions import Rendition, RenditionError, RenditionPendingError, prepare, redact_title


class NotGrantedError(LookupError):
    """No active grant covers the record (or it does not exist): never say which."""


@dataclass(frozen=True)
class Granted:
    """A record an active grant covers, and until when."""

    record_id: int
    case_id: int
    case_no: str
    title: str  # redacted
    stage: str
    form: str
    document_type: str
    made_at: datetime | None
    expires_at: datetime


def _best_grants(s: Session, user_id: int) -> dict[int, AccessGrant]:
    best: dict[int, AccessGrant] = {}
    for g in active_grants(session=s, user_id=user_id):
        for rid in g.record_ids:
            if rid not in best or g.expires_at > best[rid].expires_at:
                best[rid] = g
    return best


def keep_for(s: Session, user_id: int, case_id: int | None) -> frozenset[str]:
    """The party's own names and ID numbers in a case: not hidden from them."""
    return own_values(s, user_id=user_id, case_id=case_id)


def party_title(s: Session, record: Record, user_id: int) -> str:
    """A record's title as this party may see it."""
    return redact_title(record.title, release_basis(s, record, keep_for(s, user_id, record.case_id)).hidden)


def linked_case_records(s: Session, user_id: int) -> list[tuple[Case, list[tuple[int, str]]]]:
    """The cases linked to the party account, each with (record id, title as the party may see
    it) of its records that could ever be shown to a party (to choose what to request)."""
    out = []
    for case in linked_cases(session=s, user_id=user_id):
        records = s.scalars(
            select(Record)
            .where(Record.case_id == case.id, Record.classification.notin_(list(NEVER_TO_PARTIES)))
            .order_by(Record.id)
        )
        out.append((case, [(r.id, party_title(s, r, user_id)) for r in records]))
    return out


def granted_records(s: Session, user_id: int) -> list[Granted]:
    """Every record an active grant gives the party, never a 国家秘密 one."""
    best = _best_grants(s, user_id)
    if not best:
        return []
    rows = s.scalars(select(Record).where(Record.id.in_(sorted(best))).order_by(Record.case_id, Record.id))
    out = []
    for r in rows:
        if r.classification in NEVER_TO_PARTIES or r.case is None or r.case_id != best[r.id].case_id:
            continue  # a grant covers a record of its own case only
        out.append(
            Granted(
                record_id=r.id,
                case_id=r.case.id,
                case_no=r.case.case_no,
                title=party_title(s, r, user_id),
                stage=r.stage.value if r.stage else "",
                form=r.form.value,
                document_type=r.document_type or "",
                made_at=r.made_at,
                expires_at=best[r.id].expires_at,
            )
        )
    return out


def granted_record(s: Session, user_id: int, record_id: int) -> Granted:
    """The granted record, or NotGrantedError."""
    found = next((g for g in granted_records(s, user_id) if g.record_id == record_id), None)
    if found is None:
        raise NotGrantedError(record_id)
    return found


BLOCKED = "该记录的脱敏件未通过发布前检查，暂不能提供；档案管理员正在处理"


def rendition_for(
    svc: Services, user_id: int, record_id: int, *, make_now: bool = True
) -> tuple[Granted, Rendition]:
    """The granted record and its redacted rendition for this party, only if the release gate
    passed it (RenditionError otherwise, never naming what was found; RenditionPendingError when
    ``make_now`` is false and it is not made yet)."""
    with Session(svc.engine) as s:
        granted = granted_record(s, user_id, record_id)
        keep = keep_for(s, user_id, granted.case_id)
        grant = _best_grants(s, user_id)[record_id]
        mode = request_mode(grant.request, record_id)
    rendition = prepare(svc, record_id, keep, mode, make_now=make_now)
    if not rendition.passed:
        raise RenditionError(BLOCKED)
    return granted, rendition


def prepare_quietly(svc: Services, user_id: int, record_id: int) -> None:
    """Make the party's rendition of a record now (for the background): a blocked or failed one
    stays unsearched and is the archivist's to handle on the request page."""
    with contextlib.suppress(RenditionError, NotGrantedError):
        rendition_for(svc, user_id, record_id)


def search_granted(svc: Services, user_id: int, text: str, *, limit: int, offset: int) -> SearchResult:
    """The query language over the redacted text of the party's granted records (renditions
    already made only: a search never runs the release gate; the others are ``pending``, for
    the caller to have them made in the background)."""
    parsed = parse_query(text)  # QuerySyntaxError for the caller to report
    if not parsed.groups:  # only empty phrases or exclusions: a search for nothing finds nothing
        return SearchResult(total=0, hits=[], facets={"case_no": [], "stage": []})
    with Session(svc.engine) as s:
        granted = granted_records(s, user_id)
    hits: list[Hit] = []
    pending: list[int] = []
    for g in granted:
        try:
            rendition = rendition_for(svc, user_id, g.record_id, make_now=False)[1]
        except RenditionPendingError:
            pending.append(g.record_id)
            continue
        except RenditionError:
            continue  # not released (the gate blocked it): nothing of it is searched
        haystack = rendition.title + "\n" + rendition.text

        def has(clause: str, haystack: str = haystack) -> bool:
            return first_match(haystack, [clause]) is not None

        if not all(any(has(c.text) for c in group) for group in parsed.groups):
            continue
        if any(has(c.text) for c in parsed.excluded):
            continue
        hits.append(
            make_hit(
                record_id=g.record_id,
                score=1.0,
                title=rendition.title,
                case_no=g.case_no,
                stage=g.stage,
                raw=rendition.text,
                terms=parsed.positive,
            )
        )
    facets = {
        "case_no": Counter(h.case_no for h in hits).most_common(),
        "stage": Counter(h.stage for h in hits if h.stage).most_common(),
    }
    return SearchResult(total=len(hits), hits=hits[offset : offset + limit], facets=facets, pending=pending)
