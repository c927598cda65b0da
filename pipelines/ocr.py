"""Chinese OCR behind one contract; the default engine (RapidOCR, PP-OCR models inside the
wheel, onnxruntime) runs offline. Pages come out upright whatever their rotation."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)
LOW_CONFIDENCE = 0.8  # mean line score under this: try the page the other way up
SPARSE_SHARE = 0.6  # a page whose bands of ink cover less than this share is read band by band


@dataclass
class OcrWord:
    """One recognised character or word with its box (pixels of the upright page image)."""

    text: str
    score: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass
class OcrLine:
    """One recognised line."""

    text: str
    score: float
    box: tuple[int, int, int, int]
    words: list[OcrWord] = field(default_factory=list)


@dataclass
class OcrPage:
    """Recognised lines of one page image, in reading order."""

    width: int
    height: int
    rotation: int  # degrees counter-clockwise applied to make the page upright
    lines: list[OcrLine] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Lines joined by newlines."""
        return "\n".join(line.text for line in self.lines)

    @property
    def quality(self) -> float:
        """Confidence-weighted amount of horizontal text, used to choose an orientation.

        Lines standing upright are not counted: the recogniser turns tall crops and reads
        them, so a page on its side would otherwise score like the upright page.
        """
        return sum(
            line.score * len(line.text)
            for line in self.lines
            if (line.box[2] - line.box[0]) >= (line.box[3] - line.box[1]) or len(line.text) <= 1
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready boxes (kept for redaction)."""
        return asdict(self)


class OcrEngine(Protocol):
    """Recognises text in a page image."""

    name: str

    @property
    def label(self) -> str:
        """The models and the runtime that read the pages (kept with each OCR'd record)."""
        ...

    def recognize(self, image: Image.Image) -> OcrPage:
        """Upright text lines with boxes."""
        ...


def _bbox(points: Any, dx: int = 0, dy: int = 0) -> tuple[int, int, int, int]:
    arr = np.asarray(points, dtype=float).reshape(-1, 2)
    x0, y0 = int(arr[:, 0].min()) + dx, int(arr[:, 1].min()) + dy
    return (x0, y0, int(arr[:, 0].max()) + dx, int(arr[:, 1].max()) + dy)


def ink_regions(image: Image.Image) -> list[tuple[int, int, int, int]]:
    """Where a page's text is, as boxes (x0, y0, x1, y1) to read one by one, top to bottom.

    The detector misses a short line alone on a large clean page (a title, a signature, "此页无
    正文") that it finds in a crop around it, so a sparse page is read as bands of ink cut apart
    by wide blank space, each cropped with a margin. A page mostly covered by its bands (a dense
    page, a photo, a noisy scan) or without any ink is read whole, as before.
    """
    w, h = image.size
    factor = 4 if min(w, h) >= 200 else 1
    gray = image.convert("L")
    small = np.asarray(gray.reduce(factor) if factor > 1 else gray, dtype=np.int16)
    # ink: clearly darker than the paper; averaging 4×4 pixels leaves lone speckles pale
    level = min(215, int(np.median(small)) - 40)
    ink = small < level
    rows = np.flatnonzero(ink.any(axis=1))
    whole = [(0, 0, w, h)]
    if rows.size == 0:
        return whole
    margin = max(48, round(0.02 * max(w, h)))
    breaks = np.flatnonzero(np.diff(rows) * factor > 3 * margin)
    regions = []
    for r0, r1 in zip(np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]], strict=True):
        cols = np.flatnonzero(ink[r0 : r1 + 1].any(axis=0))
        regions.append(
            (
                max(0, int(cols[0]) * factor - margin),
                max(0, int(r0) * factor - margin),
                min(w, (int(cols[-1]) + 1) * factor + margin),
                min(h, (int(r1) + 1) * factor + margin),
            )
        )
    covered = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in regions)
    return whole if covered > SPARSE_SHARE * w * h else regions


RUNTIMES = ("onnxruntime", "openvino")


class OcrUnavailable(RuntimeError):
    """The configured OCR runtime cannot run here (a setting to change, not a bad file)."""


