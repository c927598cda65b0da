"""Redacted renditions a party may see (第二十八条): text, PDF pages, photos and sound.

Pure functions, no database. Sensitive spans are ``(start, end)`` offsets into a record's full
text: for paged records the stored pages joined with a blank line (``join_pages``), for sound
records ``Transcript.text()``.

* Text: every character of a span becomes "■" (newlines kept, length kept).
* PDF: every page is rendered to an image; solid black boxes are burned over the characters of
  each span (text layer: pdfium's character boxes; OCR'd pages: the stored OCR word/line boxes).
  The result is a NEW PDF made only of the page images (JPEG, one per page, no text layer, no
  fonts, no metadata, no original objects), so nothing under a box survives.
* Photos and scans: the same on the image, which comes out without EXIF or any other metadata.
* Sound: the words of a span are replaced by a 1 kHz tone; the output is a new audio file
  (Ogg/Opus by default, or WAV) holding only the decoded, bleeped sound. For a video the rendition
  is its sound only: frames are not part of a party's rendition (they would need face and
  plate blurring, which this module does not do).
* ``watermark`` burns a repeated, semi-transparent diagonal text (viewer and time) into the
  pixels of every page or image.

Safe failure: whatever cannot be hidden with certainty is refused, never released. A span that
cannot be located on its page (the page's text no longer matches the stored text, a character
has no box, no OCR boxes were kept for an OCR'd page, pages were never parsed) raises
``RedactionError`` naming the page; the caller must not release a rendition. Callers that prefer
to release the rest may pass ``on_unlocated="black_page"``: such a page then comes out entirely
black. Where a span is located but cannot be matched to single OCR words, the whole OCR line is
blacked out; where it cannot be matched to transcript words, the whole segment is bleeped.
"""

from __future__ import annotations

import io
import logging
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

import av
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageDraw, ImageFont, ImageOps, ImageSequence, UnidentifiedImageError

from archive.settings import ParsingSettings
from pipelines.coverage import layer_gaps
from pipelines.media.decode import SAMPLE_RATE, MediaError, audio_chunks
from pipelines.media.transcript import Transcript

log = logging.getLogger(__name__)

Span = tuple[int, int]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels, y downwards
OnUnlocated = Literal["raise", "black_page"]

BLOCK = "■"
DEFAULT_DPI = 150  # resolution of rendered PDF pages in a rendition
OCR_DPI = int(ParsingSettings.model_fields["ocr_dpi"].default)  # what OCR boxes were measured at
MAX_PAGE_PIXELS = 40_000_000  # a huge page (a map, a poster) is rendered at a lower resolution
JPEG_QUALITY = 85

BLEEP_HZ = 1000.0
BLEEP_LEVEL = 0.25  # about -12 dBFS: clearly audible, not painful
BLEEP_PAD_S = 0.15  # word timestamps are approximate: hide a little more on each side
BLEEP_RAMP_S = 0.005  # the tone fades in/out over 5 ms (no click); the speech is muted throughout
OPUS_BITRATE = 32_000

WATERMARK_OPACITY = 0.3
WATERMARK_COLOR = (90, 90, 90)
WATERMARK_ANGLE = 30

FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
FONT_PATTERNS = (
    "*CJK*",
    "NotoSansSC*",
    "NotoSerifSC*",
    "SourceHan*",
    "wqy-*",
    "DroidSansFallback*",
    "uming*",
)


# pdfium is not thread-safe and the API serves requests from a thread pool: every use of it in the
# API process (page images, renditions, the release gate) holds this lock.
PDFIUM_LOCK = threading.RLock()


class RedactionError(ValueError):
    """A redacted rendition cannot be made safely; the message is shown to users (Chinese)."""


class PageReader(Protocol):
    """How a party's copy reads a PDF page whose text layer does not cover what it shows.

    ``read`` OCRs the rendered page (``OcrPage.to_json()``), ``find`` gives the spans to hide in
    a page text, and ``released`` is told each page's text as released and how it was read:
    "layer" (text layer), "ocr" (stored OCR of a page without a text layer) or "read" (OCR'd now).
    """

    def read(self, image: Image.Image) -> Mapping[str, Any]: ...

    def find(self, text: str) -> list[tuple[int, int]]: ...

    def released(self, index: int, text: str, how: str) -> None: ...


# --- text ------------------------------------------------------------------------------------


