"""Apache Tika for Office, RTF, HTML, e-mail and anything else it knows: in process through
iscc-tika (Tika compiled to a native library), or a Tika server when one is configured."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pipelines.parsers.base import EncryptedError, ParseContext, ParseError, ParseResult

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
OFFICE_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/x-tika-msoffice",  # .doc / .xls / .ppt (OLE2)
        "application/rtf",
        "text/html",
        "message/rfc822",
    }
)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _reason(message: str) -> ParseError:
    low = message.lower()
    if "encrypt" in low or "password" in low:
        return EncryptedError("文档已加密，需要密码才能打开；原件已保存")
    if "zip bomb" in low or "bomb" in low or "compression ratio" in low:
        return ParseError("文档解压后体积异常（疑似压缩炸弹），已拒绝解析；原件已保存")
    return ParseError(f"文档已损坏或格式不正确，无法解析（{message[:200]}）；原件已保存")


def _extract_embedded(path: Path) -> tuple[str, dict[str, Any]]:
    from iscc_tika import Extractor

    extractor = Extractor()
    extractor.set_extract_string_max_length(MAX_TEXT_CHARS)
    try:
        text, meta = extractor.extract_file_to_string(str(path))
    except Exception as exc:  # iscc-tika raises TypeError/RuntimeError wrapping Tika's errors
        raise _reason(str(exc)) from exc
    return text, dict(meta)


def _extract_server(path: Path, url: str) -> tuple[str, dict[str, Any]]:
    os.environ.setdefault("TIKA_CLIENT_ONLY", "True")  # never try to download a server jar
    from tika import parser as tika_parser

    try:
        parsed = tika_parser.from_file(str(path), serverEndpoint=url, requestOptions={"timeout": 600})
    except Exception as exc:
        raise ParseError(f"Tika 服务器不可用或解析失败（{exc}）；原件已保存") from exc
    status = parsed.get("status", 200)
    if status != 200:
        raise _reason(f"Tika server answered HTTP {status}")
    return parsed.get("content") or "", dict(parsed.get("metadata") or {})


class TikaParser:
    """Office (DOCX/DOC/XLSX/XLS/PPTX/PPT), RTF, HTML, EML through Apache Tika."""

    name = "tika"
    mime_types = OFFICE_TYPES

    def score(self, mime: str) -> int:
        """First choice for the Office family; a last resort for PDF."""
        if mime in self.mime_types:
            return 10
        return 1 if mime == "application/pdf" else 0

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """Text and selected metadata."""
        if ctx.tika_url:
            text, raw = _extract_server(path, ctx.tika_url)
        else:
            text, raw = _extract_embedded(path)
        meta = {new: _first(raw[old]) for old, new in _KEEP.items() if old in raw}
        text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")
        return ParseResult(text=text, pages=[text], metadata=meta, parser=self.name)
