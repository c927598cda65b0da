"""Rebuild the search index from the database and the stored derived files.

The index is derived data: every processed record's document is made again from its `text`
and `pages` files, then documents of records that no longer exist are pruned. A record whose
derived file is missing is skipped and named (`archive rederive` makes it again), never a crash. Searches keep
working throughout: the embedded index replaces documents one batch at a time; Elasticsearch
fills a new index and swaps its alias when it is complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.models import ProcessingStatus, Record, utcnow
from indexer.backend import recreate_index
from indexer.documents import IndexDoc
from indexer.parallel import analysed_batches
from indexer.tantivy_index import IndexSchemaError
from pipelines.context import Services
from pipelines.documents import stored_document

BATCH = 256


@dataclass(frozen=True)
class Skipped:
    """A record left out of the index: a derived file it needs cannot be read."""

    record_id: int
    title: str
    reason: str


def _all_documents(svc: Services, ids: list[int], skipped: list[Skipped]) -> Iterator[IndexDoc]:
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
            for record in records:
                try:
                    doc = stored_document(svc.store, record)
                except (KeyError, OSError) as exc:  # ObjectNotFoundError is a KeyError
                    skipped.append(Skipped(record.id, record.title, f"派生文件缺失或无法读取（{exc}）"))
                    continue
                if doc is not None:
                    yield doc


def _processed_ids(svc: Services, since: datetime | None = None) -> list[int]:
    with Session(svc.engine) as s:
        stmt = select(Record.id).where(Record.status == ProcessingStatus.PROCESSED)
        if since is not None:
            stmt = stmt.where(Record.updated_at >= since)
        return list(s.scalars(stmt.order_by(Record.id)))


def reindex(
    svc: Services, on_progress: Callable[[int, int], None] | None = None, skipped: list[Skipped] | None = None
) -> dict[str, int]:
    """Re-make every processed record's document (analysis on every core); returns counts and
    adds the records it could not read to ``skipped``.

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
    left_out: list[Skipped] = [] if skipped is None else skipped
    ids = _processed_ids(svc)
    done = 0

    def batches() -> Iterator[list[IndexDoc]]:
        nonlocal done
        for batch in analysed_batches(_all_documents(svc, ids, left_out), batch=BATCH):
            yield batch
            done += len(batch)
            if on_progress:
                on_progress(done, len(ids))

    index.rebuild(batches())
    changed = _processed_ids(svc, since=started)
    for batch in analysed_batches(_all_documents(svc, changed, left_out), batch=BATCH):
        index.upsert(batch)
    unreadable = {x.record_id for x in left_out}
    pruned = index.prune(_processed_ids(svc))
    counts = {"indexed": done, "caught_up": len(changed), "pruned": pruned, "total": index.count()}
    return counts | {"skipped": len(unreadable)}
