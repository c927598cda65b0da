"""A transcript: segments with start/end seconds, words with timestamps and confidence.

Written out as the derived files of a sound record (第二十六条: the text record of the sound):
plain text, SRT, WebVTT and JSON. Always Simplified Chinese; text Whisper is known to invent on
silence or music is removed, never kept as if it had been said.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

NO_SPEECH = "未检测到语音"

# Phrases Whisper produces on silence, music or noise (subtitle credits and video-site sign-offs
# from its training data). A segment made only of these is dropped.
HALLUCINATIONS = [
    r"字幕(由|提供|制作|志愿者|組|组)",
    r"(请|請)?不吝(点赞|點贊)",
    r"(点赞|點贊|订阅|訂閱|转发|轉發|打赏|打賞)",
    r"(感谢|感謝|谢谢|謝謝)(大家|各位)?(观看|觀看|收看|收听|收聽)",
    r"明镜与点点|明鏡與點點|优优独播|優優獨播",
    r"(中文|简体|繁体)字幕",
    r"amara\.org|yoyo television",
    r"^[\s，。,.!?！？…·-]*$",
]
_HALLUCINATION = re.compile("|".join(HALLUCINATIONS), re.IGNORECASE)


@cache
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional → Simplified Chinese (Whisper often answers in Traditional)."""
    return str(_t2s().convert(text)) if text else text


@dataclass
class Word:
    """One recognised word: start/end seconds in the recording, text, confidence 0–1."""

    start: float
    end: float
    text: str
    p: float


@dataclass
class Segment:
    """A stretch of speech."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


def is_hallucination(seg: Segment) -> bool:
    """True for text Whisper invents on silence: credits, sign-offs, punctuation, loops."""
    text = seg.text.strip()
    if not text or _HALLUCINATION.search(text):
        return True
    if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
        return True  # the model itself thinks there was no speech and is unsure of the words
    # the same short phrase repeated over and over: a decoding loop, not speech
    return bool(re.fullmatch(r"(.{1,6}?)\1{4,}", re.sub(r"[\s，。,.]", "", text)))


@dataclass
class Transcript:
    """The transcript of one recording and what made it."""

    segments: list[Segment]
    engine: str
    model: str
    language: str = "zh"
    duration: float = 0.0
    source: str = "machine"  # machine | officer (a corrected version)
    author: str = ""
    warnings: list[str] = field(default_factory=list)  # e.g. a damaged or truncated file

    @property
    def empty(self) -> bool:
        """No speech was found (silence, music, noise)."""
        return not self.segments

    def text(self) -> str:
        """One line per segment; NO_SPEECH for an empty transcript."""
        return "\n".join(s.text for s in self.segments) if self.segments else NO_SPEECH

    def index_segments(self) -> tuple[tuple[int, float], ...]:
        """(offset in text(), start second) per segment, so a hit opens the right second."""
        out, pos = [], 0
        for s in self.segments:
            out.append((pos, round(s.start, 2)))
            pos += len(s.text) + 1
        return tuple(out)

    def to_json(self) -> str:
        """Everything, words included."""
        return json.dumps({**asdict(self), "empty": self.empty}, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, data: str | bytes) -> Transcript:
        """Inverse of to_json."""
        raw = json.loads(data)
        raw.pop("empty", None)
        segments = [
            Segment(**{**s, "words": [Word(**w) for w in s.get("words", [])]}) for s in raw.pop("segments")
        ]
        return cls(segments=segments, **raw)

    def to_srt(self) -> str:
        """SubRip subtitles."""
        blocks = [
            f"{i}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.text}\n"
            for i, s in enumerate(self.segments, 1)
        ]
        return "\n".join(blocks)

    def to_vtt(self) -> str:
        """WebVTT subtitles (for the browser's player)."""
        cues = [f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.text}\n" for s in self.segments]
        return "WEBVTT\n\n" + "\n".join(cues)


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


_LOOP = re.compile(r"(.{1,8}?)\1{5,}")


def cut_loop(seg: Segment) -> None:
    """End a segment where Whisper fell into a decoding loop ("9-9-9-9-…" until the token limit):
    the text keeps one round of the repeated unit, and the words after it go."""
    m = _LOOP.search(seg.text)
    if m is None or m.start() == 0:
        return  # none, or the whole segment is a loop (is_hallucination drops it)
    seg.text = seg.text[: m.start() + len(m.group(1))].rstrip()
    kept, length = [], 0
    for w in seg.words:
        length += len(w.text.strip())
        if length > len(seg.text.replace(" ", "")):
            break
        kept.append(w)
    seg.words = kept
    if kept:
        seg.end = kept[-1].end


def clean(segments: list[Segment]) -> list[Segment]:
    """Simplified Chinese, hallucinations dropped, decoding loops cut, consecutive duplicates merged."""
    out: list[Segment] = []
    for seg in segments:
        seg.text = simplified(seg.text.strip())
        for w in seg.words:
            w.text = simplified(w.text)
        cut_loop(seg)
        if is_hallucination(seg):
            continue
        if out and out[-1].text == seg.text and seg.start - out[-1].end < 1.0:
            out[-1].end = seg.end  # Whisper sometimes repeats a line across a window boundary
            continue
        out.append(seg)
    return out
