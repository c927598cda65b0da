"""Speech to text: the transcriber contract and its two engines.

* ``faster-whisper`` (the default): Whisper on CTranslate2, int8 on the CPU.
* ``openai-whisper`` (the reference engine, optional install: ``make install-openai``): OpenAI's
  own PyTorch implementation, reading a checkpoint built from the same weights
  (pipelines.media.checkpoint), so the two can be compared on equal terms.

Both share one loop: the recording is decoded in chunks that end at pauses
(pipelines.media.decode), speech is found with the same Silero voice-activity detector, each
chunk's segments and words are shifted to times in the recording, and progress is reported as
the share of the recording done. Text always comes out in Simplified Chinese (transcript.clean).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from pipelines.media.decode import SAMPLE_RATE, DecodeReport, MediaError, audio_chunks, probe
from pipelines.media.models import ModelMissingError, default_model_dir, install_default_model
from pipelines.media.transcript import Segment, Transcript, Word, clean

log = logging.getLogger(__name__)
Progress = Callable[[float], None]
ENGINES = ("faster-whisper", "openai-whisper")
# Few fallback re-decodes: on unclear audio each one costs a full decode (seen: RTF 0.4 → 7 with
# the default six temperatures).
TEMPERATURES = (0.0, 0.2, 0.4)
# Fallback decodes sample at random: a fixed seed per recording makes a re-run give the same text.
SEED = 20_26
# A penalty on tokens already produced (faster-whisper only) stops Whisper's decoding loops
# ("现现现…" to the token limit) before they cost a full window and every fallback: seen RTF
# 1.43 → 0.12 on one synthetic recording. Off by default: it also made the model drop real
# speech — a "谢谢，谢谢你" after a counting sequence in the same 30 s window vanished at 1.05–1.1.
REPETITION_PENALTY = 1.0


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


class ChunkedTranscriber:
    """The loop both engines share; an engine supplies ``_chunk`` (times relative to the chunk)."""

    name = ""
    model = ""

    def __init__(self, *, beam_size: int = 5, chunk_s: float = 300.0) -> None:
        self.beam_size = beam_size
        self.chunk_s = chunk_s

    def _chunk(self, samples: np.ndarray) -> list[Segment]:
        raise NotImplementedError

    def _seed(self) -> None:
        """Seed the engine's sampler (temperature fallbacks) so results are reproducible."""

    def transcribe(self, path: Path, on_progress: Progress | None = None) -> Transcript:
        """Chunk by chunk: VAD-filtered Mandarin, segments and words with times in the recording."""
        info = probe(path)
        if not info.has_audio:
            raise NoAudioError("没有音轨（无声视频），无需转写")
        claimed = info.duration_s or 0.0
        report = DecodeReport()
        segments: list[Segment] = []
        self._seed()
        for start, samples in audio_chunks(path, self.chunk_s, report):
            segments.extend(_shifted(s, start) for s in self._chunk(samples))
            if on_progress and claimed:
                on_progress(min(1.0, (start + len(samples) / SAMPLE_RATE) / claimed))
        if on_progress:
            on_progress(1.0)  # the container's duration may be off (a truncated file)
        warnings = _decode_warnings(report, claimed)
        for w in warnings:
            log.warning("%s: %s", path.name, w)
        duration = report.decoded_s or claimed
        return Transcript(clean(segments), self.name, self.model, "zh", duration, warnings=warnings)


def _decode_warnings(report: DecodeReport, claimed: float) -> list[str]:
    out = []
    if report.damaged_at:
        at = "、".join(f"{s:.0f} 秒" for s in sorted(set(report.damaged_at))[:5])
        out.append(f"音频在 {at} 处有损坏的片段，已跳过（以静音计时）")
    if claimed and report.decoded_s < claimed - max(2.0, 0.02 * claimed):
        out.append(f"只解码出 {report.decoded_s:.0f} 秒，文件标称 {claimed:.0f} 秒：文件末尾可能被截断")
    return out


def _shifted(s: Segment, by: float) -> Segment:
    words = [Word(_r(by + w.start), _r(by + w.end), w.text, w.p) for w in s.words]
    return Segment(_r(by + s.start), _r(by + s.end), s.text, words, s.avg_logprob, s.no_speech_prob)


def _r(value: float, digits: int = 3) -> float:
    # plain floats: both engines hand out numpy/torch scalars, which JSON cannot write
    return round(float(value), digits)


class FasterWhisperTranscriber(ChunkedTranscriber):
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
        repetition_penalty: float = REPETITION_PENALTY,
        prompt: str | None = None,
        vad: dict[str, float] | None = None,
    ) -> None:
        super().__init__(beam_size=beam_size, chunk_s=chunk_s)
        self.prompt = prompt or None  # words the speech is likely to hold (a domain prompt)
        self.vad = dict(vad or {})  # VadOptions overrides (threshold, min_silence_duration_ms …)
        self.model_dir = model_dir
        self.model = (model_dir or default_model_dir()).name
        self.compute_type = compute_type
        self.repetition_penalty = repetition_penalty
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

    def _seed(self) -> None:
        import ctranslate2

        ctranslate2.set_random_seed(SEED)

    def _chunk(self, samples: np.ndarray) -> list[Segment]:
        found, _ = self._whisper().transcribe(
            samples,
            language="zh",
            task="transcribe",
            beam_size=self.beam_size,
            vad_filter=True,
            word_timestamps=True,
            condition_on_previous_text=False,  # stops a wrong line from repeating itself
            temperature=TEMPERATURES,
            repetition_penalty=self.repetition_penalty,
            initial_prompt=self.prompt,
            vad_parameters=self.vad or None,
        )
        return [
            Segment(
                s.start,
                s.end,
                s.text,
                [Word(w.start, w.end, w.word, _r(w.probability)) for w in s.words or ()],
                _r(s.avg_logprob, 4),
                _r(s.no_speech_prob, 4),
            )
            for s in found
        ]


