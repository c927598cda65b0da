"""Test recordings: AMR-NB phone audio (Debian's ffmpeg cannot encode AMR; PyAV's FFmpeg can)."""

from __future__ import annotations

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
