"""Pick the best parser for a MIME type."""

from __future__ import annotations

import logging
from pathlib import Path

from pipelines.parsers.base import ParseContext, ParseError, Parser, ParseResult
from pipelines.parsers.image import ImageParser
from pipelines.parsers.media import MediaParser
from pipelines.parsers.ofd import OfdParser
from pipelines.parsers.pdf import PdfParser
from pipelines.parsers.text import TextParser
from pipelines.parsers.tika import TikaParser

log = logging.getLogger(__name__)

PARSERS: list[Parser] = [TextParser(), PdfParser(), ImageParser(), TikaParser(), OfdParser(), MediaParser()]


class UnsupportedFormatError(ParseError):
    """No parser handles this type; the original stays stored."""


def pick_parser(mime: str) -> Parser:
    """The highest-scoring parser for ``mime`` (ParseError when nothing can parse it)."""
    if mime == "application/x-empty":
        raise ParseError("文件为空（0 字节），原件已保存")
    best = max(PARSERS, key=lambda p: p.score(mime))
    if best.score(mime) <= 0:
        raise UnsupportedFormatError(f"无法识别的文件格式（{mime}），暂不支持解析；原件已保存")
    return best


def parse_file(path: Path, ctx: ParseContext) -> ParseResult:
    """Parse with the parser the MIME type selects. A parser's unexpected exception (a bug, or a
    library tripping over a strange file) becomes a plain reason, logged with its traceback."""
    parser = pick_parser(ctx.mime)
    try:
        return parser.parse(path, ctx)
    except ParseError:
        raise
    except Exception as exc:
        log.error("parser %s failed on a %s file", parser.name, ctx.mime, exc_info=True)
        raise ParseError(
            f"解析程序未能读取该文件（{type(exc).__name__}），文件的格式可能不常见或已损坏；"
            "原件已保存，错误已记录供排查"
        ) from exc
