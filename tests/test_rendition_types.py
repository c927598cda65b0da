"""A rendition's file is named and typed by what its redactor made, so it is watermarked as what
it is: a recording with no sound track is released as a PDF of its (empty) text, not as sound."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from archive.db import session_scope
from archive.models import Record, StoredFile
from pipelines.context import Services
from pipelines.detect import MediaFamily
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.queue import make_queue
from pipelines.redaction import REDACTORS, Subject, pick_redactor
from pipelines.renditions import PREFIX, SUFFIXES, prepare, watermarked
from tests.support.watermark import first_page, read_mark


def _silent_video(svc: Services, tmp_path: Path) -> int:
    path = tmp_path / "无声录像.mp4"
    source = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=10", "-t", "2"]
    video_only = ["-an", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
    subprocess.run(["ffmpeg", "-loglevel", "error", *source, *video_only, str(path)], check=True)
    rid = ingest_file(svc, path, RecordMeta(title="无声录像")).record_id
    assert rid is not None
    [outcome] = make_queue(svc).run([rid])
    assert outcome.error is None, outcome.error
    return rid


def test_a_recording_without_sound_is_released_as_a_watermarked_pdf(svc: Services, tmp_path: Path) -> None:
    rid = _silent_video(svc, tmp_path)
    r = prepare(svc, rid)
    assert r.passed
    assert (r.file_mime, r.file_name) == ("application/pdf", "无声录像.pdf")
    plain = b"".join(svc.store.iter_bytes(r.file_sha256))
    assert plain.startswith(b"%PDF")

    marked = watermarked(svc, r, "张建国", datetime(2026, 12, 1, 2, 30, tzinfo=UTC))
    assert marked.startswith(b"%PDF") and marked != plain
    after = first_page(marked)
    assert "张建国" in read_mark(first_page(plain).resize(after.size), after)


def test_a_rendition_stored_under_a_wrong_type_is_made_again(svc: Services, tmp_path: Path) -> None:
    rid = _silent_video(svc, tmp_path)
    assert prepare(svc, rid).file_mime == "application/pdf"
    with session_scope(svc.engine) as s:  # as an older release stored it: a PDF labelled as sound
        row = s.scalar(
            select(StoredFile).where(
                StoredFile.record_id == rid, StoredFile.kind.startswith(f"{PREFIX}file-")
            )
        )
        assert row is not None
        row.mime = "audio/ogg"
    again = prepare(svc, rid)
    assert (again.file_mime, again.file_name) == ("application/pdf", "无声录像.pdf")
    assert b"".join(svc.store.iter_bytes(again.file_sha256)).startswith(b"%PDF")
    with session_scope(svc.engine) as s:
        record = s.get(Record, rid)
        assert record is not None
        kinds = {f.kind: f.mime for f in record.files if f.kind.startswith(f"{PREFIX}file-")}
    assert list(kinds.values()) == ["application/pdf"]


def test_each_redactor_names_the_type_of_what_it_makes() -> None:
    cases = {
        Subject(MediaFamily.IMAGE, page_count=1): ("image/png", ".png"),
        Subject(MediaFamily.IMAGE, page_count=3): ("application/pdf", ".pdf"),  # a multi-page TIFF
        Subject(MediaFamily.VIDEO, transcript=True): ("audio/ogg", ".ogg"),
        Subject(MediaFamily.VIDEO, transcript=True, transcript_only=True): ("application/pdf", ".pdf"),
        Subject(MediaFamily.AUDIO): ("application/pdf", ".pdf"),  # no transcript: its text only
        Subject(MediaFamily.PDF, page_count=2): ("application/pdf", ".pdf"),
    }
    assert {s: pick_redactor(s).output for s in cases} == cases
    assert {mime for r in REDACTORS for mime, _ in [r.output]} <= set(SUFFIXES)
