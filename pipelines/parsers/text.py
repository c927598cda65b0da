"""Plain text in any encoding: UTF-8 and UTF-16 by their marks, GB18030 or Big5 for Chinese, and
whatever a detector finds for the rest (windows-1252, cp866, EBCDIC …)."""

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
        """Decode in the encoding the bytes read in."""
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise ParseError(
                f"文本文件过大（{size // 1024 // 1024} MB），超过 {MAX_TEXT_BYTES >> 20} MB 上限"
            )
        text, enc = decode_text(path.read_bytes())
        text = text.replace("\r\n", "\n")
        return ParseResult(text=text, pages=[text], metadata={"encoding": enc}, parser=self.name)


SAMPLE = 256 * 1024  # bytes the detector looks at (the whole file is decoded with its answer)


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding; ParseError if it reads in none."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc.replace("-sig", "")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    from pipelines.detect import text_encoding

    if b"\x00" in data[:SAMPLE] and (wide := text_encoding(data[:SAMPLE])) is not None:
        return data.decode(wide, errors="replace"), wide
    sample = data[:SAMPLE]
    # GB18030 decodes almost any byte pairs, Big5 text too: let the detector tell them apart first.
    # Then windows-1252, the commonest single-byte code page, before the detector's rarer guesses.
    best = (
        from_bytes(sample, cp_isolation=["gb18030", "big5"], threshold=0.1).best()
        or from_bytes(sample, cp_isolation=["cp1252"], threshold=0.05).best()
        or from_bytes(sample, threshold=0.2).best()
    )
    if best is None:
        raise ParseError("无法识别文本编码（不是 UTF-8、GB18030、Big5 或其他常见编码）；原件已保存")
    enc = str(best.encoding)
    try:
        return data.decode(enc), enc
    except UnicodeDecodeError:  # the sample decoded, a later part does not: keep what reads
        return data.decode(enc, errors="replace"), enc
