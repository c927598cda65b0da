"""The search-index contract and the settings switch that picks an implementation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

    def rebuild(self, batches: Iterable[Sequence[IndexDoc]]) -> int:
        """Index every document of a full rebuild; searches keep working meanwhile.

        Returns how many were indexed. Documents of records not rebuilt are left for prune().
        """
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
    if settings.index.backend == "elasticsearch":
        from indexer.es_index import ElasticsearchIndex

        return ElasticsearchIndex(settings.index)
    from indexer.tantivy_index import TantivyIndex

    return TantivyIndex(settings.index_dir, heap_mb=settings.index.writer_heap_mb)


def recreate_index(settings: Settings) -> SearchIndex:
    """An empty index in place of one made by an older schema (embedded index only: an
    Elasticsearch rebuild always starts a new index)."""
    import shutil

    if settings.index.backend == "tantivy":
        shutil.rmtree(settings.index_dir, ignore_errors=True)
    return make_index(settings)
