"""The whole pipeline over a case folder of mixed formats and bad files, as `archive ingest` runs it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.models import ProcessingStatus
from archive.settings import Settings
from archive.storage import make_store
from tests.conftest import run_cli
from tests.support import documents as d
from tests.support.records import stored_records
from tests.support.redaction_data import image_only_pdf, mixed_pdf


@pytest.mark.slow
def test_case_folder_of_every_kind(tmp_path: Path) -> None:
    src = tmp_path / "案卷"
    src.mkdir()
    d.write_text_pdf(src / "立案审批表.pdf", ["立案审批表：同意立案调查"])
    scan = d.render_text_image(["送达回证", "受送达人签收：张建国"])
    mixed_pdf(src / "送达材料.pdf", ["邮寄送达登记"], scan)
    d.photo_with_exif(src / "现场照片.jpg")
    d.docx_with_table(src / "询问笔录.docx")
    d.ofd(src / "处罚决定书.ofd", [["罚款人民币伍万元"]])
    (src / "空白.pdf").write_bytes(b"")
    (src / "乱码.pdf").write_bytes(bytes((i * 31 + 7) % 256 for i in range(2048)))
    (src / "录音.docx").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 200)
    d.png_bomb(src / "超大图.png")
    data = tmp_path / "var"

    res = run_cli(["ingest", str(src), "--json"], data)
    assert res.returncode == 1
    report = json.loads(res.stdout)
    assert report["ingested"] == 9
    failed = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert set(failed) == {"空白.pdf", "乱码.pdf", "录音.docx", "超大图.png"}
    assert "文件为空" in failed["空白.pdf"] and "无法识别" in failed["乱码.pdf"]
    assert "音视频" in failed["录音.docx"] and "解压炸弹" in failed["超大图.png"]

    records = stored_records(data)
    store = make_store(Settings(data_dir=data))
    for r in records.values():
        assert store.verify(r.sha256)  # every original kept, failed or not

    photo = records["现场照片.jpg"]
    assert photo.status is ProcessingStatus.PROCESSED
    assert photo.made_at is not None and photo.made_at.replace(tzinfo=UTC) == datetime(
        2026, 10, 9, 2, 21, 33, tzinfo=UTC
    )
    assert photo.made_how == "数码拍摄（DSJ DSJ-V9）"
    assert photo.prefilled == ["made_at", "made_how"]  # said in the record
    assert photo.source_meta is not None and photo.source_meta["gps"]["lat"] == pytest.approx(44.43, abs=1e-3)

    mixed = records["送达材料.pdf"]
    kinds = {f.kind for f in mixed.files}
    assert {"original", "text", "pages", "ocr", "thumb-1", "thumb-2"} <= kinds
    assert mixed.page_count == 2 and mixed.warnings == ["第 2 页没有文字层，已 OCR 识别"]

    hits = json.loads(run_cli(["search", "受送达人签收", "--json"], data).stdout)["hits"]
    assert [(h["record_id"], h["page"]) for h in hits] == [(mixed.id, 2)]  # the hit names its page
    hits = json.loads(run_cli(["search", "邮寄送达登记", "--json"], data).stdout)["hits"]
    assert [(h["record_id"], h["page"]) for h in hits] == [(mixed.id, 1)]
    assert json.loads(run_cli(["search", "伍万元", "--json"], data).stdout)["total"] == 1  # OFD
    assert json.loads(run_cli(["search", "可燃气体报警装置", "--json"], data).stdout)["total"] == 1  # DOCX


@pytest.mark.slow
def test_retry_reruns_only_failed_processing(tmp_path: Path) -> None:
    src = tmp_path / "scan"
    src.mkdir()
    # A full page: OCR takes seconds however fast the machine (two short lines on a blank page are
    # read in well under the one-second limit below since sparse pages are read band by band).
    lines = ["现场检查记录", "责令限期整改"] + [
        f"第{i}项：仓库安全出口畅通，消防器材完好有效。" for i in range(1, 31)
    ]
    image_only_pdf(src / "扫描件.pdf", [d.render_text_image(lines)])
    data = tmp_path / "var"
    # A limit too tight for OCR: the record fails with the reason, the original is kept.
    first = run_cli(["ingest", str(src), "--json"], data, ARCHIVE_PARSING__TIMEOUT_S="1")
    assert first.returncode == 1
    report = json.loads(first.stdout)
    assert "解析超时" in report["failed"][0]["reason"]
    rid = report["record_ids"][0]
    assert json.loads(run_cli(["search", "责令限期整改", "--json"], data).stdout)["total"] == 0

    again = run_cli(["retry", str(rid), "--json"], data)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"retried": 1, "resent": [], "skipped": [], "failed": []}
    assert json.loads(run_cli(["search", "责令限期整改", "--json"], data).stdout)["total"] == 1
    (record,) = stored_records(data).values()
    assert record.status is ProcessingStatus.PROCESSED and record.error is None

    noop = run_cli(["retry", str(rid), "--json"], data)  # nothing failed: nothing to redo
    assert json.loads(noop.stdout) == {"retried": 0, "resent": [], "skipped": [rid], "failed": []}
