"""Index contract, part 1: Chinese analysis, exact hit sets, filters, access filter, upserts.

Every test that takes ``index`` runs on both backends: the embedded tantivy index and the
Elasticsearch backend on its test stand-in (see ES_STANDIN in conftest for what that proves).
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import jieba
import pytest

from indexer.analysis import DOMAIN_DICT, SequencePlan, analyse, normalise, words
from indexer.backend import SearchIndex
from indexer.documents import AccessFilter, IndexDoc, SearchQuery
from indexer.highlight import snippet
from pipelines.samples import make_index_docs
from tests.conftest import BACKENDS, make_test_index
from tests.support.scan import scan_ids, scan_term

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
    assert words("申请行政复议") == ["申请", "行政复议", "行政", "复议"]
    assert words("申请行政复议", subwords=False) == ["申请", "行政复议"]
    # every dictionary word inside a longer word, shorter ones first, each size left to right
    assert words("危险化学品仓库") == ["危险化学品", "危险", "化学", "化学品", "仓库"]
    assert words("行政处罚决定书") == ["行政处罚决定书", "行政", "处罚", "决定", "决定书", "行政处罚"]
    assert words("中华人民共和国") == [
        "中华人民共和国", "中华", "华人", "人民", "共和", "共和国", "中华人民", "人民共和国"
    ]  # fmt: skip
    assert words("先行登记保存") == ["先行登记保存", "先行", "登记", "保存"]
    assert words("复议") == ["复议"]  # a two-character word has no sub-words
    a = analyse("复议决定", "申请行政复议")
    assert a.title_words == "复议 决定"
    assert a.words.split() == ["复议", "决定", "申请", "行政复议", "行政", "复议"]
    assert a.chars == "复 议 决 定 申 请 行 政 复 议"
    assert a.grams.split()[:3] == ["复议", "议决", "决定"]


def _jieba_reference() -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(Path(tempfile.gettempdir()))
    tok.load_userdict(str(DOMAIN_DICT))
    return tok


def test_segmentation_is_exactly_jiebas() -> None:
    """The fast segmenter cuts as jieba 0.42.1 (precise, no HMM, same dictionaries) does."""
    ref = _jieba_reference()
    samples = [d.title + "\n" + d.text for d in make_index_docs(300, random.Random(3))]
    samples += [
        "当事人：ＡＢＣ公司，统一社会信用代码91220122MA0Y3K2X7B，电话０４３１－８８８８８８８８。",
        "先行登记保存 责令限期整改　留置送达\t行政复议决定书 http://example.cn/a?b=1",
        "挽着手错手，广本专此乱军；B超检查；𠀀𠀁 emoji🙂 \x1c 末尾",
    ]
    cut = 0
    for text in samples:
        expected = [w for w in ref.cut(normalise(text), HMM=False) if not w.isspace()]
        assert words(text, subwords=False) == expected, text
        cut += len(expected)
    assert cut > 300 * 100  # the samples were cut into many words (~500 characters each)


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
    found = ids(index, query)
    assert found == expected
    # the search's own hits equal a substring scan of the stored texts for every term
    assert found == scan_ids(DOCS, [[scan_term(t)] for t in query.split()])


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


def test_sequence_plans_use_the_fewest_tokens() -> None:
    from indexer.analysis import sequence_plan

    assert sequence_plan(" \u3000") is None
    assert sequence_plan("复") == SequencePlan("chars", ((0, "复"),), ("复",))
    assert sequence_plan("复 议") == SequencePlan("grams", ((0, "复议"),), ("复议",))
    assert sequence_plan("当事人").tokens == ((0, "当事人"),)  # type: ignore[union-attr]
    plan = sequence_plan("责令限期整改")
    assert plan is not None and plan.tokens == ((0, "责令限"), (3, "期整改"))
    assert plan.consecutive == ("责令限", "令限期", "限期整", "期整改")
    assert sequence_plan("危险化学品").tokens == ((0, "危险化"), (2, "化学品"))  # type: ignore[union-attr]


def test_tantivy_reuses_results_only_for_the_same_commit_and_the_same_access(tmp_path: Path) -> None:
    """The embedded index keeps each query's total, facets and ranking until the next commit:
    a commit by another process is seen at once, another user's filter never gets them, and
    pages beyond what was ranked are ranked afresh."""
    from indexer.tantivy_index import TantivyIndex

    mine = TantivyIndex(tmp_path / "ix")
    docs = make_index_docs(120, random.Random(9))
    mine.upsert(docs)
    q = SearchQuery("当事人", facets=True, limit=5)
    first = mine.search(q, ALL)
    assert first.total > 40 and first.facets["stage"]
    again = mine.search(q, ALL)
    assert (again.total, [h.record_id for h in again.hits], again.facets) == (
        first.total,
        [h.record_id for h in first.hits],
        first.facets,
    )

    # Another user's filter: its own total and hits, not the cached ones.
    only_a = AccessFilter("officer", case_nos=frozenset({docs[0].case_no}))
    theirs = mine.search(q, only_a)
    assert 0 < theirs.total < first.total
    assert {h.case_no for h in theirs.hits} == {docs[0].case_no}
    assert mine.search(q, ALL).total == first.total

    # Deeper pages than were ranked: the same order a fresh index instance gives.
    fresh = TantivyIndex(tmp_path / "ix")
    for offset in (5, 20, 35):
        deep = SearchQuery("当事人", facets=True, limit=5, offset=offset)
        assert [h.record_id for h in mine.search(deep, ALL).hits] == [
            h.record_id for h in fresh.search(deep, ALL).hits
        ]

    # A commit by another writer (another process): the next search sees it.
    other = TantivyIndex(tmp_path / "ix")
    extra = IndexDoc(
        10_001, "补充询问笔录", "再次询问当事人李红：已完成整改。", case_no="新案", stage="调查取证"
    )
    other.upsert([extra])
    after = mine.search(q, ALL)
    assert after.total == first.total + 1
    assert dict(after.facets["stage"])["调查取证"] == dict(first.facets["stage"])["调查取证"] + 1
    other.delete([extra.record_id])
    assert mine.search(q, ALL).total == first.total
