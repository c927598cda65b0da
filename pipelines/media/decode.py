"""Reading audio and video with PyAV (FFmpeg's libraries): container facts, audio as 16 kHz
mono chunks (a two-hour recording never sits in memory whole), and video frames.

Which stream is "the recording" is chosen here once, for every reader: an m4a's cover art is a
one-frame video stream, a file may carry a disabled alternate audio track or one no decoder
knows, and an MP4 may hold nothing but metadata. Encrypted (DRM) tracks are found in the MP4
box tree before anything is decoded, and by the encryption data FFmpeg attaches to packets.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import av
import numpy as np

SAMPLE_RATE = 16_000  # what Whisper listens at


class MediaError(Exception):
    """The file cannot be read as audio/video; the message is shown to users (Chinese)."""


class EncryptedMediaError(MediaError):
    """The recording is encrypted (DRM): nothing can be decoded without the key."""


ENCRYPTED_AUDIO = "音频已加密（DRM），无法解码；原件已保存"
ENCRYPTED_VIDEO = "视频已加密（DRM），无法解码；原件已保存"
UNKNOWN_AUDIO_CODEC = "音频编码无法识别，无法解码；原件已保存"
UNKNOWN_VIDEO_CODEC = "视频编码无法识别，无法解码；原件已保存"
NO_STREAMS = "文件中没有音频或视频流；原件已保存"
# container tags that describe the file format, not the recording
_FORMAT_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder"})


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
    title: str | None = None  # the container's title tag (an m4a's ©nam), as written
    tags: dict[str, str] = field(default_factory=dict)  # other descriptive container tags

    @property
    def metadata_only(self) -> bool:
        """A container holding metadata (and perhaps cover art) but no sound or moving picture."""
        return not self.has_audio and not self.has_video

    def as_metadata(self) -> dict[str, Any]:
        """Non-empty facts, for the record's metadata."""
        return {k: v for k, v in vars(self).items() if v not in (None, "", {})}


def _open(path: Path) -> Any:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.InvalidDataError as exc:
        raise MediaError("文件已损坏，或不是可识别的音视频格式；原件已保存") from exc
    except av.error.FFmpegError as exc:
        raise MediaError(f"无法读取音视频文件（{exc.strerror or type(exc).__name__}）；原件已保存") from exc


def probe(path: Path) -> MediaInfo:
    """Container and stream facts; MediaError if nothing in the file can be decoded.

    EncryptedMediaError if the sound (or, in a file without sound, the picture) is encrypted. A
    container with neither sound nor picture but with tags is metadata-only (``metadata_only``),
    not an error: its tags are what there is to keep.
    """
    encrypted = encrypted_tracks(path)
    if "audio" in encrypted:
        raise EncryptedMediaError(ENCRYPTED_AUDIO)
    with _open(path) as c:
        audio = audio_stream(c)
        video = None if "video" in encrypted else video_stream(c)
        if audio is None and c.streams.audio:
            raise MediaError(UNKNOWN_AUDIO_CODEC)
        if audio is None and video is None:
            if "video" in encrypted:
                raise EncryptedMediaError(ENCRYPTED_VIDEO)
            if any(not _is_cover_art(s) for s in c.streams.video):
                raise MediaError(UNKNOWN_VIDEO_CODEC)
            if not _descriptive(c.metadata):
                raise MediaError(NO_STREAMS)
        duration = c.duration / av.time_base if c.duration else None
        if duration is None:
            stream = audio or video
            if stream is not None and stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
        tags = {
            **dict(c.metadata),
            **(dict(audio.metadata) if audio else {}),
            **(dict(video.metadata) if video else {}),
        }
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
            title=dict(c.metadata).get("title"),
            tags=_descriptive(c.metadata),
        )


def _descriptive(metadata: Any) -> dict[str, str]:
    """The container tags that say something about the recording (not its format)."""
    skip = _FORMAT_TAGS | {"title", "creation_time"}
    return {k: str(v) for k, v in dict(metadata).items() if k not in skip and str(v).strip()}


def audio_stream(c: Any) -> Any | None:
    """The recording's sound: of the audio streams a decoder knows, an enabled (default) one before a
    disabled alternate, then the longest; the first of equals. None if there is none."""
    usable = [s for s in c.streams.audio if s.codec_context is not None and s.codec_context.sample_rate]
    if not usable:
        return None
    return max(usable, key=lambda s: (bool(s.disposition & av.stream.Disposition.default), _length(s)))


def video_stream(c: Any) -> Any | None:
    """The recording's picture: the first video stream a decoder knows that is not cover art."""
    return next(
        (s for s in c.streams.video if s.codec_context is not None and not _is_cover_art(s)),
        None,
    )


