"""MIME type from a file's bytes, never from its name."""

from __future__ import annotations

from pathlib import Path

_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF8", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"{\\rtf", "application/rtf"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
    (b"#!AMR", "audio/amr"),
    (b"\x1aE\xdf\xa3", "video/x-matroska"),
]
TEXT_ENCODINGS = ("utf-8", "gb18030")


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for enc in TEXT_ENCODINGS:
        try:
            # A multi-byte character may be cut at the end of the sample.
            head.decode(enc)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:
                return True
    return False


def sniff(head: bytes) -> str:
    """MIME type of the first bytes of a file."""
    if not head:
        return "application/x-empty"
    if head.startswith(b"\xef\xbb\xbf"):
        return "text/plain"
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "audio/mp4" if brand in (b"M4A ", b"M4B ") else "video/mp4"
    if head[:4] == b"RIFF":
        return {b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo", b"WEBP": "image/webp"}.get(
            head[8:12], "application/octet-stream"
        )
    if _is_text(head):
        return "text/plain"
    return "application/octet-stream"


def detect_mime(path: Path) -> str:
    """MIME type of a file from its first 8 KiB."""
    with Path(path).open("rb") as f:
        return sniff(f.read(8192))
