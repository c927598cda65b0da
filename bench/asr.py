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
from tests.support.metrics import cer, spoken_numbers  # noqa: E402

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
    """Text as compared: numbers in their spoken form, no punctuation or spaces, lower case."""
    return re.sub(r"[\s，。、,.!?！？：:；;“”\"'（）()\-…]", "", spoken_numbers(text)).lower()


# --- real recordings ---------------------------------------------------------------------------

REAL_DIR = ROOT.parent / "shared" / "eval" / "speech"
# A domain prompt: Whisper continues text like its prompt (script, punctuation, vocabulary).
PROMPT = "以下是执法现场的普通话录音：执法人员对企业进行安全生产检查，询问当事人，告知整改和处罚。"
# Settings of the default engine tried on the real clips; a change is kept only if CER drops on
# them and on the synthetic clips.
VARIANTS: dict[str, dict[str, object]] = {
    "default": {},
    "beam 1 (greedy)": {"beam_size": 1},
    "domain prompt": {"prompt": PROMPT},
    "VAD looser (threshold 0.35, pad 400 ms)": {"vad": {"threshold": 0.35, "speech_pad_ms": 400}},
    "VAD stricter (threshold 0.6)": {"vad": {"threshold": 0.6}},
}


def real_clips(folder: Path) -> list[tuple[Path, str]]:
    """The clips of ``manifest.tsv`` (file, transcript, …) that are present, with their text."""
    import csv

    with (folder / "manifest.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [(folder / r["file"], r["transcript"]) for r in rows if (folder / r["file"]).is_file()]


def _audio_seconds(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def _child_clips(engine: str, listing: str, beam: int) -> None:
    """Runs in a fresh process: load once, transcribe each listed clip, one JSON line each."""
    from pipelines.media.transcribe import make_transcriber

    spec = json.loads(Path(listing).read_text(encoding="utf-8"))
    options = dict(spec["options"])
    t = make_transcriber(engine, beam_size=int(options.pop("beam_size", beam)), **options)
    t._whisper()  # type: ignore[attr-defined]
    for path in spec["clips"]:
        started = time.perf_counter()
        transcript = t.transcribe(Path(path))
        seconds = time.perf_counter() - started
        text = "".join(s.text for s in transcript.segments)
        print(json.dumps({"path": path, "seconds": seconds, "text": text}, ensure_ascii=False), flush=True)


def transcribe_all(
    engine: str, clips: list[tuple[Path, str]], beam: int, options: dict[str, object], work: Path
) -> dict[str, object]:
    """CER (edits over all reference characters) and RTF (seconds over all audio) of ``engine``
    with ``options`` on ``clips``, and each clip's own."""
    listing = work / f"clips-{os.getpid()}-{time.monotonic_ns()}.json"
    listing.write_text(
        json.dumps({"clips": [str(p) for p, _ in clips], "options": options}, ensure_ascii=False),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, __file__, "--clips", engine, str(listing), "--beam", str(beam)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{engine} failed on the clips (exit {proc.returncode}): {proc.stderr[-500:]}")
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    edits = chars = 0.0
    audio = spent = 0.0
    each = []
    for (path, reference), r in zip(clips, results, strict=True):
        ref, hyp = _plain(reference), _plain(r["text"])
        e = cer(ref, hyp) * len(ref)
        seconds = _audio_seconds(path)
        edits, chars, audio, spent = edits + e, chars + len(ref), audio + seconds, spent + r["seconds"]
        each.append({"clip": path.name, "cer": round(e / max(1, len(ref)), 3), "audio_s": round(seconds, 1),
                     "rtf": round(r["seconds"] / seconds, 3), "heard": r["text"]})  # fmt: skip
    return {"cer": round(edits / max(1, chars), 4), "rtf": round(spent / max(audio, 1e-9), 3),
            "audio_s": round(audio, 1), "clips": each}  # fmt: skip


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


def _real(args: argparse.Namespace, synthetic: list[tuple[Path, str]], work: Path) -> dict[str, object]:
    """Both engines on the real recordings; with ``--variants``, settings of the default engine
    on the real and the synthetic clips."""
    clips = real_clips(args.real) if (args.real / "manifest.tsv").is_file() else []
    if not clips:
        print(f"\nno real recordings in {args.real}: skipped")
        return {"real": None}
    print(f"\nreal recordings: {len(clips)} clips from {args.real} (numbers compared in their spoken form)")
    engines = {}
    for engine in ("faster-whisper", "openai-whisper"):
        r = transcribe_all(engine, clips, args.beam, {}, work)
        engines[engine.replace("-", "_")] = {"cer": r["cer"], "rtf": r["rtf"]}
        print(f"{engine:16s} CER {r['cer']:.3f}  RTF {r['rtf']:.3f}  ({r['audio_s']} s of speech)")
        for c in r["clips"]:  # type: ignore[attr-defined]
            print(
                f"   {c['clip']:30s} {c['audio_s']:5.1f} s  CER {c['cer']:.3f}  RTF {c['rtf']:.3f}"
                f"  {c['heard'][:40]}"
            )
    variants = {}
    if args.variants:
        print("\nsettings of the default engine (faster-whisper): CER on the real / on the synthetic clips")
        for name, options in VARIANTS.items():
            on_real = transcribe_all("faster-whisper", clips, args.beam, options, work)
            on_synthetic = transcribe_all("faster-whisper", synthetic, args.beam, options, work)
            variants[name] = {"cer_real": on_real["cer"], "rtf_real": on_real["rtf"],
                              "cer_synthetic": on_synthetic["cer"]}  # fmt: skip
            print(f"   {name:42s} real CER {on_real['cer']:.4f} RTF {on_real['rtf']:.3f}"
                  f"   synthetic CER {on_synthetic['cer']:.4f}")  # fmt: skip
    return {"real": {"clips": len(clips), **engines}, "variants": variants or None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--long-minutes", type=float, default=0.0)
    parser.add_argument("--real", type=Path, default=REAL_DIR, help="real recordings with manifest.tsv")
    parser.add_argument("--variants", action="store_true", help="also try decoding/VAD/prompt settings")
    parser.add_argument("--only-real", action="store_true", help="skip the synthetic 60 s comparison")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--clips", nargs=2, metavar=("ENGINE", "LIST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.beam)
        return
    if args.clips:
        _child_clips(args.clips[0], args.clips[1], args.beam)
        return

    from pipelines.media.models import install_default_model

    install_default_model()
    work = Path(tempfile.mkdtemp(prefix="bench-asr-"))
    cores = os.cpu_count() or 1
    figures: dict[str, dict[str, object]] = {}
    synthetic: list[tuple[Path, str]] = []
    for name, sentences in (("clear", CLEAR), ("hard", HARD)):
        clip, reference = make_clip(args.seconds, work, sentences, name)
        synthetic.append((clip, reference))
        if args.only_real:
            continue
        print(
            f"\n{name} clip: {args.seconds:.0f} s, {len(reference)} characters of speech; "
            f"{cores} cores; beam {args.beam}"
        )
        print(f"reference: {reference[:60]}…")
        figures[name] = _compare(clip, reference, args.seconds, args.beam)
    real = _real(args, synthetic, work)
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
    out = {**figures.get("clear", {}), "audio_s": args.seconds, "cores": cores, "beam": args.beam}
    print(json.dumps({**out, "hard": figures.get("hard"), "long": long, **real}, ensure_ascii=False))


if __name__ == "__main__":
    main()
