"""PDF text layer, page by page, with pypdfium2."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from pipelines.parsers.base import ParseContext, ParseError, ParseResult

MIN_PAGE_CHARS = 5  # fewer usable characters than this: treat the page as having no text layer


class PdfParser:
    """Extracts each page's text layer; pages without one are reported (OCR comes later)."""

    name = "pdf"
    mime_types = frozenset({"application/pdf"})

    def score(self, mime: str) -> int:
        """Handles application/pdf."""
        return 10 if mime in self.mime_types else 0

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """Text of every page."""
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            msg = str(exc)
            if "password" in msg.lower():
                raise ParseError("PDF 已加密，需要密码才能打开；原件已保存") from exc
            raise ParseError(f"PDF 文件已损坏或格式不正确，无法打开（{msg}）") from exc
        try:
            pages: list[str] = []
            empty: list[int] = []
            for i in range(len(pdf)):
                page = pdf[i]
                textpage = page.get_textpage()
                text = textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
                textpage.close()
                page.close()
                pages.append(text)
                if len("".join(text.split())) < MIN_PAGE_CHARS:
                    empty.append(i + 1)
            meta = {k: v for k, v in pdf.get_metadata_dict(skip_empty=True).items()}
        finally:
            pdf.close()
        warnings = []
        if empty:
            listed = "、".join(str(n) for n in empty[:20]) + ("等" if len(empty) > 20 else "")
            warnings.append(f"第 {listed} 页没有文字层，需要 OCR 识别")
        return ParseResult(text="\n\n".join(pages), pages=pages, metadata=meta, warnings=warnings)
