"""`archive ingest` and `archive search` end to end, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select

from archive.db import get_engine, session_scope
from archive.models import Job, JobStatus, ProcessingStatus, Record, StoredFile
from archive.settings import Settings
from archive.storage import make_store
from indexer.backend import make_index
from pipelines.samples import make_text_pdfs
from tests.conftest import run_cli

MARKER = "液氨储罐区未设置围堰"


def _counts(data_dir: Path) -> dict[str, int]:
    engine = get_engine(Settings(data_dir=data_dir).db_url)
    with session_scope(engine) as s:
        return {
            "records": s.scalar(select(func.count()).select_from(Record)) or 0,
            "files": s.scalar(select(func.count()).select_from(StoredFile)) or 0,
            "jobs": s.scalar(select(func.count()).select_from(Job)) or 0,
        }


def _pdf_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return "".join("".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf)))
    finally:
        pdf.close()


@pytest.mark.slow
def test_ingest_200_pdfs_search_exactly_and_reingest_reports_duplicates(tmp_path: Path) -> None:
    src = tmp_path / "pdfs"
    expected_names = make_text_pdfs(src, 200, marker=MARKER, every=7)
    data = tmp_path / "var"

    first = run_cli(["ingest", str(src), "--json", "--stage", "调查取证", "--kind", "现场检查记录"], data)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)  # stdout is only the JSON
    assert report["ingested"] == 200 and report["duplicates"] == 0 and report["failed"] == []
    assert len(set(report["record_ids"])) == 200

    # exactly the records whose text contains the term (checked against the PDFs themselves)
    found = run_cli(["search", MARKER, "--limit", "1000", "--json"], data)
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    settings = Settings(data_dir=data)
    with session_scope(get_engine(settings.db_url)) as s:
        names = {rid: name for rid, name in s.execute(select(Record.id, Record.original_name))}
    assert {names[h["record_id"]] for h in result["hits"]} == expected_names
    assert result["total"] == len(expected_names)
    scan = {p.name for p in src.iterdir() if MARKER in _pdf_text(p)}
    assert scan == expected_names
    for hit in result["hits"]:
        assert f"<mark>{MARKER}</mark>" in hit["snippet"]
        assert set(hit) == {"record_id", "case_no", "title", "stage", "score", "snippet", "page"}
        assert hit["page"] == 1
        assert hit["stage"] == "调查取证"

    before = _counts(data)
    objects_before = sorted(p.name for p in (data / "objects" / "sha256").rglob("*") if p.is_file())
    again = run_cli(["ingest", str(src), "--json"], data)
    assert again.returncode == 0, again.stderr
    report2 = json.loads(again.stdout)
    assert report2["ingested"] == 0 and report2["duplicates"] == 200 and report2["failed"] == []
    assert sorted(report2["record_ids"]) == sorted(report["record_ids"])  # linked to the same records
    assert _counts(data) == before
    assert sorted(p.name for p in (data / "objects" / "sha256").rglob("*") if p.is_file()) == objects_before
    assert make_index(settings).count() == 200


def test_bad_files_are_kept_marked_failed_and_named(tmp_path: Path) -> None:
    src = tmp_path / "mixed"
    src.mkdir()
    make_text_pdfs(src / "good", 3, marker=MARKER, every=1)
    (src / "损坏的决定书.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00broken" * 50)
    (src / "空文件.txt").write_bytes(b"")
    (src / "未知格式.bin").write_bytes(bytes(range(256)) * 4)
    data = tmp_path / "var"

    res = run_cli(["ingest", str(src), "--json"], data)
    assert res.returncode == 1
    report = json.loads(res.stdout)
    assert report["ingested"] == 6
    failed = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert set(failed) == {"损坏的决定书.pdf", "空文件.txt", "未知格式.bin"}
    assert "PDF 文件已损坏" in failed["损坏的决定书.pdf"]
    assert "文件为空" in failed["空文件.txt"]
    assert (
        "无法识别的文件格式" in failed["未知格式.bin"]
        and "Apache Tika 也未能读出内容" in failed["未知格式.bin"]
    )
    assert "损坏的决定书.pdf" in res.stderr  # the human message names the file too

    settings = Settings(data_dir=data)
    store = make_store(settings)
    with session_scope(get_engine(settings.db_url)) as s:
        records = s.scalars(select(Record)).all()
        assert len(records) == 6
        for r in records:
            assert store.verify(r.sha256)  # every original kept, bad or not
        bad = [r for r in records if r.status is ProcessingStatus.FAILED]
        assert {r.original_name for r in bad} == set(failed)
        assert all(r.error for r in bad)
        assert all(j.status is JobStatus.FAILED for r in bad for j in r.jobs)
    # the good files are searchable despite the bad ones
    found = json.loads(run_cli(["search", MARKER, "--json"], data).stdout)
    assert found["total"] == 3


def test_ingest_links_records_to_the_case_with_article_26_metadata(tmp_path: Path) -> None:
    data = tmp_path / "var"
    assert run_cli(["demo"], data).returncode == 0
    note = tmp_path / "补充询问笔录.txt"
    note.write_text("补充询问：当事人表示已于十月十五日安装可燃气体报警装置。", encoding="utf-8")
    res = run_cli(
        [
            "ingest",
            str(note),
            "--case",
            "农应急罚〔2026〕12号",
            "--stage",
            "调查取证",
            "--kind",
            "询问笔录",
            "--made-by",
            "周晓梅",
            "--made-at",
            "2026-10-16T09:00+08:00",
            "--method",
            "计算机录入",
            "--proves",
            "整改情况",
            "--json",
        ],
        data,
    )
    assert res.returncode == 0, res.stderr
    rid = json.loads(res.stdout)["record_ids"][0]
    with session_scope(get_engine(Settings(data_dir=data).db_url)) as s:
        r = s.get(Record, rid)
        assert r is not None and r.case is not None
        assert r.case.case_no == "农应急罚〔2026〕12号"
        assert (r.made_by, r.made_how, r.proves, r.document_type) == (
            "周晓梅",
            "计算机录入",
            "整改情况",
            "询问笔录",
        )
        assert r.made_at is not None and r.stored_at is not None
    hits = json.loads(run_cli(["search", "安装", "--case", "农应急罚〔2026〕12号", "--json"], data).stdout)
    assert [h["record_id"] for h in hits["hits"]] == [rid]


def test_cli_refuses_unknown_case_stage_and_bad_time(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("内容", encoding="utf-8")
    data = tmp_path / "var"
    r1 = run_cli(["ingest", str(f), "--case", "不存在的案号"], data)
    assert r1.returncode == 2 and "案件不存在" in r1.stderr
    r2 = run_cli(["ingest", str(f), "--stage", "随便"], data)
    assert r2.returncode == 2 and "未知环节" in r2.stderr
    r3 = run_cli(["ingest", str(f), "--made-at", "昨天"], data)
    assert r3.returncode == 2 and "制作时间格式不正确" in r3.stderr
    assert _counts(data)["records"] == 0
