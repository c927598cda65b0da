"""How a party's copy of a record is made and read back before release (第二十八条).

:func:`make` builds the rendition for one viewer (a :class:`archive.release.ReleaseBasis`) and
runs the release gate (:mod:`pipelines.release_gate`) over everything it releases:

- PDF: page images with boxes burned over the spans; a page whose text layer does not cover what
  it shows is read by OCR and masked from what was read (spans found there by detection, and
  every writing of a hidden value); every released page is OCR'd by the gate, and a text-layer
  page whose OCR reads otherwise than its layer is done again from OCR (a lying ToUnicode map);
- photos and scans: the image with boxes from its stored OCR, OCR'd again by the gate;
- sound: the spans bleeped, the released sound transcribed afresh; a machine transcript too unsure
  to trust detection is refused unless spans were marked by hand;
- everything else (and a recording released as its transcript only): the redacted text laid out
  on A4 pages, which the gate OCRs.
"""

from __future__ import annotations

import difflib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image

from archive.models import Record
from archive.release import TRANSCRIPT_ONLY, ReleaseBasis, is_own
from pipelines.context import Services
from pipelines.derived import DerivedKind, derived_file, read_derived
from pipelines.detect import family_of
from pipelines.folding import fold_for_match, match_view, occurrences
from pipelines.media.transcript import Transcript
from pipelines.ocr import get_ocr
from pipelines.parsers.base import join_pages
from pipelines.pii import detect
from pipelines.redaction import (
    BLOCK,
    ImageRedactor,
    PdfRedactor,
    SoundRedactor,
    Subject,
    TextRedactor,
    bleep_audio,
    bleep_ranges,
    pick_redactor,
    redact_image,
    redact_pdf,
    redact_text,
    text_pdf,
)
from pipelines.release_gate import GateReport, ReleaseGate, gate_transcriber


def stored_bytes(svc: Services, sha: str) -> bytes:
    """A stored object's bytes."""
    return b"".join(svc.store.iter_bytes(sha))


class _Reader:
    """Reads PDF pages whose text layer does not cover what they show (redaction.PageReader)."""

    def __init__(self, basis: ReleaseBasis) -> None:
        self.basis = basis
        self.texts: dict[int, str] = {}
        self.how: dict[int, str] = {}

    def read(self, image: Image.Image) -> dict[str, Any]:
        return get_ocr().recognize(image).to_json()

    def find(self, text: str) -> list[tuple[int, int]]:
        return find_in_read_text(text, self.basis)

    def released(self, index: int, text: str, how: str) -> None:
        self.texts[index], self.how[index] = text, how


def find_in_read_text(text: str, basis: ReleaseBasis) -> list[tuple[int, int]]:
    """Spans to hide in text read off a page now: what detection finds there (the archivist's
    dismissals and the viewer's own values respected) and every writing of a hidden value."""
    spans = [
        (d.start, d.end)
        for d in detect(text, names=basis.names, keep=basis.keep)
        if (d.kind.value, d.text) not in basis.dismissed and not is_own(d.kind, d.text, basis.keep)
    ]
    view = match_view(text)
    for value in basis.hidden:
        spans.extend(occurrences(view, value))
    return spans


def _agrees(released: str, read: str) -> bool:
    """The OCR of a released text-layer page reads (about) what its text layer says."""
    expected = fold_for_match(released.replace(BLOCK, ""))
    if len(expected) < 10:
        return True
    return difflib.SequenceMatcher(None, expected, fold_for_match(read), autojunk=False).quick_ratio() >= 0.7


def _confidence(transcript: Transcript) -> float:
    words = [w.p for seg in transcript.segments for w in seg.words]
    return sum(words) / len(words) if words else 0.0


@dataclass
class Made:
    """A rendition as released (text and file) and what the gate found in it."""

    text: str
    data: bytes
    gate: GateReport
    output: tuple[str, str] = ("application/pdf", ".pdf")  # (MIME, suffix), set by `make`


def _gate(svc: Services, basis: ReleaseBasis, title: str) -> ReleaseGate:
    gate = ReleaseGate(basis.hidden, basis.keep | set(svc.settings.redaction.public_numbers))
    gate.check_text(title, "标题")
    return gate


@dataclass(frozen=True)
class _Source:
    """What a rendition is made from: a copy of the original and the record's stored derived data."""

    path: Path
    raw: str  # the stored text the spans refer to
    redacted: str  # ``raw`` with every span masked
    ranges: list[tuple[int, int]]
    pages: list[str]
    ocr: Any
    title: str
    subject: Subject


