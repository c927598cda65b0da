"""`archive search` with the query language, filters and facets, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.demo import DEMO_CASE_NO
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "var"
    assert run_cli(["demo"], path).returncode == 0
    return path


def _json(data: Path, *args: str) -> dict:  # type: ignore[type-arg]
    res = run_cli(["search", *args, "--json"], data)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def test_filters_facets_and_sort(data: Path) -> None:
    out = _json(data, "报警装置", "--stage", "调查取证", "--facets")
    assert out["total"] == 2
    assert {"value": "调查取证", "count": 2} in out["facets"]["stage"]
    assert {f["value"] for f in out["facets"]["document_type"]} == {"现场检查记录", "询问笔录"}
    assert _json(data, "报警装置", "--made-by", "周晓梅")["total"] == 1
    assert _json(data, "报警装置", "--from", "2026-10-10", "--to", "2026-10-28")["total"] == 2
    titles = [h["title"] for h in _json(data, "农安县", "--sort", "date", "--case", DEMO_CASE_NO)["hits"]]
    assert titles[:2] == ["送达回证", "行政处罚决定书"]
    assert "facets" not in _json(data, "报警装置")


def test_query_language_from_the_command_line(data: Path) -> None:
    assert _json(data, "送达 -直接")["total"] == 0
    assert _json(data, "行政复议 OR 留置送达")["total"] == 1
    assert _json(data, '"可燃气体 报警装置"')["total"] == 4


def test_bad_queries_and_filters_say_why(data: Path) -> None:
    bad = run_cli(["search", '"未闭合', "--json"], data)
    assert bad.returncode == 2 and "引号" in bad.stderr and bad.stdout == ""
    bad = run_cli(["search", "复议", "--form", "视频"], data)
    assert bad.returncode == 2 and "未知记录形式" in bad.stderr
    bad = run_cli(["search", "复议", "--from", "十月"], data)
    assert bad.returncode == 2 and "起始日期格式不正确" in bad.stderr
