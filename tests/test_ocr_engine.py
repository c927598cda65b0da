"""The OCR engine: a sparse page's lone lines are found where they are; the runtime option (the
same models run by OpenVINO) reads what onnxruntime reads and reaches the parse process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from archive.settings import Settings
from pipelines.ocr import OcrUnavailable, RapidOcrEngine, get_ocr, ink_regions
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


@pytest.mark.parametrize("line", ["送达回证", "此页无正文", "执法人员签字：王立新"])
def test_a_short_line_alone_on_a_clean_page_is_read_where_it_is(line: str) -> None:
    page = d.render_text_image([line], scale=200 / 72, size=12)  # born digital: no speckle, no blur
    (read,) = get_ocr().recognize(page).lines
    assert read.text == line
    ink = np.argwhere(np.asarray(page.convert("L")) < 128)  # the glyphs' own pixels (y, x)
    (y0, x0), (y1, x1) = ink.min(axis=0), ink.max(axis=0)
    bx0, by0, bx1, by1 = read.box
    assert bx0 <= x0 and by0 <= y0 and bx1 >= x1 and by1 >= y1  # the box covers every glyph
    assert (bx1 - bx0) < 1.3 * (x1 - x0) and (by1 - by0) < 2 * (y1 - y0)  # and little else


def test_lines_far_apart_are_read_in_bands_and_placed_on_the_page() -> None:
    page = d.render_text_image(["行政处罚决定书"], scale=200 / 72, size=12)
    sign = d.render_text_image(["执法人员签字：王立新"], scale=200 / 72, size=12)
    page.paste(sign.crop((0, 0, sign.width, 400)), (0, 1800))
    assert len(ink_regions(page.convert("RGB"))) == 2
    title, signature = get_ocr().recognize(page).lines
    assert (title.text, signature.text) == ("行政处罚决定书", "执法人员签字：王立新")
    assert title.box[3] < 400 < 1800 < signature.box[1]  # the bottom line keeps its place on the page
    assert signature.words[0].text == "执" and signature.words[0].box[1] > 1800


def test_a_dense_page_is_read_whole() -> None:
    text = "储罐区静电接地不符合要求，责令限期整改；当事人对检查结果无异议并签字确认。" * 36
    dense = d.render_text_image(d.wrap(text, 38)[:36], scale=200 / 72, size=12)  # as bench/ocr.py's
    assert ink_regions(dense.convert("RGB")) == [(0, 0, dense.width, dense.height)]


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
