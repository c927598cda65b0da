"""Rebuild the search index from the database and the stored derived files.

The index is derived data: every processed record's document is made again from its `text`
and `pages` files and upserted, then documents of records that no longer exist are pruned.
Searches keep working throughout (documents are replaced one batch at a time).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.models import ProcessingStatus, Record
from indexer.documents import IndexDoc
from indexer.parallel import analysed_batches
from indexer.tantivy_index import IndexSchemaError
from pipelines.context import Services
from pipelines.records import documents_for

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
            yield from documents_for(svc, records)


def reindex(svc: Services, on_progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Re-make every processed record's document (analysis on every core); returns counts."""
    try:
        index = svc.index
    except IndexSchemaError:
        # An index built by an older schema cannot be opened: start it afresh.
        shutil.rmtree(svc.settings.index_dir)
        index = svc.index
    with Session(svc.engine) as s:
        ids = list(
            s.scalars(
                select(Record.id).where(Record.status == ProcessingStatus.PROCESSED).order_by(Record.id)
            )
        )
    done = 0
    for batch in analysed_batches(_all_documents(svc, ids), batch=BATCH):
        index.upsert(batch)
        done += len(batch)
        if on_progress:
            on_progress(done, len(ids))
    pruned = index.prune(ids)
    return {"indexed": done, "pruned": pruned, "total": index.count()}
