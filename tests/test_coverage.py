"""Whether a PDF page's text layer covers what the page shows (pipelines.coverage), and what the
PDF parser does with a page whose layer does not: it is OCR'd, so search and sensitive-span
detection see what a person sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from reportlab.lib.pagesizes import A4

from archive.settings import Settings
from pipelines.coverage import RULE_PX, _without_rules, layer_gaps
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


def test_text_drawn_as_curves_is_ink_outside_the_layer(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "curves.pdf"
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)
    c.setFont("Helvetica", 10)
    c.drawString(60, 800, "Page 1")
    for row in range(30):  # strokes of writing-like marks, no text objects
        for col in range(40):
            x, y = 60 + col * 12, 760 - row * 20
            c.line(x, y, x + 4, y + 8)
            c.line(x + 4, y + 8, x + 8, y)
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
