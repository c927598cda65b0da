"""The embedded index ranks common queries from the best-worded records first
(``TantivyIndex._best_by_words``): its pages, totals and facets must be exactly those of scoring
every match."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

import indexer.tantivy_index as ti
from indexer.documents import AccessFilter, IndexDoc, SearchQuery
from indexer.tantivy_index import TantivyIndex
from pipelines.samples import make_index_docs

ALL = AccessFilter.unrestricted("test")
QUERIES = [
    SearchQuery("当事人"),
    SearchQuery("危险化学品"),
    SearchQuery("责令限期整改", facets=True),
    SearchQuery("罚款", offset=20),
    SearchQuery("执法记录仪", limit=100),
    SearchQuery("危险化学品 整改", facets=True),
    SearchQuery("当事人 复议"),
    SearchQuery('"陈述、申辩"'),
    SearchQuery("当事人 -罚款"),
    SearchQuery("执法记录仪 OR 先行登记保存"),
    SearchQuery("当事人", stage="调查取证", facets=True),
    SearchQuery("危险化学品", date_from=date(2026, 3, 1), date_to=date(2026, 9, 30)),
    SearchQuery("当事人", sort="date"),
    SearchQuery("记录"),  # in every title: the title bonus decides
    SearchQuery("任人"),  # a sequence across word boundaries: matched by characters, not words
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TantivyIndex]:
    ix = TantivyIndex(Path(tmp_path_factory.mktemp("ranking")) / "index")
    docs = make_index_docs(3000, random.Random(7))
    # equal scores: the same text under different ids
    docs += [replace(docs[5], record_id=9000 + i) for i in range(40)]
    docs.append(IndexDoc(9100, "责令限期整改通知书", "当事人签收。", case_no="X", stage="审查决定"))
    ix.upsert(docs)
    yield ix


def _page(ix: TantivyIndex, q: SearchQuery, access: AccessFilter) -> tuple[object, ...]:
    ix._cache.clear()
    r = ix.search(q, access)
    return r.total, [(h.record_id, h.score) for h in r.hits], r.facets


@pytest.mark.parametrize("access", [ALL, AccessFilter("officer", frozenset({"农应急罚〔2026〕7号"}))])
def test_pages_totals_and_facets_are_those_of_scoring_every_match(
    index: TantivyIndex, access: AccessFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = 0
    best = index._best_by_words

    def counted(*args: object) -> object:
        nonlocal used
        hits = best(*args)  # type: ignore[arg-type]
        used += hits is not None
        return hits

    monkeypatch.setattr(index, "_best_by_words", counted)
    fast = [_page(index, q, access) for q in QUERIES]
    monkeypatch.setattr(ti, "WORDS_FIRST_MIN_SHARE", 2.0)  # never: every match scored
    full = [_page(index, q, access) for q in QUERIES]
    for q, a, b in zip(QUERIES, fast, full, strict=True):
        assert a == b, q
    assert sum(1 for total, _, _ in full if total) >= 10  # the queries find something
    if access is ALL:
        assert used >= 8  # the common queries took the short way
    else:
        assert used == 0  # one case's records are a small share: every match is scored


@pytest.mark.parametrize("words_first", [True, False])
def test_paging_through_equal_scores_repeats_and_skips_nothing(
    words_first: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the records say the same thing, so they all score the same: page after page lists
    each of them once, in the order one long page lists them."""
    if not words_first:
        monkeypatch.setattr(ti, "WORDS_FIRST_MIN_SHARE", 2.0)
    ix = TantivyIndex(tmp_path / "index")
    ids = list(range(1, 201))
    random.Random(3).shuffle(ids)
    same = "询问当事人：仓库安全出口已清理。"
    for at in range(0, 200, 50):  # several segments
        ix.upsert(
            [
                IndexDoc(i, "笔录", same if i % 2 else "现场检查：仓库安全出口畅通。")
                for i in ids[at : at + 50]
            ]
        )
    paged: list[int] = []
    for offset in range(0, 120, 20):
        paged += [h.record_id for h in ix.search(SearchQuery("当事人", offset=offset), ALL).hits]
    ix._cache.clear()
    whole = [h.record_id for h in ix.search(SearchQuery("当事人", limit=120), ALL).hits]
    assert sorted(paged) == list(range(1, 201, 2))
    assert paged == whole
