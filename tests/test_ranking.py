"""Ranking quality on a small judged query set: nDCG@10 on both backends.

Each query has records judged 3 (about exactly this), 2 (substantially about it) or 1 (mentions
it in passing), hidden among 300 generated records whose boilerplate mentions the same words in
passing (unjudged = 0). A good ranking puts the judged records first, best first. (On the
Elasticsearch stand-in the scores are its own BM25, not a real cluster's: the figure there says
only that the query we send ranks sensibly.)
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from indexer.backend import SearchIndex
from indexer.documents import AccessFilter, IndexDoc, SearchQuery
from pipelines.samples import make_index_docs
from tests.conftest import BACKENDS, make_test_index

ALL = AccessFilter.unrestricted("ranking")

JUDGED_DOCS = {
    1001: (
        "行政复议决定书",
        "申请人宏达化工有限公司不服被申请人作出的行政处罚决定，向本机关申请行政复议。"
        "本机关依法受理行政复议申请，经审查，原行政处罚认定事实清楚，复议机关决定维持。"
        "申请人如不服本行政复议决定，可以在收到本决定书之日起十五日内向人民法院提起行政诉讼。",
    ),
    1002: (
        "行政复议答复书",
        "被申请人就申请人提出的行政复议申请作出答复：本局作出的处罚决定程序合法，请求复议机关予以维持。",
    ),
    1003: ("权利告知书", "当事人对本决定不服的，可以依法申请行政复议或者提起行政诉讼。"),
    1011: (
        "送达回证（留置送达）",
        "受送达人拒绝签收行政处罚决定书，送达人邀请村委会工作人员到场见证，采用留置送达方式，"
        "将文书留置于受送达人住所，并以执法记录仪录像记录留置送达过程。",
    ),
    1012: ("留置送达情况说明", "因受送达人拒收，执法人员依法留置送达，见证人签名确认。"),
    1021: (
        "先行登记保存证据通知书",
        "因证据可能灭失，经本局负责人批准，对下列物品先行登记保存，保存期间当事人不得销毁或者转移。"
        "先行登记保存期限为七日，本局将在七日内作出处理决定。",
    ),
    1022: ("先行登记保存物品清单", "先行登记保存物品：甲醇两桶、丙酮一桶，存放于仓库东侧，已贴封条。"),
    1023: ("先行登记保存处理决定书", "对先行登记保存的物品，经审查予以解除。"),
    1031: (
        "听证笔录",
        "听证会于2026年11月2日举行，听证主持人宣布听证纪律，调查人员陈述案件事实，"
        "当事人进行申辩和质证，听证主持人宣布听证结束。",
    ),
    1032: ("听证告知书", "当事人有权要求听证，应当在收到本告知书之日起五日内提出听证申请。"),
    1041: (
        "查封扣押决定书",
        "依据《中华人民共和国行政强制法》，决定对当事人违法存放的危险化学品予以查封扣押，"
        "查封扣押期限为三十日，查封扣押物品清单附后。",
    ),
    1042: ("查封扣押现场笔录", "执法人员实施查封扣押时全程录像，当事人到场，查封扣押物品已清点。"),
    1051: (
        "可燃气体报警装置检查记录",
        "检查发现仓库未设置可燃气体报警装置，现有可燃气体报警装置的探头已损坏，报警控制器不能正常工作。",
    ),
    1052: ("整改通知", "请于十日内安装可燃气体报警装置并报送验收材料。"),
}

# query → {record id: grade}
JUDGEMENTS: dict[str, dict[int, int]] = {
    "行政复议": {1001: 3, 1002: 2, 1003: 1},
    "留置送达": {1011: 3, 1012: 2},
    "先行登记保存": {1021: 3, 1022: 2, 1023: 1},
    "听证": {1031: 3, 1032: 2},
    "查封扣押": {1041: 3, 1042: 2},
    "可燃气体报警装置": {1051: 3, 1052: 2},
    "复议 维持": {1001: 3, 1002: 2},
    "录像 留置": {1011: 3},
}


def ndcg_at_10(ranked: list[int], grades: dict[int, int]) -> float:
    """nDCG@10 with gains 2^grade − 1 and a log2 rank discount."""

    def dcg(gains: list[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:10]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(r, 0) for r in ranked]) / ideal if ideal else 0.0


@pytest.fixture(scope="module", params=BACKENDS)
def index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    ix = make_test_index(request.param, Path(tmp_path_factory.mktemp("rank")) / "index", request)
    judged = [IndexDoc(rid, title, text) for rid, (title, text) in JUDGED_DOCS.items()]
    ix.upsert(make_index_docs(300, random.Random(5)) + judged)
    return ix


def test_ndcg_at_10_on_the_judged_queries(index: SearchIndex, record_property: pytest.RecordProperty) -> None:
    scores = {}
    for query, grades in JUDGEMENTS.items():
        hits = index.search(SearchQuery(query, limit=10), ALL).hits
        scores[query] = ndcg_at_10([h.record_id for h in hits], grades)
    mean = sum(scores.values()) / len(scores)
    record_property("ndcg_at_10", round(mean, 3))
    print(f"\n{index.name} nDCG@10 = {mean:.3f}", {q: round(s, 3) for q, s in scores.items()})
    assert min(scores.values()) >= 0.6, scores
    assert mean >= 0.8, scores


def test_ndcg_itself() -> None:
    assert ndcg_at_10([1, 2, 3], {1: 3, 2: 2, 3: 1}) == pytest.approx(1.0)
    assert ndcg_at_10([3, 2, 1], {1: 3, 2: 2, 3: 1}) < 0.8
    assert ndcg_at_10([9, 8], {1: 3}) == 0.0