class OpenAIWhisperTranscriber(ChunkedTranscriber):
    """OpenAI's reference implementation (PyTorch, float32 on the CPU) on a local checkpoint.

    openai-whisper has no voice-activity filter of its own: the speech found by faster-whisper's
    Silero VAD is cut out and joined, as faster-whisper does itself, and times are mapped back.
    It has no repetition penalty: its decoding is Whisper's as published.
    """

    name = "openai-whisper"

    def __init__(
        self,
        checkpoint: Path | None = None,
        *,
        model_dir: Path | None = None,
        beam_size: int = 5,
        chunk_s: float = 300.0,
        threads: int = 0,
    ) -> None:
        super().__init__(beam_size=beam_size, chunk_s=chunk_s)
        self.model_dir = model_dir
        self.checkpoint = checkpoint or default_checkpoint(model_dir)
        self.model = self.checkpoint.stem
        self.threads = threads or (os.cpu_count() or 1)
        self._loaded: Any = None

    def _whisper(self) -> Any:
        if self._loaded is None:
            try:
                import torch
                import whisper
            except ModuleNotFoundError as exc:
                raise ModelMissingError("未安装 openai-whisper 引擎：请运行 make install-openai") from exc
            if not self.checkpoint.is_file():
                from pipelines.media.checkpoint import build_openai_checkpoint

                source = self.model_dir or install_default_model()
                log.info("building %s from %s", self.checkpoint, source)
                build_openai_checkpoint(source, self.checkpoint)
            torch.set_num_threads(self.threads)
            model = whisper.load_model(str(self.checkpoint), device="cpu")
            heads = torch.load(self.checkpoint, map_location="cpu").get("alignment_heads") or []
            if heads:  # the model's own word-timing heads (a path checkpoint gets a generic guess)
                mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
                for layer, head in heads:
                    mask[layer, head] = True
                model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
            self._loaded = model
        return self._loaded

    def _seed(self) -> None:
        import torch

        torch.manual_seed(SEED)

    def _chunk(self, samples: np.ndarray) -> list[Segment]:
        import whisper
        from faster_whisper.vad import SpeechTimestampsMap, VadOptions, get_speech_timestamps

        model = self._whisper()
        speech = get_speech_timestamps(samples, VadOptions())
        if not speech:
            return []
        joined = np.concatenate([samples[c["start"] : c["end"]] for c in speech]).astype(np.float32)
        times = SpeechTimestampsMap(speech, SAMPLE_RATE)
        result = whisper.transcribe(
            model,
            joined,
            language="zh",
            task="transcribe",
            beam_size=self.beam_size,
            best_of=self.beam_size,
            word_timestamps=True,
            condition_on_previous_text=False,
            temperature=TEMPERATURES,
            fp16=False,
            verbose=None,
        )

        def t(x: float, end: bool = False) -> float:
            return times.get_original_time(float(x), is_end=end)

        return [
            Segment(
                t(s["start"]),
                t(s["end"], True),
                s["text"],
                [
                    Word(t(w["start"]), t(w["end"], True), w["word"], _r(w["probability"]))
                    for w in s.get("words", ())
                ],
                _r(s["avg_logprob"], 4),
                _r(s["no_speech_prob"], 4),
            )
            for s in result["segments"]
        ]


def default_checkpoint(model_dir: Path | None = None) -> Path:
    """Where the openai-whisper checkpoint of ``model_dir`` (default: the bundled model) lives."""
    source = model_dir or default_model_dir()
    return source.parent / f"{source.name}-openai.pt"


def make_transcriber(
    engine: str = "faster-whisper",
    *,
    model_dir: Path | None = None,
    checkpoint: Path | None = None,
    beam_size: int = 5,
    chunk_s: float = 300.0,
    repetition_penalty: float = REPETITION_PENALTY,
    prompt: str | None = None,
    vad: dict[str, float] | None = None,
) -> Transcriber:
    """The configured engine (settings.transcription.engine); ``prompt`` and ``vad`` are
    faster-whisper's (a decoding prompt, voice-activity settings)."""
    if engine == "faster-whisper":
        return FasterWhisperTranscriber(
            model_dir,
            beam_size=beam_size,
            chunk_s=chunk_s,
            repetition_penalty=repetition_penalty,
            prompt=prompt,
            vad=vad,
        )
    if engine == "openai-whisper":
        return OpenAIWhisperTranscriber(checkpoint, model_dir=model_dir, beam_size=beam_size, chunk_s=chunk_s)
    raise ValueError(f"unknown transcription engine {engine!r}; one of {', '.join(ENGINES)}")


_shared: dict[tuple[Any, ...], Transcriber] = {}
_shared_lock = threading.Lock()


def shared_transcriber(
    engine: str = "faster-whisper",
    *,
    model_dir: Path | None = None,
    checkpoint: Path | None = None,
    beam_size: int = 5,
    chunk_s: float = 300.0,
    repetition_penalty: float = REPETITION_PENALTY,
) -> Transcriber:
    """This process's transcriber for these settings: the model loads once per process (a
    long-lived parse worker transcribes one recording after another with it)."""
    key = (engine, model_dir, checkpoint, beam_size, chunk_s, repetition_penalty)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = make_transcriber(
                engine,
                model_dir=model_dir,
                checkpoint=checkpoint,
                beam_size=beam_size,
                chunk_s=chunk_s,
                repetition_penalty=repetition_penalty,
            )
        return _shared[key]
