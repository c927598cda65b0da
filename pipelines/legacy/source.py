"""A scanned dossier as one PDF, whatever it came as: a PDF as it is, a multi-page TIFF or a
folder of page images (one image per page, in name order) put into a PDF page by page.

The file as it came stays the original; the PDF is what the pages are read and cut from.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageSequence, UnidentifiedImageError

from pipelines.redaction.pdf import PDFIUM_LOCK as PDFIUM

# pdfium is not thread-safe: in the web server, page images, reading and cutting run in different
# threads of one process, beside renditions and the release gate, and concurrent calls crashed it
# (a segfault in libpdfium). The import holds the one lock every pdfium user of the API holds.
IMAGE_SUFFIXES = {".tif", ".tiff", ".jpg", ".jpeg", ".png"}
SCAN_DPI = 200  # what a scan that does not say its resolution is taken to have


class SourceError(ValueError):
    """The dossier cannot be read as a scan; the message says why (Chinese)."""


def natural_key(name: str) -> list[object]:
    """Name order as people number files: 2 before 10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def page_images(folder: Path) -> list[Path]:
    """The page images of a folder, in name order."""
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
        key=lambda p: natural_key(p.name),
    )


def _frames(path: Path) -> list[Image.Image]:
    try:
        with Image.open(path) as im:
            return [
                frame.convert("L" if frame.mode in ("1", "L", "I;16") else "RGB")
                for frame in ImageSequence.Iterator(im)
            ]
    except (UnidentifiedImageError, OSError) as exc:
        raise SourceError(f"{path.name} 不是可读的图像（{exc}）") from None


def images_to_pdf(images: list[Path], target: Path) -> Path:
    """The pages of ``images`` (each may hold several, as a TIFF does) as one PDF at ``target``;
    each page keeps its size on paper (from the image's DPI)."""
    with PDFIUM:
        return _images_to_pdf(images, target)


def _images_to_pdf(images: list[Path], target: Path) -> Path:
    pdf = pdfium.PdfDocument.new()
    for path in images:
        for frame in _frames(path):
            dpi = frame.info.get("dpi") or (SCAN_DPI, SCAN_DPI)
            w, h = frame.width * 72 / float(dpi[0] or SCAN_DPI), frame.height * 72 / float(dpi[1] or SCAN_DPI)
            page = pdf.new_page(w, h)
            buffer = io.BytesIO()
            frame.save(buffer, "JPEG", quality=90)  # pdfium would store the bitmap uncompressed
            buffer.seek(0)
            image = pdfium.PdfImage.new(pdf)
            image.load_jpeg(buffer, inline=True)
            image.set_matrix(pdfium.PdfMatrix().scale(w, h))
            page.insert_obj(image)
            page.gen_content()
    try:
        if len(pdf) == 0:
            raise SourceError("没有找到扫描页（支持 PDF、TIFF、JPEG、PNG）")
        pdf.save(str(target))
    finally:
        pdf.close()  # here, under the lock, not when collected in another thread
    return target


def as_pdf(path: Path, workdir: Path) -> Path:
    """The dossier at ``path`` as a PDF to read and cut (``path`` itself when it is one)."""
    if path.is_dir():
        images = page_images(path)
        if not images:
            raise SourceError(f"文件夹 {path.name} 中没有扫描页图像（TIFF、JPEG、PNG）")
        return images_to_pdf(images, workdir / "dossier.pdf")
    if not path.is_file():
        raise SourceError(f"找不到 {path}")
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"%PDF"):
        return path
    if head[:4] in (b"II*\x00", b"MM\x00*") or head[:3] == b"\xff\xd8\xff" or head.startswith(b"\x89PNG"):
        return images_to_pdf([path], workdir / "dossier.pdf")
    if path.stat().st_size == 0:
        raise SourceError(f"{path.name} 是空文件")
    raise SourceError(f"{path.name} 不是扫描卷宗（应为 PDF、TIFF 或扫描页图像的文件夹）")


def cut(pdf_path: Path, ranges: list[tuple[int, int]], workdir: Path) -> list[Path]:
    """One PDF per (first, last) range of pages (0-based, inclusive), the pages as scanned."""
    with PDFIUM:
        return _cut(pdf_path, ranges, workdir)


def _cut(pdf_path: Path, ranges: list[tuple[int, int]], workdir: Path) -> list[Path]:
    src = pdfium.PdfDocument(str(pdf_path))
    out = []
    try:
        for n, (first, last) in enumerate(ranges, start=1):
            piece = pdfium.PdfDocument.new()
            piece.import_pages(src, list(range(first, last + 1)))
            target = workdir / f"piece-{n:03d}.pdf"
            piece.save(str(target))
            piece.close()
            out.append(target)
    finally:
        src.close()
    return out
