"""Text: every character of a span becomes "■" (newlines kept, length kept); a format without a
page image (Office, HTML, e-mail, plain text, OFD, a recording released as its transcript only)
is released as its redacted text laid out on A4 pages."""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from pipelines.detect import MediaFamily
from pipelines.redaction.common import BLOCK, Subject, _merged


def redact_text(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with every character inside a span replaced by "■" (newlines kept, same length)."""
    chars = list(text)
    for start, end in _merged(spans, len(text)):
        for i in range(start, end):
            if chars[i] not in "\r\n":
                chars[i] = BLOCK
    return "".join(chars)


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


class TextRedactor:
    """The redacted text on A4 pages (:func:`redact_text`, :func:`text_pdf`): what is left when no
    other redactor renders the record."""

    name = "text"
    families = frozenset(MediaFamily)
    output = ("application/pdf", ".pdf")  # the rendition file's MIME type and suffix

    def score(self, subject: Subject) -> int:
        return 1
