"""Data for the redaction tests: text-layer and scanned PDFs with known character positions, scans
with hand-made OCR boxes, photos with EXIF, and sound with a known transcript."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from pipelines.redaction import cjk_font_path
from pipelines.samples import FONT, _font

SIZE_PT = 12.0
LEFT_PT = 60.0
TOP_PT = 72.0
LEADING = 1.6
SR = 16_000
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

Rect = tuple[int, int, int, int]


def text_pdf(path: Path, pages: list[list[str]], rotate: int = 0) -> Path:
    """A text-layer PDF (reportlab, STSong-Light): one line per string at known positions; pages
    shown turned by ``rotate`` degrees clockwise (/Rotate) when given."""
    _font()
    # reportlab swaps the media box of a turned page: ask for the shown size to get an A4 media box
    shown = (A4[1], A4[0]) if rotate % 180 else A4
    c = canvas.Canvas(str(path), pagesize=shown, invariant=True)
    for lines in pages:
        c.setPageRotation(rotate)
        c.setFont(FONT, SIZE_PT)
        for n, line in enumerate(lines):
            c.drawString(LEFT_PT, baseline_pt(n), line)
        c.showPage()
    c.save()
    return path


def baseline_pt(line_no: int) -> float:
    """Baseline of line ``line_no`` in PDF points (origin bottom left)."""
    return A4[1] - TOP_PT - line_no * SIZE_PT * LEADING


def glyph_rect(line: str, line_no: int, start: int, end: int, dpi: float) -> Rect:
    """Pixels (at ``dpi``) well inside the glyphs of ``line[start:end]``: what must be black."""
    k = dpi / 72
    x0 = LEFT_PT + stringWidth(line[:start], FONT, SIZE_PT)
    x1 = LEFT_PT + stringWidth(line[:end], FONT, SIZE_PT)
    base = baseline_pt(line_no)
    top, bottom = base + 0.7 * SIZE_PT, base + 0.05 * SIZE_PT
    return (round((x0 + 1) * k), round((A4[1] - top) * k), round((x1 - 1) * k), round((A4[1] - bottom) * k))


def draw_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A Chinese font where the machine has one; else DejaVu (Chinese then draws as boxes, digits fine)."""
    found = cjk_font_path()
    if found is not None:
        return ImageFont.truetype(str(found[0]), size, index=found[1])
    if DEJAVU.is_file():
        return ImageFont.truetype(str(DEJAVU), size)
    return ImageFont.load_default(size)


@dataclass
class Scan:
    """A page image and the OCR JSON an engine would have stored for it (boxes measured, not guessed)."""

    image: Image.Image
    ocr: dict[str, Any]
    char_boxes: list[list[Rect]]  # per line, per character

    @property
    def text(self) -> str:
        return "\n".join(line["text"] for line in self.ocr["lines"])


def _words(text: str) -> list[tuple[int, int]]:
    """RapidOCR's word split: one word per Chinese character, runs of ASCII letters/digits together."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        j = i + 1
        if text[i].isascii() and text[i].isalnum():
            while j < len(text) and text[j].isascii() and text[j].isalnum():
                j += 1
        out.append((i, j))
        i = j
    return out


def scan(lines: list[str], size: tuple[int, int] = (1654, 2339), font_px: int = 40) -> Scan:
    """A white page (A4 at 200 dpi by default) with ``lines`` drawn, and matching OCR JSON."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = draw_font(font_px)
    ocr_lines: list[dict[str, Any]] = []
    char_boxes: list[list[Rect]] = []
    x, y = 140, 200
    for text in lines:
        draw.text((x, y), text, font=font, fill="black")
        top, bottom = y - 2, y + font_px + 4
        xs = [x + round(draw.textlength(text[:i], font=font)) for i in range(len(text) + 1)]
        char_boxes.append([(xs[i], top, xs[i + 1], bottom) for i in range(len(text))])
        words = [
            {"text": text[a:b], "score": 0.99, "box": [xs[a], top, xs[b], bottom]} for a, b in _words(text)
        ]
        ocr_lines.append({"text": text, "score": 0.99, "box": [xs[0], top, xs[-1], bottom], "words": words})
        y += 2 * font_px
    ocr = {"width": size[0], "height": size[1], "rotation": 0, "lines": ocr_lines}
    return Scan(image, ocr, char_boxes)


def scaled(rect: Rect, factor: float, inset: int = 2) -> Rect:
    """``rect`` scaled (e.g. from OCR 200 dpi to rendition 150 dpi) and shrunk by ``inset`` pixels."""
    x0, y0, x1, y1 = (round(v * factor) for v in rect)
    return (x0 + inset, y0 + inset, x1 - inset, y1 - inset)


def span_rect(boxes: list[Rect], start: int, end: int) -> Rect:
    """Union of the character boxes ``start``…``end`` of one line."""
    part = boxes[start:end]
    return (part[0][0], min(b[1] for b in part), part[-1][2], max(b[3] for b in part))


def region(image: Image.Image, rect: Rect) -> np.ndarray:
    """Grey levels of ``rect`` (inclusive-exclusive) in ``image``."""
    return np.asarray(image.convert("L").crop(rect), dtype=np.float64)


def image_only_pdf(path: Path, images: list[Image.Image], dpi: int = 200) -> Path:
    """A PDF of page images only (a scanner's), pages sized for ``dpi``."""
    images[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path


def mixed_pdf(path: Path, lines: list[str], page_scan: Image.Image) -> Path:
    """Page 1 with a text layer (as ``text_pdf``), page 2 a scanned image filling A4."""
    from reportlab.lib.utils import ImageReader

    _font()
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)
    c.setFont(FONT, SIZE_PT)
    for n, line in enumerate(lines):
        c.drawString(LEFT_PT, baseline_pt(n), line)
    c.showPage()
    c.drawImage(ImageReader(page_scan), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.save()
    return path


def sound(seconds: float, seed: int = 7) -> np.ndarray:
    """A stand-in for speech: 300 Hz and 470 Hz tones with a little noise, float32 at 16 kHz."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    x = (
        0.2 * np.sin(2 * np.pi * 300 * t)
        + 0.1 * np.sin(2 * np.pi * 470 * t)
        + 0.02 * rng.standard_normal(len(t))
    )
    return x.astype(np.float32)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16-bit mono WAV at 16 kHz (decodes back exactly, no resampling)."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    return path


def write_video(path: Path, samples: np.ndarray, fps: int = 10) -> Path:
    """An MP4 (MPEG-4 video, AAC sound) of grey frames with ``samples`` as its sound."""
    seconds = len(samples) / SR
    with av.open(str(path), "w") as c:
        video: Any = c.add_stream("mpeg4", rate=fps)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        audio: Any = c.add_stream("aac", rate=SR, layout="mono")
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(
                np.full((120, 160, 3), (i * 9) % 255, np.uint8), format="rgb24"
            )
            for packet in video.encode(frame):
                c.mux(packet)
        for packet in video.encode(None):
            c.mux(packet)
        step = 1024
        for i in range(0, len(samples), step):
            frame = av.AudioFrame.from_ndarray(
                samples[i : i + step].reshape(1, -1), format="flt", layout="mono"
            )
            frame.sample_rate = SR
            for packet in audio.encode(frame):
                c.mux(packet)
        for packet in audio.encode(None):
            c.mux(packet)
    return path


def peak_hz(samples: np.ndarray) -> float:
    """The strongest frequency in ``samples`` (16 kHz)."""
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window))
    return float(np.fft.rfftfreq(len(samples), 1 / SR)[int(np.argmax(spectrum))])
