"""What every family's redaction shares: the span arithmetic on texts, the error, the constants,
and what the registry picks a redactor by (:class:`Subject`, :class:`Redactor`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from archive.settings import ParsingSettings
from pipelines.detect import MediaFamily

# One logger for the package: its records keep the name they had when it was one module.
log = logging.getLogger("pipelines.redaction")

Span = tuple[int, int]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels, y downwards
OnUnlocated = Literal["raise", "black_page"]

BLOCK = "■"
DEFAULT_DPI = 150  # resolution of rendered PDF pages in a rendition
OCR_DPI = int(ParsingSettings.model_fields["ocr_dpi"].default)  # what OCR boxes were measured at
MAX_PAGE_PIXELS = 40_000_000  # a huge page (a map, a poster) is rendered at a lower resolution


class RedactionError(ValueError):
    """A redacted rendition cannot be made safely; the message is shown to users (Chinese)."""


@dataclass(frozen=True)
class Subject:
    """What the choice of a redactor depends on: the record's family, its pages, whether it has a
    transcript, and whether a recording is released as its transcript only."""

    family: MediaFamily
    page_count: int | None = None
    transcript: bool = False
    transcript_only: bool = False

    @property
    def spoken(self) -> bool:
        """The record's text is the transcript of a recording."""
        return self.family.is_sound and self.transcript


class Redactor(Protocol):
    """One way of making a redacted rendition, for the families it declares; the registry picks the
    highest score (as parsers are picked by MIME type)."""

    name: str
    families: frozenset[MediaFamily]
    output: tuple[str, str]  # (MIME type, suffix) of the file it makes

    def score(self, subject: Subject) -> int:
        """How well this redactor renders ``subject`` (0 = not at all)."""
        ...


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
