"""Reading audio and video: facts, 16 kHz chunks, keyframes, and bad files with clear errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipelines.media.decode import SAMPLE_RATE, DecodeReport, MediaError, audio_chunks, probe, video_frames
from tests.conftest import IN_CI
from tests.support.media import AMR_RATE, write_amr

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(
    FFMPEG is None and not IN_CI, reason="ffmpeg makes the test media (.ci/run installs it)"
)


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG or "ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    out = {name: d / name for name in ["tone.wav", "tone.mp3", "tone.m4a", "tone.ogg", "tone.flac"]}
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=25:sample_rate=44100",
        "-ac",
        "2",
        str(out["tone.wav"]),
    )
    for name in ["tone.mp3", "tone.m4a", "tone.ogg", "tone.flac"]:
        ffmpeg("-i", str(out["tone.wav"]), str(out[name]))
    out["cam.mp4"] = d / "cam.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=12",
        "-f", "lavfi", "-i", "sine=frequency=300:duration=12",
        "-g", "10", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
        "-metadata", "creation_time=2026-10-09T10:15:00Z", str(out["cam.mp4"]),
    )  # fmt: skip
    out["mute.mp4"] = d / "mute.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=5:duration=4",
        "-an",
        "-pix_fmt",
        "yuv420p",
        str(out["mute.mp4"]),
    )
    out["garbage.mp3"] = d / "garbage.mp3"
    out["garbage.mp3"].write_bytes(bytes(np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8)))
    out["text.mp3"] = d / "text.mp3"
    out["text.mp3"].write_text("这不是音频文件，只是改了扩展名。" * 50, encoding="utf-8")
    return out


@pytest.mark.parametrize("name", ["tone.wav", "tone.mp3", "tone.m4a", "tone.ogg", "tone.flac"])
def test_audio_formats_decode_in_chunks(media: dict[str, Path], name: str) -> None:
    info = probe(media[name])
    assert info.has_audio and not info.has_video
    assert info.duration_s == pytest.approx(25, abs=0.2)
    chunks = list(audio_chunks(media[name], chunk_s=10))
    assert [round(start) for start, _ in chunks] == [0, 10, 20]
    assert all(c.dtype == np.float32 and c.ndim == 1 for _, c in chunks)
    assert [len(c) for _, c in chunks[:2]] == [10 * SAMPLE_RATE] * 2
    assert sum(len(c) for _, c in chunks) == pytest.approx(25 * SAMPLE_RATE, rel=0.01)
    assert 0.1 < float(np.abs(chunks[0][1]).max()) <= 1.0  # lavfi's sine (amplitude 1/8), not silence


def test_video_facts_and_keyframes(media: dict[str, Path]) -> None:
    info = probe(media["cam.mp4"])
    assert (info.has_audio, info.has_video) == (True, True)
    assert (info.video_codec, info.width, info.height, info.fps) == ("h264", 320, 240, 10.0)
    assert (
        info.audio_codec == "aac" and info.created_at is not None and info.created_at.startswith("2026-10-09")
    )
    frames = list(video_frames(media["cam.mp4"], every_s=4))
    assert [round(t) for t, _ in frames] == [0, 4, 8]
    assert frames[0][1].size == (320, 240)


def test_a_video_without_sound_says_so(media: dict[str, Path]) -> None:
    info = probe(media["mute.mp4"])
    assert info.has_video and not info.has_audio
    with pytest.raises(MediaError, match="没有音轨"):
        list(audio_chunks(media["mute.mp4"]))


@pytest.mark.parametrize("name", ["garbage.mp3", "text.mp3"])
def test_files_that_are_not_media_fail_clearly(media: dict[str, Path], name: str) -> None:
    with pytest.raises(MediaError, match="原件已保存"):
        probe(media[name])


def test_amr_phone_recordings_decode(tmp_path: Path) -> None:
    """AMR-NB (phone and recorder pen audio), encoded with the FFmpeg inside PyAV."""
    path = tmp_path / "电话录音.amr"
    t = np.arange(AMR_RATE * 3) / AMR_RATE
    write_amr(path, (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16))
    from pipelines.detect import detect_mime

    assert detect_mime(path) == "audio/amr"
    info = probe(path)
    assert (info.audio_codec, info.sample_rate, info.channels) == ("amrnb", 8000, 1)
    chunks = list(audio_chunks(path, chunk_s=2))
    assert [round(s) for s, _ in chunks] == [0, 2]  # resampled to 16 kHz
    assert sum(len(c) for _, c in chunks) == pytest.approx(3 * SAMPLE_RATE, rel=0.05)


def test_chunks_end_at_a_pause_not_mid_word(tmp_path: Path) -> None:
    """Tone bursts ("words") with one 0.4 s pause at 16.8 s: a 20 s chunk ends inside the pause."""
    path = tmp_path / "bursts.wav"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=300:duration=40:sample_rate=16000",
        "-af", "volume='if(between(t,16.8,17.2),0,1)':eval=frame", str(path),
    )  # fmt: skip
    chunks = list(audio_chunks(path, chunk_s=20))
    first_end = len(chunks[0][1]) / SAMPLE_RATE
    assert 16.8 <= first_end <= 17.2, first_end
    assert chunks[1][0] == pytest.approx(first_end)
    assert sum(len(c) for _, c in chunks) == 40 * SAMPLE_RATE  # nothing lost or doubled at the cut


def _mp3(tmp_path: Path, seconds: int = 60) -> bytes:
    path = tmp_path / "whole.mp3"
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-b:a", "64k", str(path))
    return path.read_bytes()


def test_damage_inside_an_mp3_is_skipped_and_the_timeline_kept(tmp_path: Path) -> None:
    data = bytearray(_mp3(tmp_path))
    middle = len(data) // 2
    data[middle : middle + 3000] = np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path = tmp_path / "damaged.mp3"
    path.write_bytes(bytes(data))
    report = DecodeReport()
    total = sum(len(c) for _, c in audio_chunks(path, 20, report)) / SAMPLE_RATE
    assert report.damaged_at and all(25 <= s <= 35 for s in report.damaged_at), report
    # the skipped bytes held ~0.4 s of sound: what follows stays within that of its true time
    assert total == pytest.approx(60, abs=0.6) and report.decoded_s == pytest.approx(total, abs=0.01)


def test_a_truncated_mp3_decodes_what_is_there(tmp_path: Path) -> None:
    data = _mp3(tmp_path)
    path = tmp_path / "cut.mp3"
    path.write_bytes(data[: len(data) // 2])
    assert probe(path).duration_s == pytest.approx(60, abs=1)  # the header still claims the whole
    report = DecodeReport()
    total = sum(len(c) for _, c in audio_chunks(path, 20, report)) / SAMPLE_RATE
    assert total == pytest.approx(30, abs=1) and not report.damaged_at
