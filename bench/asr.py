"""Speech-to-text speed, memory and accuracy: one 60 s Mandarin clip transcribed by the default
engine (faster-whisper, CTranslate2 int8) and by the reference engine (openai-whisper, PyTorch
float32) with the same Whisper base weights, in the same run.

    .venv/bin/python bench/asr.py [--seconds 60] [--beam 5] [--long-minutes 0]

``faster-whisper-penalty`` is the default engine with ARCHIVE_TRANSCRIPTION__REPETITION_PENALTY=1.1,
the loop guard a deployment with noisy recordings can switch on (not part of the comparison).

Two synthetic clips, read by espeak-ng (Mandarin, from pinyin) with pauses, so the reference text
is known: "clear" (everyday phrases, numbers and dates that Whisper base follows in this voice —
the main figures) and "hard" (enforcement sentences it mostly cannot follow: it falls back to
sampling and loops, which is slow; reported under "hard"). Each engine runs in its own process
(peak RSS is that process's own); model loading is timed apart from transcription. Real-time factor (RTF) =
transcription seconds / audio seconds. CER is over characters, punctuation and spaces ignored.
``--long-minutes N`` also transcribes the clip repeated to N minutes with the default engine,
printing its RTF and peak RSS (memory should not grow with length: audio is decoded in chunks).

The last line is one JSON object (clear clip): {"rtf": {"faster_whisper", "openai_whisper",
"faster_whisper_penalty"}, "speedup", "cer": {…}, "peak_rss_mb": {…}, "load_s": {…}, "audio_s",
"cores", "beam", "hard": {the same for the hard clip}, "long": {…} or null}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.samples import FINDINGS  # noqa: E402
from tests.support.metrics import cer  # noqa: E402

# Everyday phrases Whisper base follows in espeak-ng's voice (as it would a real, clear speaker).
CLEAR = [
    "一二三四五六七八九十", "你好", "谢谢你", "今天是十月九日", "现在是上午十点", "我们是执法人员",
    "请你签字", "好的", "没有问题", "二零二六年", "再见", "请坐", "你叫什么名字", "我知道了",
    "对不起", "没关系", "请问你是谁", "我是安全员",
]  # fmt: skip
# Enforcement sentences: in espeak-ng's voice base loses most of them, falls back to sampling
# and loops, so this clip measures the engines on speech they cannot follow.
HARD = [
    "现在是上午十点，我们是县应急管理局的执法人员",
    "这是我们的执法证件，请你看一下",
    "今天依法对你单位进行安全生产监督检查",
    *FINDINGS,
    "请你单位在十日内完成整改",
    "你对检查结果有没有异议",
    "没有异议，我们马上整改",
    "检查过程全程录音录像",
    "请在现场检查记录上签字",
]
RATE = 16_000
PENALTY = "faster-whisper-penalty"
ENGINES = ("faster-whisper", "openai-whisper", PENALTY)
PAUSE_S = 1.0  # between sentences, as a speaker breathes
SPEED = 120  # espeak-ng words per minute: at 130+ its Mandarin gets much harder to recognise


def _speak(sentence: str, out: Path) -> np.ndarray:
    from pypinyin import Style, lazy_pinyin

    syllables = [
        p for p in lazy_pinyin(sentence, style=Style.TONE3, neutral_tone_with_five=True) if p.isalnum()
    ]
    raw = out.with_suffix(".raw.wav")
    subprocess.run(
        ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(SPEED), "-w", str(raw), " ".join(syllables)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", str(out)],
        check=True,
        capture_output=True,
    )
    return np.fromfile(out, np.int16)


def make_clip(seconds: float, work: Path, sentences: list[str], name: str) -> tuple[Path, str]:
    """A WAV of whole sentences separated by pauses, padded with silence to ``seconds``."""
    parts: list[np.ndarray] = [np.zeros(int(0.5 * RATE), np.int16)]
    said: list[str] = []
    total = len(parts[0])
    i = 0
    while True:
        sentence = sentences[i % len(sentences)]
        speech = _speak(sentence, work / f"{name}{i}.raw")
        pause = np.zeros(int(PAUSE_S * RATE), np.int16)
        if total + len(speech) > seconds * RATE:
            break
        parts += [speech, pause]
        said.append(sentence)
        total += len(speech) + len(pause)
        i += 1
    audio = np.concatenate(parts)
    audio = np.pad(audio, (0, max(0, int(seconds * RATE) - len(audio))))[: int(seconds * RATE)]
    path = work / f"{name}.wav"
    _write_wav(path, audio)
    return path, "".join(said)


def _write_wav(path: Path, audio: np.ndarray) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(audio.astype(np.int16).tobytes())


def _child(engine: str, path: str, beam: int) -> None:
    """Runs in a fresh process: load, transcribe, print one JSON line."""
    from pipelines.media.transcribe import make_transcriber

    if engine == PENALTY:  # the loop guard a deployment can switch on
        t = make_transcriber("faster-whisper", beam_size=beam, repetition_penalty=1.1)
    else:
        t = make_transcriber(engine, beam_size=beam)
    started = time.perf_counter()
    t._whisper()  # type: ignore[attr-defined]  # load the model outside the timed part
    loaded = time.perf_counter()
    transcript = t.transcribe(Path(path))
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "load_s": loaded - started,
                "transcribe_s": done - loaded,
                "text": "".join(s.text for s in transcript.segments),
            },
            ensure_ascii=False,
        )
    )


def _peak_rss_mb(engine: str, path: Path, beam: int) -> tuple[dict[str, object], float]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", engine, str(path), "--beam", str(beam)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{engine} failed (exit {proc.returncode})")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def _plain(text: str) -> str:
    return re.sub(r"[\s，。、,.!?！？：:；;“”\"'（）()-]", "", text)


def _compare(clip: Path, reference: str, seconds: float, beam: int) -> dict[str, object]:
    rtf, errs, rss, load = {}, {}, {}, {}
    for engine in ENGINES:
        key = engine.replace("-", "_")
        result, peak = _peak_rss_mb(engine, clip, beam)
        rtf[key] = round(float(result["transcribe_s"]) / seconds, 3)  # type: ignore[arg-type]
        errs[key] = round(cer(_plain(reference), _plain(str(result["text"]))), 3)
        rss[key] = round(peak)
        load[key] = round(float(result["load_s"]), 2)  # type: ignore[arg-type]
        print(
            f"{engine:25s} RTF {rtf[key]:.3f} ({float(result['transcribe_s']):.1f} s)  "  # type: ignore[arg-type]
            f"load {load[key]:.1f} s  peak RSS {rss[key]} MB  CER {errs[key]:.3f}"
        )
        print(f"{'':25s} heard: {str(result['text'])[:70]}…")
    speedup = round(rtf["openai_whisper"] / rtf["faster_whisper"], 2) if rtf["faster_whisper"] else None
    print(f"faster-whisper is {speedup}× faster than openai-whisper on the same audio and model size")
    return {"rtf": rtf, "speedup": speedup, "cer": errs, "peak_rss_mb": rss, "load_s": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--long-minutes", type=float, default=0.0)
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.beam)
        return

    from pipelines.media.models import install_default_model

    install_default_model()
    work = Path(tempfile.mkdtemp(prefix="bench-asr-"))
    cores = os.cpu_count() or 1
    figures = {}
    for name, sentences in (("clear", CLEAR), ("hard", HARD)):
        clip, reference = make_clip(args.seconds, work, sentences, name)
        print(
            f"\n{name} clip: {args.seconds:.0f} s, {len(reference)} characters of speech; "
            f"{cores} cores; beam {args.beam}"
        )
        print(f"reference: {reference[:60]}…")
        figures[name] = _compare(clip, reference, args.seconds, args.beam)
    clip = work / "clear.wav"
    long = None
    if args.long_minutes:
        audio = np.fromfile(clip, np.int16, offset=44)
        repeats = int(np.ceil(args.long_minutes * 60 / args.seconds))
        long_path = work / "long.wav"
        _write_wav(long_path, np.tile(audio, repeats))
        seconds = repeats * args.seconds
        result, peak = _peak_rss_mb("faster-whisper", long_path, args.beam)
        long = {
            "audio_s": seconds,
            "rtf": round(float(result["transcribe_s"]) / seconds, 3),  # type: ignore[arg-type]
            "peak_rss_mb": round(peak),
        }
        print(
            f"long: {seconds / 60:.0f} min, faster-whisper: RTF {long['rtf']}, "
            f"peak RSS {long['peak_rss_mb']} MB"
        )
    out = {**figures["clear"], "audio_s": args.seconds, "cores": cores, "beam": args.beam}
    print(json.dumps({**out, "hard": figures["hard"], "long": long}))


if __name__ == "__main__":
    main()
