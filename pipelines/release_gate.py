"""The release gate: before a party receives a rendition, read it as a person would.

Independent of the detector that made the spans, every released byte is re-read: each page or
image of the released file by OCR (the pixels, not any text layer), the sound by a fresh
transcription, and the released text and title as they are. In what was read it looks for

(a) every hidden value, in any writing (spaces, line breaks, separators, full-width digits,
    Chinese numerals: :func:`pipelines.folding.fold_for_match`), and
(b) any 身份证号, 手机号, 固定电话, 银行卡号 or 统一社会信用代码 that is not the viewer's own
    (and, in re-transcribed sound, any run of seven or more spoken digits).

A finding blocks the record's release; its reason names the value and where it was read (page,
second, text), for the archivist. The gate never repairs anything: it says no.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PIL import Image

from archive.models import SpanKind
from archive.release import plain
from pipelines.folding import fold_for_match
from pipelines.media.transcript import Transcript
from pipelines.ocr import OcrEngine, get_ocr
from pipelines.pii import detect
from pipelines.redaction import PDFIUM_LOCK, native_scale, open_image, pdf_page_count, upright_frames

NUMBER_KINDS = frozenset(
    {SpanKind.ID_CARD, SpanKind.MOBILE, SpanKind.LANDLINE, SpanKind.BANK_CARD, SpanKind.CREDIT_CODE}
)


@dataclass(frozen=True)
class Finding:
    """Something a person would see or hear in the rendition that must not be released."""

    what: str  # "隐藏内容" or a span kind (身份证号 …)
    value: str
    where: str  # 第 2 页 / 第 12.4 秒 / 文本 / 标题

    def describe(self) -> str:
        """For the archivist: which value, where."""
        return f"{self.where}仍可见{self.what}“{self.value}”"

    def to_json(self) -> dict[str, str]:
        """Stored with the verdict."""
        return {"what": self.what, "value": self.value, "where": self.where}


@dataclass
class GateReport:
    """What the gate read and found."""

    findings: list[Finding] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # reasons that are not a value (confidence)
    pages: int = 0
    audio_s: float = 0.0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Nothing found, nothing refused."""
        return not self.findings and not self.refusals

    def reason(self) -> str | None:
        """Why the release is blocked (None if it is not)."""
        parts = [*self.refusals, *(f.describe() for f in self.findings[:20])]
        if len(self.findings) > 20:
            parts.append(f"等共 {len(self.findings)} 处")
        return "；".join(parts) or None


class ReleaseGate:
    """Re-reads one rendition for a viewer who may keep ``keep`` (their own name and ID)."""

    def __init__(self, hidden: Iterable[str], keep: Iterable[str], ocr: OcrEngine | None = None) -> None:
        self._hidden = {f: v for v in hidden if len(f := fold_for_match(v)) >= 2}
        self._own = {plain(k) for k in keep}
        self._ocr = ocr
        self.report = GateReport()
        self._started = time.monotonic()

    def _engine(self) -> OcrEngine:
        if self._ocr is None:
            self._ocr = get_ocr()
        return self._ocr

    def refuse(self, reason: str) -> None:
        """Block the release for a reason that is not a value found."""
        self.report.refusals.append(reason)

    def check_text(self, text: str, where: str, *, spoken: bool = False) -> None:
        """Look for hidden values and others' numbers in ``text`` as read at ``where``."""
        folded = fold_for_match(text)
        seen = {(f.what, f.value) for f in self.report.findings if f.where == where}
        for needle, value in self._hidden.items():
            if needle in folded and ("隐藏内容", value) not in seen:
                self.report.findings.append(Finding("隐藏内容", value, where))
        for d in detect(text, ner=False, spoken=spoken):
            number = d.kind in NUMBER_KINDS or (spoken and d.kind is SpanKind.OTHER)
            if number and plain(d.text) not in self._own and (d.kind.value, d.text) not in seen:
                self.report.findings.append(Finding(d.kind.value, d.text, where))

    def check_image(self, image: Image.Image, where: str) -> str:
        """OCR ``image`` as released and check what was read; returns the text read."""
        text = self._engine().recognize(image.convert("RGB")).text
        self.report.pages += 1
        self.check_text(text, where)
        return text

    def check_file(self, data: bytes) -> list[str]:
        """OCR every page (PDF) or frame (image) of a released file; the text read per page."""
        return [self.check_image(image, where) for where, image in _released_images(data)]

    def check_sound(
        self, data: bytes, transcriber: Any, bleeped: Iterable[tuple[float, float]] = ()
    ) -> Transcript:
        """Transcribe the released sound afresh and check every segment (its second) and the whole;
        any word still heard inside a stretch that was to be bleeped (``bleeped``, seconds) is a
        finding too, whatever it was heard as."""
        with tempfile.TemporaryDirectory(prefix="gate-") as tmp:
            path = Path(tmp) / "released.audio"
            path.write_bytes(data)
            heard: Transcript = transcriber.transcribe(path)
        self.report.audio_s += heard.duration
        hidden = list(bleeped)
        for seg in heard.segments:
            self.check_text(seg.text, f"第 {seg.start:.1f} 秒", spoken=True)
            for w in seg.words:
                inside = sum(max(0.0, min(w.end, b) - max(w.start, a)) for a, b in hidden)
                if w.text.strip() and inside > 0.5 * max(w.end - w.start, 1e-3):
                    self.report.findings.append(
                        Finding("应消音处的语音", w.text.strip(), f"第 {w.start:.1f} 秒")
                    )
        if heard.segments:
            self.check_text("".join(s.text for s in heard.segments), "录音", spoken=True)
        return heard

    def finish(self) -> GateReport:
        """The report, with the time the checks took."""
        self.report.seconds = round(time.monotonic() - self._started, 3)
        return self.report


def _released_images(data: bytes) -> Iterator[tuple[str, Image.Image]]:
    """Each page of a released PDF (rendered 1:1 with its page image) or frame of an image."""
    if data.startswith(b"%PDF"):
        for i in range(pdf_page_count(data)):
            with PDFIUM_LOCK:  # held while rendering, not while the page is read
                pdf = pdfium.PdfDocument(data)
                try:
                    page = pdf[i]
                    image = page.render(scale=native_scale(page), draw_annots=True).to_pil()
                    page.close()
                finally:
                    pdf.close()
            yield f"第 {i + 1} 页", image
        return
    image = open_image(io.BytesIO(data).getvalue())
    frames = list(upright_frames(image))
    for i, frame in enumerate(frames):
        yield ("图像" if len(frames) == 1 else f"第 {i + 1} 帧"), frame


def gate_transcriber(settings: Any) -> Any:
    """This process's transcriber for the gate (the configured engine; the model loads once)."""
    from pipelines.media.transcribe import shared_transcriber

    t = settings.transcription
    return shared_transcriber(
        t.engine,
        model_dir=t.model_dir,
        checkpoint=t.openai_checkpoint,
        beam_size=t.beam_size,
        chunk_s=t.chunk_s,
        repetition_penalty=t.repetition_penalty,
    )
