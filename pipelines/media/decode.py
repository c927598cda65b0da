"""Reading audio and video with PyAV (FFmpeg's libraries): container facts, audio as 16 kHz
mono chunks (a two-hour recording never sits in memory whole), and video frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

SAMPLE_RATE = 16_000  # what Whisper listens at


class MediaError(Exception):
    """The file cannot be read as audio/video; the message is shown to users (Chinese)."""


@dataclass(frozen=True)
class MediaInfo:
    """What the container says about a recording."""

    duration_s: float | None
    container: str
    has_audio: bool
    has_video: bool
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    created_at: str | None = None  # creation_time tag of the container or a stream, as written

    def as_metadata(self) -> dict[str, Any]:
        """Non-empty facts, for the record's metadata."""
        return {k: v for k, v in vars(self).items() if v not in (None, "")}


def _open(path: Path) -> Any:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.InvalidDataError as exc:
        raise MediaError("文件已损坏，或不是可识别的音视频格式；原件已保存") from exc
    except av.error.FFmpegError as exc:
        raise MediaError(f"无法读取音视频文件（{exc.strerror or type(exc).__name__}）；原件已保存") from exc


def probe(path: Path) -> MediaInfo:
    """Container and stream facts; MediaError if nothing in the file can be decoded."""
    with _open(path) as c:
        audio = next(iter(c.streams.audio), None)
        video = next((s for s in c.streams.video if not _is_cover_art(s)), None)
        if audio is None and video is None:
            raise MediaError("文件中没有音频或视频流；原件已保存")
        duration = c.duration / av.time_base if c.duration else None
        if duration is None:
            stream = audio or video
            if stream is not None and stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
        tags = {**dict(c.metadata), **(dict(video.metadata) if video else {})}
        return MediaInfo(
            duration_s=round(duration, 3) if duration else None,
            container=c.format.name,
            has_audio=audio is not None,
            has_video=video is not None,
            audio_codec=audio.codec_context.name if audio else None,
            sample_rate=audio.codec_context.sample_rate if audio else None,
            channels=audio.codec_context.channels if audio else None,
            video_codec=video.codec_context.name if video else None,
            width=video.codec_context.width if video else None,
            height=video.codec_context.height if video else None,
            fps=round(float(video.average_rate), 3) if video and video.average_rate else None,
            created_at=tags.get("creation_time") or tags.get("date"),
        )


def _is_cover_art(stream: Any) -> bool:
    # An mp3/m4a's embedded picture shows up as a one-frame video stream.
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


@dataclass
class DecodeReport:
    """What decoding met: seconds of audio decoded and where damaged stretches were skipped."""

    decoded_s: float = 0.0
    damaged_at: list[float] = field(default_factory=list)


PAUSE_SEARCH_S = 10.0  # a chunk ends at the quietest moment of its last seconds, not mid-word
_WINDOW = SAMPLE_RATE // 5  # 200 ms: a pause between words is at least this long


def pause_cut(block: np.ndarray, size: int) -> int:
    """Where to end a chunk of nominal length ``size``: the middle of the quietest 200 ms in the
    last PAUSE_SEARCH_S seconds (or last quarter of a short chunk) before ``size``, if that is
    clearly quieter than the rest; else ``size``."""
    span = min(int(PAUSE_SEARCH_S * SAMPLE_RATE), size // 4)
    if span < 2 * _WINDOW or len(block) < size:
        return size
    tail = block[size - span : size].astype(np.float64) ** 2
    energy = np.convolve(tail, np.ones(_WINDOW), mode="valid")  # sum over each 200 ms window
    quiet = int(np.argmin(energy[::-1]))  # the last of equally quiet windows: longest chunk
    if energy[-1 - quiet] > 0.25 * float(np.median(energy)):
        return size  # no clear pause (music, a steady noise): cut where the chunk is due
    return size - quiet - _WINDOW // 2


def audio_chunks(
    path: Path, chunk_s: float = 300.0, report: DecodeReport | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """(start second, samples) of the first audio stream: float32 mono at 16 kHz, about
    ``chunk_s`` seconds at a time, each ending at a pause (see pause_cut).

    A packet that cannot be decoded (damage inside the file) is skipped; where the frames'
    timestamps show a gap it is filled with silence, so later seconds stay where they are in the
    recording (an MP3's timestamps count frames and show no gap); ``report`` says where.
    MediaError if the file has no audio or nothing in it decodes at all.
    """
    size = int(chunk_s * SAMPLE_RATE)
    report = report if report is not None else DecodeReport()
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with _open(path) as c:
        if not c.streams.audio:
            raise MediaError("没有音轨")
        stream = c.streams.audio[0]
        buf: list[np.ndarray] = []
        held = start = 0
        first_time: float | None = None

        def take(samples: np.ndarray) -> Iterator[tuple[float, np.ndarray]]:
            nonlocal buf, held, start
            buf.append(samples)
            held += len(samples)
            while held >= size:
                block = np.concatenate(buf)
                cut = pause_cut(block, size)
                yield start / SAMPLE_RATE, block[:cut]
                start += cut
                buf, held = [block[cut:]], held - cut

        try:
            packets = c.demux(stream)
            while True:
                try:
                    packet = next(packets)
                    frames = packet.decode()
                except StopIteration:
                    break
                except av.error.InvalidDataError:
                    report.damaged_at.append(round((start + held) / SAMPLE_RATE, 1))
                    continue
                for frame in frames:
                    if frame.time is not None:
                        first_time = frame.time if first_time is None else first_time
                        gap = int((frame.time - first_time) * SAMPLE_RATE) - (start + held)
                        if gap > SAMPLE_RATE // 20:  # a skipped stretch: keep the timeline true
                            yield from take(np.zeros(gap, np.float32))
                    for out in resampler.resample(frame):
                        yield from take(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            if not held and not start:
                raise MediaError("音频无法解码：文件已损坏；原件已保存") from exc
            report.damaged_at.append(round((start + held) / SAMPLE_RATE, 1))  # unreadable tail
        if not held and not start:
            raise MediaError("音频无法解码：文件已损坏；原件已保存")
        for out in resampler.resample(None):
            buf.append(out.to_ndarray().reshape(-1))
            held += out.samples
        report.decoded_s = round((start + held) / SAMPLE_RATE, 3)
        if held:
            yield start / SAMPLE_RATE, np.concatenate(buf)


def video_frames(path: Path, every_s: float) -> Iterator[tuple[float, Any]]:
    """(second, PIL image) of the first video stream: the first keyframe at or after every
    ``every_s`` seconds. Only keyframes are decoded, so a long body-camera file is read fast and
    never held in memory."""
    with _open(path) as c:
        video = next((s for s in c.streams.video if not _is_cover_art(s)), None)
        if video is None:
            return
        video.thread_type = "AUTO"
        video.codec_context.skip_frame = "NONKEY"
        next_t = 0.0
        for frame in c.decode(video):
            if frame.time is None or frame.time + 1e-6 < next_t:
                continue
            yield float(frame.time), frame.to_image()
            next_t = float(frame.time) + every_s
