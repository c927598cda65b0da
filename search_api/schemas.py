"""API response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

# Processing states as users read them (the status API and the pages say the same words).
STATUS_LABELS = {"pending": "等待处理", "processing": "处理中", "processed": "已完成", "failed": "处理失败"}


class HealthOut(BaseModel):
    """Liveness and what the process is connected to."""

    status: str  # ok | degraded (a part it needs is unreachable: then 503)
    version: str
    database: str
    storage: str
    index: str
    queue: str  # inprocess | redis
    redis: str  # ok | unreachable | not used
    queue_depth: int | None = None


class MeOut(BaseModel):
    """The signed-in user."""

    username: str
    display_name: str
    role: str
    csrf: str  # send as X-CSRF-Token with state-changing API calls made with the session cookie


class HitOut(BaseModel):
    """One search hit."""

    record_id: int
    case_no: str
    title: str
    stage: str
    score: float
    snippet: str
    page: int | None = None  # documents: 1-based page of the first match
    start_s: float | None = None  # transcripts: start second of the matching segment


class FacetOut(BaseModel):
    """One facet value and how many matching records have it."""

    value: str
    count: int


class SearchOut(BaseModel):
    """A page of search results (and facet counts over all matches when asked)."""

    total: int
    hits: list[HitOut]
    facets: dict[str, list[FacetOut]] = {}
    pending: int = 0  # a party's granted records not searched yet: their renditions are being made


class StoredFileOut(BaseModel):
    """An original or derived file."""

    kind: str
    role: str
    sha256: str
    size: int
    mime: str


class RecordOut(BaseModel):
    """A record with its 第二十六条 metadata and processing status."""

    id: int
    case_no: str | None
    title: str
    stage: str | None
    form: str
    document_type: str | None
    doc_no: str | None
    made_how: str | None
    made_at: datetime | None
    made_by: str | None
    proves: str | None
    stored_at: datetime
    classification: str
    original_name: str
    mime: str
    size: int
    sha256: str
    page_count: int | None
    status: str
    error: str | None
    warnings: list[str]
    captured_at: datetime | None
    source_meta: dict[str, Any]
    prefilled: list[str]
    files: list[StoredFileOut]


class TranscriptVersionOut(BaseModel):
    """One version of a sound record's transcript; the highest version is current."""

    version: int
    source: str  # machine | officer
    engine: str
    author_name: str
    note: str | None
    segments: int
    sha256: str
    created_at: datetime
    current: bool = False


class CaseOut(BaseModel):
    """A case summary."""

    case_no: str
    name: str
    enforcement_kind: str
    origin: str
    case_officer: str
    status: str
    opened_at: datetime | None
    records: int


class SuggestionOut(BaseModel):
    """A completion for the search box: a 案号 or a party name."""

    kind: str
    value: str
    case_no: str


class RecordPatch(BaseModel):
    """Metadata corrections (fields left out stay as they are)."""

    model_config = {"extra": "forbid"}

    title: str | None = None
    stage: str | None = None
    document_type: str | None = None
    doc_no: str | None = None
    made_how: str | None = None
    made_at: datetime | None = None
    made_by: str | None = None
    proves: str | None = None
    classification: str | None = None
