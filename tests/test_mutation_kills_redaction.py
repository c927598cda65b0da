"""The redaction renderer's text and OCR-box geometry, exactly: which boxes hide which characters
(words stretched to their line, whole lines where the words do not spell it), how they are scaled
onto a stored page image, and what is blacked out when a span cannot be located."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageOps

from pipelines import redaction
from pipelines.redaction import BLOCK, RedactionError, _OcrLayout, _OcrLine


def _black_bbox(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The bounding box of the black pixels of a white image."""
    return ImageOps.invert(image.convert("L")).point(lambda v: 255 if v == 255 else 0).getbbox()


# --- text ----------------------------------------------------------------------------------------


def test_every_character_but_line_breaks_is_blocked() -> None:
    assert redaction.redact_text("XAX", [(0, 3)]) == BLOCK * 3
    assert redaction.redact_text("a\r\nb", [(0, 4)]) == f"{BLOCK}\r\n{BLOCK}"


def test_tokens_are_aligned_in_order_with_empty_ones_anywhere() -> None:
    assert redaction._align("ab", ["ab", ""]) == [(0, 2), (2, 2)]
    assert redaction._align("ab  ", ["ab", " "]) == [(0, 2), (4, 4)]
    assert redaction._align("a b", ["", "a", "b"]) == [(0, 0), (0, 1), (2, 3)]
    assert redaction._align("a b", ["a", "c"]) is None
    assert redaction._align("a b", ["a"]) is None


# --- OCR layout ----------------------------------------------------------------------------------


def test_the_stored_ocr_of_a_page_is_read_back() -> None:
    data = {
        "width": 200,
        "height": 100,
        "rotation": 360,
        "lines": [
            {"text": "ab", "box": [50, 30, 10, 10], "words": [{"text": "ab", "box": [10, 10, 50, 30]}]}
        ],
    }
    layout = redaction._ocr_layout(data, "第 1 页")
    assert (layout.width, layout.height, layout.rotation) == (200, 100, 0)
    assert layout.lines == [_OcrLine("ab", (10.0, 10.0, 50.0, 30.0), [("ab", (10.0, 10.0, 50.0, 30.0))])]
    bare = redaction._ocr_layout({"rotation": -90}, "第 2 页")
    assert (bare.width, bare.height, bare.rotation, bare.lines) == (0, 0, 270, [])
    with pytest.raises(RedactionError) as broken:
        redaction._ocr_layout({"lines": [{"text": "x"}]}, "第 3 页")
    assert str(broken.value) == "第 3 页的 OCR 位置数据已损坏，无法定位需遮盖的内容"
    with pytest.raises(RedactionError) as tilted:
        redaction._ocr_layout({"rotation": 45}, "第 4 页")
    assert str(tilted.value) == "第 4 页的 OCR 旋转角度 45° 无法处理"


def _line(
    text: str, box: tuple[float, float, float, float], *words: tuple[str, tuple[float, ...]]
) -> _OcrLine:
    return _OcrLine(text, box, [(w, b) for w, b in words])  # type: ignore[misc]


def test_words_stretched_to_their_line_hide_the_span() -> None:
    # line 1 "ab cd" (offsets 0–4), line 2 "efgh" (offsets 6–9) whose words are "ef" and "gh"
    one = _line("ab cd", (0, 0, 100, 20), ("ab", (0, 2, 40, 18)), ("cd", (60, 1, 100, 19)))
    two = _line("efgh", (0, 40, 100, 60), ("ef", (0, 38, 50, 58)), ("gh", (50, 42, 100, 62)))
    layout = _OcrLayout(100, 100, 0, [one, two])
    # "c" only, the first character of its word: that word, stretched and padded (line height 20)
    assert redaction._ocr_span_boxes(layout, [(3, 4)]) == [(57.0, -2.0, 103.0, 22.0)]
    # "g", where "ef" ends and "gh" begins: "gh" alone
    assert redaction._ocr_span_boxes(layout, [(8, 9)]) == [(47.0, 38.0, 103.0, 64.0)]
    # "f": "ef" alone; a word above its line stretches the box up
    assert redaction._ocr_span_boxes(layout, [(7, 8)]) == [(-3.0, 36.0, 53.0, 62.0)]
    # the space between words, or the line break: nothing to hide
    assert redaction._ocr_span_boxes(layout, [(2, 3), (5, 6)]) == []
    # both lines at once
    assert redaction._ocr_span_boxes(layout, [(0, 1), (6, 7)]) == [
        (-3.0, -2.0, 43.0, 22.0),
        (-3.0, 36.0, 53.0, 62.0),
    ]


