"""MP4/M4A containers that are more than one sound track, through `archive ingest`: cover art
(one or two pictures, before or after the sound, an esds with all its optional fields, a disabled
alternate track) is not the recording; an MP4 with nothing but metadata is kept with its tags;
encrypted (DRM) audio fails as encrypted. None of them is ever an internal error.

The speech is espeak-ng Mandarin, counting one to eight and 谢谢, which Whisper base writes in
every encoding of tests/test_pipeline_media.py; the tests assert on those words, not on exact text.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import select

from archive.db import get_engine, session_scope
from archive.models import Job, ProcessingStatus
from archive.settings import Settings
from archive.storage import make_store
from pipelines.media.decode import EncryptedMediaError, audio_chunks, encrypted_tracks
from pipelines.media.transcript import Transcript
from pipelines.parsers.base import EncryptedError, ParseContext
from pipelines.parsers.media import MediaParser
from tests.conftest import IN_CI, run_cli
from tests.support.media import (
    bare_enca_m4a,
    cenc_m4a,
    covers_first_with_esds_flags,
    fairplay_m4a,
    m4a_with_covers,
    metadata_only_mp4,
    renamed_fairplay_m4a,
    silence_wav,
    speech_wav,
    still_image,
)
from tests.support.records import stored_records

TOOLS = [shutil.which(t) for t in ("espeak-ng", "sox", "ffmpeg")]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all(TOOLS) and not IN_CI, reason="espeak-ng, sox and ffmpeg make the test media"),
]
SPEECH = "yi1 er4 san1 si4 wu3 liu4 qi1 ba1 , xie4 xie4"
NUMBERS = "一二三四五六七八"
# one cover; a JPEG and a PNG cover stored before the sound, with an unusual esds; a cover and a
# disabled 0.3 s alternate track of silence before the speech
COVERED = ("一张封面.m4a", "两张封面.m4a", "封面和备用音轨.m4a")
# cenc (FFmpeg marks its packets as encrypted); FairPlay (it does not: the decoder meets noise); the
# same with its sample entry renamed to mp4a (only the sinf box tells); enca with no esds (no decoder)
ENCRYPTED = ("通用加密.m4a", "FairPlay.m4a", "改名的FairPlay.m4a", "加密无解码配置.m4a")
ENCRYPTED_REASON = "音频已加密（DRM），无法解码；原件已保存"
METADATA_ONLY = "只有元数据.mp4"
METADATA_ONLY_WARNING = "只有元数据，没有音频或视频内容；原件已保存"
TITLE, CREATED, COMMENT = "现场勘验记录", "2024-03-05T08:30:00Z", "执法仪导出"


class Ingested(NamedTuple):
    src: Path  # the files as they were ingested
    data: Path  # the data directory
    report: dict[str, object]  # `archive ingest --json`


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    work = tmp_path_factory.mktemp("containers")
    src = work / "音像"
    src.mkdir()
    speech, alternate, jpeg, png = work / "speech.wav", work / "alt.wav", work / "a.jpg", work / "b.png"
    speech_wav(speech, SPEECH)
    silence_wav(alternate, 0.3)
    still_image(jpeg)
    still_image(png, "testsrc2")
    m4a_with_covers(src / COVERED[0], speech, [jpeg])
    m4a_with_covers(src / COVERED[1], speech, [jpeg, png])
    covers_first_with_esds_flags(src / COVERED[1])
    m4a_with_covers(src / COVERED[2], speech, [jpeg], alternate=alternate)
    metadata_only_mp4(src / METADATA_ONLY, TITLE, CREATED, COMMENT)
    cenc_m4a(src / ENCRYPTED[0], speech)
    fairplay_m4a(src / ENCRYPTED[1], speech)
    renamed_fairplay_m4a(src / ENCRYPTED[2], speech)
    bare_enca_m4a(src / ENCRYPTED[3], speech)
    data = work / "var"
    res = run_cli(["ingest", str(src), "--json"], data)
    assert res.stdout, res.stderr
    return Ingested(src, data, json.loads(res.stdout))


def _failed(report: dict[str, object]) -> dict[str, str]:
    return {Path(f["path"]).name: f["reason"] for f in report["failed"]}  # type: ignore[attr-defined]


def _transcript(data: Path, files: list[object]) -> Transcript:
    store = make_store(Settings(data_dir=data))
    (f,) = [f for f in files if f.kind == "transcript"]  # type: ignore[attr-defined]
    return Transcript.from_json(b"".join(store.iter_bytes(f.sha256)))  # type: ignore[attr-defined]


def test_only_the_encrypted_files_fail_and_never_as_internal_errors(ingested: Ingested) -> None:
    failed = _failed(ingested.report)
    assert failed == dict.fromkeys(ENCRYPTED, ENCRYPTED_REASON), failed
    records = stored_records(ingested.data)
    assert set(records) == {*COVERED, METADATA_ONLY, *ENCRYPTED}, sorted(records)
    # each record's error is exactly the one expected, whatever an internal error is worded as
    errors = {name: r.error for name, r in records.items()}
    assert errors == {n: ENCRYPTED_REASON if n in ENCRYPTED else None for n in records}, errors
    for name, r in records.items():
        assert "内部错误" not in (r.error or "") + "".join(r.warnings or []), (name, r.error, r.warnings)


@pytest.mark.parametrize("name", COVERED)
def test_cover_art_is_skipped_and_the_speech_transcribed(ingested: Ingested, name: str) -> None:
    record = stored_records(ingested.data)[name]
    assert record.status is ProcessingStatus.PROCESSED, (name, record.error)
    meta = record.source_meta or {}
    assert meta.get("transcript_status") == "已转写", meta
    # the pictures are not a video: no picture facts, no keyframes
    assert meta["media"]["has_video"] is False and "video_codec" not in meta["media"], meta["media"]
    assert (meta["media"]["audio_codec"], meta["media"]["sample_rate"]) == ("aac", 16000), meta["media"]
    assert not [f for f in record.files if f.kind.startswith("thumb-")]
    text = _transcript(ingested.data, list(record.files)).text()
    plain = re.sub(r"[\s、，,。.]", "", text).translate(str.maketrans("12345678", NUMBERS))
    assert NUMBERS in plain, text
    assert "谢谢" in text, text


def test_a_search_finds_the_words_of_each_covered_recording(ingested: Ingested) -> None:
    records = stored_records(ingested.data)
    for term in ("谢谢", "五六七"):
        res = run_cli(["search", term, "--json"], ingested.data)
        assert res.returncode == 0, res.stderr
        hits = {h["record_id"] for h in json.loads(res.stdout)["hits"]}
        assert {records[n].id for n in COVERED} <= hits, (term, hits)


def test_a_metadata_only_mp4_is_kept_with_its_tags(ingested: Ingested) -> None:
    record = stored_records(ingested.data)[METADATA_ONLY]
    assert record.status is ProcessingStatus.PROCESSED, record.error
    assert record.warnings == [METADATA_ONLY_WARNING], record.warnings
    meta = record.source_meta or {}
    assert meta.get("transcript_status") == "只有元数据", meta
    media = meta["media"]
    assert (media["has_audio"], media["has_video"]) == (False, False), media
    assert media["title"] == TITLE and media["tags"] == {"comment": COMMENT}, media
    assert media["created_at"].startswith("2024-03-05T08:30:00"), media
    assert meta["media_created_at"] == media["created_at"], meta
    assert not [f for f in record.files if f.kind.startswith(("transcript", "thumb-"))], record.files


@pytest.mark.parametrize("name", ENCRYPTED)
def test_encrypted_audio_fails_as_encrypted_and_is_kept(ingested: Ingested, name: str) -> None:
    record = stored_records(ingested.data)[name]
    assert (record.status, record.error) == (ProcessingStatus.FAILED, ENCRYPTED_REASON), record.error
    with session_scope(get_engine(Settings(data_dir=ingested.data).db_url)) as s:
        job = s.scalars(select(Job).where(Job.record_id == record.id)).one()
        assert (job.kind, job.status.value, job.error) == ("process", "failed", ENCRYPTED_REASON)
    store = make_store(Settings(data_dir=ingested.data))
    assert store.verify(record.sha256), name
    assert b"".join(store.iter_bytes(record.sha256)) == (ingested.src / name).read_bytes()


def test_encryption_is_read_from_the_boxes_and_from_the_packets(ingested: Ingested) -> None:
    """The box check names the encrypted track; the packets' encryption data is a second check
    (for a scheme the boxes do not show), so reading the sound alone also says it is encrypted.
    The parser's failure is the parsers' EncryptedError, as for a password-protected document."""
    for name in ENCRYPTED:
        assert encrypted_tracks(ingested.src / name) == {"audio"}, name
        with pytest.raises(EncryptedError, match=re.escape(ENCRYPTED_REASON)):
            MediaParser().parse(ingested.src / name, ParseContext(mime="audio/mp4"))
    for name in (*COVERED, METADATA_ONLY):
        assert encrypted_tracks(ingested.src / name) == set(), name
    with pytest.raises(EncryptedMediaError, match=re.escape(ENCRYPTED_REASON)):
        list(audio_chunks(ingested.src / ENCRYPTED[0]))
