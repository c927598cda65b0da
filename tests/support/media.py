"""Test recordings: AMR-NB phone audio (Debian's ffmpeg cannot encode AMR; PyAV's FFmpeg can)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np

AMR_RATE = 8000


def write_amr(path: Path, samples: np.ndarray) -> None:
    """Encode int16 mono samples at 8 kHz as an AMR-NB file (12.2 kbit/s, like a phone)."""
    with av.open(str(path), "w", format="amr") as out:
        stream = out.add_stream("libopencore_amrnb", rate=AMR_RATE)
        stream.layout = "mono"
        stream.bit_rate = 12200
        for i in range(0, len(samples), 160):
            frame = av.AudioFrame.from_ndarray(samples[None, i : i + 160], format="s16", layout="mono")
            frame.sample_rate = AMR_RATE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def run_tool(*args: str) -> None:
    """Run a media tool (espeak-ng, sox, ffmpeg), failing loudly."""
    subprocess.run(list(args), check=True, timeout=120, capture_output=True)


def speech_wav(path: Path, pinyin: str) -> None:
    """Mandarin speech from pinyin (espeak-ng), as 16 kHz mono WAV, the same bytes every time:
    sox dithers with random noise when it resamples unless told not to (-D), and what Whisper
    hears in this robotic voice changes with that noise."""
    raw = path.with_suffix(".raw.wav")
    run_tool("espeak-ng", "-v", "cmn-latn-pinyin", "-s", "120", "-w", str(raw), pinyin)
    run_tool("sox", "-D", str(raw), "-r", "16000", "-c", "1", str(path))
    raw.unlink()


def silence_wav(path: Path, seconds: float) -> None:
    """``seconds`` of silence, 16 kHz mono WAV."""
    run_tool("sox", "-n", "-r", "16000", "-c", "1", str(path), "trim", "0", str(seconds))
