"""Apache Tika for Office, OpenDocument, RTF, HTML, e-mail and anything else it knows: in process
through iscc-tika (Tika compiled to a native library), or a Tika server when one is configured.

Presentations are read slide by slide (pipelines.parsers.slides). When Tika fails on an Office
file, its text is read a second way (pipelines.parsers.plaintext) and both reasons are kept if
that fails too. A file of a type nothing else knows is tried here before it is called
unsupported."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any

from pipelines.detect import OFFICE_KINDS, MediaFamily, family_of
from pipelines.parsers.base import EncryptedError, ParseContext, ParseError, ParseResult, join_pages
from pipelines.parsers.plaintext import fallback_text
from pipelines.parsers.slides import PRESENTATION_TYPES, odp_slides, tidy, xhtml_slides
from pipelines.parsers.text import decode_text

MAX_TEXT_CHARS = 50_000_000
# Tika metadata worth keeping, under names the rest of the system uses.
_KEEP = {
    "dc:creator": "author",
    "dc:title": "title",
    "dcterms:created": "created",
    "dcterms:modified": "modified",
    "xmpTPg:NPages": "page_count",
    "meta:page-count": "page_count",
    "Content-Type": "tika_content_type",
    "Message-From": "mail_from",
    "Message-To": "mail_to",
    "dc:subject": "subject",
    "extended-properties:Application": "application",
}
# The Office family (OOXML, OLE2 incl. WPS, RTF, OpenDocument), HTML and e-mail.
OFFICE_TYPES = OFFICE_KINDS | {"text/html", "message/rfc822"}


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _reason(message: str) -> ParseError:
    low = message.lower()
    if "encrypt" in low or "password" in low:
        return EncryptedError("文档已加密，需要密码才能打开；原件已保存")
    if "zip bomb" in low or "bomb" in low or "compression ratio" in low:
        return ParseError("文档解压后体积异常（疑似压缩炸弹），已拒绝解析；原件已保存")
    return ParseError(f"文档已损坏或格式不正确，无法解析（{message[:200]}）；原件已保存")


def _extract_embedded(path: Path, xhtml: bool = False) -> tuple[str, dict[str, Any]]:
    from iscc_tika import Extractor

    extractor = Extractor()
    extractor.set_extract_string_max_length(MAX_TEXT_CHARS)
    if xhtml:
        extractor = extractor.set_xml_output(True)  # returns the configured extractor
    try:
        text, meta = extractor.extract_file_to_string(str(path))
    except Exception as exc:  # iscc-tika raises TypeError/RuntimeError wrapping Tika's errors
        raise _reason(str(exc)) from exc
    return text, dict(meta)


def _extract_server(path: Path, url: str, xhtml: bool = False) -> tuple[str, dict[str, Any]]:
    os.environ.setdefault("TIKA_CLIENT_ONLY", "True")  # never try to download a server jar
    from tika import parser as tika_parser

    try:
        parsed = tika_parser.from_file(
            str(path), serverEndpoint=url, xmlContent=xhtml, requestOptions={"timeout": 600}
        )
    except Exception as exc:
        raise ParseError(f"Tika 服务器不可用或解析失败（{exc}）；原件已保存") from exc
    status = parsed.get("status", 200)
    if status != 200:
        raise _reason(f"Tika server answered HTTP {status}")
    return parsed.get("content") or "", dict(parsed.get("metadata") or {})


_META_CHARSET = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?[\w.:-]*["']?[^>]*>""", re.I)


def _html_as_utf8(path: Path) -> Path:
    """A UTF-8 copy of an HTML page, read in the encoding its bytes are in (its own meta charset
    is often wrong: a GB18030 page saved as "iso-8859-1"); the copy's meta says UTF-8."""
    data = path.read_bytes()
    try:
        text, _ = decode_text(data)
    except ParseError:
        return path
    out = path.with_name(path.stem + "-utf8.html")
    body = _META_CHARSET.sub(b"", text.encode("utf-8"))
    out.write_bytes(b'<meta charset="utf-8">' + body)
    return out


class TikaParser:
    """Office (DOCX/DOC/XLSX/XLS/PPTX/PPT), RTF, HTML, EML through Apache Tika."""

    name = "tika"
    mime_types = OFFICE_TYPES

    def score(self, mime: str) -> int:
        """First choice for the Office family; a last resort for PDF and for types nothing else
        knows (octet-stream, a zip that is no known package)."""
        if mime in self.mime_types:
            return 10
        return 1 if mime in ("application/pdf", "application/octet-stream", "application/zip") else 0

    def _extract(self, path: Path, ctx: ParseContext, xhtml: bool = False) -> tuple[str, dict[str, Any]]:
        if ctx.tika_url:
            return _extract_server(path, ctx.tika_url, xhtml)
        return _extract_embedded(path, xhtml)

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """Text and selected metadata (slide by slide for presentations)."""
        if family_of(ctx.mime) is MediaFamily.HTML:
            path = _html_as_utf8(path)
        if ctx.mime == "application/zip" and not zipfile.is_zipfile(path):
            raise ParseError(
                "压缩包格式的文件（如 DOCX、XLSX、OFD）已损坏或不完整（可能未下载或拷贝完），"
                "无法打开；原件已保存"
            )
        try:
            text, raw = self._extract(path, ctx)
        except EncryptedError:
            raise
        except ParseError as first:
            return self._second_way(path, ctx, first)
        meta = {new: _first(raw[old]) for old, new in _KEEP.items() if old in raw}
        text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")
        kind = str(meta.get("tika_content_type") or "").split(";")[0].strip()
        if ctx.mime in ("application/octet-stream", "application/zip") and (
            not text.strip() or kind in ("", "application/octet-stream", "application/zip")
        ):
            raise ParseError(f"无法识别的文件格式（{ctx.mime}），Apache Tika 也未能读出内容；原件已保存")
        if kind in PRESENTATION_TYPES:
            slides = self._slides(path, ctx, kind)
            if any(s.strip() for s in slides):
                meta["slides"] = len(slides)
                return ParseResult(text=join_pages(slides), pages=slides, metadata=meta, parser=self.name)
            text = tidy(text)
        return ParseResult(text=text, pages=[text], metadata=meta, parser=self.name)

    def _slides(self, path: Path, ctx: ParseContext, kind: str) -> list[str]:
        """The text of each slide ([] if the file does not split)."""
        try:
            if "opendocument" in kind:
                return odp_slides(path)
            xhtml, _ = self._extract(path, ctx, xhtml=True)
            return xhtml_slides(xhtml)
        except (ParseError, ValueError, KeyError, OSError, SyntaxError):
            return []

    def _second_way(self, path: Path, ctx: ParseContext, first: ParseError) -> ParseResult:
        """Text without the layout when Tika failed on an Office file; both reasons if none."""
        if ctx.mime in ("application/octet-stream", "application/zip"):
            raise ParseError(
                f"无法识别的文件格式（{ctx.mime}），Apache Tika 也未能读出内容（{first}）；原件已保存"
            ) from first
        if family_of(ctx.mime) is not MediaFamily.OFFICE:
            raise first
        said = str(first).removesuffix("；原件已保存")
        text = fallback_text(path).strip()
        if not text:
            raise ParseError(f"{said}；以纯文本方式读取也未找到文字；原件已保存") from first
        warning = f"Apache Tika 未能解析（{said}），已改用纯文本方式读出文字：格式、表格与版面可能不完整"
        return ParseResult(
            text=text,
            pages=[text],
            metadata={"extracted_by": "plaintext"},
            warnings=[warning],
            parser="plaintext",
        )
