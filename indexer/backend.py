"""The search-index contract and the settings switch that picks an implementation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from archive.settings import Settings
from indexer.documents import AccessFilter, IndexDoc, SearchQuery, SearchResult


@runtime_checkable
class SearchIndex(Protocol):
    """A full-text index of records."""

    name: str

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        """Add or replace documents (keyed by record_id) and make them searchable."""
        ...

    def delete(self, record_ids: Sequence[int]) -> None:
        """Remove documents."""
        ...

    def search(self, query: SearchQuery, access: AccessFilter) -> SearchResult:
        """Run a query restricted by the caller's access filter."""
        ...

    def prune(self, keep: Sequence[int]) -> int:
        """Delete documents of records not in ``keep`` (after a rebuild); returns how many."""
        ...

    def count(self) -> int:
        """Number of documents."""
        ...

    def clear(self) -> None:
        """Remove every document (before a full reindex)."""
        ...


def make_index(settings: Settings) -> SearchIndex:
    """The configured index."""
    from indexer.tantivy_index import TantivyIndex

    return TantivyIndex(settings.index_dir, heap_mb=settings.index.writer_heap_mb)
