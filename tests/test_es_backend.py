"""The Elasticsearch backend's own duties, on the osmem-server stand-in (see ES_STANDIN):
template as data, alias swap on rebuild with searches served throughout, bulk errors
reported with reasons, and the whole app (demo, search, reindex) configured for it.

What this cannot show here: a real cluster's behaviour under load, shard/replica handling,
or the 429 back-pressure the bulk retries exist for (the stand-in never rejects a bulk).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from archive.settings import IndexSettings
from indexer.documents import AccessFilter, IndexDoc, IndexUnavailableError, SearchQuery
from indexer.es_index import ElasticsearchIndex, IndexWriteError, template_body
from tests.conftest import es_index_settings, run_cli

ALL = AccessFilter.unrestricted("es")


def _index(es_url: str) -> ElasticsearchIndex:
    return ElasticsearchIndex(IndexSettings.model_validate(es_index_settings(es_url)))


def _docs(n: int, word: str) -> list[IndexDoc]:
    return [
        IndexDoc(i, f"记录{i}", f"第{i}号记录：{word}，责令限期整改。", case_no="A") for i in range(1, n + 1)
    ]


def test_template_comes_from_the_data_file_and_writes_go_through_the_alias(es_url: str) -> None:
    ix = _index(es_url)
    ix.upsert(_docs(3, "可燃气体报警装置"))
    stored = ix.es.indices.get_index_template(name=ix.alias)["index_templates"][0]["index_template"]
    assert stored["index_patterns"] == [f"{ix.alias}-*"]
    props = stored["template"]["mappings"]["properties"]
    assert props == template_body(ix.alias)["template"]["mappings"]["properties"]
    (concrete,) = ix.es.indices.get_alias(name=ix.alias)
    assert concrete.startswith(f"{ix.alias}-")
    assert ix.es.indices.get_mapping(index=concrete)[concrete]["mappings"]["dynamic"] == "strict"
    assert ix.count() == 3


def test_rebuild_fills_a_new_index_and_swaps_the_alias_while_searches_go_on(es_url: str) -> None:
    ix = _index(es_url)
    ix.upsert(_docs(40, "旧文本"))
    (old,) = ix.es.indices.get_alias(name=ix.alias)
    seen_during: list[int] = []

    def batches() -> Iterator[Sequence[IndexDoc]]:
        docs = _docs(40, "新文本")
        for start in range(0, 40, 10):
            yield docs[start : start + 10]
            # mid-rebuild, searches still see the complete old index
            seen_during.append(ix.search(SearchQuery("旧文本", limit=1), ALL).total)

    assert ix.rebuild(batches()) == 40
    assert seen_during == [40, 40, 40, 40]
    (new,) = ix.es.indices.get_alias(name=ix.alias)
    assert new != old and not ix.es.indices.exists(index=old)
    assert ix.search(SearchQuery("旧文本"), ALL).total == 0
    assert ix.search(SearchQuery("新文本"), ALL).total == 40


def test_a_failed_rebuild_leaves_the_live_index_alone(es_url: str) -> None:
    ix = _index(es_url)
    ix.upsert(_docs(5, "在用"))

    def broken() -> Iterator[Sequence[IndexDoc]]:
        yield _docs(5, "半成品")
        raise RuntimeError("数据库连接中断")

    with pytest.raises(RuntimeError):
        ix.rebuild(broken())
    assert ix.search(SearchQuery("在用"), ALL).total == 5
    assert len(ix.es.indices.get(index=f"{ix.alias}-*")) == 1  # the half-built index is gone


def test_rejected_documents_are_reported_with_the_reason(es_url: str) -> None:
    ix = _index(es_url)
    ix.upsert(_docs(1, "正常"))
    bad = {
        "_op_type": "index",
        "_index": ix.alias,
        "_id": "7",
        "_source": {"record_id": 7, "unknown_field": 1},
    }
    with pytest.raises(IndexWriteError, match="7"):
        ix._bulk([bad])
    assert ix.count() == 1


def test_the_app_runs_on_elasticsearch(tmp_path: Path, es_url: str) -> None:
    data = tmp_path / "var"
    cfg = es_index_settings(es_url)
    env = {f"ARCHIVE_INDEX__{k.upper()}": str(v) for k, v in cfg.items()}
    assert run_cli(["demo"], data, **env).returncode == 0
    res = run_cli(["search", "报警装置", "--json", "--facets"], data, **env)
    assert res.returncode == 0, res.stderr
    before = json.loads(res.stdout)
    assert before["total"] == 4 and all("<mark>" in h["snippet"] for h in before["hits"])
    assert any(h.get("page") == 1 for h in before["hits"])
    counts = json.loads(run_cli(["reindex", "--json"], data, **env).stdout)
    assert counts == {"indexed": 9, "caught_up": 0, "pruned": 0, "total": 9, "skipped": []}  # both demo cases
    after = json.loads(run_cli(["search", "报警装置", "--json", "--facets"], data, **env).stdout)
    assert after == before


def test_an_unreachable_cluster_is_a_clear_error(tmp_path: Path) -> None:
    cfg = {**es_index_settings("http://127.0.0.1:9"), "es_retries": 0, "es_timeout_s": 2}
    ix = ElasticsearchIndex(IndexSettings.model_validate(cfg))
    with pytest.raises(IndexUnavailableError, match="无法连接检索服务"):
        ix.search(SearchQuery("复议"), ALL)
    env = {f"ARCHIVE_INDEX__{k.upper()}": str(v) for k, v in cfg.items()}
    run_cli(["init"], tmp_path / "var", **env)
    res = run_cli(["search", "复议"], tmp_path / "var", **env)
    assert res.returncode == 2 and "无法连接检索服务" in res.stderr and "Traceback" not in res.stderr