def _length(stream: Any) -> float:
    if stream.frames:
        return float(stream.frames)
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _is_cover_art(stream: Any) -> bool:
    # An mp3/m4a's embedded picture shows up as a one-frame video stream.
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


# ISO base media files (MP4, M4A, MOV, 3GP): sample entries of encrypted tracks, and the boxes
# that carry a protection scheme (ISO/IEC 23001-7 common encryption, Apple FairPlay).
_ENCRYPTED_ENTRIES = {b"enca": "audio", b"encv": "video", b"drms": "audio", b"drmi": "video"}
_HANDLERS = {b"soun": "audio", b"vide": "video"}
_TOP_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"})
_MAX_ENTRY = 1 << 20


def encrypted_tracks(path: Path) -> set[str]:
    """Kinds ("audio", "video") of the tracks of an MP4-family file whose sample entries are
    encrypted (``enca``/``encv``, FairPlay ``drms``/``drmi``) or carry a protection scheme
    (``sinf``/``schm``). Reads box headers only; empty for any other file."""
    found: set[str] = set()
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            top = list(islice(_boxes(f, 0, size), 1000))
            if not top or top[0][0] not in _TOP_BOXES:
                return found
            for kind, start, end in top:
                if kind == b"moov":
                    for child, s, e in _boxes(f, start, end):
                        if child == b"trak":
                            found |= _trak_encryption(f, s, e)
    except OSError:
        pass
    return found


def _boxes(f: IO[bytes], start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, first byte of the body, end) of each box in [start, end); stops at a malformed one."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head)
        body = pos + 8
        if size == 1:  # 64-bit size follows
            large = f.read(8)
            if len(large) < 8:
                return
            size, body = struct.unpack(">Q", large)[0], pos + 16
        elif size == 0:  # to the end of the enclosing box
            size = end - pos
        if size < body - pos or pos + size > end:
            return
        yield kind, body, pos + size
        pos += size


def _child(f: IO[bytes], start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    for kind, s, e in _boxes(f, start, end):
        if kind == path[0]:
            return (s, e) if len(path) == 1 else _child(f, s, e, *path[1:])
    return None


def _trak_encryption(f: IO[bytes], start: int, end: int) -> set[str]:
    mdia = _child(f, start, end, b"mdia")
    if mdia is None:
        return set()
    handler = None
    hdlr = _child(f, *mdia, b"hdlr")
    if hdlr is not None:
        f.seek(hdlr[0] + 8)  # version and flags, pre_defined (QuickTime: component type)
        handler = _HANDLERS.get(f.read(4))
    stsd = _child(f, *mdia, b"minf", b"stbl", b"stsd")
    if stsd is None:
        return set()
    found = set()
    for kind, s, e in _boxes(f, stsd[0] + 8, stsd[1]):  # version, flags, entry count
        f.seek(s)
        entry = f.read(min(e - s, _MAX_ENTRY))
        protected = kind != b"resv" and (_holds_box(entry, b"sinf") or _holds_box(entry, b"schm"))
        if kind in _ENCRYPTED_ENTRIES or protected:
            what = handler or _ENCRYPTED_ENTRIES.get(kind)
            if what:
                found.add(what)
    return found


def _holds_box(data: bytes, kind: bytes) -> bool:
    """Whether ``data`` (a sample entry's body) contains a well-formed box of type ``kind``."""
    at = data.find(kind, 4)
    while at >= 4:
        size = struct.unpack(">I", data[at - 4 : at])[0]
        if 8 <= size <= len(data) - at + 4:
            return True
        at = data.find(kind, at + 1)
    return False


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
    """(start second, samples) of the recording's sound (audio_stream): float32 mono at 16 kHz, about
    ``chunk_s`` seconds at a time, each ending at a pause (see pause_cut).

    A packet that cannot be decoded (damage inside the file) is skipped; where the frames'
    timestamps show a gap it is filled with silence, so later seconds stay where they are in the
    recording (an MP3's timestamps count frames and show no gap); ``report`` says where.
    MediaError if the file has no audio or nothing in it decodes at all; EncryptedMediaError if
    FFmpeg marks the packets as encrypted (a DRM scheme the box check in probe did not see).
    """
    size = int(chunk_s * SAMPLE_RATE)
    report = report if report is not None else DecodeReport()
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with _open(path) as c:
        stream = audio_stream(c)
        if stream is None:
            raise MediaError(UNKNOWN_AUDIO_CODEC if c.streams.audio else "没有音轨")
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
                    if packet.has_sidedata("encryption_info"):  # encrypted samples: noise or errors
                        raise EncryptedMediaError(ENCRYPTED_AUDIO)
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
        video = video_stream(c)
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