def test_whole_lines_where_the_words_do_not_spell_them() -> None:
    misspelt = _line("abc", (10, 0, 70, 20), ("abd", (10, 0, 70, 20)))
    wordless = _line("xyz", (10, 30, 70, 50))
    thin = _line("q", (0, 60, 10, 60.5))
    layout = _OcrLayout(100, 100, 0, [misspelt, wordless, thin])
    assert redaction._ocr_span_boxes(layout, [(0, 1), (4, 5), (8, 9)]) == [
        (8.0, -2.0, 72.0, 22.0),
        (8.0, 28.0, 72.0, 52.0),
        (-0.1, 59.9, 10.1, 60.6),  # a line thinner than a pixel counts as one pixel high
    ]


def test_boxes_are_scaled_to_the_stored_image() -> None:
    words = _line("ab", (10, 10, 30, 20), ("ab", (10, 10, 30, 20)))
    cases = [
        ((200, 200), _OcrLayout(100, 100, 0, [words]), 7.0, (17, 18, 64, 43)),  # twice the OCR size
        ((100, 100), _OcrLayout(1, 1, 0, [words]), 0.5, None),  # 1 × 1: a hundredfold, all off the image
        ((100, 100), _OcrLayout(0, 0, 0, [words]), 3.0, (25, 27, 96, 64)),  # no size stored: fallback
        ((100, 100), _OcrLayout(100, 0, 0, [words]), 3.0, (25, 27, 96, 64)),
        ((100, 100), _OcrLayout(0, 100, 0, [words]), 3.0, (25, 27, 96, 64)),
    ]
    for size, layout, fallback, expected in cases:
        image = Image.new("RGB", size, "white")
        assert redaction._burn_ocr(image, layout, [(0, 2)], 0, fallback), layout
        assert _black_bbox(image) == expected, layout
    square = Image.new("RGB", (100, 100), "white")
    assert not redaction._burn_ocr(square, _OcrLayout(100, 50, 0, [words]), [(0, 2)], 0, 1.0)
    assert _black_bbox(square) is None


def test_a_page_blacked_out_whole_is_black_to_its_edges() -> None:
    image = Image.new("RGB", (7, 5), "white")
    redaction._black_page(image)
    assert image.getextrema() == ((0, 0), (0, 0), (0, 0))


def test_an_unlocated_span_blacks_out_the_page_with_a_warning_or_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    image = Image.new("RGB", (4, 4), "white")
    with caplog.at_level(logging.WARNING, logger="pipelines.redaction"):
        redaction._refuse("第 2 页", "字符没有位置", "black_page", image)
    assert [r.getMessage() for r in caplog.records] == [
        "第 2 页: 字符没有位置; the page is blacked out whole"
    ]
    assert image.getextrema() == ((0, 0), (0, 0), (0, 0))
    with pytest.raises(RedactionError) as refused:
        redaction._refuse("第 3 页", "字符没有位置", "raise", Image.new("RGB", (4, 4), "white"))
    assert (
        str(refused.value)
        == "第 3 页有需遮盖的内容无法在页面上定位（字符没有位置），已拒绝生成遮盖版本，请人工处理"
    )


# --- a party's copy: pages read by OCR now ---------------------------------------------------------


