"""Presentations read slide by slide, so that a hit opens the slide it is on (its page number).

PPTX and PPT come from Tika's XHTML (one ``slide-content`` block per slide); ODP from the
package's own content.xml (one ``draw:page`` per slide), which Tika flattens with its master
pages and notes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

PRESENTATION_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-powerpoint",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.oasis.opendocument.presentation-template",
    }
)
_XHTML = "{http://www.w3.org/1999/xhtml}"
_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_PRESENTATION = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
MAX_CONTENT_BYTES = 200 * 1024 * 1024  # content.xml larger than this is not read (zip bomb)


def _lines(node: ET.Element, paragraph: set[str]) -> str:
    """The text of ``node``, one line per paragraph-like element, blank lines dropped."""
    out: list[str] = []

    def walk(el: ET.Element, line: list[str]) -> None:
        if el.text:
            line.append(el.text)
        for child in el:
            if child.tag in paragraph:
                inner: list[str] = []
                walk(child, inner)
                out.append("".join(inner))
            else:
                walk(child, line)
            if child.tail:
                line.append(child.tail)

    rest: list[str] = []
    walk(node, rest)
    out.append("".join(rest))
    return "\n".join(s.strip() for s in out if s.strip())


def _classes(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def xhtml_slides(xhtml: str) -> list[str]:
    """The text of each slide in Tika's XHTML of a PPTX or PPT (with a PPT slide's notes)."""
    root = ET.fromstring(xhtml.encode("utf-8"))
    paragraph = {f"{_XHTML}p", f"{_XHTML}li", f"{_XHTML}h1", f"{_XHTML}h2", f"{_XHTML}tr"}
    slides = [el for el in root.iter(f"{_XHTML}div") if "slide" in _classes(el)]  # PPT
    if not slides:
        slides = [el for el in root.iter(f"{_XHTML}div") if "slide-content" in _classes(el)]  # PPTX
    pages = []
    for slide in slides:
        for master in [c for c in slide if "slide-master-content" in _classes(c)]:
            slide.remove(master)  # the layout's placeholders, repeated on every slide
        pages.append(_lines(slide, paragraph))
    return pages


def odp_slides(path: Path) -> list[str]:
    """The text of each slide of an OpenDocument presentation (notes included, masters not)."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("content.xml")
        if info.file_size > MAX_CONTENT_BYTES:
            raise ValueError("content.xml too large")
        root = ET.fromstring(z.read(info))
    paragraph = {f"{_TEXT}p", f"{_TEXT}h", f"{_TEXT}list-item"}
    return [_lines(page, paragraph) for page in root.iter(f"{_DRAW}page")]


def tidy(text: str) -> str:
    """Runs of blank lines from a flattened presentation folded to one."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
