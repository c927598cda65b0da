"""Sound: the words of a span are replaced by a 1 kHz tone; the output is a new audio file
(Ogg/Opus by default, or WAV) holding only the decoded, bleeped sound. For a video the rendition
is its sound only: frames are not part of a party's rendition (they would need face and plate
blurring, which this package does not do)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np

from pipelines.detect import MediaFamily
from pipelines.media.decode import SAMPLE_RATE, MediaError, audio_chunks
from pipelines.media.transcript import Transcript
from pipelines.redaction.common import RedactionError, Subject, _align, _merged, _wanted

BLEEP_HZ = 1000.0
BLEEP_LEVEL = 0.25  # about -12 dBFS: clearly audible, not painful
BLEEP_PAD_S = 0.15  # word timestamps are approximate: hide a little more on each side
BLEEP_RAMP_S = 0.005  # the tone fades in/out over 5 ms (no click); the speech is muted throughout
OPUS_BITRATE = 32_000


def bleep_ranges(
    transcript: Transcript, spans: Sequence[tuple[int, int]], *, pad_s: float = BLEEP_PAD_S
) -> list[tuple[float, float]]:
    """Seconds of the recording to replace by a tone: the words whose text the spans cover (offsets
    into ``transcript.text()``), padded by ``pad_s`` each side and merged; a whole segment where its
    words do not spell its text exactly (e.g. an officer corrected the text) or have no times."""
    text = transcript.text()
    merged = _merged(spans, len(text))
    if not merged:
        return []
    if transcript.empty:
        raise RedactionError("转写结果为空（未检测到语音），遮盖范围无法对应到录音")
    ranges: list[tuple[float, float]] = []
    pos = 0
    for seg in transcript.segments:
        wanted = _wanted(seg.text, merged, pos, spoken_only=True)
        pos += len(seg.text) + 1
        if not wanted:
            continue
        aligned = _align(seg.text, [w.text for w in seg.words]) if seg.words else None
        picked: list[tuple[float, float]] = []
        covered: set[int] = set()
        for (ws, we), word in zip(aligned or (), seg.words, strict=False):
            if any(ws <= k < we for k in wanted):
                picked.append((min(word.start, word.end), max(word.start, word.end)))
                covered.update(range(ws, we))
        if aligned is None or wanted - covered or any(b <= a for a, b in picked):
            picked = [(min(seg.start, seg.end), max(seg.start, seg.end))]
        ranges += picked
    padded = sorted((max(0.0, a - pad_s), b + pad_s) for a, b in ranges)
    out: list[tuple[float, float]] = []
    for a, b in padded:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in out]


def _bleep(samples: np.ndarray, first: int, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Samples ``first``… with the sample ranges replaced by the tone (phase follows the recording)."""
    ramp = max(1, int(BLEEP_RAMP_S * SAMPLE_RATE))
    last = first + len(samples)
    for a, b in ranges:
        lo, hi = max(a, first), min(b, last)
        if lo >= hi:
            continue
        n = np.arange(lo, hi, dtype=np.float64)
        envelope = np.clip(np.minimum(n - a, b - 1 - n) / ramp, 0.0, 1.0)
        tone = BLEEP_LEVEL * envelope * np.sin(2 * np.pi * BLEEP_HZ * n / SAMPLE_RATE)
        samples[lo - first : hi - first] = tone.astype(np.float32)
    return samples


def bleep_audio(
    path: Path,
    transcript: Transcript,
    spans: Sequence[tuple[int, int]],
    *,
    codec: Literal["opus", "wav"] = "opus",
    pad_s: float = BLEEP_PAD_S,
) -> bytes:
    """The recording's sound (16 kHz mono) with the spans' words replaced by a 1 kHz tone.

    ``codec``: "opus" (Ogg/Opus, 32 kbit/s, the default) or "wav" (16-bit PCM). A video gives its
    sound only: frames are not part of a party's rendition. Nothing of the source container (tags,
    location, other streams) is copied. Decoded and encoded chunk by chunk.
    """
    ranges = [
        (math.floor(a * SAMPLE_RATE), math.ceil(b * SAMPLE_RATE))
        for a, b in bleep_ranges(transcript, spans, pad_s=pad_s)
    ]
    fmt, codec_name = ("ogg", "libopus") if codec == "opus" else ("wav", "pcm_s16le")
    out = io.BytesIO()
    try:
        with av.open(out, "w", format=fmt) as container:
            stream: Any = container.add_stream(codec_name, rate=SAMPLE_RATE, layout="mono")
            if codec == "opus":
                stream.bit_rate = OPUS_BITRATE
            for start_s, samples in audio_chunks(path, chunk_s=60.0):
                first = round(start_s * SAMPLE_RATE)
                chunk = _bleep(np.array(samples, dtype=np.float32), first, ranges)
                frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
    except MediaError as exc:
        raise RedactionError(f"录音无法解码，无法生成遮盖版本（{exc}）") from exc
    return out.getvalue()


class SoundRedactor:
    """A recording with the spans bleeped (:func:`bleep_audio`), unless it has no transcript or is
    released as its transcript only."""

    name = "sound"
    families = frozenset({MediaFamily.AUDIO, MediaFamily.VIDEO})
    output = ("audio/ogg", ".ogg")  # the rendition file's MIME type and suffix

    def score(self, subject: Subject) -> int:
        wanted = subject.family in self.families and subject.transcript and not subject.transcript_only
        return 10 if wanted else 0
