"""Index contract, part 3: on one generated corpus, both backends give the same hit sets and
facet counts for the same queries, and both equal a plain substring scan.

The second backend is the Elasticsearch client code against the osmem-server stand-in (see
ES_STANDIN in conftest): same template, bulk, alias and query DSL as in production; it does not
prove anything about a real cluster's performance or operations.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from indexer.analysis import normalise
from indexer.backend import SearchIndex
from indexer.documents import AccessFilter, IndexDoc, SearchQuery, SearchResult
from pipelines.samples import make_index_docs
from tests.conftest import ES_STANDIN, make_test_index
from tests.support.scan import scan, scan_facets, scan_ids

ALL = AccessFilter.unrestricted("contract")
DOCS = make_index_docs(400, random.Random(11))
CORPUS = {d.record_id: "".join(normalise(d.title + "\n" + d.text).split()) for d in DOCS}

# (query, filters, what it means spelled out for the substring scan: AND of OR-groups, excluded)
QUERIES: list[tuple[str, dict[str, object], list[list[str]], list[str]]] = [
    ("当事人", {}, [["当事人"]], []),
    ("复议", {}, [["复议"]], []),
    ("行政复议", {}, [["行政复议"]], []),
    ("危险化学品 整改", {}, [["危险化学品"], ["整改"]], []),
    ('"责令限期整改"', {}, [["责令限期整改"]], []),
    ("先行登记保存", {}, [["先行登记保存"]], []),
    ("留置送达 OR 公告送达", {}, [["留置送达", "公告送达"]], []),
    ("执法记录仪 -录像", {}, [["执法记录仪"]], ["录像"]),  # every 执法记录仪 sentence has 录像
    ("整改 -录像", {}, [["整改"]], ["录像"]),
    ("罚款", {"stage": "审查决定"}, [["罚款"]], []),
    ("罚款", {"form": "音像"}, [["罚款"]], []),
    ("当事人", {"classification": "内部", "made_by": "周晓梅"}, [["当事人"]], []),
    ("整改", {"document_type": "询问笔录"}, [["整改"]], []),
    ("整改", {"date_from": date(2026, 2, 1), "date_to": date(2026, 2, 28)}, [["整改"]], []),
    ("陈述、申辩", {}, [["陈述、申辩"]], []),
    ("宏", {}, [["宏"]], []),  # one character
    ("罚款 伍万元", {}, [["罚款"], ["伍万元"]], []),  # nothing has it
]
MATCHES_NOTHING = {"执法记录仪 -录像", "罚款 伍万元"}


@pytest.fixture(scope="module")
def both(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[SearchIndex]]:
    indexes = [
        make_test_index(b, Path(tmp_path_factory.mktemp(b)) / "index", request)
        for b in ("tantivy", ES_STANDIN)
    ]
    for ix in indexes:
        ix.upsert(DOCS)
    yield indexes


def _all(ix: SearchIndex, text: str, **kw: object) -> SearchResult:
    return ix.search(SearchQuery(text, limit=1000, facets=True, **kw), ALL)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "filters", "all_of", "none_of"), QUERIES, ids=[q[0] for q in QUERIES])
def test_both_backends_give_the_same_hits_and_facet_counts(
    both: list[SearchIndex],
    text: str,
    filters: dict[str, object],
    all_of: list[list[str]],
    none_of: list[str],
) -> None:
    matching = scan(DOCS, all_of, none_of, filters)
    expected = {d.record_id for d in matching}
    # the first word alone is always in the corpus: an empty answer is the rest of the query's doing
    assert scan(DOCS, all_of[:1], (), filters)
    # a query is expected to match nothing exactly when it is listed so; every other one has hits
    assert bool(expected) is (text not in MATCHES_NOTHING), f"{len(expected)} records match"
    tantivy, es = (_all(ix, text, **filters) for ix in both)
    # each backend equals the substring scan, not merely the other backend
    assert {h.record_id for h in tantivy.hits} == expected, "tantivy"
    assert {h.record_id for h in es.hits} == expected, "es"
    assert tantivy.total == es.total == len(tantivy.hits) == len(expected)
    assert {k: sorted(v) for k, v in tantivy.facets.items()} == {k: sorted(v) for k, v in es.facets.items()}
    scanned = scan_facets(matching)
    assert {k: sorted(tantivy.facets[k]) for k in scanned} == scanned
    # the snippet and page of a hit come from the same stored text on both
    assert {h.record_id: (h.snippet, h.page) for h in es.hits} == {
        h.record_id: (h.snippet, h.page) for h in tantivy.hits
    }


@pytest.mark.parametrize(
    "terms", [["当事人"], ["危险化学品", "整改"], ["陈述、申辩"], ["宏"], ["执法记录仪", "录像"]]
)
def test_hits_equal_a_substring_scan(both: list[SearchIndex], terms: list[str]) -> None:
    expected = {rid for rid, body in CORPUS.items() if all(t in body for t in terms)}
    assert expected, "the corpus should contain these words"
    for ix in both:
        assert {h.record_id for h in _all(ix, " ".join(terms)).hits} == expected, ix.name


def test_date_sort_and_paging_agree(both: list[SearchIndex]) -> None:
    orders = []
    for ix in both:
        pages = [
            ix.search(SearchQuery("整改", sort="date", limit=25, offset=o), ALL) for o in range(0, 100, 25)
        ]
        orders.append([h.record_id for p in pages for h in p.hits])
    assert orders[0] == orders[1] and len(set(orders[0])) == 100
    made = {d.record_id: d.made_at for d in DOCS}
    assert orders[0] == sorted(orders[0], key=lambda r: made[r], reverse=True)  # type: ignore[arg-type,return-value]


def test_updates_and_deletes_reach_both(both: list[SearchIndex]) -> None:
    for ix in both:
        ix.upsert([IndexDoc(1, "执法记录1", "更正后：当事人缴纳罚款捌仟元。", case_no="X")])
        assert [h.record_id for h in _all(ix, "捌仟元").hits] == [1]
        ix.delete([1])
        assert _all(ix, "捌仟元").total == 0
        assert ix.count() == len(DOCS) - 1
        ix.upsert([DOCS[0]])
        assert ix.count() == len(DOCS)


def test_access_filter_on_both(both: list[SearchIndex]) -> None:
    officer = AccessFilter("o", case_nos=frozenset({"农应急罚〔2026〕3号", "农应急罚〔2026〕5号"}))
    expected = scan_ids(DOCS, [["当事人"]], case_nos=officer.case_nos)
    assert expected, "records of the officer's cases should contain the word"
    # the unrestricted search finds more: the filter, not the words, is what narrows it
    assert scan_ids(DOCS, [["当事人"]]) > expected
    results = [ix.search(SearchQuery("当事人", limit=100), officer) for ix in both]
    for ix, result in zip(both, results, strict=True):
        assert {h.record_id for h in result.hits} == expected, ix.name
        assert {h.case_no for h in result.hits} <= set(officer.case_nos or ()), ix.name
    for ix in both:
        with pytest.raises(PermissionError):
            ix.search(SearchQuery("当事人"), None)  # type: ignore[arg-type]
