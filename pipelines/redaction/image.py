"""Photos and scans: the spans blacked out from the stored OCR boxes; the image comes out without
EXIF or any other metadata."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from pipelines.detect import MediaFamily
from pipelines.redaction.boxes import _burn_ocr, _ocr_layout, _ocr_of, _refuse
from pipelines.redaction.common import OnUnlocated, RedactionError, Subject, page_spans
from pipelines.redaction.imagepdf import _encode_image, _ImagePdf


def _register_heif() -> None:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - pillow-heif is a dependency
        pass


def open_image(path: Path | bytes) -> Image.Image:
    _register_heif()
    try:
        image = Image.open(io.BytesIO(path) if isinstance(path, bytes) else path)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise RedactionError(f"图像文件无法打开，无法生成遮盖版本（{exc}）") from exc
    return image


def upright_frames(image: Image.Image) -> Iterator[Image.Image]:
    # Exactly what the image parser OCR'd (pipelines.parsers.image), so the boxes line up.
    for frame in ImageSequence.Iterator(image):
        yield ImageOps.exif_transpose(frame.convert("RGB"))


def redact_image(
    path: Path,
    spans: Sequence[tuple[int, int]],
    ocr_page_json: Mapping[str, Any] | None,
    *,
    text: str | None = None,
    fmt: Literal["png", "jpeg"] = "png",
    on_unlocated: OnUnlocated = "raise",
) -> bytes:
    """A photo or scan with every span blacked out, without EXIF or any other metadata.

    The image is turned upright by its EXIF orientation as the image parser did, then boxes come from
    ``ocr_page_json`` (``OcrPage.to_json()``; its ``rotation`` is honoured). Output: PNG, or JPEG
    (quality 90, much smaller for camera photos) with ``fmt="jpeg"``. A multi-frame image (multi-page
    TIFF) takes the record's whole OCR file (``{"0": page, "1": page, ...}``) and comes out as an
    image-only PDF, one page per frame.
    ``text``, when given (the stored full text the spans refer to), must equal the OCR text, or
    RedactionError: spans measured on another text would hide the wrong words.
    """
    image = open_image(path)
    frames = getattr(image, "n_frames", 1)
    if ocr_page_json is not None and "lines" in ocr_page_json:
        layouts: dict[int, Mapping[str, Any]] = {0: ocr_page_json}
    else:
        layouts = {i: v for i in range(frames) if (v := _ocr_of(ocr_page_json, i)) is not None}
    if frames > 1 and len(layouts) < frames:
        raise RedactionError(f"图像共 {frames} 帧，只有 {len(layouts)} 帧经过识别，未经审查的帧不能提供")
    pages = [_ocr_layout(v, f"第 {i + 1} 帧").text for i, v in sorted(layouts.items())] or [""]
    if spans and not layouts:
        raise RedactionError("图像缺少 OCR 位置数据，需遮盖的内容无法定位，已拒绝生成遮盖版本")
    if text is not None and spans and text != "\n\n".join(pages):
        raise RedactionError("图像的 OCR 结果与存档文本不一致，需遮盖的内容无法定位，已拒绝生成遮盖版本")
    by_frame = page_spans(pages, spans)
    out = io.BytesIO()
    writer = _ImagePdf(out) if frames > 1 else None
    for i, upright in enumerate(upright_frames(image)):
        where = "图像" if frames == 1 else f"第 {i + 1} 帧"
        if by_frame.get(i):
            layout = _ocr_layout(layouts[i], where)
            if not _burn_ocr(upright, layout, by_frame[i], 2.0, 1.0):
                _refuse(where, "OCR 位置数据与图像尺寸不符", on_unlocated, upright)
        if writer is None:
            return _encode_image(upright, fmt.upper())
        writer.add_page(upright, (upright.width * 72 / 200, upright.height * 72 / 200))
    assert writer is not None
    writer.close()
    return out.getvalue()


class ImageRedactor:
    """A single-frame photo or scan with boxes from its stored OCR (:func:`redact_image`)."""

    name = "image"
    families = frozenset({MediaFamily.IMAGE})
    output = ("image/png", ".png")  # the rendition file's MIME type and suffix

    def score(self, subject: Subject) -> int:
        return 10 if subject.family in self.families and subject.page_count == 1 else 0
