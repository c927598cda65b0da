"""OFD (GB/T 33190), the national format of official e-documents: text per page from its XML.

No maintained Python OFD library worked offline here, so the package is read directly:
OFD.xml → DocRoot (Document.xml) → Pages → each page's Content.xml → TextObject/TextCode.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from pipelines.parsers.base import ParseContext, ParseError, ParseResult, join_pages

MAX_XML_BYTES = 64 * 1024 * 1024
MAX_RATIO = 200  # uncompressed/compressed size above this is treated as a zip bomb


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in elem.iter() if _local(e.tag) == name]


def _read_xml(z: zipfile.ZipFile, name: str) -> ET.Element:
    try:
        info = z.getinfo(name)
    except KeyError as exc:
        raise ParseError(f"OFD 文件缺少 {name}，结构不完整；原件已保存") from exc
    if info.file_size > MAX_XML_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1024):
        raise ParseError("OFD 文件解压后体积异常（疑似压缩炸弹），已拒绝解析；原件已保存")
    try:
        return ET.fromstring(z.read(info))
    except ET.ParseError as exc:
        raise ParseError(f"OFD 中的 {name} 不是有效的 XML（{exc}）；原件已保存") from exc


def _resolve(base_dir: str, loc: str) -> str:
    loc = loc.strip()
    return loc.lstrip("/") if loc.startswith("/") else posixpath.normpath(posixpath.join(base_dir, loc))


def _page_text(content: ET.Element) -> str:
    pieces: list[tuple[float, float, str]] = []
    for obj in _children(content, "TextObject"):
        bx, by = 0.0, 0.0
        boundary = (obj.get("Boundary") or "").split()
        if len(boundary) >= 2:
            bx, by = float(boundary[0]), float(boundary[1])
        for code in _children(obj, "TextCode"):
            if code.text:
                x = bx + float(code.get("X") or 0)
                y = by + float(code.get("Y") or 0)
                pieces.append((y, x, code.text))
    pieces.sort(key=lambda p: (round(p[0] / 2), p[1]))  # same line within ~2 mm, then left to right
    lines: list[list[str]] = []
    last_y: float | None = None
    for y, _x, text in pieces:
        if last_y is None or abs(y - last_y) > 2:
            lines.append([])
        lines[-1].append(text)
        last_y = y
    return "\n".join("".join(parts) for parts in lines)


class OfdParser:
    """Text of every page of an OFD document."""

    name = "ofd"
    mime_types = frozenset({"application/ofd"})

    def score(self, mime: str) -> int:
        """Handles application/ofd."""
        return 10 if mime in self.mime_types else 0

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """Pages in document order."""
        try:
            z = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise ParseError("OFD 文件已损坏（不是有效的 ZIP 包）；原件已保存") from exc
        with z:
            root = _read_xml(z, "OFD.xml")
            doc_roots = [e.text.strip() for e in _children(root, "DocRoot") if e.text]
            if not doc_roots:
                raise ParseError("OFD.xml 中没有 DocRoot，无法找到文档；原件已保存")
            meta: dict[str, str] = {}
            for info in _children(root, "DocInfo"):
                for child in info:
                    if child.text and _local(child.tag) in {"Title", "Author", "CreationDate", "DocID"}:
                        meta[_local(child.tag).lower()] = child.text.strip()
            doc_path = _resolve("", doc_roots[0])
            document = _read_xml(z, doc_path)
            base = posixpath.dirname(doc_path)
            pages: list[str] = []
            for page in _children(document, "Page"):
                loc = page.get("BaseLoc")
                if not loc:
                    continue
                if len(pages) >= ctx.max_pages:
                    break
                pages.append(_page_text(_read_xml(z, _resolve(base, loc))))
        meta["page_count"] = str(len(pages))
        return ParseResult(text=join_pages(pages), pages=pages, metadata=dict(meta), parser=self.name)
