"""Rebuild the search index from the database and the stored derived files.

The index is derived data: every processed record's document is made again from its `text`
and `pages` files, then documents of records that no longer exist are pruned. Searches keep
working throughout: the embedded index replaces documents one batch at a time; Elasticsearch
fills a new index and swaps its alias when it is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.models import ProcessingStatus, Record, utcnow
from indexer.backend import recreate_index
from indexer.documents import IndexDoc
from indexer.parallel import analysed_batches
from indexer.tantivy_index import IndexSchemaError
from pipelines.context import Services
from pipelines.documents import documents_for

BATCH = 256


def _all_documents(svc: Services, ids: list[int]) -> Iterator[IndexDoc]:
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with Session(svc.engine) as s:
            records = list(
                s.scalars(
                    select(Record)
                    .where(Record.id.in_(chunk))
                    .options(selectinload(Record.files), selectinload(Record.case))
                )
            )
            yield from documents_for(svc.store, records)


def _processed_ids(svc: Services, since: datetime | None = None) -> list[int]:
    with Session(svc.engine) as s:
        stmt = select(Record.id).where(Record.status == ProcessingStatus.PROCESSED)
        if since is not None:
            stmt = stmt.where(Record.updated_at >= since)
        return list(s.scalars(stmt.order_by(Record.id)))


def reindex(svc: Services, on_progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Re-make every processed record's document (analysis on every core); returns counts.

    Records changed while the rebuild ran are indexed again afterwards, and documents of
    records deleted meanwhile are pruned, so nothing done during a rebuild is lost.
    """
    try:
        index = svc.index
    except IndexSchemaError:
        # An index built by an older schema cannot be opened: start it afresh.
        index = recreate_index(svc.settings)
        svc.__dict__["index"] = index
    started = utcnow() - timedelta(seconds=1)  # margin for clock granularity
    ids = _processed_ids(svc)
    done = 0

    def batches() -> Iterator[list[IndexDoc]]:
        nonlocal done
        for batch in analysed_batches(_all_documents(svc, ids), batch=BATCH):
            yield batch
            done += len(batch)
            if on_progress:
                on_progress(done, len(ids))

    index.rebuild(batches())
    changed = _processed_ids(svc, since=started)
    for batch in analysed_batches(_all_documents(svc, changed), batch=BATCH):
        index.upsert(batch)
    pruned = index.prune(_processed_ids(svc))
    return {"indexed": done, "caught_up": len(changed), "pruned": pruned, "total": index.count()}
