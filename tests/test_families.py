"""Media families, derived-file kinds and the choice of redactor: the types that replaced inline
MIME prefixes and kind strings decide exactly as those did."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from archive.release import TRANSCRIPT_ONLY
from pipelines import release
from pipelines.derived import DerivedKind, derived_file, read_derived, thumb_kind
from pipelines.detect import _MAGIC, _ZIP_KINDS, ODF_KINDS, OFFICE_KINDS, MediaFamily, family_of
from pipelines.media.transcript import Segment, Transcript
from pipelines.parsers.tika import OFFICE_TYPES
from pipelines.redaction import REDACTORS, Subject, pick_redactor
from pipelines.transcripts import TRANSCRIPT_KINDS, transcript_files

# Every type pipelines.detect can give a file, and a few it never gives.
DETECTED = sorted(
    {mime for _, mime in _MAGIC}
    | {mime for _, mime in _ZIP_KINDS}
    | ODF_KINDS
    | {
        "application/ofd",
        "application/x-empty",
        "application/octet-stream",
        "image/heic",
        "image/webp",
        "audio/mp4",
        "audio/wav",
        "video/mp4",
        "video/x-msvideo",
        "text/plain",
        "text/html",
        "message/rfc822",
    }
)
OTHERS = ["application/json", "text/vtt", "application/x-subrip", "font/woff2", "image", "x"]


@pytest.mark.parametrize("mime", DETECTED + OTHERS)
def test_a_family_answers_as_the_mime_prefix_checks_did(mime: str) -> None:
    family = family_of(mime)
    assert (family is MediaFamily.AUDIO) == mime.startswith("audio/")
    assert (family is MediaFamily.VIDEO) == mime.startswith("video/")
    assert (family is MediaFamily.IMAGE) == mime.startswith("image/")
    assert family.is_sound == mime.startswith(("audio/", "video/"))
    assert family.is_audiovisual == mime.startswith(("audio/", "video/", "image/"))
    assert (family is MediaFamily.PDF) == (mime == "application/pdf")
    assert (family is MediaFamily.HTML) == (mime == "text/html")
    assert (family in (MediaFamily.TEXT, MediaFamily.HTML)) == mime.startswith("text/")
    assert (family is MediaFamily.OFFICE) == (mime in OFFICE_TYPES - {"text/html", "message/rfc822"})


def test_a_family_ignores_parameters_and_case() -> None:
    assert family_of("text/plain; charset=utf-8") is MediaFamily.TEXT
    assert family_of("Application/PDF") is MediaFamily.PDF
    assert family_of("application/ofd") is MediaFamily.OFD
    assert family_of("message/rfc822") is MediaFamily.EMAIL
    assert OFFICE_KINDS >= ODF_KINDS and family_of("application/rtf") is MediaFamily.OFFICE


def _old_choice(mime: str, page_count: int | None, transcript: bool, mode: str) -> str:
    """The chain of MIME checks pipelines.release.make chose by before the registry."""
    sound = mime.startswith(("audio/", "video/")) and transcript
    if sound and mode != TRANSCRIPT_ONLY:
        return "sound"
    if mime == "application/pdf":
        return "pdf"
    if mime.startswith("image/") and page_count == 1:
        return "image"
    return "text"


def _cases() -> Iterator[tuple[str, int | None, bool, str]]:
    yield from itertools.product(DETECTED, (None, 0, 1, 3), (False, True), ("full", TRANSCRIPT_ONLY))


def test_the_redactor_registry_chooses_as_the_chain_of_mime_checks_did() -> None:
    for mime, pages, transcript, mode in _cases():
        subject = Subject(family_of(mime), pages, transcript, mode == TRANSCRIPT_ONLY)
        assert pick_redactor(subject).name == _old_choice(mime, pages, transcript, mode), (mime, pages)
    assert Subject(MediaFamily.VIDEO, transcript=True).spoken
    assert not Subject(MediaFamily.VIDEO).spoken and not Subject(MediaFamily.PDF, transcript=True).spoken


def test_every_redactor_has_its_release_and_declares_its_families() -> None:
    assert set(release._RELEASES) == {r.name for r in REDACTORS}
    assert all(r.families for r in REDACTORS)
    covered = set().union(*(r.families for r in REDACTORS))
    assert covered == set(MediaFamily)  # the text on pages renders whatever else there is


class _Store:
    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs

    def iter_bytes(self, sha256: str) -> Iterator[bytes]:
        data = self.blobs[sha256]
        yield data[:3]
        yield data[3:]


def test_a_derived_file_is_found_and_read_by_its_kind() -> None:
    files = [SimpleNamespace(kind="text", sha256="a"), SimpleNamespace(kind=thumb_kind(2), sha256="b")]
    record: Any = SimpleNamespace(files=files)
    store: Any = _Store({"a": "行政处罚".encode(), "b": b"\xff\xd8"})
    assert derived_file(record, DerivedKind.TEXT) is files[0]
    assert derived_file(record, "thumb-2") is files[1] and thumb_kind(2) == "thumb-2"
    assert derived_file(record, DerivedKind.PAGES) is None
    assert read_derived(store, record, DerivedKind.TEXT) == "行政处罚".encode()
    assert read_derived(store, record, DerivedKind.TRANSCRIPT) is None


def test_a_transcript_is_carried_by_the_transcript_kinds() -> None:
    t = Transcript([Segment(0.0, 1.0, "现场检查")], "engine", "model", "zh", 1.0)
    kinds = [kind for kind, _, _ in transcript_files(t)]
    assert kinds == ["text", "pages", "transcript", "transcript-srt", "transcript-vtt"]
    assert set(kinds) == TRANSCRIPT_KINDS and all(isinstance(k, str) for k in kinds)
