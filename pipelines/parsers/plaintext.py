"""A second way into an Office file when Tika fails on it: its words without the layout.

Zip-based files (DOCX/XLSX/PPTX, OpenDocument, WPS's zip formats) keep their text in XML parts,
read here directly. OLE2 files (DOC/XLS/PPT, WPS/ET/DPS) keep it as UTF-16 runs in their streams,
found by a scan as forensic tools do. Either way the reader is told the layout may be incomplete.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

MAX_PART_BYTES = 100 * 1024 * 1024  # an XML part larger than this is skipped (zip bomb)
MAX_OLE_BYTES = 200 * 1024 * 1024
_TEXT_PARTS = re.compile(
    r"^(word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml"
    r"|xl/sharedStrings\.xml|xl/worksheets/sheet\d+\.xml"
    r"|ppt/slides/slide\d+\.xml|ppt/notesSlides/notesSlide\d+\.xml"
    r"|content\.xml|styles\.xml)$"
)
# Elements that end a line: paragraphs, table cells and rows, shared strings, slide paragraphs.
_BREAKS = {"p", "tc", "tr", "si", "c", "h", "list-item", "table-cell", "row"}
_UTF16_RUN = re.compile(rb"(?:[\x20-\x7e\xa0-\xff]\x00|[\x00-\xff][\x4e-\x9f]|[\x00-\xff][\x30\xff]){4,}")


def _number(name: str) -> tuple[str, int]:
    m = re.search(r"(\d+)\.xml$", name)
    return (re.sub(r"\d+\.xml$", "", name), int(m.group(1)) if m else 0)


def _xml_text(data: bytes) -> str:
    root = ET.fromstring(data)
    lines: list[str] = []
    current: list[str] = []
    for el in root.iter():
        local = el.tag.rsplit("}", 1)[-1]
        if local in _BREAKS and current:
            lines.append("".join(current))
            current = []
        if local in {"t", "span", "p", "h", "v"} and el.text:
            current.append(el.text)
        if local == "span" and el.tail:
            current.append(el.tail)
    lines.append("".join(current))
    return "\n".join(s.strip() for s in lines if s.strip())


def zip_text(path: Path) -> str:
    """The text of the XML parts of a zip-based Office or OpenDocument file, in document order."""
    with zipfile.ZipFile(path) as z:
        parts = sorted((n for n in z.namelist() if _TEXT_PARTS.match(n)), key=_number)
        texts = []
        for name in parts:
            info = z.getinfo(name)
            if info.file_size > MAX_PART_BYTES:
                continue
            texts.append(_xml_text(z.read(info)))
    return "\n".join(t for t in texts if t)


def ole_text(path: Path) -> str:
    """Runs of UTF-16 text (Latin or CJK) in an OLE2 file's bytes, one per line."""
    data = path.read_bytes()[:MAX_OLE_BYTES]
    runs = []
    for m in _UTF16_RUN.finditer(data):
        chunk = m.group(0)
        if len(chunk) % 2:
            chunk = chunk[:-1]
        text = chunk.decode("utf-16-le", errors="ignore").strip()
        if len(text) >= 4 and any(ch.isalnum() for ch in text):
            runs.append(text)
    return "\n".join(runs)


def fallback_text(path: Path) -> str:
    """Text by the second way, or '' when there is none."""
    with path.open("rb") as f:
        head = f.read(8)
    try:
        if head.startswith(b"PK\x03\x04"):
            return zip_text(path)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return ole_text(path)
    except (zipfile.BadZipFile, ET.ParseError, KeyError, OSError, RuntimeError):
        return ""
    return ""
