"""Read a watermark as a person would: the pixels the mark changed, turned level, read by OCR."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from pipelines.ocr import get_ocr
from pipelines.redaction import PDFIUM_LOCK, WATERMARK_ANGLE


def first_page(data: bytes, dpi: int = 200) -> Image.Image:
    """Page 1 of a PDF, or the image itself."""
    if not data.startswith(b"%PDF"):
        return Image.open(io.BytesIO(data)).convert("RGB")
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)
        try:
            return pdf[0].render(scale=dpi / 72).to_pil().convert("RGB")
        finally:
            pdf.close()


def read_mark(before: Image.Image, after: Image.Image) -> str:
    """What the watermark on ``after`` says (``before`` is the same page unmarked), spaces removed."""
    a = np.asarray(before.convert("L"), dtype=np.int16)
    b = np.asarray(after.convert("L"), dtype=np.int16)
    assert a.shape == b.shape, (a.shape, b.shape)
    ink = np.abs(a - b) > 12
    assert ink.mean() > 0.01, "no visible mark"
    mark = Image.fromarray(np.where(ink, 0, 255).astype(np.uint8))
    level = mark.rotate(-WATERMARK_ANGLE, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    return "".join(get_ocr().recognize(level.convert("RGB")).text.split())
