"""Index contract, part 1: Chinese analysis, exact hit sets, filters, access filter, upserts.

Every test that takes ``index`` runs on both backends: the embedded tantivy index and the
Elasticsearch backend on its test stand-in (see ES_STANDIN in conftest for what that proves).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.analysis import word_tokens
from indexer.backend import SearchIndex
from indexer.documents import AccessFilter, IndexDoc, SearchQuery
from indexer.highlight import snippet
from tests.conftest import BACKENDS, make_test_index

ALL = AccessFilter.unrestricted("test")
DOCS = [
    IndexDoc(1, "行政处罚决定书", "如不服本决定，可在六十日内申请行政复议。", case_no="A", stage="审查决定"),
    IndexDoc(
        2, "询问笔录", "询问当事人张建国：危险化学品仓库未设置报警装置。", case_no="A", stage="调查取证"
    ),
    IndexDoc(
        3, "现场检查记录", "危险化学品仓库安全出口堵塞，仓储区责令限期整改。", case_no="B", stage="调查取证"
    ),
    IndexDoc(
        4,
        "送达回证",
        "留置送达：受送达人拒绝签收，见证人在场。",
        case_no="B",
        stage="送达执行",
        classification="国家秘密",
    ),
]


@pytest.fixture(params=BACKENDS)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> SearchIndex:
    ix = make_test_index(request.param, tmp_path / "index", request)
    ix.upsert(DOCS)
    return ix


def ids(ix: SearchIndex, q: str, access: AccessFilter = ALL, **kw: str) -> set[int]:
    return {h.record_id for h in ix.search(SearchQuery(q, limit=100, **kw), access).hits}


def test_words_carry_their_dictionary_subwords() -> None:
    toks = word_tokens("申请行政复议")
    texts = {t.text for t in toks}
    assert {"行政复议", "行政", "复议"} <= texts
    whole = next(t for t in toks if t.text == "行政复议")
    assert all(t.position == whole.position for t in toks if t.text in {"行政", "复议"})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("复议", {1}),
        ("行政复议", {1}),
        ("危险化学品", {2, 3}),
        ("危险化学品 报警", {2}),
        ("化学品仓库", {2, 3}),
        ("留置送达", {4}),
        ("不存在的词语", set()),
        ("仓库 复议", set()),
        ("危险化学品\u3000报警", {2}),  # full-width space between terms
        ("ＡＢＣ", set()),
        ("品仓储", set()),  # 品仓 and 仓储 both occur in record 3, but not as one sequence
    ],
)
def test_hits_are_exactly_the_records_containing_every_term(
    index: SearchIndex, query: str, expected: set[int]
) -> None:
    assert ids(index, query) == expected
    # the same as a substring scan of the stored texts
    terms = query.split()
    assert expected == {d.record_id for d in DOCS if all(t in d.title + d.text for t in terms)}


def test_blank_query_finds_nothing(index: SearchIndex) -> None:
    assert index.search(SearchQuery("  \u3000 "), ALL).total == 0


def test_filters_by_case_and_stage(index: SearchIndex) -> None:
    assert ids(index, "危险化学品", case_no="A") == {2}
    assert ids(index, "危险化学品", stage="调查取证") == {2, 3}
    assert ids(index, "危险化学品", case_no="B", stage="审查决定") == set()


def test_access_filter_restricts_every_query(index: SearchIndex) -> None:
    assert ids(index, "危险化学品", AccessFilter("officer", case_nos=frozenset({"B"}))) == {3}
    assert ids(index, "危险化学品", AccessFilter("nobody", case_nos=frozenset())) == set()
    no_secret = AccessFilter("party", classifications=frozenset({"公开", "内部", ""}))
    assert ids(index, "送达", no_secret) == set()


def test_a_query_without_an_access_filter_is_refused(index: SearchIndex) -> None:
    with pytest.raises(PermissionError):
        index.search(SearchQuery("复议"), None)  # type: ignore[arg-type]


def test_upsert_replaces_and_delete_removes(index: SearchIndex) -> None:
    index.upsert([IndexDoc(1, "行政处罚决定书", "更正后的文本：罚款伍万元。", case_no="A")])
    assert index.count() == 4
    assert ids(index, "复议") == set() and ids(index, "伍万元") == {1}
    index.delete([1])
    assert index.count() == 3 and ids(index, "伍万元") == set()


def test_snippets_mark_matches_and_escape_html() -> None:
    s = snippet("<b>注意</b> 当事人申请行政\n复议，复议机关受理。", ["复议"])
    assert "&lt;b&gt;" in s and "<b>" not in s
    assert s.count("<mark>复议</mark>") == 2
    assert "行政<mark>复议</mark>" in s  # the line break inside the word is closed up
