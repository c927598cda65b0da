"""Analysis on every core: jieba segmentation is the indexing bottleneck (~165k chars/s/core)."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace

from indexer.analysis import analyse, word_tokens
from indexer.documents import IndexDoc


def _warm() -> None:
    word_tokens("预热")  # load jieba's dictionary once per worker


def _analyse(doc: IndexDoc) -> IndexDoc:
    return replace(doc, analysed=analyse(doc.title, doc.text))


def analysed_batches(
    docs: Sequence[IndexDoc], batch: int = 1000, processes: int | None = None
) -> Iterator[list[IndexDoc]]:
    """Yield ``docs`` with their analysis attached, ``batch`` at a time, analysed in parallel."""
    processes = processes or os.cpu_count() or 1
    if processes == 1 or len(docs) < 64:
        for start in range(0, len(docs), batch):
            yield [_analyse(d) for d in docs[start : start + batch]]
        return
    with mp.get_context("fork").Pool(processes, initializer=_warm) as pool:
        # imap keeps the workers analysing the next documents while the caller indexes these.
        out: list[IndexDoc] = []
        for doc in pool.imap(_analyse, docs, chunksize=32):
            out.append(doc)
            if len(out) == batch:
                yield out
                out = []
        if out:
            yield out