def _openvino_params() -> dict[str, object]:
    """RapidOCR settings that run the wheel's own ONNX models (the ones onnxruntime runs) on
    OpenVINO; without a model path RapidOCR would fetch OpenVINO's from the network."""
    import importlib.util

    if importlib.util.find_spec("openvino") is None:
        raise OcrUnavailable(
            "OCR 运行时 openvino 未安装：pip install '.[openvino]'，"
            "或改回 ARCHIVE_PARSING__OCR_RUNTIME=onnxruntime"
        )
    import rapidocr
    from rapidocr import EngineType

    models = Path(rapidocr.__file__).parent / "models"
    files = {
        "Det": "PP-OCRv6_det_small.onnx",
        "Rec": "PP-OCRv6_rec_small.onnx",
        "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    }
    params: dict[str, object] = {}
    for part, name in files.items():
        if not (models / name).is_file():
            raise OcrUnavailable(f"OCR 模型文件缺失：{models / name}（rapidocr 安装不完整）")
        params |= {f"{part}.engine_type": EngineType.OPENVINO, f"{part}.model_path": str(models / name)}
    return params


class RapidOcrEngine:
    """PP-OCR (det + rec + line-direction classifier) through rapidocr, run by onnxruntime or
    by OpenVINO (the same model files, so the same text)."""

    name = "rapidocr"

    def __init__(self, params: dict[str, object] | None = None, runtime: str = "onnxruntime") -> None:
        from rapidocr import RapidOCR

        if runtime not in RUNTIMES:
            raise OcrUnavailable(f"未知的 OCR 运行时 {runtime!r}（可选：{'、'.join(RUNTIMES)}）")
        # Recognising 16 line crops per batch instead of 6 cut ~15% off a dense page here.
        settings: dict[str, object] = {"Global.log_level": "warning", "Rec.rec_batch_num": 16}
        if runtime == "openvino":
            settings |= _openvino_params()
        self.runtime = runtime
        self._engine = RapidOCR(params=settings | (params or {}))

    @property
    def label(self) -> str:
        """``PP-OCRv6 / <runtime>``, the runtime read off the loaded model sessions."""
        parts = (getattr(self._engine, p, None) for p in ("text_det", "text_rec"))
        sessions = [getattr(part, "session", None) for part in parts]
        # rapidocr.inference_engine.<runtime>.main.<Session>
        used = sorted({type(x).__module__.split(".")[-2] for x in sessions if x is not None})
        return f"PP-OCRv6 / {'+'.join(used) or self.runtime}"

    def _run(self, image: Image.Image, rotation: int) -> OcrPage:
        upright = image.rotate(rotation, expand=True) if rotation else image
        page = OcrPage(width=upright.width, height=upright.height, rotation=rotation)
        rgb = upright.convert("RGB")
        for x0, y0, x1, y1 in ink_regions(rgb):
            region = rgb if (x0, y0, x1, y1) == (0, 0, rgb.width, rgb.height) else rgb.crop((x0, y0, x1, y1))
            page.lines += self._read(region, x0, y0)
        return page

    def _read(self, image: Image.Image, dx: int, dy: int) -> list[OcrLine]:
        """Lines of ``image``, their boxes moved by (dx, dy) into the page's pixels."""
        # The line classifier is off: it flips single lines but leaves an upside-down page in
        # reverse line order; whole-page orientation is chosen in recognize() instead.
        out: Any = self._engine(np.asarray(image), use_cls=False, return_word_box=True)
        if out.txts is None or out.boxes is None:
            return []
        lines = []
        words_per_line = out.word_results or [()] * len(out.txts)
        for text, score, box, words in zip(out.txts, out.scores, out.boxes, words_per_line, strict=False):
            line = OcrLine(text=str(text), score=round(float(score), 4), box=_bbox(box, dx, dy))
            line.words = [
                OcrWord(str(w[0]), round(float(w[1]), 4), _bbox(w[2], dx, dy)) for w in (words or ())
            ]
            lines.append(line)
        return lines

    def recognize(self, image: Image.Image) -> OcrPage:
        """OCR the page; if its lines stand upright or read badly, try the other orientations."""
        first = self._run(image, 0)
        boxes = [line.box for line in first.lines]
        tall = sum(1 for x0, y0, x1, y1 in boxes if (y1 - y0) > 1.5 * (x1 - x0))
        mean = first.quality / max(1, sum(len(line.text) for line in first.lines))
        if boxes and tall > len(boxes) / 2:
            candidates = [90, 270]  # text runs vertically: the page lies on its side
        elif not boxes or mean < LOW_CONFIDENCE:
            candidates = [180, 90, 270]
        else:
            return first
        best = first
        for rotation in candidates:
            page = self._run(image, rotation)
            if page.quality > best.quality:
                best = page
        return best


_engines: dict[str, OcrEngine] = {}


def get_ocr(runtime: str = "onnxruntime") -> OcrEngine:
    """This process's OCR engine on ``runtime`` (models load once, ~1 s)."""
    if runtime not in _engines:
        _engines[runtime] = RapidOcrEngine(runtime=runtime)
    return _engines[runtime]
