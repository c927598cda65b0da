"""PDF: every page is rendered to an image; solid black boxes are burned over the characters of
each span (text layer: pdfium's character boxes; OCR'd pages: the stored OCR word/line boxes).
The result is a NEW PDF made only of the page images (JPEG, one per page, no text layer, no
fonts, no metadata, no original objects), so nothing under a box survives. A page whose text
layer does not cover what it shows can be read by OCR instead (:class:`PageReader`)."""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from pipelines.coverage import layer_gaps
from pipelines.detect import MediaFamily
from pipelines.redaction.boxes import _burn_ocr, _fill, _ocr_layout, _ocr_of, _refuse
from pipelines.redaction.common import (
    DEFAULT_DPI,
    MAX_PAGE_PIXELS,
    OCR_DPI,
    Box,
    OnUnlocated,
    RedactionError,
    Span,
    Subject,
    _merged,
    _wanted,
    page_spans,
)
from pipelines.redaction.imagepdf import _ImagePdf
from pipelines.redaction.text import redact_text

# pdfium is not thread-safe and the API serves requests from a thread pool: every use of it in the
# API process (page images, renditions, the release gate) holds this lock.
PDFIUM_LOCK = threading.RLock()


class PageReader(Protocol):
    """How a party's copy reads a PDF page whose text layer does not cover what it shows.

    ``read`` OCRs the rendered page (``OcrPage.to_json()``), ``find`` gives the spans to hide in
    a page text, and ``released`` is told each page's text as released and how it was read:
    "layer" (text layer), "ocr" (stored OCR of a page without a text layer) or "read" (OCR'd now).
    """

    def read(self, image: Image.Image) -> Mapping[str, Any]: ...

    def find(self, text: str) -> list[tuple[int, int]]: ...

    def released(self, index: int, text: str, how: str) -> None: ...


