"""Plain text in UTF-8 (with or without BOM) or GB18030/GBK."""

from __future__ import annotations

from pathlib import Path

from pipelines.parsers.base import ParseContext, ParseError, ParseResult

MAX_TEXT_BYTES = 64 * 1024 * 1024


class TextParser:
    """Decodes text files; GBK files from older office systems are common."""

    name = "text"
    mime_types = frozenset({"text/plain"})

    def score(self, mime: str) -> int:
        """Handles text/plain."""
        return 10 if mime in self.mime_types else 0

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """Decode as UTF-8, else GB18030."""
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise ParseError(
                f"文本文件过大（{size // 1024 // 1024} MB），超过 {MAX_TEXT_BYTES >> 20} MB 上限"
            )
        data = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ParseError("无法识别文本编码（既不是 UTF-8 也不是 GBK/GB18030）")
        text = text.replace("\r\n", "\n")
        return ParseResult(
            text=text, pages=[text], metadata={"encoding": enc.replace("-sig", "")}, parser=self.name
        )
