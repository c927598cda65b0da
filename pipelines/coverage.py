"""Does a PDF page's text layer cover what the page shows? If not, the page must be read by OCR.

A text layer can lie by omission or by commission: a scan carrying a scanner's footer as its only
text, a photo pasted into a typed page, text drawn as curves, invisible text laid over an image,
characters placed outside the page, or a font whose ToUnicode map is missing or wrong. Search,
sensitive-span detection and a party's redacted copy must all work from what a person sees, so a
page with any of these is OCR'd (parser and rendition both ask :func:`layer_gaps`). A ToUnicode
map that is wrong but plausible cannot be seen here; the release gate compares its OCR of the
released page with the text layer and catches it there.
"""

from __future__ import annotations

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

PROBE_DPI = 50  # the ink test's resolution: cheap, and enough to see a line of text
IMAGE_SHARE = 0.01  # images over this share of the page hide text the layer may not have
RULE_PX = 12  # a straight ink run this long (≈6 mm at 50 dpi) is a table rule or underline, not text


def _image_share(page: pdfium.PdfPage, bbox: tuple[float, float, float, float]) -> float:
    """Share of the visible area (``bbox``: left, bottom, right, top in page space) under images."""
    x0, y0, x1, y1 = bbox
    covered = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        try:
            left, bottom, right, top = obj.get_bounds()
        except pdfium.PdfiumError:
            continue
        w = max(0.0, min(right, x1) - max(left, x0))
        h = max(0.0, min(top, y1) - max(bottom, y0))
        covered += w * h
    return covered / max((x1 - x0) * (y1 - y0), 1.0)


def _invisible_text(page: pdfium.PdfPage) -> bool:
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], max_depth=4):
        if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
            return True
    return False


def _odd(codes: np.ndarray) -> np.ndarray:
    """Which character codes no font's ToUnicode map gives for real text: the replacement
    character, private-use code points, control characters other than tab and line ends."""
    return (
        (codes == 0xFFFD)
        | ((codes >= 0xE000) & (codes <= 0xF8FF))
        | ((codes < 0x20) & ~np.isin(codes, (9, 10, 13)))
    )