class _Reader:
    """A scripted reader: its OCR finds "AB CD" low on the page, and it hides what ``hide`` names."""

    def __init__(self, hide: list[tuple[int, int]], size: tuple[int, int] | None = None) -> None:
        self.hide, self.size = hide, size
        self.log: list[tuple[int, str, str]] = []  # what was released, page by page
        self.read_sizes: list[tuple[int, int]] = []

    def read(self, image: Image.Image) -> dict[str, object]:
        self.read_sizes.append(image.size)
        w, h = self.size or image.size
        line = {"text": "AB CD", "box": [100, 800, 300, 840]}
        line["words"] = [
            {"text": "AB", "box": [100, 800, 180, 840]},
            {"text": "CD", "box": [220, 800, 300, 840]},
        ]
        return {"width": w, "height": h, "rotation": 0, "lines": [line]}

    def find(self, text: str) -> list[tuple[int, int]]:
        assert text == "AB CD"
        return list(self.hide)

    def released(self, index: int, text: str, how: str) -> None:
        self.log.append((index, text, how))


def _party_copy(tmp_path: Path, reader: _Reader, **kw: object) -> Image.Image:
    from tests.support.redaction_data import text_pdf

    path = text_pdf(tmp_path / "page.pdf", [["甲乙丙丁"]])
    data = redaction.redact_pdf(path, ["甲乙丙丁"], [], None, dpi=150, reader=reader, **kw)  # type: ignore[arg-type]
    pdf = pdfium.PdfDocument(data)
    try:
        return pdf[0].render(scale=150 / 72).to_pil().convert("RGB")
    finally:
        pdf.close()


