"""Analysis on every core, in worker processes forked after the segmenter is loaded."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace

from indexer.analysis import analyse, words
from indexer.documents import IndexDoc


def _warm() -> None:
    words("预热")  # load the segmenter once, before forking


def _analyse(doc: IndexDoc) -> IndexDoc:
    return replace(doc, analysed=analyse(doc.title, doc.text))


def analysed_batches(
    docs: Iterable[IndexDoc], batch: int = 1000, processes: int | None = None
) -> Iterator[list[IndexDoc]]:
    """Yield ``docs`` with their analysis attached, ``batch`` at a time, analysed in parallel."""
    processes = processes or os.cpu_count() or 1
    _warm()  # before forking, so every worker shares the loaded dictionary
    if processes == 1:
        yield from _batched(map(_analyse, docs), batch)
        return
    with mp.get_context("fork").Pool(processes) as pool:
        # imap keeps the workers analysing the next documents while the caller indexes these.
        yield from _batched(pool.imap(_analyse, docs, chunksize=32), batch)


def _batched(docs: Iterable[IndexDoc], size: int) -> Iterator[list[IndexDoc]]:
    out: list[IndexDoc] = []
    for doc in docs:
        out.append(doc)
        if len(out) == size:
            yield out
            out = []
    if out:
        yield out
