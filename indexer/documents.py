"""What the index stores and answers: documents, queries, access filters, hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from indexer.analysis import Analysed


@dataclass(frozen=True)
class IndexDoc:
    """One search document per record."""

    record_id: int
    title: str
    text: str
    case_no: str = ""
    stage: str = ""
    form: str = ""
    document_type: str = ""
    made_by: str = ""
    classification: str = ""
    made_at: datetime | None = None
    page_starts: tuple[int, ...] = ()  # offset in ``text`` where each page begins
    # Transcripts: (offset in ``text`` where a segment begins, its start second in the recording)
    segments: tuple[tuple[int, float], ...] = ()
    analysed: Analysed | None = None  # precomputed by a worker; computed at upsert otherwise


@dataclass(frozen=True)
class AccessFilter:
    """Server-built restriction every search carries (the access layer fills it in).

    ``case_nos`` None means every case; ``classifications`` None means every level;
    ``record_ids`` None means every record. ``redacted`` callers (parties) may only be served
    redacted renditions: the index, which holds unredacted text, must refuse them.
    """

    principal: str
    case_nos: frozenset[str] | None = None
    classifications: frozenset[str] | None = None
    record_ids: frozenset[int] | None = None
    redacted: bool = False

    @classmethod
    def unrestricted(cls, principal: str) -> AccessFilter:
        """A filter for a principal allowed to see everything (e.g. the local CLI operator)."""
        return cls(principal=principal)


FACET_FIELDS = ("case_no", "stage", "form", "document_type", "made_by", "classification")
SORTS = ("relevance", "date")


@dataclass(frozen=True)
class SearchQuery:
    """A user query in the query language (indexer.query) plus filters, sort and paging."""

    text: str
    case_no: str | None = None
    stage: str | None = None
    form: str | None = None
    document_type: str | None = None
    made_by: str | None = None
    classification: str | None = None
    date_from: date | None = None  # 制作时间 from this day (Beijing time) …
    date_to: date | None = None  # … to this day, inclusive
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    facets: bool = False


@dataclass(frozen=True)
class Hit:
    """One matching record."""

    record_id: int
    score: float
    title: str
    case_no: str
    stage: str
    snippet: str
    page: int | None = None  # 1-based page of the first match, for paged documents
    start_s: float | None = None  # start second of the first matching transcript segment


@dataclass
class SearchResult:
    """Total matches, the requested page of hits, and facet counts over all matches."""

    total: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    pending: list[int] = field(default_factory=list)  # records not searched yet (a party's renditions)


class IndexUnavailableError(RuntimeError):
    """The search index cannot be reached or refused the request (the message says why)."""
