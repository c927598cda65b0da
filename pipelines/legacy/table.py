"""The 卷内目录 table of a scanned page as rows of cells: ruling lines found in the image, the
page turned level by them, its OCR lines placed in the cells their centres fall in.

A title that wraps onto two lines inside its cell stays one cell; a row is what lies between two
horizontal rules. Scans are skewed by a degree or two and noisy: the rules are found with long
morphological kernels after the page is levelled by the median angle of its long line segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from pipelines.ocr import OcrPage, get_ocr

MIN_RULE_SHARE = 0.5  # a horizontal rule spans at least half the table's width


@dataclass(frozen=True)
class Table:
    """A page's table: its cells' text, row by row (empty strings for empty cells)."""

    rows: list[list[str]]
    ocr: OcrPage
    angle: float  # degrees the page was turned to level it


def skew_angle(gray: np.ndarray) -> float:
    """The page's skew in degrees (PIL's sense: counter-clockwise turns it level), from the slope
    of its long horizontal rules."""
    import cv2

    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    width = gray.shape[1]
    # short enough a kernel that a rule skewed by 2° still survives it in pieces that join up
    horizontal = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (width // 40, 1))
    )
    horizontal = cv2.dilate(horizontal, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 3)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(horizontal)
    angles = []
    for i in range(1, count):
        if stats[i, cv2.CC_STAT_WIDTH] < width // 3:
            continue
        ys, xs = np.nonzero(labels == i)
        slope = float(np.polyfit(xs, ys, 1)[0])
        if abs(slope) < 0.09:  # within ±5°: a rule, not a diagonal stroke
            angles.append(float(np.degrees(np.arctan(slope))))
    return float(np.median(angles)) if angles else 0.0


def _positions(mask: np.ndarray, axis: int, min_share: float) -> list[int]:
    """Centres of the runs of rows (axis=1) or columns (axis=0) that are mostly rule."""
    profile = mask.sum(axis=axis) / 255
    extent = mask.shape[axis]
    hits = [int(v) for v in np.flatnonzero(profile >= extent * min_share)]
    out: list[int] = []
    start: int | None = None
    prev: int | None = None
    for v in hits:
        if prev is None or v > prev + 3:
            if start is not None and prev is not None:
                out.append((start + prev) // 2)
            start = v
        prev = v
    if start is not None and prev is not None:
        out.append((start + prev) // 2)
    return out


def rules(gray: np.ndarray) -> tuple[list[int], list[int]]:
    """(y of each horizontal rule, x of each vertical rule) of a level page."""
    import cv2

    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    h, w = binary.shape
    horizontal = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (w // 25, 1))
    )
    vertical = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, h // 40))
    )
    ys = _positions(horizontal, 1, 0.2)  # rows with rule across a fifth of the page at least
    if len(ys) < 2:
        return [], []
    left, right = _extent(horizontal)
    ys = [y for y in ys if _run(horizontal, y) >= (right - left) * MIN_RULE_SHARE]
    top, bottom = (ys[0], ys[-1]) if ys else (0, h)
    band = vertical[top:bottom, :]
    xs = _positions(band, 0, 0.3) if bottom > top else []  # a third of the table at least
    return ys, xs


def _run(horizontal: np.ndarray, y: int) -> float:
    """How many pixels of rule there are at height ``y`` (±2 px)."""
    return float(horizontal[max(0, y - 2) : y + 3, :].max(axis=0).sum() / 255)


def _extent(mask: np.ndarray) -> tuple[int, int]:
    cols = np.flatnonzero(mask.max(axis=0))
    return (int(cols[0]), int(cols[-1])) if cols.size else (0, mask.shape[1])


def _cell(value: float, edges: list[int]) -> int | None:
    for i in range(len(edges) - 1):
        if edges[i] <= value < edges[i + 1]:
            return i
    return None


def read_table(image: Image.Image) -> Table:
    """The table on ``image``: levelled, ruled, read by OCR, each line in its cell."""
    gray0 = np.asarray(image.convert("L"))
    angle = skew_angle(gray0)
    level = image.convert("RGB").rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor="white"
    )
    gray = np.asarray(level.convert("L"))
    ys, xs = rules(gray)
    page = get_ocr().recognize(level)
    if len(ys) < 2 or len(xs) < 2:
        return Table([], page, angle)
    grid: list[list[list[tuple[int, int, str]]]] = [[[] for _ in xs[:-1]] for _ in ys[:-1]]
    for line in page.lines:
        x0, y0, x1, y1 = line.box
        r, c = _cell((y0 + y1) / 2, ys), _cell((x0 + x1) / 2, xs)
        if r is not None and c is not None:
            grid[r][c].append((y0, x0, line.text))
    rows = [[_reading_order(cell) for cell in row] for row in grid]
    return Table(rows, page, angle)


def _reading_order(pieces: list[tuple[int, int, str]]) -> str:
    """A cell's text: its OCR lines top to bottom, those on one visual line left to right."""
    lines: list[list[tuple[int, int, str]]] = []
    for piece in sorted(pieces):
        if lines and piece[0] - lines[-1][0][0] < 12:
            lines[-1].append(piece)
        else:
            lines.append([piece])
    return "".join(t for line in lines for _, _, t in sorted(line, key=lambda p: p[1]))