def _merged(spans: Iterable[Sequence[int]], length: int) -> list[Span]:
    """Spans checked against a text of ``length`` characters, sorted, overlaps merged, empties dropped."""
    out: list[Span] = []
    for span in sorted((int(s[0]), int(s[1])) for s in spans):
        start, end = span
        if start < 0 or end > length or start > end:
            raise RedactionError(
                f"遮盖范围 {start}–{end} 超出文本（共 {length} 字），文本可能已更新，请重新标注"
            )
        if start == end:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def redact_text(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with every character inside a span replaced by "■" (newlines kept, same length)."""
    chars = list(text)
    for start, end in _merged(spans, len(text)):
        for i in range(start, end):
            if chars[i] not in "\r\n":
                chars[i] = BLOCK
    return "".join(chars)


def page_spans(pages: list[str], spans: Sequence[tuple[int, int]]) -> dict[int, list[tuple[int, int]]]:
    """Global spans (offsets into ``join_pages(pages)``) as page index → page-local spans.

    A span crossing a page boundary is split; the blank line between pages belongs to no page.
    """
    total = sum(len(p) for p in pages) + 2 * max(0, len(pages) - 1)
    merged = _merged(spans, total)
    out: dict[int, list[Span]] = {}
    start = 0
    for index, text in enumerate(pages):
        end = start + len(text)
        for a, b in merged:
            lo, hi = max(a, start), min(b, end)
            if lo < hi:
                out.setdefault(index, []).append((lo - start, hi - start))
        start = end + 2
    return out


def _wanted(text: str, spans: Sequence[Span], offset: int = 0, spoken_only: bool = False) -> set[int]:
    """Positions (local to ``text`` at ``offset``) inside the spans that must be hidden: not whitespace
    (for sound: letters and digits only; punctuation is not spoken)."""
    out: set[int] = set()
    for a, b in spans:
        for k in range(max(a - offset, 0), min(b - offset, len(text))):
            ch = text[k]
            if ch.isalnum() if spoken_only else not ch.isspace():
                out.add(k)
    return out


def _align(text: str, tokens: Sequence[str]) -> list[tuple[int, int]] | None:
    """Where each token (stripped) stands in ``text``, read in order with only whitespace between;
    None when the tokens do not spell the text exactly. Empty tokens get an empty range."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    for token in tokens:
        t = token.strip()
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if not t:
            ranges.append((pos, pos))
            continue
        if not text.startswith(t, pos):
            return None
        ranges.append((pos, pos + len(t)))
        pos += len(t)
    if text[pos:].strip():
        return None
    return ranges


# --- image-only PDF output -------------------------------------------------------------------


class _ImagePdf:
    """A minimal PDF written page by page: one JPEG image per page, nothing else (no text, fonts,
    metadata or document information), so memory holds one page at a time."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._base = out.tell()
        self._offsets: dict[int, int] = {}
        self._pages: list[int] = []
        self._next = 3  # 1: catalog, 2: page tree
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _obj(self, num: int, body: bytes, stream: bytes | None = None) -> None:
        self._offsets[num] = self._out.tell() - self._base
        self._out.write(b"%d 0 obj\n" % num + body)
        if stream is not None:
            self._out.write(b"\nstream\n" + stream + b"\nendstream")
        self._out.write(b"\nendobj\n")

    def add_page(self, image: Image.Image, size_pt: tuple[float, float]) -> None:
        """Append a page of ``size_pt`` points showing ``image`` over the whole page."""
        rgb = image.convert("RGB")
        arr = np.asarray(rgb)
        gray = bool((arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all())
        pic = rgb.convert("L") if gray else rgb
        buf = io.BytesIO()
        pic.save(buf, "JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
        data = buf.getvalue()
        img, content, page = self._next, self._next + 1, self._next + 2
        self._next += 3
        space = b"/DeviceGray" if gray else b"/DeviceRGB"
        self._obj(
            img,
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
            b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>"
            % (pic.width, pic.height, space, len(data)),
            data,
        )
        w, h = size_pt
        draw = b"q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q" % (w, h)
        self._obj(content, b"<< /Length %d >>" % len(draw), draw)
        self._obj(
            page,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.4f %.4f] "
            b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>" % (w, h, img, content),
        )
        self._pages.append(page)

    def close(self) -> None:
        """Write the page tree, catalog and cross-reference table."""
        kids = b" ".join(b"%d 0 R" % p for p in self._pages)
        self._obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._pages)))
        self._obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref = self._out.tell() - self._base
        size = self._next
        rows = [b"0000000000 65535 f \n"]
        rows += [b"%010d 00000 n \n" % self._offsets[n] for n in range(1, size)]
        self._out.write(b"xref\n0 %d\n" % size + b"".join(rows))
        self._out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))


def _clean_copy(image: Image.Image) -> Image.Image:
    """The pixels only: a new RGB image with no EXIF, XMP, ICC or other info attached."""
    rgb = image.convert("RGB")
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def _encode_image(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    clean = _clean_copy(image)
    if fmt == "JPEG":
        clean.save(buf, "JPEG", quality=90, subsampling=0, optimize=True)
    else:
        clean.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


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


def rendition_mime(data: bytes) -> str:
    """The media type of a rendition made here (PDF, PNG, JPEG, Ogg/Opus or WAV)."""
    if data.startswith(b"%PDF"):
        return "application/pdf"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"RIFF"):
        return "audio/wav"
    return "application/octet-stream"


# --- OCR geometry ----------------------------------------------------------------------------


@dataclass
class _OcrLine:
    text: str
    box: Box
    words: list[tuple[str, Box]]


@dataclass
class _OcrLayout:
    width: int
    height: int
    rotation: int
    lines: list[_OcrLine]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _box(value: Any) -> Box:
    x0, y0, x1, y1 = (float(v) for v in value)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _ocr_layout(data: Mapping[str, Any], where: str) -> _OcrLayout:
    """The stored OCR JSON of one page (OcrPage.to_json) read back."""
    try:
        lines = [
            _OcrLine(
                text=str(line["text"]),
                box=_box(line["box"]),
                words=[(str(w["text"]), _box(w["box"])) for w in line.get("words") or ()],
            )
            for line in data.get("lines") or ()
        ]
        rotation = int(data.get("rotation") or 0) % 360
        layout = _OcrLayout(int(data.get("width") or 0), int(data.get("height") or 0), rotation, lines)
    except (KeyError, TypeError, ValueError) as exc:
        raise RedactionError(f"{where}的 OCR 位置数据已损坏，无法定位需遮盖的内容") from exc
    if rotation % 90:
        raise RedactionError(f"{where}的 OCR 旋转角度 {rotation}° 无法处理")
    return layout


def _ocr_span_boxes(layout: _OcrLayout, spans: Sequence[Span]) -> list[Box]:
    """Boxes (OCR pixels, upright page) that hide the spans: the words covering them, each stretched to
    its line's height and padded; the whole line where the words do not spell the line exactly."""
    boxes: list[Box] = []
    pos = 0
    for line in layout.lines:
        wanted = _wanted(line.text, spans, pos)
        pos += len(line.text) + 1
        if not wanted:
            continue
        lx0, ly0, lx1, ly1 = line.box
        lh = max(ly1 - ly0, 1.0)
        ranges = _align(line.text, [w for w, _ in line.words]) if line.words else None
        picked: list[Box] = []
        covered: set[int] = set()
        for (ws, we), (_, wbox) in zip(ranges or (), line.words, strict=False):
            if any(ws <= k < we for k in wanted):
                picked.append(wbox)
                covered.update(range(ws, we))
        if ranges is None or wanted - covered:
            pad = 0.1 * lh
            boxes.append((lx0 - pad, ly0 - pad, lx1 + pad, ly1 + pad))
            continue
        for x0, y0, x1, y1 in picked:
            boxes.append((x0 - 0.15 * lh, min(y0, ly0) - 0.1 * lh, x1 + 0.15 * lh, max(y1, ly1) + 0.1 * lh))
    return boxes


def _fill(image: Image.Image, boxes: Iterable[Box], pad: float) -> None:
    draw = ImageDraw.Draw(image)
    w, h = image.size
    for x0, y0, x1, y1 in boxes:
        box = (
            max(0, math.floor(x0 - pad)),
            max(0, math.floor(y0 - pad)),
            min(w - 1, math.ceil(x1 + pad)),
            min(h - 1, math.ceil(y1 + pad)),
        )
        if box[0] <= box[2] and box[1] <= box[3]:
            draw.rectangle(box, fill=(0, 0, 0))


def _burn_ocr(
    image: Image.Image, layout: _OcrLayout, spans: Sequence[Span], pad: float, fallback: float
) -> bool:
    """Black out the spans on ``image`` (the page as stored) from its OCR boxes, in place; False if the
    boxes do not fit the image. ``fallback`` is image pixels per OCR pixel when no size was stored."""
    upright = image.rotate(layout.rotation, expand=True) if layout.rotation else image
    if layout.width > 0 and layout.height > 0:
        sx, sy = upright.width / layout.width, upright.height / layout.height
        if abs(sx / sy - 1) > 0.02:
            return False  # the boxes were measured on a differently shaped image
    else:
        sx = sy = fallback
    boxes = [(x0 * sx, y0 * sy, x1 * sx, y1 * sy) for x0, y0, x1, y1 in _ocr_span_boxes(layout, spans)]
    _fill(upright, boxes, pad)
    if layout.rotation:
        image.paste(upright.rotate(-layout.rotation, expand=True))
    return True


def _black_page(image: Image.Image) -> None:
    ImageDraw.Draw(image).rectangle((0, 0, image.width - 1, image.height - 1), fill=(0, 0, 0))


# --- PDF -------------------------------------------------------------------------------------


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


def _ocr_of(ocr: Mapping[Any, Any] | None, index: int) -> Mapping[str, Any] | None:
    if not ocr:
        return None
    value = ocr.get(str(index), ocr.get(index))
    return value if isinstance(value, Mapping) else None


def _refuse(where: str, why: str, on_unlocated: OnUnlocated, image: Image.Image) -> None:
    if on_unlocated == "black_page":
        log.warning("%s: %s; the page is blacked out whole", where, why)
        _black_page(image)
        return
    raise RedactionError(f"{where}有需遮盖的内容无法在页面上定位（{why}），已拒绝生成遮盖版本，请人工处理")


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


# --- photos and scans ------------------------------------------------------------------------


def _register_heif() -> None:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        pass


def open_image(path: Path | bytes) -> Image.Image:
    _register_heif()
    try:
        image = Image.open(io.BytesIO(path) if isinstance(path, bytes) else path)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise RedactionError(f"图像文件无法打开，无法生成遮盖版本（{exc}）") from exc
    return image


def upright_frames(image: Image.Image) -> Iterator[Image.Image]:
    # Exactly what the image parser OCR'd (pipelines.parsers.image), so the boxes line up.
    for frame in ImageSequence.Iterator(image):
        yield ImageOps.exif_transpose(frame.convert("RGB"))


def redact_image(
    path: Path,
    spans: Sequence[tuple[int, int]],
    ocr_page_json: Mapping[str, Any] | None,
    *,
    text: str | None = None,
    fmt: Literal["png", "jpeg"] = "png",
    on_unlocated: OnUnlocated = "raise",
) -> bytes:
    """A photo or scan with every span blacked out, without EXIF or any other metadata.

    The image is turned upright by its EXIF orientation as the image parser did, then boxes come from
    ``ocr_page_json`` (``OcrPage.to_json()``; its ``rotation`` is honoured). Output: PNG, or JPEG
    (quality 90, much smaller for camera photos) with ``fmt="jpeg"``. A multi-frame image (multi-page
    TIFF) takes the record's whole OCR file (``{"0": page, "1": page, ...}``) and comes out as an
    image-only PDF, one page per frame.
    ``text``, when given (the stored full text the spans refer to), must equal the OCR text, or
    RedactionError: spans measured on another text would hide the wrong words.
    """
    image = open_image(path)
    frames = getattr(image, "n_frames", 1)
    if ocr_page_json is not None and "lines" in ocr_page_json:
        layouts: dict[int, Mapping[str, Any]] = {0: ocr_page_json}
    else:
        layouts = {i: v for i in range(frames) if (v := _ocr_of(ocr_page_json, i)) is not None}
    if frames > 1 and len(layouts) < frames:
        raise RedactionError(f"图像共 {frames} 帧，只有 {len(layouts)} 帧经过识别，未经审查的帧不能提供")
    pages = [_ocr_layout(v, f"第 {i + 1} 帧").text for i, v in sorted(layouts.items())] or [""]
    if spans and not layouts:
        raise RedactionError("图像缺少 OCR 位置数据，需遮盖的内容无法定位，已拒绝生成遮盖版本")
    if text is not None and spans and text != "\n\n".join(pages):
        raise RedactionError("图像的 OCR 结果与存档文本不一致，需遮盖的内容无法定位，已拒绝生成遮盖版本")
    by_frame = page_spans(pages, spans)
    out = io.BytesIO()
    writer = _ImagePdf(out) if frames > 1 else None
    for i, upright in enumerate(upright_frames(image)):
        where = "图像" if frames == 1 else f"第 {i + 1} 帧"
        if by_frame.get(i):
            layout = _ocr_layout(layouts[i], where)
            if not _burn_ocr(upright, layout, by_frame[i], 2.0, 1.0):
                _refuse(where, "OCR 位置数据与图像尺寸不符", on_unlocated, upright)
        if writer is None:
            return _encode_image(upright, fmt.upper())
        writer.add_page(upright, (upright.width * 72 / 200, upright.height * 72 / 200))
    assert writer is not None
    writer.close()
    return out.getvalue()


# --- watermark -------------------------------------------------------------------------------


@cache
def cjk_font_path() -> tuple[Path, int] | None:
    """A font file that draws Chinese, and the face index (Simplified Chinese in a collection)."""
    candidates = [Path(p) for p in FONT_FILES]
    for folder in FONT_DIRS:
        root = Path(folder)
        if root.is_dir():
            for pattern in FONT_PATTERNS:
                candidates += sorted(root.rglob(pattern))
    for path in candidates:
        if not path.is_file() or path.suffix.lower() not in {".ttc", ".ttf", ".otf"}:
            continue
        best = 0
        for index in range(12 if path.suffix.lower() == ".ttc" else 1):
            try:
                family, _ = ImageFont.truetype(str(path), 12, index=index).getname()
            except OSError:
                break
            if family and (" SC" in family or "GB" in family):
                best = index
                break
        return path, best
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = cjk_font_path()
    if found is not None:
        return ImageFont.truetype(str(found[0]), size, index=found[1])
    _warn_no_font()
    return ImageFont.load_default(size)


@cache
def _warn_no_font() -> None:
    log.warning("no Chinese font found (install fonts-noto-cjk): watermark Chinese characters will not show")


def _stamp(image: Image.Image, text: str) -> Image.Image:
    """``image`` (RGB) with ``text`` repeated diagonally over it, burned into the pixels."""
    base = image.convert("RGB")
    size = max(14, min(base.size) // 24)
    font = _font(size)
    spacing = size // 3
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font, spacing=spacing)
    gap = 2 * size
    tile = Image.new("L", (int(right - left) + 2 * gap, int(bottom - top) + 2 * gap), 0)
    ImageDraw.Draw(tile).multiline_text((gap - left, gap - top), text, font=font, fill=255, spacing=spacing)
    tile = tile.rotate(WATERMARK_ANGLE, expand=True, resample=Image.Resampling.BICUBIC)
    mask = Image.new("L", base.size, 0)
    step_y = max(1, int(tile.height * 0.6))
    for row, y in enumerate(range(-tile.height // 2, base.height, step_y)):
        shift = (row % 2) * tile.width // 2
        for x in range(-tile.width + shift, base.width, tile.width):
            mask.paste(255, (x, y), tile)
    alpha = mask.point(lambda v: int(v * WATERMARK_OPACITY))
    return Image.composite(Image.new("RGB", base.size, WATERMARK_COLOR), base, alpha)


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


def _watermark_pdf(data: bytes, text: str) -> bytes:
    out = io.BytesIO()
    pdf = _open_pdf(data)
    try:
        writer = _ImagePdf(out)
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                scale = native_scale(page)
                w, h = page.get_size()
                if w * h * scale * scale > MAX_PAGE_PIXELS:
                    scale = math.sqrt(MAX_PAGE_PIXELS / (w * h))
                image = page.render(scale=scale, draw_annots=True).to_pil()
            finally:
                page.close()
            writer.add_page(_stamp(image, text), (w, h))
        writer.close()
    finally:
        pdf.close()
    return out.getvalue()


def watermark(pdf_or_image_bytes: bytes, text: str) -> bytes:
    """``text`` (e.g. viewer's name and the time) burned as a repeated, semi-transparent diagonal
    watermark into every page or image. A PDF comes back as an image-only PDF (no text layer: the
    watermark cannot be removed by deleting an object); an image in its own kind (JPEG or PNG),
    without metadata; a multi-frame image as an image-only PDF."""
    data = pdf_or_image_bytes
    out = io.BytesIO()
    if data.startswith(b"%PDF"):
        with PDFIUM_LOCK:
            return _watermark_pdf(data, text)
    image = open_image(data)
    fmt = "JPEG" if image.format in {"JPEG", "MPO", "HEIF", "WEBP"} else "PNG"
    if getattr(image, "n_frames", 1) == 1:
        return _encode_image(_stamp(next(upright_frames(image)), text), fmt)
    writer = _ImagePdf(out)
    for frame in upright_frames(image):
        writer.add_page(_stamp(frame, text), (frame.width * 72 / 200, frame.height * 72 / 200))
    writer.close()
    return out.getvalue()


# --- sound -----------------------------------------------------------------------------------


def bleep_ranges(
    transcript: Transcript, spans: Sequence[tuple[int, int]], *, pad_s: float = BLEEP_PAD_S
) -> list[tuple[float, float]]:
    """Seconds of the recording to replace by a tone: the words whose text the spans cover (offsets
    into ``transcript.text()``), padded by ``pad_s`` each side and merged; a whole segment where its
    words do not spell its text exactly (e.g. an officer corrected the text) or have no times."""
    text = transcript.text()
    merged = _merged(spans, len(text))
    if not merged:
        return []
    if transcript.empty:
        raise RedactionError("转写结果为空（未检测到语音），遮盖范围无法对应到录音")
    ranges: list[tuple[float, float]] = []
    pos = 0
    for seg in transcript.segments:
        wanted = _wanted(seg.text, merged, pos, spoken_only=True)
        pos += len(seg.text) + 1
        if not wanted:
            continue
        aligned = _align(seg.text, [w.text for w in seg.words]) if seg.words else None
        picked: list[tuple[float, float]] = []
        covered: set[int] = set()
        for (ws, we), word in zip(aligned or (), seg.words, strict=False):
            if any(ws <= k < we for k in wanted):
                picked.append((min(word.start, word.end), max(word.start, word.end)))
                covered.update(range(ws, we))
        if aligned is None or wanted - covered or any(b <= a for a, b in picked):
            picked = [(min(seg.start, seg.end), max(seg.start, seg.end))]
        ranges += picked
    padded = sorted((max(0.0, a - pad_s), b + pad_s) for a, b in ranges)
    out: list[tuple[float, float]] = []
    for a, b in padded:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in out]


def _bleep(samples: np.ndarray, first: int, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Samples ``first``… with the sample ranges replaced by the tone (phase follows the recording)."""
    ramp = max(1, int(BLEEP_RAMP_S * SAMPLE_RATE))
    last = first + len(samples)
    for a, b in ranges:
        lo, hi = max(a, first), min(b, last)
        if lo >= hi:
            continue
        n = np.arange(lo, hi, dtype=np.float64)
        envelope = np.clip(np.minimum(n - a, b - 1 - n) / ramp, 0.0, 1.0)
        tone = BLEEP_LEVEL * envelope * np.sin(2 * np.pi * BLEEP_HZ * n / SAMPLE_RATE)
        samples[lo - first : hi - first] = tone.astype(np.float32)
    return samples


def bleep_audio(
    path: Path,
    transcript: Transcript,
    spans: Sequence[tuple[int, int]],
    *,
    codec: Literal["opus", "wav"] = "opus",
    pad_s: float = BLEEP_PAD_S,
) -> bytes:
    """The recording's sound (16 kHz mono) with the spans' words replaced by a 1 kHz tone.

    ``codec``: "opus" (Ogg/Opus, 32 kbit/s, the default) or "wav" (16-bit PCM). A video gives its
    sound only: frames are not part of a party's rendition. Nothing of the source container (tags,
    location, other streams) is copied. Decoded and encoded chunk by chunk.
    """
    ranges = [
        (math.floor(a * SAMPLE_RATE), math.ceil(b * SAMPLE_RATE))
        for a, b in bleep_ranges(transcript, spans, pad_s=pad_s)
    ]
    fmt, codec_name = ("ogg", "libopus") if codec == "opus" else ("wav", "pcm_s16le")
    out = io.BytesIO()
    try:
        with av.open(out, "w", format=fmt) as container:
            stream: Any = container.add_stream(codec_name, rate=SAMPLE_RATE, layout="mono")
            if codec == "opus":
                stream.bit_rate = OPUS_BITRATE
            for start_s, samples in audio_chunks(path, chunk_s=60.0):
                first = round(start_s * SAMPLE_RATE)
                chunk = _bleep(np.array(samples, dtype=np.float32), first, ranges)
                frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
    except MediaError as exc:
        raise RedactionError(f"录音无法解码，无法生成遮盖版本（{exc}）") from exc
    return out.getvalue()
