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

import math

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

PROBE_DPI = 50  # the ink test's resolution: cheap, and enough to see a line of text
IMAGE_SHARE = 0.01  # images over this share of the page hide text the layer may not have
RULE_PX = 12  # a straight ink run this long (≈6 mm at 50 dpi) is a table rule or underline, not text


def _image_share(page: pdfium.PdfPage, width: float, height: float) -> float:
    covered = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        try:
            left, bottom, right, top = obj.get_bounds()
        except pdfium.PdfiumError:
            continue
        w = max(0.0, min(right, width) - max(left, 0.0))
        h = max(0.0, min(top, height) - max(bottom, 0.0))
        covered += w * h
    return covered / max(width * height, 1.0)


def _invisible_text(page: pdfium.PdfPage) -> bool:
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], max_depth=4):
        if pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
            return True
    return False


def _odd(code: int) -> bool:
    return code == 0xFFFD or 0xE000 <= code <= 0xF8FF or (code < 0x20 and chr(code) not in "\t\r\n")


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


def layer_gaps(
    page: pdfium.PdfPage, ink_ratio: float = 0.01, textpage: pdfium.PdfTextPage | None = None
) -> str | None:
    """Why the page's text layer does not cover what it shows (in Chinese), or None if it does.
    ``textpage``: the page's text page if the caller has it open (it stays open)."""
    width, height = page.get_size()
    if _image_share(page, width, height) >= IMAGE_SHARE:
        return "页面含有图像（扫描或照片），文字层不包含图像中的文字"
    if _invisible_text(page):
        return "文字层含有不可见的文字，与页面显示的内容不一定一致"
    scale = PROBE_DPI / 72
    bitmap = page.render(scale=scale, draw_annots=False, may_draw_forms=False, grayscale=True)
    gray = np.asarray(bitmap.to_pil().convert("L"))
    to_px = bitmap.get_posconv(page).to_bitmap
    inside = np.zeros(gray.shape, dtype=bool)
    own = textpage is None
    if textpage is None:
        textpage = page.get_textpage()
    try:
        for i in range(textpage.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
            if _odd(code):
                return "文字层含有无法识别的字符（字体缺少编码映射），与页面显示的内容不一致"
            if chr(code).isspace():
                continue
            try:
                left, bottom, right, top = textpage.get_charbox(i, loose=True)
            except pdfium.PdfiumError:
                continue
            if right < 0 or left > width or top < 0 or bottom > height:
                return "文字层有位于页面可见区域之外的文字"
            (ax, ay), (bx, by) = to_px(left, bottom), to_px(right, top)
            x0, x1 = sorted((ax, bx))
            y0, y1 = sorted((ay, by))
            rows = slice(max(0, math.floor(y0) - 1), math.ceil(y1) + 2)
            inside[rows, max(0, math.floor(x0) - 1) : math.ceil(x1) + 2] = True
    finally:
        if own:
            textpage.close()
    ink = _without_rules(gray < 128)
    if float((ink & ~inside).mean()) > ink_ratio:
        return "页面有文字层之外的内容（图形、扫描内容或以线条绘制的文字）"
    return None