def _without_rules(ink: np.ndarray) -> np.ndarray:
    """``ink`` without long horizontal and vertical runs (table rules, underlines, frames): a pixel
    is a rule's when a run of ``RULE_PX`` ink pixels along a row or column passes through it."""
    u = ink.astype(np.uint8)
    rules = np.zeros_like(u)
    for kernel, last in (
        (np.ones((1, RULE_PX), np.uint8), (RULE_PX - 1, 0)),
        (np.ones((RULE_PX, 1), np.uint8), (0, RULE_PX - 1)),
    ):
        # erode: 1 where a run starts (anchor at its first pixel); dilate: 1 over the whole run.
        # Outside the page is not ink.
        starts = cv2.erode(u, kernel, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT, borderValue=0)
        run = cv2.dilate(starts, kernel, anchor=last, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        rules |= np.asarray(run, dtype=np.uint8)
    return ink & ~rules.astype(bool)


# Code points Python counts as whitespace: such characters draw nothing, so they need no box.
_SPACES = np.array([c for c in range(0x3100) if chr(c).isspace()], dtype=np.uint32)


def _char_boxes(textpage: pdfium.PdfTextPage) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every character's code, its loose box (left, bottom, right, top) and whether pdfium gave
    one; raw calls in one loop: pages hold thousands of characters."""
    n = textpage.count_chars()
    raw = textpage.raw
    get_code, get_box = pdfium_c.FPDFText_GetUnicode, pdfium_c.FPDFText_GetLooseCharBox
    codes = np.fromiter((get_code(raw, i) for i in range(n)), dtype=np.uint32, count=n)
    boxes = np.zeros((n, 4), dtype=np.float64)
    has_box = np.zeros(n, dtype=bool)
    rect = pdfium_c.FS_RECTF()
    for i in np.flatnonzero(~np.isin(codes, _SPACES)).tolist():
        if get_box(raw, i, rect):
            boxes[i] = (rect.left, rect.bottom, rect.right, rect.top)
            has_box[i] = True
    return codes, boxes, has_box


def _to_pixels(page: pdfium.PdfPage, bitmap: pdfium.PdfBitmap, boxes: np.ndarray) -> np.ndarray:
    """Boxes in page space → (x0, x1, y0, y1) in bitmap pixels, sorted per axis. The mapping is
    affine (scale, page rotation, origin); it is read off pdfium at three far-apart points."""
    to_px = bitmap.get_posconv(page).to_bitmap
    left, bottom, right, top = page.get_bbox()
    o = np.array(to_px(left, bottom), dtype=np.float64)
    ex = (np.array(to_px(right, bottom), dtype=np.float64) - o) / max(right - left, 1.0)
    ey = (np.array(to_px(left, top), dtype=np.float64) - o) / max(top - bottom, 1.0)
    corners = []
    for xs, ys in ((0, 1), (2, 3)):  # (left, bottom) and (right, top)
        corners.append(o + np.outer(boxes[:, xs] - left, ex) + np.outer(boxes[:, ys] - bottom, ey))
    (ax, ay), (bx, by) = corners[0].T, corners[1].T
    return np.stack([np.minimum(ax, bx), np.maximum(ax, bx), np.minimum(ay, by), np.maximum(ay, by)], 1)


def _covered(shape: tuple[int, ...], px: np.ndarray) -> np.ndarray:
    """Pixels inside any box, each box widened by one pixel before and two after (rounding),
    painted at once: +1/−1 at the corners of each box, then running sums along both axes."""
    h, w = shape[:2]
    x0 = np.clip(np.floor(px[:, 0]).astype(np.int64) - 1, 0, w)
    x1 = np.clip(np.ceil(px[:, 1]).astype(np.int64) + 2, 0, w)
    y0 = np.clip(np.floor(px[:, 2]).astype(np.int64) - 1, 0, h)
    y1 = np.clip(np.ceil(px[:, 3]).astype(np.int64) + 2, 0, h)
    keep = (x1 > x0) & (y1 > y0)
    x0, x1, y0, y1 = x0[keep], x1[keep], y0[keep], y1[keep]
    # float32 holds these small integer sums exactly; cv2.integral takes it (not int32).
    marks = np.zeros((h + 1, w + 1), dtype=np.float32)
    np.add.at(marks, (y0, x0), 1)
    np.add.at(marks, (y0, x1), -1)
    np.add.at(marks, (y1, x0), -1)
    np.add.at(marks, (y1, x1), 1)
    sums = cv2.integral(marks, sdepth=cv2.CV_32F)  # sums[y, x] = marks[:y, :x].sum()
    return np.asarray(sums[1 : h + 1, 1 : w + 1] > 0.5)


def layer_gaps(
    page: pdfium.PdfPage, ink_ratio: float = 0.01, textpage: pdfium.PdfTextPage | None = None
) -> str | None:
    """Why the page's text layer does not cover what it shows (in Chinese), or None if it does.
    ``textpage``: the page's text page if the caller has it open (it stays open)."""
    # The visible area in the layer's own coordinates: before the page's rotation, from the crop
    # box's origin (which need not be 0, 0).
    left, bottom, right, top = bbox = page.get_bbox()
    if _image_share(page, bbox) >= IMAGE_SHARE:
        return "页面含有图像（扫描或照片），文字层不包含图像中的文字"
    if _invisible_text(page):
        return "文字层含有不可见的文字，与页面显示的内容不一定一致"
    own = textpage is None
    if textpage is None:
        textpage = page.get_textpage()
    try:
        codes, boxes, has_box = _char_boxes(textpage)
    finally:
        if own:
            textpage.close()
    odd = _odd(codes)
    outside = has_box & (
        (boxes[:, 2] < left) | (boxes[:, 0] > right) | (boxes[:, 3] < bottom) | (boxes[:, 1] > top)
    )
    # The first character that shows the layer is wrong names the reason, as a reader meets it.
    first_odd = int(np.argmax(odd)) if odd.any() else len(codes)
    first_outside = int(np.argmax(outside)) if outside.any() else len(codes)
    if first_odd <= first_outside and first_odd < len(codes):
        return "文字层含有无法识别的字符（字体缺少编码映射），与页面显示的内容不一致"
    if first_outside < len(codes):
        return "文字层有位于页面可见区域之外的文字"
    bitmap = page.render(scale=PROBE_DPI / 72, draw_annots=False, may_draw_forms=False, grayscale=True)
    gray = np.asarray(bitmap.to_pil().convert("L"))
    inside = _covered(gray.shape, _to_pixels(page, bitmap, boxes[has_box]))
    ink = _without_rules(gray < 128)
    if float((ink & ~inside).mean()) > ink_ratio:
        return "页面有文字层之外的内容（图形、扫描内容或以线条绘制的文字）"
    return None