def _dark(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    return float(np.asarray(image.convert("L").crop(box)).mean())


def test_a_page_read_now_hides_what_the_reader_finds_in_what_it_read(tmp_path: Path) -> None:
    reader = _Reader([(3, 5)])
    page = _party_copy(tmp_path, reader, read_pages=frozenset({0}))
    assert reader.log == [(0, f"AB {BLOCK * 2}", "read")]
    assert reader.read_sizes == [page.size]
    # "CD": (220, 800, 300, 840) stretched by 0.15 and 0.1 of the line height (40) and padded by 2
    assert _dark(page, (214, 796, 306, 844)) < 40
    assert _dark(page, (100, 800, 180, 840)) > 240  # "AB" is not hidden
    assert _dark(page, (190, 800, 209, 840)) > 240 and _dark(page, (311, 800, 330, 840)) > 240
    assert _dark(page, (214, 775, 306, 789)) > 240 and _dark(page, (214, 851, 306, 865)) > 240


def test_a_page_read_now_with_nothing_to_hide_is_released_as_read(tmp_path: Path) -> None:
    reader = _Reader([])
    page = _party_copy(tmp_path, reader, read_pages=frozenset({0}))
    assert reader.log == [(0, "AB CD", "read")]
    assert _dark(page, (214, 796, 306, 844)) > 240


def test_a_page_read_now_whose_boxes_do_not_fit_is_refused(tmp_path: Path) -> None:
    reader = _Reader([(0, 2)], size=(100, 300))
    with pytest.raises(RedactionError) as refused:
        _party_copy(tmp_path, reader, read_pages=frozenset({0}))
    assert str(refused.value) == (
        "第 1 页有需遮盖的内容无法在页面上定位（OCR 位置数据与页面尺寸不符），已拒绝生成遮盖版本，请人工处理"
    )


def test_a_text_layer_page_is_released_as_layer_text(tmp_path: Path) -> None:
    reader = _Reader([(0, 2)])
    _party_copy(tmp_path, reader)
    assert reader.log == [(0, "甲乙丙丁", "layer")]
    assert reader.read_sizes == []


# --- small pieces --------------------------------------------------------------------------------


def test_fill_pads_rounds_outwards_and_stays_on_the_image() -> None:
    image = Image.new("RGB", (20, 10), "white")
    redaction._fill(image, [(2.2, 3.3, 5.5, 6.6)], 1.0)
    assert _black_bbox(image) == (1, 2, 8, 9) and image.getpixel((4, 4)) == (0, 0, 0)
    for box, expected in [
        ((-5.0, -5.0, 100.0, 100.0), (0, 0, 20, 10)),  # clamped to the image
        ((5.0, 2.0, 5.0, 2.0), (5, 2, 6, 3)),  # a point is one pixel
        ((30.0, 2.0, 40.0, 5.0), None),  # off the image to the right
        ((2.0, 30.0, 5.0, 40.0), None),  # and below
    ]:
        image = Image.new("RGB", (20, 10), "white")
        redaction._fill(image, [box], 0.0)
        assert _black_bbox(image) == expected, box


def test_spans_are_checked_sorted_merged_and_empty_ones_dropped() -> None:
    assert redaction._merged([(4, 5), (3, 3), (1, 2)], 5) == [(1, 2), (4, 5)]
    assert redaction._merged([(0, 2), (2, 3), (1, 2)], 5) == [(0, 3)]
    for bad in [(-1, 2), (2, 6), (3, 2)]:
        with pytest.raises(RedactionError) as refused:
            redaction._merged([bad], 5)
        assert (
            str(refused.value)
            == f"遮盖范围 {bad[0]}–{bad[1]} 超出文本（共 5 字），文本可能已更新，请重新标注"
        )


def test_page_spans_count_the_blank_line_between_pages_only() -> None:
    assert redaction.page_spans(["ab", "cd"], [(1, 5), (6, 6)]) == {0: [(1, 2)], 1: [(0, 1)]}
    assert redaction.page_spans(["ab", "cd"], [(0, 6)]) == {0: [(0, 2)], 1: [(0, 2)]}
    for pages, span in [(["ab"], (0, 3)), (["ab", "cd"], (0, 7)), (["ab", "cd", "e"], (0, 10))]:
        with pytest.raises(RedactionError):
            redaction.page_spans(pages, [span])


def test_what_must_be_hidden_of_writing_and_of_speech() -> None:
    assert redaction._wanted("a, b", [(0, 4)]) == {0, 1, 3}
    assert redaction._wanted("a, b", [(0, 4)], spoken_only=True) == {0, 3}
    assert redaction._wanted("a, b", [(5, 8)], offset=4) == {1, 3}


def test_line_ends_and_stored_ocr_by_page() -> None:
    assert redaction._normalise("a\rb\r\nc\n") == "a\nb\nc\n"
    page = {"lines": []}
    assert redaction._ocr_of({"0": page}, 0) is page and redaction._ocr_of({0: page}, 0) is page
    assert redaction._ocr_of({"0": page, 0: {"lines": [1]}}, 0) is page
    assert redaction._ocr_of({"0": "damaged"}, 0) is None and redaction._ocr_of({"1": page}, 0) is None
    assert redaction._ocr_of(None, 0) is None and redaction._ocr_of({}, 0) is None


def test_a_pdf_that_cannot_be_opened_says_why(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    with pytest.raises(RedactionError) as broken:
        redaction._open_pdf(b"not a pdf")
    assert str(broken.value).startswith("PDF 文件无法打开，无法生成遮盖版本（") and str(
        broken.value
    ).endswith("）")
    locked = tmp_path / "locked.pdf"
    c = canvas.Canvas(str(locked), encrypt="secret")
    c.drawString(100, 100, "x")
    c.save()
    with pytest.raises(RedactionError) as encrypted:
        redaction._open_pdf(locked)
    assert str(encrypted.value) == "PDF 已加密，无法生成遮盖版本"
    pdf = redaction._open_pdf(_one_page(tmp_path, (595, 842)))  # a path, not bytes
    pdf.close()


def _one_page(tmp_path: Path, size: tuple[float, float]) -> Path:
    from reportlab.pdfgen import canvas

    path = tmp_path / f"page-{size[0]}.pdf"
    c = canvas.Canvas(str(path), pagesize=size)
    c.drawString(10, 10, "x")
    c.save()
    return path


def test_a_huge_page_is_rendered_at_most_40_megapixels(tmp_path: Path) -> None:
    for size, dpi, expected in [
        ((595, 842), 150, 150 / 72),
        ((595, 842), 72, 1.0),
        ((10000, 5000), 150, (40_000_000 / (10000 * 5000)) ** 0.5),
    ]:
        pdf = pdfium.PdfDocument(str(_one_page(tmp_path, size)))
        try:
            assert redaction._page_scale(pdf[0], dpi) == pytest.approx(expected), size
        finally:
            pdf.close()


def test_the_image_only_pdf_is_well_formed_byte_by_byte() -> None:
    import io
    import re

    out = io.BytesIO(b"")
    out.write(b"junk")  # the writer may start anywhere in its stream
    writer = redaction._ImagePdf(out)
    gray = Image.new("RGB", (30, 20), (90, 90, 90))
    colour = Image.new("RGB", (30, 20), (200, 30, 60))
    writer.add_page(gray, (300.0, 200.0))
    writer.add_page(colour, (150.5, 100.25))
    writer.close()
    data = out.getvalue()[4:]
    assert data.startswith(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    xref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))  # type: ignore[union-attr]
    assert data[xref:].startswith(b"xref\n0 9\n0000000000 65535 f \n")
    offsets = [int(row[:10]) for row in data[xref:].split(b"\n")[3:11]]
    for num, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj\n" % num), num
    assert (
        data.count(b"\nendobj\n") == 8
        and data.count(b"\nstream\n") == data.count(b"\nendstream\nendobj\n") == 4
    )
    streams = re.findall(rb"/Length (\d+) >>\nstream\n", data)
    assert len(streams) == 4
    images = re.findall(
        rb"/ColorSpace (/Device\w+) /BitsPerComponent 8 /Filter /DCTDecode /Length (\d+)", data
    )
    assert [s for s, _ in images] == [b"/DeviceGray", b"/DeviceRGB"]
    for (space, length), source in zip(images, (gray, colour), strict=True):
        start = data.index(b"/Length %s >>\nstream\n" % length) + len(b"/Length %s >>\nstream\n" % length)
        jpeg = data[start : start + int(length)]
        assert data[start + int(length) :].startswith(b"\nendstream")
        pic = source.convert("L") if space == b"/DeviceGray" else source
        expected = io.BytesIO()
        pic.save(expected, "JPEG", quality=redaction.JPEG_QUALITY, subsampling=0, optimize=True)
        assert jpeg == expected.getvalue()
    assert b"q 150.5000 0 0 100.2500 0 0 cm /Im0 Do Q" in data
    assert b"/MediaBox [0 0 300.0000 200.0000]" in data and b"/Kids [5 0 R 8 0 R] /Count 2" in data


def test_a_scanned_page_with_stored_ocr_is_released_as_ocr_text(tmp_path: Path) -> None:
    from tests.support.redaction_data import image_only_pdf, scan

    page = scan(["AB 12"])
    path = image_only_pdf(tmp_path / "scan.pdf", [page.image])
    reader = _Reader([(0, 2)])
    data = redaction.redact_pdf(path, [page.text], [(3, 5)], {"0": page.ocr}, reader=reader)  # type: ignore[arg-type]
    assert reader.log == [(0, f"AB {BLOCK * 2}", "ocr")] and reader.read_sizes == []
    assert data.startswith(b"%PDF-1.4")


def test_pages_that_do_not_match_are_blacked_out_whole_with_the_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.redaction_data import image_only_pdf, scan, text_pdf

    page = scan(["AB 12"])
    scanned = image_only_pdf(tmp_path / "scan.pdf", [page.image])
    layered = text_pdf(tmp_path / "layer.pdf", [["甲乙丙丁"]])
    cases = [
        (scanned, ["AB 13"], {"0": page.ocr}, "第 1 页: OCR 结果与存档文本不一致"),
        (
            scanned,
            [page.text],
            {"0": {**page.ocr, "height": page.ocr["height"] // 2}},
            "第 1 页: OCR 位置数据与页面尺寸不符",
        ),
        (layered, ["甲乙丙戊"], None, "第 1 页: 页面文字与存档文本不一致，或该页为扫描页但缺少 OCR 位置数据"),
    ]
    for path, pages, ocr, reason in cases:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pipelines.redaction"):
            data = redaction.redact_pdf(path, pages, [(0, 1)], ocr, on_unlocated="black_page")
        assert [r.getMessage() for r in caplog.records] == [f"{reason}; the page is blacked out whole"]
        pdf = pdfium.PdfDocument(data)
        try:
            image = pdf[0].render(scale=0.5).to_pil().convert("L")
        finally:
            pdf.close()
        assert image.getextrema()[1] < 40, reason  # black all over
        with pytest.raises(RedactionError, match=reason.split(": ", 1)[1]):
            redaction.redact_pdf(path, pages, [(0, 1)], ocr)
