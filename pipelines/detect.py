"""MIME type from a file's bytes, never from its name."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

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
_ZIP_KINDS = [
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
]


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for enc in TEXT_ENCODINGS:
        try:
            head.decode(enc)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a multi-byte character cut at the end of the sample
                return True
    return False


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
        if _HTML.match(head):
            return "text/html"
        if len(_MAIL_HEADER.findall(head[:4096])) >= 2:
            return "message/rfc822"
        return "text/plain"
    return "application/octet-stream"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError):
        return "application/zip"
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
