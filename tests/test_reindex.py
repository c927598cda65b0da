"""`archive reindex`: the index is derived data and can be rebuilt from the archive."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import delete

from archive.db import get_engine, session_scope
from archive.models import Record
from archive.settings import Settings
from indexer.documents import IndexDoc
from indexer.tantivy_index import TantivyIndex
from tests.conftest import run_cli


def _search(data: Path, q: str) -> dict:  # type: ignore[type-arg]
    res = run_cli(["search", q, "--json"], data)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def _ranked(result: dict) -> tuple[object, ...]:  # type: ignore[type-arg]
    """A result as ranked: everything but its hits as it is, and its hits score by score (best
    first). Hits of equal score keep the order of the index they were found in, which a rebuilt
    index need not repeat, so each score's hits are compared as a set."""
    groups: dict[float, set[tuple[object, ...]]] = {}
    for h in result["hits"]:
        groups.setdefault(h["score"], set()).add(tuple(sorted(h.items())))
    rest = {k: v for k, v in result.items() if k != "hits"}
    return rest, sorted(groups.items(), key=lambda g: -g[0])


def test_reindex_rebuilds_a_lost_index_and_prunes_stale_documents(tmp_path: Path) -> None:
    data = tmp_path / "var"
    assert run_cli(["demo"], data).returncode == 0
    before = _search(data, "报警装置")
    assert before["total"] == 4

    # A stale document of a record that no longer exists, and then a lost index.
    settings = Settings(data_dir=data)
    TantivyIndex(settings.index_dir).upsert([IndexDoc(999, "幽灵记录", "报警装置")])
    assert _search(data, "报警装置")["total"] == 5
    res = run_cli(["reindex", "--json"], data)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"indexed": 9, "caught_up": 0, "pruned": 1, "total": 9, "skipped": []}
    assert _ranked(_search(data, "报警装置")) == _ranked(before)

    shutil.rmtree(settings.index_dir)
    assert _search(data, "报警装置")["total"] == 0
    assert json.loads(run_cli(["reindex", "--json"], data).stdout)["indexed"] == 9
    assert _ranked(_search(data, "报警装置")) == _ranked(before)

    with session_scope(get_engine(settings.db_url)) as s:  # a record removed from the archive
        rid = before["hits"][0]["record_id"]
        s.execute(delete(Record).where(Record.id == rid))
    assert json.loads(run_cli(["reindex", "--json"], data).stdout) == {
        "indexed": 8,
        "caught_up": 0,
        "pruned": 1,
        "total": 8,
        "skipped": [],
    }
    assert rid not in {h["record_id"] for h in _search(data, "报警装置")["hits"]}


def test_reindex_recreates_an_index_of_an_older_schema(tmp_path: Path) -> None:
    import tantivy

    data = tmp_path / "var"
    assert run_cli(["demo"], data).returncode == 0
    index_dir = Settings(data_dir=data).index_dir
    shutil.rmtree(index_dir)
    index_dir.mkdir()
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("record_id", stored=True, indexed=True)
    old_schema = sb.build()
    tantivy.Index(old_schema, path=str(index_dir))  # an index made by an older build
    broken = run_cli(["search", "报警装置"], data)
    assert broken.returncode != 0 and "archive reindex" in broken.stderr
    assert run_cli(["reindex"], data).returncode == 0
    assert _search(data, "报警装置")["total"] == 4

    # `archive init` (the first step of `make run`) rebuilds such an index by itself
    shutil.rmtree(index_dir)
    index_dir.mkdir()
    tantivy.Index(old_schema, path=str(index_dir))
    init = run_cli(["init"], data)
    assert init.returncode == 0 and "正在从档案重建" in init.stderr, init.stderr
    assert _search(data, "报警装置")["total"] == 4
