"""The parser contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


class ParseError(Exception):
    """A file could not be parsed; the message is shown to users (Chinese)."""


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know besides the file."""

    mime: str
    original_name: str = ""


@dataclass
class ParseResult:
    """Full text, text per page (one entry for unpaged formats), metadata and warnings."""

    text: str
    pages: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@runtime_checkable
class Parser(Protocol):
    """Turns one file into text."""

    name: str
    mime_types: frozenset[str]

    def score(self, mime: str) -> int:
        """How well this parser handles ``mime`` (0 = not at all); the highest score wins."""
        ...

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """Parse the file or raise ParseError with a reason a user understands."""
        ...