def _release_pdf(svc: Services, record: Record, basis: ReleaseBasis, src: _Source) -> Made:
    pages = src.pages
    read_pages: frozenset[int] = frozenset()
    spent, pages_read = 0.0, 0
    while True:
        reader = _Reader(basis)
        ink = svc.settings.redaction.layer_ink_ratio
        data = redact_pdf(
            src.path, pages, src.ranges, src.ocr, reader=reader, read_pages=read_pages, ink_ratio=ink
        )
        text = join_pages([reader.texts[i] for i in range(len(pages))])
        gate = _gate(svc, basis, src.title)
        gate.check_text(text, "文本")
        read = gate.check_file(data)
        layer = [i for i, how in reader.how.items() if how == "layer"]
        lying = frozenset(i for i in layer if not _agrees(reader.texts[i], read[i]))
        report = gate.finish()
        report.seconds, report.pages = report.seconds + spent, report.pages + pages_read
        if not lying or read_pages:
            return Made(text, data, report)
        # The text layer says something else than the glyphs show: read those pages by OCR.
        read_pages, spent, pages_read = lying, report.seconds, report.pages


def _release_sound(svc: Services, record: Record, basis: ReleaseBasis, src: _Source) -> Made:
    stored = read_derived(svc.store, record, DerivedKind.TRANSCRIPT)
    assert stored is not None  # the sound redactor is picked for records with a transcript only
    transcript = Transcript.from_json(stored)
    data = bleep_audio(src.path, transcript, src.ranges)
    gate = _gate(svc, basis, src.title)
    gate.check_text(src.redacted, "转写文本", spoken=True)
    least = svc.settings.redaction.min_transcript_confidence
    confidence = _confidence(transcript)
    machine = transcript.source == "machine"  # an officer's corrected transcript was listened to
    if machine and not transcript.empty and confidence < least and not basis.manual:
        gate.refuse(
            f"转写置信度 {confidence:.2f} 低于 {least:.2f}，自动检测的遮盖范围不可信："
            "请人工标注需遮盖的内容，或选择“仅提供转写文本”"
        )
    gate.check_sound(data, gate_transcriber(svc.settings), bleep_ranges(transcript, src.ranges, pad_s=0.0))
    return Made(src.redacted, data, gate.finish())


def _release_pages(svc: Services, basis: ReleaseBasis, src: _Source, make_file: Callable[[], bytes]) -> Made:
    """The redacted text as it is, and the file ``make_file`` renders, both read by the gate."""
    gate = _gate(svc, basis, src.title)
    gate.check_text(src.redacted, "文本", spoken=src.subject.spoken)
    data = make_file()
    gate.check_file(data)
    return Made(src.redacted, data, gate.finish())


def _release_image(svc: Services, record: Record, basis: ReleaseBasis, src: _Source) -> Made:
    return _release_pages(
        svc, basis, src, lambda: redact_image(src.path, src.ranges, (src.ocr or {}).get("0"), text=src.raw)
    )


def _release_text(svc: Services, record: Record, basis: ReleaseBasis, src: _Source) -> Made:
    return _release_pages(svc, basis, src, lambda: text_pdf(src.redacted, src.title))


# How the rendition of each redactor (pipelines.redaction.REDACTORS) is made and gated.
_RELEASES: dict[str, Callable[[Services, Record, ReleaseBasis, _Source], Made]] = {
    SoundRedactor.name: _release_sound,
    PdfRedactor.name: _release_pdf,
    ImageRedactor.name: _release_image,
    TextRedactor.name: _release_text,
}


def subject_of(record: Record, basis: ReleaseBasis) -> Subject:
    """What picks the redactor of a record's rendition (its files must be loaded)."""
    return Subject(
        family_of(record.mime),
        page_count=record.page_count,
        transcript=derived_file(record, DerivedKind.TRANSCRIPT) is not None,
        transcript_only=basis.mode == TRANSCRIPT_ONLY,
    )


def output_of(record: Record, basis: ReleaseBasis) -> tuple[str, str]:
    """(MIME type, suffix) of the file the record's rendition for ``basis`` is."""
    return pick_redactor(subject_of(record, basis)).output


def make(svc: Services, record: Record, basis: ReleaseBasis, raw: str, title: str) -> Made:
    """The rendition of ``record`` for ``basis`` (its text and file) and the gate's report on it."""
    ranges = [(a, b) for a, b, _, _ in basis.spans]
    redacted = redact_text(raw, ranges)
    stored_pages = read_derived(svc.store, record, DerivedKind.PAGES)
    pages = json.loads(stored_pages)["pages"] if stored_pages is not None else []
    stored_ocr = read_derived(svc.store, record, DerivedKind.OCR)
    ocr = json.loads(stored_ocr) if stored_ocr is not None else None
    subject = subject_of(record, basis)
    redactor = pick_redactor(subject)
    release = _RELEASES[redactor.name]
    with tempfile.TemporaryDirectory(prefix="rendition-") as tmp:
        path = Path(tmp) / ("original" + Path(record.original_name).suffix.lower())
        with path.open("wb") as out:
            for chunk in svc.store.iter_bytes(record.sha256):
                out.write(chunk)
        made = release(svc, record, basis, _Source(path, raw, redacted, ranges, pages, ocr, title, subject))
    return replace(made, output=redactor.output)
