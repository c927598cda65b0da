"""Redacted renditions (脱敏件): what a party is shown of a record (第二十八条).

A rendition is made from the record's original and its active sensitive spans, minus the
viewer's own name: the text with ■ in place of every span, and a file — PDF/scan pages as
images with black boxes burned in, photos likewise without metadata, audio (and the sound of
video) with the spans bleeped, other formats as the redacted text laid out as pages. Both are
stored as derived files named by a digest of the spans, so a changed span makes a new one and
an unchanged one is reused. The viewer's name and the time are stamped on PDF/image renditions
at download (:func:`watermarked`), never stored.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.db import session_scope
from archive.models import ProcessingStatus, Record, SpanKind, StoredFile
from archive.timeutil import to_local
from pipelines.context import Services
from pipelines.derived import link_derived
from pipelines.media.transcript import Transcript
from pipelines.redaction import bleep_audio, redact_image, redact_pdf, redact_text, watermark
from pipelines.sensitive import SpanView, spans_of

PREFIX = "redacted-"
MASK = "■"


class RenditionError(RuntimeError):
    """A rendition cannot be made (the record is not processed, or the redaction failed)."""


@dataclass(frozen=True)
class Rendition:
    """A record as a party may see it."""

    record_id: int
    title: str
    text: str
    file_sha256: str
    file_mime: str
    file_name: str
    spans: int  # how many spans were covered


def _bytes(svc: Services, sha: str) -> bytes:
    return b"".join(svc.store.iter_bytes(sha))


def applied_spans(spans: list[SpanView], keep: frozenset[str]) -> list[SpanView]:
    """The active spans to cover for a viewer (their own name is not hidden from them)."""
    return [s for s in spans if s.active and not (s.kind == SpanKind.PERSON.value and s.text in keep)]


def redact_title(title: str, spans: list[SpanView]) -> str:
    """The title with every span text in it masked (titles often name the people involved)."""
    for text in sorted({s.text for s in spans}, key=len, reverse=True):
        if len(text) >= 2:
            title = title.replace(text, MASK * len(text))
    return title


def _tag(record: Record, spans: list[SpanView]) -> str:
    basis = json.dumps([record.sha256, [(s.start, s.end, s.kind) for s in spans]], ensure_ascii=False)
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:12]


def _suffix(mime: str) -> tuple[str, str]:
    if mime.startswith(("audio/", "video/")):
        return ".ogg", "audio/ogg"
    if mime.startswith("image/"):
        return ".png", "image/png"
    return ".pdf", "application/pdf"


def text_pdf(text: str, title: str) -> bytes:
    """The (already redacted) text laid out on A4 pages, for formats without a page image."""
    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, height = A4
    size, margin = 11, 56
    per_line = int((width - 2 * margin) // size)
    y = height - margin
    c.setFont("STSong-Light", 14)
    c.drawString(margin, y, title[:per_line])
    y -= 28
    c.setFont("STSong-Light", size)
    for para in text.splitlines() or [""]:
        chunks = [para[i : i + per_line] for i in range(0, len(para), per_line)] or [""]
        for chunk in chunks:
            if y < margin:
                c.showPage()
                c.setFont("STSong-Light", size)
                y = height - margin
            c.drawString(margin, y, chunk)
            y -= size * 1.6
    c.save()
    return buf.getvalue()


def _make_file(
    svc: Services, record: Record, spans: list[SpanView], raw: str, redacted: str, title: str
) -> bytes:
    files = {f.kind: f for f in record.files}
    ranges = [(s.start, s.end) for s in spans]
    pages = json.loads(_bytes(svc, files["pages"].sha256))["pages"] if "pages" in files else []
    ocr = json.loads(_bytes(svc, files["ocr"].sha256)) if "ocr" in files else None
    with tempfile.TemporaryDirectory(prefix="rendition-") as tmp:
        path = Path(tmp) / ("original" + Path(record.original_name).suffix.lower())
        with path.open("wb") as out:
            for chunk in svc.store.iter_bytes(record.sha256):
                out.write(chunk)
        if record.mime.startswith(("audio/", "video/")) and "transcript" in files:
            transcript = Transcript.from_json(_bytes(svc, files["transcript"].sha256))
            return bleep_audio(path, transcript, ranges)
        if record.mime == "application/pdf":
            return redact_pdf(path, pages, ranges, ocr)
        if record.mime.startswith("image/") and record.page_count == 1:
            return redact_image(path, ranges, (ocr or {}).get("0"), text=raw)
    return text_pdf(redacted, title)


def prepare(svc: Services, record_id: int, keep: frozenset[str] = frozenset()) -> Rendition:
    """The record's rendition for a viewer whose own names are ``keep``; made once, then reused."""
    with Session(svc.engine) as s:
        record = s.scalar(select(Record).where(Record.id == record_id).options(selectinload(Record.files)))
        if record is None or record.status is not ProcessingStatus.PROCESSED:
            raise RenditionError("该记录尚未处理完成，暂不能提供脱敏件")
        spans = applied_spans(spans_of(s, record_id, active_only=True), keep)
        tag = _tag(record, spans)
        files = {f.kind: f for f in record.files}
        title = redact_title(record.title, spans)
        suffix, mime = _suffix(record.mime)
        text_kind, file_kind = f"{PREFIX}text-{tag}", f"{PREFIX}file-{tag}"
        if text_kind in files and file_kind in files:
            text = _bytes(svc, files[text_kind].sha256).decode("utf-8")
            found = files[file_kind]
            return Rendition(record_id, title, text, found.sha256, found.mime, title + suffix, len(spans))
        source = next((f for f in record.files if f.kind == "text"), None)
        raw = _bytes(svc, source.sha256).decode("utf-8") if source else ""
        redacted = redact_text(raw, [(sp.start, sp.end) for sp in spans])
        try:
            data = _make_file(svc, record, spans, raw, redacted, title)
        except Exception as exc:  # any failure must stop the release, never fall back to the original
            raise RenditionError(f"脱敏件生成失败：{exc}") from exc
    text_info = svc.store.put_bytes(redacted.encode("utf-8"), mime="text/plain; charset=utf-8")
    file_info = svc.store.put_bytes(data, mime=mime)
    with session_scope(svc.engine) as s:
        # Renditions of older span versions stay linked but unused (their tag no longer matches).
        rows = {f.kind: f for f in s.scalars(select(StoredFile).where(StoredFile.record_id == record_id))}
        link_derived(s, record_id, rows, text_kind, text_info, "text/plain; charset=utf-8")
        link_derived(s, record_id, rows, file_kind, file_info, mime)
    return Rendition(record_id, title, redacted, file_info.sha256, mime, title + suffix, len(spans))


def watermarked(svc: Services, rendition: Rendition, viewer: str, at: datetime) -> bytes:
    """The rendition's file stamped with the viewer's name and the time (PDF and images)."""
    data = _bytes(svc, rendition.file_sha256)
    if rendition.file_mime.startswith("audio/"):
        return data
    return watermark(data, f"{viewer} 查阅 {to_local(at):%Y-%m-%d %H:%M}")