def _open_pdf(path: Path | bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path if isinstance(path, bytes) else str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise RedactionError("PDF 已加密，无法生成遮盖版本") from exc
        raise RedactionError(f"PDF 文件无法打开，无法生成遮盖版本（{exc}）") from exc


def _page_scale(page: pdfium.PdfPage, dpi: float) -> float:
    w, h = page.get_size()
    scale = dpi / 72
    if w * h * scale * scale > MAX_PAGE_PIXELS:
        scale = math.sqrt(MAX_PAGE_PIXELS / (w * h))
    return scale


def _normalise(raw: str) -> str:
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def _text_layer_boxes(
    textpage: pdfium.PdfTextPage, raw: str, spans: Sequence[Span], to_px: Any
) -> tuple[list[Box], int]:
    """Pixel boxes of the span characters of a text-layer page and how many characters had none.

    Offsets are into the page text as stored (``raw`` with CR LF / CR made LF); they are mapped back
    to ``raw``, then to pdfium text indices and character indices, and each character is checked to
    be the one expected before its box (loose ∪ tight) is used.
    """
    p2r: list[int] = []
    k = 0
    while k < len(raw):
        p2r.append(k)
        k += 2 if raw.startswith("\r\n", k) else 1
    count = textpage.count_chars()
    first = 0  # text index of the first character get_text_range returned
    for c in range(count):
        t = pdfium_c.FPDFText_GetTextIndexFromCharIndex(textpage.raw, c)
        if t != -1:
            first = t
            break
    text = _normalise(raw)
    boxes: list[Box] = []
    missing = 0
    for k in sorted(_wanted(text, spans)):
        r = p2r[k]
        ci = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage.raw, first + r)
        if not 0 <= ci < count or pdfium_c.FPDFText_GetUnicode(textpage.raw, ci) != ord(raw[r]):
            missing += 1
            continue
        # The loose box (font ascent to descent, advance width) must exist: a tight box alone can be
        # a sliver (a font without glyph outlines, drawn by a substitute) and would hide nothing.
        try:
            left, bottom, right, top = textpage.get_charbox(ci, loose=True)
        except pdfium.PdfiumError:
            missing += 1
            continue
        if right - left <= 0 or top - bottom <= 0:
            missing += 1
            continue
        try:
            tl, tb, tr, tt = textpage.get_charbox(ci)
            if tr > tl and tt > tb:
                left, bottom, right, top = min(left, tl), min(bottom, tb), max(right, tr), max(top, tt)
        except pdfium.PdfiumError:
            pass
        (ax, ay), (bx, by) = to_px(left, bottom), to_px(right, top)
        boxes.append((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
    return boxes, missing


def _redact_pdf_page(
    page: pdfium.PdfPage,
    index: int,
    stored: str,
    spans: Sequence[Span],
    ocr_json: Mapping[str, Any] | None,
    dpi: float,
    ocr_dpi: int,
    on_unlocated: OnUnlocated,
) -> Image.Image:
    """One page rendered at ``dpi`` with its spans blacked out."""
    where = f"第 {index + 1} 页"
    scale = _page_scale(page, dpi)
    # Annotations and form fields are not drawn: their text is not in the page text, so it was
    # never checked for anything that must be hidden.
    bitmap = page.render(scale=scale, draw_annots=False, may_draw_forms=False)
    image = bitmap.to_pil().convert("RGB")
    if not spans:
        return image
    pad = max(2.0, scale * 72 / 75)  # two pixels at 150 dpi
    if ocr_json is not None:
        layout = _ocr_layout(ocr_json, where)
        if layout.text != stored:
            _refuse(where, "OCR 结果与存档文本不一致", on_unlocated, image)
        elif not _burn_ocr(image, layout, spans, pad, scale * 72 / ocr_dpi):
            _refuse(where, "OCR 位置数据与页面尺寸不符", on_unlocated, image)
        return image
    textpage = page.get_textpage()
    try:
        raw = textpage.get_text_range()
        if _normalise(raw) != stored:
            _refuse(where, "页面文字与存档文本不一致，或该页为扫描页但缺少 OCR 位置数据", on_unlocated, image)
            return image
        posconv = bitmap.get_posconv(page)
        boxes, missing = _text_layer_boxes(textpage, raw, spans, posconv.to_bitmap)
    finally:
        textpage.close()
    if missing:
        _refuse(where, f"{missing} 个字符没有位置信息", on_unlocated, image)
    else:
        _fill(image, boxes, pad)
    return image


def _read_pdf_page(page: pdfium.PdfPage, dpi: float, reader: PageReader, index: int) -> Image.Image:
    """The page rendered, read by OCR, and the spans found in what was read blacked out."""
    scale = _page_scale(page, dpi)
    image = page.render(scale=scale, draw_annots=False, may_draw_forms=False).to_pil().convert("RGB")
    layout = _ocr_layout(reader.read(image), f"第 {index + 1} 页")
    text = layout.text
    spans = _merged(reader.find(text), len(text))
    if spans and not _burn_ocr(image, layout, spans, max(2.0, scale * 72 / 75), 1.0):
        _refuse(f"第 {index + 1} 页", "OCR 位置数据与页面尺寸不符", "raise", image)
    reader.released(index, redact_text(text, spans), "read")
    return image


def redact_pdf(
    path: Path,
    pages: list[str],
    spans: Sequence[tuple[int, int]],
    ocr: Mapping[Any, Any] | None,
    *,
    dpi: int = DEFAULT_DPI,
    ocr_dpi: int = OCR_DPI,
    on_unlocated: OnUnlocated = "raise",
    reader: PageReader | None = None,
    read_pages: frozenset[int] = frozenset(),
    ink_ratio: float = 0.01,
) -> bytes:
    """A new, image-only PDF of ``path`` with every span blacked out.

    With a ``reader`` (a party's copy), a page without stored OCR whose text layer does not cover
    what it shows (:func:`pipelines.coverage.layer_gaps`), or whose index is in ``read_pages``,
    is read by OCR instead: the reader finds the spans in what OCR read and those boxes are
    blacked out; the stored spans of that page (measured on its text layer) are not used there.

    ``pages`` are the stored page texts the spans refer to; ``ocr`` the stored OCR JSON by page index
    (``"0"``/``0`` → ``OcrPage.to_json()``) for pages that had no text layer. Pages are rendered at
    ``dpi`` one at a time, as JPEG images on pages of the original size; annotations and form fields
    are not drawn. OCR boxes are scaled by the stored page image size (``ocr_dpi`` only when none
    was stored). RedactionError when the PDF has pages that were never parsed or a span cannot be
    located (see the module docstring and ``on_unlocated``).
    """
    with PDFIUM_LOCK:
        return _redact_pdf_locked(
            path, pages, spans, ocr, dpi, ocr_dpi, on_unlocated, reader, read_pages, ink_ratio
        )


def _redact_pdf_locked(
    path: Path,
    pages: list[str],
    spans: Sequence[tuple[int, int]],
    ocr: Mapping[Any, Any] | None,
    dpi: int,
    ocr_dpi: int,
    on_unlocated: OnUnlocated,
    reader: PageReader | None,
    read_pages: frozenset[int],
    ink_ratio: float,
) -> bytes:
    by_page = page_spans(pages, spans)
    pdf = _open_pdf(path)
    out = io.BytesIO()
    try:
        count = len(pdf)
        if count != len(pages):
            raise RedactionError(
                f"PDF 共 {count} 页，存档文本只有 {len(pages)} 页（超出解析页数上限或文件不符），"
                "未经审查的页面不能提供，已拒绝生成遮盖版本"
            )
        writer = _ImagePdf(out)
        for i in range(count):
            page = pdf[i]
            try:
                ocr_json = _ocr_of(ocr, i)
                local = by_page.get(i, [])
                gap = None
                if reader is not None and ocr_json is None:
                    gap = "forced" if i in read_pages else layer_gaps(page, ink_ratio)
                if reader is not None and gap is not None:
                    image = _read_pdf_page(page, dpi, reader, i)
                else:
                    image = _redact_pdf_page(page, i, pages[i], local, ocr_json, dpi, ocr_dpi, on_unlocated)
                    if reader is not None:
                        how = "layer" if ocr_json is None else "ocr"
                        reader.released(i, redact_text(pages[i], local), how)
                size = page.get_size()  # as displayed (page rotation applied), like the rendering
            finally:
                page.close()
            writer.add_page(image, size)
            del image
        writer.close()
    finally:
        pdf.close()
    return out.getvalue()


def rendition_page(data: bytes, index: int) -> bytes | None:
    """Page ``index`` of an image-only rendition PDF as JPEG at its image's resolution (None if
    there is no such page)."""
    with PDFIUM_LOCK:
        return _rendition_page(data, index)


def _rendition_page(data: bytes, index: int) -> bytes | None:
    pdf = _open_pdf(data)
    try:
        if not 0 <= index < len(pdf):
            return None
        page = pdf[index]
        try:
            image = page.render(scale=native_scale(page)).to_pil().convert("RGB")
        finally:
            page.close()
    finally:
        pdf.close()
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def pdf_page_count(data: bytes) -> int:
    """How many pages a PDF has (0 if it is not one)."""
    if not data.startswith(b"%PDF"):
        return 0
    with PDFIUM_LOCK:
        pdf = _open_pdf(data)
        try:
            return len(pdf)
        finally:
            pdf.close()


def native_scale(page: pdfium.PdfPage) -> float:
    """Pixels per point that show the page's largest image 1:1 (our renditions: their resolution)."""
    best = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        try:
            px_w, _ = obj.get_px_size()
            left, _, right, _ = obj.get_bounds()
        except (pdfium.PdfiumError, AttributeError):
            continue
        if right - left > 1:
            best = max(best, px_w / (right - left))
    if best <= 0:
        return DEFAULT_DPI / 72
    return min(max(best, 72 / 72), 300 / 72)


class PdfRedactor:
    """Page images with the spans blacked out (:func:`redact_pdf`)."""

    name = "pdf"
    families = frozenset({MediaFamily.PDF})
    output = ("application/pdf", ".pdf")  # the rendition file's MIME type and suffix

    def score(self, subject: Subject) -> int:
        return 10 if subject.family in self.families else 0
