"""OCR's runtime option: the same models run by OpenVINO read what onnxruntime reads, and the
setting reaches the parse process that reads a scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from archive.settings import Settings
from pipelines.ocr import OcrUnavailable, RapidOcrEngine, get_ocr
from tests.conftest import run_cli
from tests.support import documents as d
from tests.support.metrics import cer
from tests.support.records import stored_records
from tests.support.redaction_data import image_only_pdf

LINES = [
    "现场检查记录",
    "检查人员：王立新、赵敏",
    "储罐区静电接地不符合要求",
    "责令于二〇二六年十月二十日前整改",
]


def test_openvino_reads_what_onnxruntime_reads() -> None:
    page = d.noisy(d.render_text_image(LINES, scale=200 / 72, size=12), seed=3)
    engine = get_ocr("openvino")
    ours = get_ocr("onnxruntime").recognize(page)
    other = engine.recognize(page)
    assert cer("".join(LINES), ours.text) < 0.05
    assert [(line.text, line.box) for line in other.lines] == [(line.text, line.box) for line in ours.lines]
    assert [w.text for line in other.lines for w in line.words] == [
        w.text for line in ours.lines for w in line.words
    ]
    assert get_ocr("openvino") is engine  # loaded once per process
    assert engine.label == "PP-OCRv6 / openvino"  # read off the model sessions it ran
    assert get_ocr("onnxruntime").label == "PP-OCRv6 / onnxruntime"


def test_an_unknown_runtime_is_refused_with_the_choices() -> None:
    with pytest.raises(OcrUnavailable, match="onnxruntime、openvino"):
        RapidOcrEngine(runtime="tensorrt")
    with pytest.raises(ValidationError, match="ocr_runtime"):
        Settings.model_validate({"parsing": {"ocr_runtime": "tensorrt"}})


@pytest.mark.slow
def test_a_scan_ingested_with_openvino_says_so(tmp_path: Path) -> None:
    src = tmp_path / "scan"
    src.mkdir()
    image_only_pdf(src / "扫描件.pdf", [d.render_text_image(LINES)])
    data = tmp_path / "var"
    out = run_cli(["ingest", str(src), "--json"], data, ARCHIVE_PARSING__OCR_RUNTIME="openvino")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["failed"] == []
    hits = json.loads(run_cli(["search", "静电接地", "--json"], data).stdout)
    assert hits["total"] == 1
    (record,) = stored_records(data).values()
    assert (record.source_meta or {})["ocr_engine"] == "PP-OCRv6 / openvino"
