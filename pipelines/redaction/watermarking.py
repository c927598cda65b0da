"""A repeated, semi-transparent diagonal text (viewer and time) burned into the pixels of every
page or image of a rendition."""

from __future__ import annotations

import io
import math
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipelines.redaction.common import MAX_PAGE_PIXELS, log
from pipelines.redaction.image import open_image, upright_frames
from pipelines.redaction.imagepdf import _encode_image, _ImagePdf
from pipelines.redaction.pdf import PDFIUM_LOCK, _open_pdf, native_scale

WATERMARK_OPACITY = 0.3
WATERMARK_COLOR = (90, 90, 90)
WATERMARK_ANGLE = 30

FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
FONT_PATTERNS = (
    "*CJK*",
    "NotoSansSC*",
    "NotoSerifSC*",
    "SourceHan*",
    "wqy-*",
    "DroidSansFallback*",
    "uming*",
)


@cache
def cjk_font_path() -> tuple[Path, int] | None:
    """A font file that draws Chinese, and the face index (Simplified Chinese in a collection)."""
    candidates = [Path(p) for p in FONT_FILES]
    for folder in FONT_DIRS:
        root = Path(folder)
        if root.is_dir():
            for pattern in FONT_PATTERNS:
                candidates += sorted(root.rglob(pattern))
    for path in candidates:
        if not path.is_file() or path.suffix.lower() not in {".ttc", ".ttf", ".otf"}:
            continue
        best = 0
        for index in range(12 if path.suffix.lower() == ".ttc" else 1):
            try:
                family, _ = ImageFont.truetype(str(path), 12, index=index).getname()
            except OSError:
                break
            if family and (" SC" in family or "GB" in family):
                best = index
                break
        return path, best
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = cjk_font_path()
    if found is not None:
        return ImageFont.truetype(str(found[0]), size, index=found[1])
    _warn_no_font()
    return ImageFont.load_default(size)


@cache
def _warn_no_font() -> None:
    log.warning("no Chinese font found (install fonts-noto-cjk): watermark Chinese characters will not show")


def _stamp(image: Image.Image, text: str) -> Image.Image:
    """``image`` (RGB) with ``text`` repeated diagonally over it, burned into the pixels."""
    base = image.convert("RGB")
    size = max(14, min(base.size) // 24)
    font = _font(size)
    spacing = size // 3
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.multiline_textbbox((0, 0), text, font=font, spacing=spacing)
    gap = 2 * size
    tile = Image.new("L", (int(right - left) + 2 * gap, int(bottom - top) + 2 * gap), 0)
    ImageDraw.Draw(tile).multiline_text((gap - left, gap - top), text, font=font, fill=255, spacing=spacing)
    tile = tile.rotate(WATERMARK_ANGLE, expand=True, resample=Image.Resampling.BICUBIC)
    mask = Image.new("L", base.size, 0)
    step_y = max(1, int(tile.height * 0.6))
    for row, y in enumerate(range(-tile.height // 2, base.height, step_y)):
        shift = (row % 2) * tile.width // 2
        for x in range(-tile.width + shift, base.width, tile.width):
            mask.paste(255, (x, y), tile)
    alpha = mask.point(lambda v: int(v * WATERMARK_OPACITY))
    return Image.composite(Image.new("RGB", base.size, WATERMARK_COLOR), base, alpha)


def _watermark_pdf(data: bytes, text: str) -> bytes:
    out = io.BytesIO()
    pdf = _open_pdf(data)
    try:
        writer = _ImagePdf(out)
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                scale = native_scale(page)
                w, h = page.get_size()
                if w * h * scale * scale > MAX_PAGE_PIXELS:
                    scale = math.sqrt(MAX_PAGE_PIXELS / (w * h))
                image = page.render(scale=scale, draw_annots=True).to_pil()
            finally:
                page.close()
            writer.add_page(_stamp(image, text), (w, h))
        writer.close()
    finally:
        pdf.close()
    return out.getvalue()


def watermark(pdf_or_image_bytes: bytes, text: str) -> bytes:
    """``text`` (e.g. viewer's name and the time) burned as a repeated, semi-transparent diagonal
    watermark into every page or image. A PDF comes back as an image-only PDF (no text layer: the
    watermark cannot be removed by deleting an object); an image in its own kind (JPEG or PNG),
    without metadata; a multi-frame image as an image-only PDF."""
    data = pdf_or_image_bytes
    out = io.BytesIO()
    if data.startswith(b"%PDF"):
        with PDFIUM_LOCK:
            return _watermark_pdf(data, text)
    image = open_image(data)
    fmt = "JPEG" if image.format in {"JPEG", "MPO", "HEIF", "WEBP"} else "PNG"
    if getattr(image, "n_frames", 1) == 1:
        return _encode_image(_stamp(next(upright_frames(image)), text), fmt)
    writer = _ImagePdf(out)
    for frame in upright_frames(image):
        writer.add_page(_stamp(frame, text), (frame.width * 72 / 200, frame.height * 72 / 200))
    writer.close()
    return out.getvalue()
