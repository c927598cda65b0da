"""What a stored file is: the media family of a MIME type, and the kinds of a record's derived
files (text, pages, OCR boxes, transcripts, thumbnails).

These live at the bottom layer so that every layer — the compliance rulebook as much as the
pipelines, the API and the pages — tells a recording, a photo or a PDF apart, and finds a
record's transcript or thumbnails, the same way. ``pipelines.detect`` (which gives a file its
MIME type from its bytes) and ``pipelines.derived`` (which stores and reads derived files)
re-export them.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.models import Record, StoredFile

OOXML_DOCUMENT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OOXML_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OOXML_PRESENTATION = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODF_KINDS = frozenset(
    {
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.text-template",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.spreadsheet-template",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.oasis.opendocument.presentation-template",
        "application/vnd.oasis.opendocument.graphics",
    }
)
OFFICE_KINDS = (
    frozenset({OOXML_DOCUMENT, OOXML_SPREADSHEET, OOXML_PRESENTATION})
    | {
        "application/x-tika-msoffice",  # .doc / .xls / .ppt, and WPS's .wps / .et / .dps (OLE2)
        "application/rtf",
    }
    | ODF_KINDS
)


class MediaFamily(StrEnum):
    """What kind of thing a file is, as the pipelines tell them apart: how it is parsed, redacted,
    released and shown. One family per MIME type (:func:`family_of`)."""

    PDF = "pdf"
    IMAGE = "image"  # photos and scans (a multi-page TIFF too)
    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"  # plain text (any text/* but HTML)
    HTML = "html"
    EMAIL = "email"  # message/rfc822
    OFFICE = "office"  # Word, Excel, PowerPoint (OOXML and OLE2, WPS), RTF, OpenDocument
    OFD = "ofd"  # GB/T 33190
    OTHER = "other"  # an unknown zip, octet-stream, an empty file

    @property
    def is_sound(self) -> bool:
        """A recording: audio, or a video with its sound track (第二十六条: it gets a transcript)."""
        return self in (MediaFamily.AUDIO, MediaFamily.VIDEO)

    @property
    def is_audiovisual(self) -> bool:
        """An 音像 record: a photo or a recording."""
        return self in (MediaFamily.IMAGE, MediaFamily.AUDIO, MediaFamily.VIDEO)


_FAMILY_OF_TYPE = {
    "application/pdf": MediaFamily.PDF,
    "text/html": MediaFamily.HTML,
    "message/rfc822": MediaFamily.EMAIL,
    "application/ofd": MediaFamily.OFD,
} | dict.fromkeys(OFFICE_KINDS, MediaFamily.OFFICE)
_FAMILY_OF_TOP = {
    "image": MediaFamily.IMAGE,
    "audio": MediaFamily.AUDIO,
    "video": MediaFamily.VIDEO,
    "text": MediaFamily.TEXT,
}


@lru_cache(maxsize=512)  # the rules ask for every record of every case: a few hundred types
def family_of(mime: str) -> MediaFamily:
    """The family of a MIME type (parameters such as ``; charset=utf-8`` and case ignored): the
    type itself names PDF, HTML, e-mail, OFD and the Office kinds; else its top-level type
    (image/, audio/, video/, text/); anything else is OTHER."""
    essence = mime.split(";", 1)[0].strip().lower()
    if essence in _FAMILY_OF_TYPE:
        return _FAMILY_OF_TYPE[essence]
    top, slash, _ = essence.partition("/")
    return _FAMILY_OF_TOP.get(top, MediaFamily.OTHER) if slash else MediaFamily.OTHER


THUMB_PREFIX = "thumb-"


class DerivedKind(StrEnum):
    """The ``kind`` of a derived file that processing stores beside the original (one row per
    record and kind). Thumbnails are numbered: :func:`thumb_kind`; a party's renditions have
    kinds of their own (:mod:`pipelines.renditions`)."""

    TEXT = "text"  # the full text (UTF-8): the offsets of the sensitive spans
    PAGES = "pages"  # JSON {"pages": [...]}: text per page (one entry for unpaged formats)
    OCR = "ocr"  # JSON {"0": OcrPage.to_json(), ...}: boxes of pages read by OCR
    TRANSCRIPT = "transcript"  # Transcript JSON (sound records)
    TRANSCRIPT_SRT = "transcript-srt"
    TRANSCRIPT_VTT = "transcript-vtt"


def thumb_kind(n: int) -> str:
    """The kind of the ``n``-th thumbnail (1-based: a page, an image frame or a keyframe)."""
    return f"{THUMB_PREFIX}{n}"


def is_thumb(kind: str) -> bool:
    """Whether a derived file's kind is a thumbnail's (:func:`thumb_kind`)."""
    return kind.startswith(THUMB_PREFIX)


def derived_file(record: Record, kind: DerivedKind | str) -> StoredFile | None:
    """The record's file of ``kind`` (its files must be loaded), None if it has none."""
    return next((f for f in record.files if f.kind == kind), None)
