"""Whether a PDF page's text layer covers what the page shows (pipelines.coverage), and what the
PDF parser does with a page whose layer does not: it is OCR'd, so search and sensitive-span
detection see what a person sees."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from reportlab.lib.pagesizes import A4

from archive.settings import Settings
from pipelines.coverage import RULE_PX, _covered, _without_rules, layer_gaps
from pipelines.parsers import ParseContext, parse_file
from tests.support import leak_corpus as lc
from tests.support.redaction_data import text_pdf

P = lc.People()


def _gaps(path: Path) -> str | None:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return layer_gaps(pdf[0])
    finally:
        pdf.close()


@pytest.mark.parametrize(
    ("builder", "why"),
    [
        (lc.scan_with_footer, "图像"),  # a scan whose only text is a scanner footer
        (lc.embedded_note, "图像"),  # a photo pasted into a typed page
        (lc.invisible_over_image, "图像"),  # caught by its image first
    ],
)
def test_pages_with_content_outside_their_text_layer_are_named(
    builder: object, why: str, tmp_path: Path
) -> None:
    leak = builder(tmp_path, P)  # type: ignore[operator]
    reason = _gaps(leak.path)
    assert reason is not None and why in reason


def test_invisible_text_alone_is_named(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    from pipelines.samples import FONT, _font

    _font()
    path = tmp_path / "invisible.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)
    c.setFont(FONT, 12)
    c.drawString(60, 760, "询问笔录（可见部分）")
    t = c.beginText(60, 700)
    t.setFont(FONT, 12)
    t.setTextRenderMode(3)
    t.textLine("身份证号 430103199001011234")
    c.drawText(t)
    c.showPage()
    c.save()
    reason = _gaps(path)
    assert reason is not None and "不可见" in reason


def _strokes(c: Any, *, left: int, top: int, rows: int) -> None:
    """Rows of writing-like marks drawn as lines: ink with no text objects."""
    for row in range(rows):
        for col in range(40):
            x, y = left + col * 12, top - row * 20
            c.line(x, y, x + 4, y + 8)
            c.line(x + 4, y + 8, x + 8, y)


def test_text_drawn_as_curves_is_ink_outside_the_layer(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "curves.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)
    c.setFont("Helvetica", 10)
    c.drawString(60, 800, "Page 1")
    _strokes(c, left=60, top=760, rows=30)
    c.showPage()
    c.save()
    reason = _gaps(path)
    assert reason is not None and "文字层之外" in reason


def test_a_typed_page_with_a_ruled_table_is_covered(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    from pipelines.samples import FONT, _font

    _font()
    path = tmp_path / "table.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)
    c.setFont(FONT, 12)
    for row in range(20):
        y = 780 - row * 30
        c.line(50, y - 8, 545, y - 8)
        c.drawString(60, y, f"第{row + 1}项 检查内容：危险化学品仓库安全出口畅通情况")
    for x in (50, 120, 545):
        c.line(x, 780 - 19 * 30 - 8, x, 792)
    c.showPage()
    c.save()
    assert _gaps(path) is None


def test_a_plain_text_page_is_covered(tmp_path: Path) -> None:
    path = text_pdf(
        tmp_path / "plain.pdf", [["询问笔录", "问：你单位的危险化学品存放在哪里？", "答：存放在仓库。"]]
    )
    assert _gaps(path) is None


def test_the_parser_reads_a_scan_with_a_text_footer_by_ocr(tmp_path: Path) -> None:
    leak = lc.scan_with_footer(tmp_path, P)
    s = Settings(data_dir=tmp_path / "var")
    ctx = ParseContext(mime="application/pdf", original_name=leak.path.name, ocr_dpi=s.parsing.ocr_dpi)
    result = parse_file(leak.path, ctx)
    assert 0 in result.ocr  # the page's boxes are kept for redaction
    assert P.third in result.text and P.third_id in result.text.replace(" ", "")
    assert any("文字层不包含" in w for w in result.warnings)


def _rules_by_runs(ink: np.ndarray) -> np.ndarray:
    """What ``_without_rules`` must leave, spelled out: every pixel of a horizontal or vertical run of
    at least RULE_PX ink pixels removed."""
    out = ink.copy()
    for grid, put in (
        (ink, lambda r, a, b: out.__setitem__((r, slice(a, b)), False)),
        (ink.T, lambda r, a, b: out.__setitem__((slice(a, b), r), False)),
    ):
        for r, row in enumerate(grid):
            start = None
            for x, v in enumerate([*row.tolist(), False]):
                if v and start is None:
                    start = x
                elif not v and start is not None:
                    if x - start >= RULE_PX:
                        put(r, start, x)
                    start = None
    return out


@pytest.mark.parametrize("density", [0.3, 0.7, 0.9, 0.98])
@pytest.mark.parametrize("shape", [(60, 45), (RULE_PX, RULE_PX), (RULE_PX - 1, 40), (3, 3)])
def test_rule_removal_takes_exactly_the_long_runs(density: float, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(int(density * 100) + shape[0])
    ink = rng.random(shape) < density
    ink[0, :] = True  # a rule along the page's edge: outside the page is not ink, the run still counts
    expected = _rules_by_runs(ink)
    assert (_without_rules(ink) == expected).all()
    if shape[1] >= RULE_PX:
        assert not expected[0].any()


def _painted_box_by_box(shape: tuple[int, int], px: np.ndarray) -> np.ndarray:
    """What ``_covered`` must return, painted one box at a time."""
    inside = np.zeros(shape, dtype=bool)
    for x0, x1, y0, y1 in px.tolist():
        rows = slice(max(0, math.floor(y0) - 1), max(0, math.ceil(y1) + 2))
        inside[rows, max(0, math.floor(x0) - 1) : max(0, math.ceil(x1) + 2)] = True
    return inside


@pytest.mark.parametrize("count", [0, 1, 40, 900])
def test_character_boxes_are_painted_as_one_at_a_time(count: int) -> None:
    rng = np.random.default_rng(count)
    shape = (120, 90)
    x0 = rng.uniform(-10, 95, count)
    y0 = rng.uniform(-10, 125, count)
    px = np.stack([x0, x0 + rng.uniform(0, 9, count), y0, y0 + rng.uniform(0, 9, count)], 1)
    expected = _painted_box_by_box(shape, px)
    got = _covered(shape, px)
    assert (got == expected).all()
    assert expected.any() == (count > 0)


def _typed_page(path: Path, curves: bool) -> Path:
    """A dense typed page (about a thousand characters), optionally with a block of text drawn as
    strokes in its lower half."""
    from reportlab.pdfgen import canvas

    from pipelines.samples import FONT, _font

    _font()
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)
    c.setFont(FONT, 11)
    line = "当事人某某化工有限公司危险化学品仓库安全出口被货物堵塞，责令限期整改。"
    for row in range(30 if not curves else 18):
        c.drawString(40, 800 - row * 16, line)
    if curves:
        _strokes(c, left=40, top=480, rows=12)
    c.showPage()
    c.save()
    return path


def _moved(src: Path, out: Path, rotation: int, origin: tuple[int, int]) -> Path:
    """``src``'s first page turned by ``rotation`` and with its boxes and content moved to
    ``origin``, so that it shows the same."""
    pdf = pdfium.PdfDocument(str(src))
    try:
        page = pdf[0]
        w, h = page.get_size()
        if origin != (0, 0):
            dx, dy = origin
            page.set_mediabox(dx, dy, dx + w, dy + h)
            page.set_cropbox(dx, dy, dx + w, dy + h)
            matrix = pdfium.PdfMatrix().translate(dx, dy)
            for obj in list(page.get_objects(max_depth=1)):
                obj.transform(matrix)
            page.gen_content()
        page.set_rotation(rotation)
        pdf.save(str(out))
    finally:
        pdf.close()
    return out


PLACES = [(0, 0), (-150, 300), (2000, -3000)]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("origin", PLACES)
def test_rotated_or_shifted_pages_are_judged_as_upright_ones(
    rotation: int, origin: tuple[int, int], tmp_path: Path
) -> None:
    """The text layer's boxes land where the page draws them whatever the page's rotation and the
    origin of its media box: a typed page is covered, the same page with strokes is not."""
    typed = _moved(_typed_page(tmp_path / "typed.pdf", False), tmp_path / "t.pdf", rotation, origin)
    assert _gaps(typed) is None
    drawn = _moved(_typed_page(tmp_path / "drawn.pdf", True), tmp_path / "d.pdf", rotation, origin)
    reason = _gaps(drawn)
    assert reason is not None and "文字层之外" in reason


@pytest.mark.parametrize("origin", PLACES)
def test_a_scan_is_named_as_an_image_wherever_its_page_box_lies(
    origin: tuple[int, int], tmp_path: Path
) -> None:
    leak = lc.scan_with_footer(tmp_path, P)
    reason = _gaps(_moved(leak.path, tmp_path / "moved.pdf", 90, origin))
    assert reason is not None and "图像" in reason


def _drawn(path: Path, lines: list[tuple[float, float, str]]) -> Path:
    from reportlab.pdfgen import canvas

    from pipelines.samples import FONT, _font

    _font()
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)
    c.setFont(FONT, 12)
    for x, y, text in lines:
        c.drawString(x, y, text)
    c.showPage()
    c.save()
    return path


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ([(60, 760, "询问笔录\ue000\ue001当事人")], "编码映射"),  # private-use codes: a font without a map
        ([(60, 760, "询问笔录"), (60, 900, "身份证号430103199001011234")], "可见区域之外"),  # above the page
        ([(60, 760, "询问笔录"), (-400, 700, "身份证号430103199001011234")], "可见区域之外"),  # left of it
        # both wrong: the reason is the one a reader meets first
        ([(60, 760, "询问笔录"), (60, 900, "住址"), (60, 700, "签名\ue000")], "可见区域之外"),
        ([(60, 760, "询问笔录\ue000"), (60, 900, "住址")], "编码映射"),
    ],
)
def test_a_layer_with_unmapped_or_off_page_characters_is_named(
    lines: list[tuple[float, float, str]], why: str, tmp_path: Path
) -> None:
    reason = _gaps(_drawn(tmp_path / "layer.pdf", lines))
    assert reason is not None and why in reason
