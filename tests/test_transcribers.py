"""The two speech engines: the openai-whisper checkpoint rebuilt from the bundled CTranslate2
weights is the same model (encoder outputs and greedy decoding agree with CTranslate2 at float32),
bad model directories are refused with a reason, and both engines transcribe synthetic Mandarin
with word times through the same chunk loop.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipelines.media.checkpoint import CheckpointError, build_openai_checkpoint, read_ct2
from pipelines.media.decode import audio_chunks
from pipelines.media.models import install_default_model
from pipelines.media.transcribe import ENGINES, make_transcriber
from tests.conftest import IN_CI, run_cli

torch = pytest.importorskip("torch", reason="the reference engine is installed by make install-openai")
whisper = pytest.importorskip("whisper")
TOOLS = [shutil.which(t) for t in ("espeak-ng", "sox")]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all(TOOLS) and not IN_CI, reason="espeak-ng and sox make the test speech"),
]


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, timeout=120, capture_output=True)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s silence, "谢谢，谢谢你" read by espeak-ng, 3 s silence (16 kHz mono)."""
    d = tmp_path_factory.mktemp("speech")
    _run(
        "espeak-ng",
        "-v",
        "cmn-latn-pinyin",
        "-s",
        "120",
        "-w",
        str(d / "raw.wav"),
        "xie4 xie4 , xie4 xie4 ni3",
    )
    _run("sox", str(d / "raw.wav"), "-r", "16000", "-c", "1", str(d / "words.wav"))
    _run("sox", "-n", "-r", "16000", "-c", "1", str(d / "quiet.wav"), "trim", "0", "3")
    out = d / "谢谢.wav"
    _run("sox", str(d / "quiet.wav"), str(d / "words.wav"), str(d / "quiet.wav"), str(out))
    return out


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built by the project command, as a deployment would."""
    out = tmp_path_factory.mktemp("ckpt") / "base.pt"
    res = run_cli(["models", "build-openai-checkpoint", "--out", str(out)], out.parent / "var")
    assert res.returncode == 0, res.stderr
    assert "检查点已生成" in res.stderr and out.is_file()
    return out


def test_the_rebuilt_checkpoint_is_the_same_model(checkpoint: Path, speech: Path) -> None:
    import ctranslate2

    audio = np.concatenate([a for _, a in audio_chunks(speech)])
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(torch.from_numpy(audio)))
    model = whisper.load_model(str(checkpoint), device="cpu")
    ct2 = ctranslate2.models.Whisper(str(install_default_model()), device="cpu", compute_type="float32")
    features = ctranslate2.StorageView.from_array(mel[None].numpy())
    with torch.no_grad():
        ours = model.encoder(mel[None]).numpy()
    theirs = np.array(ct2.encode(features))
    assert np.abs(ours - theirs).max() < 0.01 * np.abs(theirs).max()
    tokenizer = whisper.tokenizer.get_tokenizer(True, language="zh", task="transcribe")
    prompt = list(tokenizer.sot_sequence_including_notimestamps)
    ct2_ids = ct2.generate(features, [prompt], beam_size=1, max_length=40)[0].sequences_ids[0]
    options = whisper.DecodingOptions(language="zh", without_timestamps=True, fp16=False, sample_len=40)
    result = whisper.decode(model, mel, options)
    assert len(ct2_ids) >= 3 and result.tokens == ct2_ids  # same words, token for token
    assert torch.load(checkpoint)["alignment_heads"] == [
        [3, 1],
        [4, 2],
        [4, 3],
        [4, 7],
        [5, 1],
        [5, 2],
        [5, 4],
        [5, 6],
    ]


def _model_bin(path: Path, variables: dict[str, np.ndarray]) -> None:
    codes = {np.dtype(np.float32): 0, np.dtype(np.int8): 1, np.dtype(np.float16): 4}

    def string(s: str) -> bytes:
        raw = s.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = struct.pack("<I", 6) + string("WhisperSpec") + struct.pack("<II", 3, len(variables))
    for name, a in variables.items():
        out += string(name) + struct.pack("<B", a.ndim) + struct.pack(f"<{a.ndim}I", *a.shape)
        out += struct.pack("<BI", codes[a.dtype], a.nbytes) + a.tobytes()
    path.write_bytes(out + struct.pack("<I", 0))


def test_bad_model_directories_are_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"没有 model\.bin"):
        build_openai_checkpoint(tmp_path, tmp_path / "x.pt")
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "model.bin").write_bytes((install_default_model() / "model.bin").open("rb").read(1 << 20))
    with pytest.raises(CheckpointError, match="截断"):
        build_openai_checkpoint(cut, tmp_path / "x.pt")
    int8 = tmp_path / "int8"
    int8.mkdir()
    _model_bin(
        int8 / "model.bin",
        {
            "encoder/conv1/weight": np.ones((4, 2, 3), np.int8),
            "encoder/conv1/weight_scale": np.ones(4, np.float32),
        },
    )
    with pytest.raises(CheckpointError, match="已量化"):
        build_openai_checkpoint(int8, tmp_path / "x.pt")
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob(".checkpoint-*"))
    variables = read_ct2(int8 / "model.bin")
    assert variables["encoder/conv1/weight"].shape == (4, 2, 3)


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_transcribes_speech_with_word_times(engine: str, speech: Path, checkpoint: Path) -> None:
    done: list[float] = []
    t = make_transcriber(engine, checkpoint=checkpoint, beam_size=1)
    transcript = t.transcribe(speech, done.append)
    assert transcript.engine == engine and transcript.duration == pytest.approx(8.95, abs=0.1)
    assert "谢谢" in transcript.text(), transcript.text()
    first = transcript.segments[0]
    assert 2.5 <= first.start <= 3.5  # speech starts after 3 s of silence
    words = [w for s in transcript.segments for w in s.words]
    assert words and all(0 <= w.p <= 1 and 2.5 <= w.start <= w.end <= 6.5 for w in words)
    assert done and done[-1] == 1.0


def test_ingest_with_the_reference_engine(speech: Path, checkpoint: Path, tmp_path: Path) -> None:
    import json

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(speech, src / "询问录音.wav")
    res = run_cli(
        ["ingest", str(src), "--json"],
        tmp_path / "var",
        ARCHIVE_TRANSCRIPTION__ENGINE="openai-whisper",
        ARCHIVE_TRANSCRIPTION__OPENAI_CHECKPOINT=str(checkpoint),
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["ingested"] == 1 and not report["failed"], report
    res = run_cli(["search", "谢谢", "--json"], tmp_path / "var")
    (hit,) = json.loads(res.stdout)["hits"]
    assert 2.5 <= hit["start_s"] <= 3.5
