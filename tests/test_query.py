"""Index contract, part 2: query language, filters, facets, sorting, paging, hit locations.

Runs on both backends (tantivy, and Elasticsearch on its test stand-in).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from indexer.backend import SearchIndex
from indexer.documents import AccessFilter, IndexDoc, SearchQuery
from indexer.query import QuerySyntaxError, parse_query
from tests.conftest import BACKENDS, make_test_index

ALL = AccessFilter.unrestricted("test")


def _doc(rid: int, text: str, **kw: object) -> IndexDoc:
    return IndexDoc(rid, f"记录{rid}", text, **kw)  # type: ignore[arg-type]


DOCS = [
    _doc(
        1,
        "送达方式：留置送达，受送达人拒绝签收，见证人在场。",
        case_no="A",
        stage="送达执行",
        form="音像",
        document_type="送达回证",
        made_by="吴国庆",
        made_at=datetime(2026, 10, 29, 2, 0, tzinfo=UTC),
    ),
    _doc(
        2,
        "公告送达：在受送达人住所张贴公告，并拍照记录。",
        case_no="A",
        stage="送达执行",
        form="文字",
        document_type="公告",
        made_by="吴国庆",
        made_at=datetime(2026, 11, 3, 2, 0, tzinfo=UTC),
    ),
    _doc(
        3,
        "责令限期整改：危险化学品仓库安全出口堵塞。",
        case_no="B",
        stage="调查取证",
        form="文字",
        document_type="责令限期整改指令书",
        made_by="孙立军",
        made_at=datetime(2026, 10, 9, 2, 0, tzinfo=UTC),
    ),
    _doc(
        4,
        "当事人申请行政复议，复议机关已受理。危险化学品仓库已整改。",
        case_no="B",
        stage="审查决定",
        form="文字",
        document_type="行政复议决定书",
        made_by="孙立军",
        classification="内部",
        made_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
    ),
    _doc(
        5,
        "责令 限期 整改的复查意见：已整改完毕。",
        case_no="B",
        stage="送达执行",
        form="文字",
        document_type="整改复查意见书",
        made_by="周晓梅",
    ),
]


# A transcript: segments joined by line breaks, each with its start second in the recording.
SEGMENTS = [
    (0.0, "执法人员：我们是县应急管理局的执法人员，这是执法证件。"),
    (6.5, "当事人：仓库钥匙在值班室。"),
]
TRANSCRIPT = "\n".join(t for _, t in SEGMENTS)
DOCS.append(
    _doc(
        6,
        TRANSCRIPT,
        case_no="A",
        form="音像",
        segments=((0, 0.0), (len(SEGMENTS[0][1]) + 1, 6.5)),
    )
)
DOCS.append(_doc(7, "第一页：询问开始。\n\n第二页：当事人交出仓库钥匙。", page_starts=(0, 11)))


@pytest.fixture(scope="module", params=BACKENDS)
def index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    ix = make_test_index(request.param, Path(tmp_path_factory.mktemp("q")) / "index", request)
    ix.upsert(DOCS)
    return ix


def ids(ix: SearchIndex, text: str, **kw: object) -> list[int]:
    return [h.record_id for h in ix.search(SearchQuery(text, limit=50, **kw), ALL).hits]  # type: ignore[arg-type]


def test_parser() -> None:
    p = parse_query('留置送达 OR 公告送达 "受送达 人" -拒绝 －"张贴 公告" or')
    assert [[c.text for c in g] for g in p.groups] == [["留置送达", "公告送达"], ["受送达人"], ["or"]]
    assert [c.text for c in p.excluded] == ["拒绝", "张贴公告"]
    with pytest.raises(QuerySyntaxError, match="引号"):
        parse_query('"未闭合')
    with pytest.raises(QuerySyntaxError, match="只有排除"):
        parse_query("-复议")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("危险化学品 仓库", {3, 4}),  # AND
        ("危险化学品 复议", {4}),
        ("留置送达 OR 公告送达", {1, 2}),  # OR
        ("送达 -留置", {2}),  # exclusion
        ('"责令限期整改"', {3, 5}),  # phrase; spaces and line breaks in the text do not matter
        ('"限期整改 危险化学品"', set()),  # words present but not next to each other
        ('复议 -"行政复议"', set()),
        ("复议", {4}),  # a sub-word of 行政复议
        ("ＯＲ", set()),
    ],
)
def test_query_language(index: SearchIndex, query: str, expected: set[int]) -> None:
    assert set(ids(index, query)) == expected


def test_filters(index: SearchIndex) -> None:
    assert set(ids(index, "送达", form="音像")) == {1}
    assert set(ids(index, "整改", document_type="整改复查意见书")) == {5}
    assert set(ids(index, "整改", made_by="孙立军")) == {3, 4}
    assert set(ids(index, "送达", stage="送达执行", case_no="A")) == {1, 2}
    assert set(ids(index, "仓库", classification="内部")) == {4}
    # 制作时间 by Beijing day, both ends inclusive; records without one are left out
    assert set(ids(index, "送达", date_from=date(2026, 10, 29), date_to=date(2026, 10, 29))) == {1}
    assert set(ids(index, "整改", date_from=date(2026, 11, 1))) == {4}
    assert set(ids(index, "整改", date_to=date(2026, 10, 31))) == {3}


def test_facets_count_every_match(index: SearchIndex) -> None:
    result = index.search(SearchQuery("整改", limit=1, facets=True), ALL)
    assert result.total == 3 and len(result.hits) == 1
    assert dict(result.facets["case_no"]) == {"B": 3}
    assert dict(result.facets["stage"]) == {"调查取证": 1, "审查决定": 1, "送达执行": 1}
    assert dict(result.facets["made_by"]) == {"孙立军": 2, "周晓梅": 1}


def test_sort_by_date_and_paging(index: SearchIndex) -> None:
    assert ids(index, "送达 OR 整改", sort="date")[:4] == [4, 2, 1, 3]
    first = index.search(SearchQuery("送达 OR 整改", sort="date", limit=2), ALL)
    second = index.search(SearchQuery("送达 OR 整改", sort="date", limit=2, offset=2), ALL)
    assert first.total == second.total == 5
    assert [h.record_id for h in first.hits + second.hits] == [4, 2, 1, 3]


def test_highlight_marks_every_alternative(index: SearchIndex) -> None:
    (hit,) = index.search(SearchQuery('"责令限期整改" -复议', document_type="责令限期整改指令书"), ALL).hits
    assert "<mark>责令限期整改</mark>" in hit.snippet
    snippets = {h.record_id: h.snippet for h in index.search(SearchQuery("留置送达 OR 公告送达"), ALL).hits}
    assert set(snippets) == {1, 2}
    # each hit marks the alternative it contains, and only what it matched
    assert "<mark>留置送达</mark>" in snippets[1] and "公告送达" not in snippets[1]
    assert "<mark>公告送达</mark>" in snippets[2] and "留置送达" not in snippets[2]
    assert [s.count("<mark>") for s in (snippets[1], snippets[2])] == [1, 1]


def test_hits_open_the_right_second_or_page(index: SearchIndex) -> None:
    hits = {h.record_id: h for h in index.search(SearchQuery("钥匙"), ALL).hits}
    assert set(hits) == {6, 7}
    assert (hits[6].start_s, hits[6].page) == (6.5, None)  # transcript: the segment's start second
    assert (hits[7].page, hits[7].start_s) == (2, None)  # document: the page
    (first,) = index.search(SearchQuery("执法证件"), ALL).hits
    assert first.start_s == 0.0
