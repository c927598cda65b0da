"""Photos and scans: EXIF (capture time, device, GPS) and OCR of every frame (multi-page TIFF)."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageOps, ImageSequence, UnidentifiedImageError

from pipelines.ocr import get_ocr
from pipelines.parsers.base import ParseContext, ParseError, ParseResult, join_pages
from pipelines.parsers.images import check_pixels, thumbnail

_registered_heif = False


def _register_heif() -> None:
    global _registered_heif
    if not _registered_heif:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _registered_heif = True


def _ratio(value: Any) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _gps(gps: dict[int, Any]) -> dict[str, float] | None:
    try:
        lat = gps[ExifTags.GPS.GPSLatitude]
        lon = gps[ExifTags.GPS.GPSLongitude]
    except KeyError:
        return None

    def deg(v: Any) -> float:
        d, m, s = (_ratio(x) for x in v)
        return d + m / 60 + s / 3600

    out = {"lat": deg(lat), "lon": deg(lon)}
    if gps.get(ExifTags.GPS.GPSLatitudeRef) == "S":
        out["lat"] = -out["lat"]
    if gps.get(ExifTags.GPS.GPSLongitudeRef) == "W":
        out["lon"] = -out["lon"]
    return {k: round(v, 6) for k, v in out.items()}


def exif_metadata(image: Image.Image) -> dict[str, Any]:
    """Capture time (ISO, camera local time), device make/model and GPS, where present."""
    exif = image.getexif()
    meta: dict[str, Any] = {}
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    raw_time = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if isinstance(raw_time, str):
        try:
            meta["captured_at"] = datetime.strptime(raw_time.strip("\x00 "), "%Y:%m:%d %H:%M:%S").isoformat()
        except ValueError:
            meta["exif_time_unreadable"] = raw_time
    for key, tag in (("make", ExifTags.Base.Make), ("model", ExifTags.Base.Model)):
        value = exif.get(tag)
        if isinstance(value, str) and value.strip("\x00 "):
            meta[key] = value.strip("\x00 ")
    gps = _gps(exif.get_ifd(ExifTags.IFD.GPSInfo))
    if gps:
        meta["gps"] = gps
    return meta


class ImageParser:
    """OCR of photos and scanned pages; EXIF kept as metadata."""

    name = "image"
    mime_types = frozenset(
        {"image/jpeg", "image/png", "image/tiff", "image/gif", "image/bmp", "image/webp", "image/heic"}
    )

    def score(self, mime: str) -> int:
        """Handles the common image types."""
        return 10 if mime in self.mime_types else 0

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """OCR every frame; read EXIF from the first."""
        _register_heif()
        Image.MAX_IMAGE_PIXELS = ctx.max_image_pixels
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(path)
                check_pixels(image.width, image.height, ctx.max_image_pixels)
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ParseError(f"图像尺寸过大，疑似解压炸弹，已拒绝解析；原件已保存（{exc}）") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ParseError(f"图像文件已损坏或格式不正确，无法打开（{exc}）；原件已保存") from exc
        result = ParseResult(text="", parser=self.name, metadata=exif_metadata(image))
        result.metadata.update({"width": image.width, "height": image.height, "format": image.format})
        frames = 0
        for frame in ImageSequence.Iterator(image):
            if frames >= ctx.max_pages:
                result.warnings.append(f"图像帧数过多，只识别前 {ctx.max_pages} 帧")
                break
            upright = ImageOps.exif_transpose(frame.convert("RGB"))
            ocr = get_ocr(ctx.ocr_runtime).recognize(upright)
            result.ocr[frames] = ocr.to_json()
            result.pages.append(ocr.text)
            result.thumbnails.append(thumbnail(upright))
            frames += 1
        result.metadata["frames"] = frames
        result.metadata["ocr_engine"] = get_ocr(ctx.ocr_runtime).label
        result.text = join_pages(result.pages)
        return result
