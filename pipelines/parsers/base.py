"""The parser contract."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pipelines.media.transcript import Transcript


class ParseError(Exception):
    """A file could not be parsed; the message is shown to users (Chinese)."""


class EncryptedError(ParseError):
    """The document is password-protected."""


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know besides the file: its type and the limits in force."""

    mime: str
    original_name: str = ""
    ocr_dpi: int = 200
    ocr_runtime: str = "onnxruntime"  # or "openvino": the same OCR models run by OpenVINO
    max_image_pixels: int = 150_000_000
    max_pages: int = 2000
    tika_url: str | None = None
    asr_engine: str = "faster-whisper"
    asr_model_dir: str | None = None  # None: the default model assembled at install
    asr_checkpoint: str | None = None  # openai-whisper only; None: built beside the model
    asr_beam_size: int = 5
    asr_repetition_penalty: float = 1.0
    asr_chunk_s: int = 300
    keyframe_every_s: int = 10
    layer_ink_ratio: float = 0.01  # PDF: ink outside the text layer above this share → OCR the page
    progress: Callable[[float], None] | None = None  # share of a long job done (0–1)


@dataclass
class ParseResult:
    """Full text, text per page (one entry for unpaged formats), metadata and warnings.

    ``ocr`` maps a 0-based page index to that page's OCR lines and boxes (for redaction);
    ``thumbnails`` are small JPEGs, one per page or image frame.
    """

    text: str
    pages: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    ocr: dict[int, dict[str, Any]] = field(default_factory=dict)
    thumbnails: list[bytes] = field(default_factory=list)
    parser: str = ""
    transcript: Transcript | None = None  # sound records: the 第二十六条 text record of the sound


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


def join_pages(pages: list[str]) -> str:
    """Full text of a paged document (pages separated by a blank line)."""
    return "\n\n".join(pages)
