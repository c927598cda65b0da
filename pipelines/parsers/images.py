"""Image helpers shared by the PDF and image parsers: thumbnails and size checks."""

from __future__ import annotations

import io

from PIL import Image

from pipelines.parsers.base import ParseError

THUMB_WIDTH = 240


def thumbnail(image: Image.Image) -> bytes:
    """A small JPEG of a page or photo."""
    im = image.convert("RGB")
    im.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 2))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def check_pixels(width: int, height: int, limit: int) -> None:
    """Refuse images whose pixel count could exhaust memory (decompression bombs)."""
    if width * height > limit:
        raise ParseError(
            f"图像尺寸过大（{width}×{height} 像素，超过 {limit // 1_000_000} 百万像素上限），"
            "疑似解压炸弹，已拒绝解析；原件已保存"
        )
