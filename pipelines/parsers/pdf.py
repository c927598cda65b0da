"""PDF: the text layer page by page (pypdfium2); pages without one, or whose layer does not cover
what they show, are rendered and OCR'd."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from pipelines.coverage import layer_gaps
from pipelines.ocr import get_ocr
from pipelines.parsers.base import EncryptedError, ParseContext, ParseError, ParseResult, join_pages
from pipelines.parsers.images import THUMB_WIDTH, check_pixels, thumbnail

MIN_PAGE_CHARS = 5  # fewer usable characters than this: the page has no usable text layer


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise EncryptedError("PDF 已加密，需要密码才能打开；原件已保存") from exc
        raise ParseError(f"PDF 文件已损坏或格式不正确，无法打开（{msg}）；原件已保存") from exc


def _listed(pages: list[int]) -> str:
    return "、".join(str(n) for n in pages[:20]) + ("等" if len(pages) > 20 else "")


class PdfParser:
    """Every page gets text: its own text layer, or OCR of its rendering where it has none or
    where the layer does not cover what the page shows (pipelines.coverage)."""

    name = "pdf"
    mime_types = frozenset({"application/pdf"})

    def score(self, mime: str) -> int:
        """Handles application/pdf."""
        return 10 if mime in self.mime_types else 0

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """Text of every page, OCR where needed, a thumbnail per page."""
        pdf = _open(path)
        result = ParseResult(text="", parser=self.name)
        ocr_pages: list[int] = []
        covered: list[int] = []  # pages with a text layer that does not cover what they show
        try:
            count = len(pdf)
            if count > ctx.max_pages:
                result.warnings.append(f"共 {count} 页，只解析前 {ctx.max_pages} 页")
            for i in range(min(count, ctx.max_pages)):
                page = pdf[i]
                try:
                    textpage = page.get_textpage()
                    try:
                        text = textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
                        gap = (
                            None
                            if len("".join(text.split())) < MIN_PAGE_CHARS
                            else layer_gaps(page, ctx.layer_ink_ratio, textpage)
                        )
                    finally:
                        textpage.close()
                    if gap is not None:
                        covered.append(i + 1)
                    if gap is not None or len("".join(text.split())) < MIN_PAGE_CHARS:
                        scale = ctx.ocr_dpi / 72
                        w, h = page.get_size()
                        check_pixels(int(w * scale), int(h * scale), ctx.max_image_pixels)
                        image = page.render(scale=scale).to_pil()
                        ocr = get_ocr(ctx.ocr_runtime).recognize(image)
                        text = ocr.text
                        result.ocr[i] = ocr.to_json()
                        ocr_pages.append(i + 1)
                        result.thumbnails.append(thumbnail(image))
                    else:
                        # rendered at the thumbnail's width: no resampling afterwards
                        scale = min(THUMB_WIDTH / max(page.get_width(), 1.0), 0.5)
                        result.thumbnails.append(thumbnail(page.render(scale=scale).to_pil()))
                finally:
                    page.close()
                result.pages.append(text)
            result.metadata = dict(pdf.get_metadata_dict(skip_empty=True))
            result.metadata["page_count"] = count
        finally:
            pdf.close()
        if ocr_pages:
            result.metadata["ocr_engine"] = get_ocr(ctx.ocr_runtime).label
        bare = [n for n in ocr_pages if n not in covered]
        if bare:
            result.warnings.append(f"第 {_listed(bare)} 页没有文字层，已 OCR 识别")
        if covered:
            result.warnings.append(
                f"第 {_listed(covered)} 页的文字层不包含页面上的全部内容（如扫描图像），已 OCR 识别"
            )
        result.text = join_pages(result.pages)
        return result
