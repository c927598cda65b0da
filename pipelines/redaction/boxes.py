"""OCR geometry: the stored OCR boxes of a page read back, the boxes that hide a span's words, and
black boxes burned into a page image (or the whole page blacked out where a span cannot be
located and the caller prefers that to a refusal)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from pipelines.redaction.common import Box, OnUnlocated, RedactionError, Span, _align, _wanted, log


@dataclass
class _OcrLine:
    text: str
    box: Box
    words: list[tuple[str, Box]]


@dataclass
class _OcrLayout:
    width: int
    height: int
    rotation: int
    lines: list[_OcrLine]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def _box(value: Any) -> Box:
    x0, y0, x1, y1 = (float(v) for v in value)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _ocr_layout(data: Mapping[str, Any], where: str) -> _OcrLayout:
    """The stored OCR JSON of one page (OcrPage.to_json) read back."""
    try:
        lines = [
            _OcrLine(
                text=str(line["text"]),
                box=_box(line["box"]),
                words=[(str(w["text"]), _box(w["box"])) for w in line.get("words") or ()],
            )
            for line in data.get("lines") or ()
        ]
        rotation = int(data.get("rotation") or 0) % 360
        layout = _OcrLayout(int(data.get("width") or 0), int(data.get("height") or 0), rotation, lines)
    except (KeyError, TypeError, ValueError) as exc:
        raise RedactionError(f"{where}的 OCR 位置数据已损坏，无法定位需遮盖的内容") from exc
    if rotation % 90:
        raise RedactionError(f"{where}的 OCR 旋转角度 {rotation}° 无法处理")
    return layout


def _ocr_span_boxes(layout: _OcrLayout, spans: Sequence[Span]) -> list[Box]:
    """Boxes (OCR pixels, upright page) that hide the spans: the words covering them, each stretched to
    its line's height and padded; the whole line where the words do not spell the line exactly."""
    boxes: list[Box] = []
    pos = 0
    for line in layout.lines:
        wanted = _wanted(line.text, spans, pos)
        pos += len(line.text) + 1
        if not wanted:
            continue
        lx0, ly0, lx1, ly1 = line.box
        lh = max(ly1 - ly0, 1.0)
        ranges = _align(line.text, [w for w, _ in line.words]) if line.words else None
        picked: list[Box] = []
        covered: set[int] = set()
        for (ws, we), (_, wbox) in zip(ranges or (), line.words, strict=False):
            if any(ws <= k < we for k in wanted):
                picked.append(wbox)
                covered.update(range(ws, we))
        if ranges is None or wanted - covered:
            pad = 0.1 * lh
            boxes.append((lx0 - pad, ly0 - pad, lx1 + pad, ly1 + pad))
            continue
        for x0, y0, x1, y1 in picked:
            boxes.append((x0 - 0.15 * lh, min(y0, ly0) - 0.1 * lh, x1 + 0.15 * lh, max(y1, ly1) + 0.1 * lh))
    return boxes


def _fill(image: Image.Image, boxes: Iterable[Box], pad: float) -> None:
    draw = ImageDraw.Draw(image)
    w, h = image.size
    for x0, y0, x1, y1 in boxes:
        box = (
            max(0, math.floor(x0 - pad)),
            max(0, math.floor(y0 - pad)),
            min(w - 1, math.ceil(x1 + pad)),
            min(h - 1, math.ceil(y1 + pad)),
        )
        if box[0] <= box[2] and box[1] <= box[3]:
            draw.rectangle(box, fill=(0, 0, 0))


def _burn_ocr(
    image: Image.Image, layout: _OcrLayout, spans: Sequence[Span], pad: float, fallback: float
) -> bool:
    """Black out the spans on ``image`` (the page as stored) from its OCR boxes, in place; False if the
    boxes do not fit the image. ``fallback`` is image pixels per OCR pixel when no size was stored."""
    upright = image.rotate(layout.rotation, expand=True) if layout.rotation else image
    if layout.width > 0 and layout.height > 0:
        sx, sy = upright.width / layout.width, upright.height / layout.height
        if abs(sx / sy - 1) > 0.02:
            return False  # the boxes were measured on a differently shaped image
    else:
        sx = sy = fallback
    boxes = [(x0 * sx, y0 * sy, x1 * sx, y1 * sy) for x0, y0, x1, y1 in _ocr_span_boxes(layout, spans)]
    _fill(upright, boxes, pad)
    if layout.rotation:
        image.paste(upright.rotate(-layout.rotation, expand=True))
    return True


def _black_page(image: Image.Image) -> None:
    ImageDraw.Draw(image).rectangle((0, 0, image.width - 1, image.height - 1), fill=(0, 0, 0))


def _ocr_of(ocr: Mapping[Any, Any] | None, index: int) -> Mapping[str, Any] | None:
    if not ocr:
        return None
    value = ocr.get(str(index), ocr.get(index))
    return value if isinstance(value, Mapping) else None


def _refuse(where: str, why: str, on_unlocated: OnUnlocated, image: Image.Image) -> None:
    if on_unlocated == "black_page":
        log.warning("%s: %s; the page is blacked out whole", where, why)
        _black_page(image)
        return
    raise RedactionError(f"{where}有需遮盖的内容无法在页面上定位（{why}），已拒绝生成遮盖版本，请人工处理")
