"""Image-only output: a PDF made of nothing but page images, and images without metadata."""

from __future__ import annotations

import io
from typing import BinaryIO

import numpy as np
from PIL import Image

JPEG_QUALITY = 85


class _ImagePdf:
    """A minimal PDF written page by page: one JPEG image per page, nothing else (no text, fonts,
    metadata or document information), so memory holds one page at a time."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._base = out.tell()
        self._offsets: dict[int, int] = {}
        self._pages: list[int] = []
        self._next = 3  # 1: catalog, 2: page tree
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _obj(self, num: int, body: bytes, stream: bytes | None = None) -> None:
        self._offsets[num] = self._out.tell() - self._base
        self._out.write(b"%d 0 obj\n" % num + body)
        if stream is not None:
            self._out.write(b"\nstream\n" + stream + b"\nendstream")
        self._out.write(b"\nendobj\n")

    def add_page(self, image: Image.Image, size_pt: tuple[float, float]) -> None:
        """Append a page of ``size_pt`` points showing ``image`` over the whole page."""
        rgb = image.convert("RGB")
        arr = np.asarray(rgb)
        gray = bool((arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all())
        pic = rgb.convert("L") if gray else rgb
        buf = io.BytesIO()
        pic.save(buf, "JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
        data = buf.getvalue()
        img, content, page = self._next, self._next + 1, self._next + 2
        self._next += 3
        space = b"/DeviceGray" if gray else b"/DeviceRGB"
        self._obj(
            img,
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
            b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>"
            % (pic.width, pic.height, space, len(data)),
            data,
        )
        w, h = size_pt
        draw = b"q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q" % (w, h)
        self._obj(content, b"<< /Length %d >>" % len(draw), draw)
        self._obj(
            page,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.4f %.4f] "
            b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>" % (w, h, img, content),
        )
        self._pages.append(page)

    def close(self) -> None:
        """Write the page tree, catalog and cross-reference table."""
        kids = b" ".join(b"%d 0 R" % p for p in self._pages)
        self._obj(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._pages)))
        self._obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref = self._out.tell() - self._base
        size = self._next
        rows = [b"0000000000 65535 f \n"]
        rows += [b"%010d 00000 n \n" % self._offsets[n] for n in range(1, size)]
        self._out.write(b"xref\n0 %d\n" % size + b"".join(rows))
        self._out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))


def _clean_copy(image: Image.Image) -> Image.Image:
    """The pixels only: a new RGB image with no EXIF, XMP, ICC or other info attached."""
    rgb = image.convert("RGB")
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def _encode_image(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    clean = _clean_copy(image)
    if fmt == "JPEG":
        clean.save(buf, "JPEG", quality=90, subsampling=0, optimize=True)
    else:
        clean.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()
