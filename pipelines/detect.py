"""MIME type from a file's bytes, never from its name. The media family a MIME type is of
(:func:`family_of`) is defined in :mod:`archive.media` and re-exported here."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from archive.media import ODF_KINDS as ODF_KINDS
from archive.media import OFFICE_KINDS as OFFICE_KINDS
from archive.media import OOXML_DOCUMENT, OOXML_PRESENTATION, OOXML_SPREADSHEET
from archive.media import MediaFamily as MediaFamily
from archive.media import family_of as family_of

_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
    (b"PK\x03\x04", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-tika-msoffice"),
    (b"{\\rtf", "application/rtf"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"#!AMR", "audio/amr"),
    (b"\x1aE\xdf\xa3", "video/x-matroska"),
]
TEXT_ENCODINGS = ("utf-8", "gb18030")
_HTML = re.compile(rb"^\s*(<!doctype html|<html|<head|<body)", re.I)
_MAIL_HEADER = re.compile(
    rb"^(From|To|Subject|Date|Received|Return-Path|MIME-Version|Message-ID):", re.I | re.M
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
_ZIP_KINDS = [("word/", OOXML_DOCUMENT), ("xl/", OOXML_SPREADSHEET), ("ppt/", OOXML_PRESENTATION)]
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def text_encoding(data: bytes) -> str | None:
    """The encoding ``data`` reads as text in, or None for binary: UTF-8 and GB18030 first (what
    offices here write), UTF-16 by its byte-order mark, then a detector for the rest (Big5,
    windows-1252, cp866, EBCDIC …). A multi-byte character cut at the end of a sample is allowed."""
    if data.startswith(_UTF16_BOMS):
        return "utf-16"
    if b"\x00" in data:
        return _utf16_without_mark(data)
    for enc in TEXT_ENCODINGS:
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 4:
                return enc
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=None, threshold=0.2).best()
    if best is None or not str(best).strip():
        return None
    return str(best.encoding)


def _utf16_without_mark(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark (Windows "Unicode" text): it decodes, and Latin letters
    give a zero in every other byte."""
    even = len(data) - len(data) % 2
    for enc, zeros in (("utf-16-le", data[1:even:2]), ("utf-16-be", data[0:even:2])):
        if zeros.count(0) < len(zeros) // 4:
            continue
        try:
            text = data[:even].decode(enc)
        except UnicodeDecodeError:
            continue
        if all(ch.isprintable() or ch in "\r\n\t" for ch in text):
            return enc
    return None


def _is_text(head: bytes) -> bool:
    return text_encoding(head) is not None


def _as_text(head: bytes) -> bytes:
    """The sample re-encoded as UTF-8 (for the HTML and mail checks), or itself."""
    enc = text_encoding(head)
    if enc in (None, "utf-8"):
        return head
    assert enc is not None
    return head.decode(enc, errors="ignore").encode("utf-8")


def sniff(head: bytes) -> str:
    """MIME type of the first bytes of a file (zip containers are refined by detect_mime)."""
    if not head:
        return "application/x-empty"
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "image/heic"
        return "audio/mp4" if brand in (b"M4A ", b"M4B ") else "video/mp4"
    if head[:4] == b"RIFF":
        return {b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo", b"WEBP": "image/webp"}.get(
            head[8:12], "application/octet-stream"
        )
    if _is_text(head):
        text = _as_text(head).lstrip(b"\xef\xbb\xbf")
        if _HTML.match(text):
            return "text/html"
        if len(_MAIL_HEADER.findall(text[:4096])) >= 2:
            return "message/rfc822"
        return "text/plain"
    return "application/octet-stream"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            # OpenDocument: the package's first entry, "mimetype", names the kind (ISO/IEC 26300)
            first = z.read("mimetype")[:100].decode("ascii", "ignore").strip() if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return "application/zip"
    if first in ODF_KINDS:
        return first
    if "OFD.xml" in names or "ofd.xml" in {n.lower() for n in names}:
        return "application/ofd"
    if "[Content_Types].xml" in names:
        for prefix, mime in _ZIP_KINDS:
            if any(n.startswith(prefix) for n in names):
                return mime
    return "application/zip"


def detect_mime(path: Path) -> str:
    """MIME type of a file from its bytes (and a zip's directory)."""
    with Path(path).open("rb") as f:
        mime = sniff(f.read(8192))
    return _zip_kind(path) if mime == "application/zip" else mime
