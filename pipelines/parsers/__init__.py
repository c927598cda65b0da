"""Parsers behind one contract, picked by MIME type."""

from pipelines.parsers.base import ParseContext, ParseError, Parser, ParseResult
from pipelines.parsers.registry import UnsupportedFormatError, parse_file, pick_parser

__all__ = [
    "ParseContext",
    "ParseError",
    "ParseResult",
    "Parser",
    "UnsupportedFormatError",
    "parse_file",
    "pick_parser",
]
