"""The release gate's reading checks, on text as OCR or speech recognition would give it."""

from __future__ import annotations

from pipelines.release_gate import ReleaseGate

OWN_ID = "220122198503154214"
OTHER_ID = "430103199001011234"


def _found(gate: ReleaseGate) -> set[tuple[str, str, str]]:
    return {(f.what, f.value, f.where) for f in gate.report.findings}


def test_a_hidden_value_is_found_in_any_writing() -> None:
    gate = ReleaseGate(["王秀英", OTHER_ID], keep=["张建国", OWN_ID])
    gate.check_text("被询问人：王秀\n英，身份证号 430103 19900101 1234", "第 2 页")
    found = _found(gate)
    assert ("隐藏内容", "王秀英", "第 2 页") in found
    assert ("隐藏内容", OTHER_ID, "第 2 页") in found
    assert ("身份证号", "430103 19900101 1234", "第 2 页") in found
    assert not gate.report.passed and "第 2 页仍可见" in (gate.report.reason() or "")


def test_the_viewers_own_values_and_public_numbers_pass() -> None:
    gate = ReleaseGate(["王秀英"], keep=["张建国", OWN_ID, "0431-84512345"])
    gate.check_text(f"当事人张建国，身份证号{OWN_ID}，本局电话 0431-84512345。", "文本")
    assert gate.report.passed and gate.report.reason() is None


def test_another_persons_number_blocks_even_if_nobody_marked_it() -> None:
    gate = ReleaseGate([], keep=["张建国", OWN_ID])
    gate.check_text("联系电话：一三九零四三一八八六六", "第 3.5 秒", spoken=True)
    gate.check_text("账号 6222 0210 0112 3456 789", "图像")  # a Luhn-valid card, by fours
    whats = {(f.what, f.where) for f in gate.report.findings}
    assert ("手机号", "第 3.5 秒") in whats and ("银行卡号", "图像") in whats


def test_spoken_digit_runs_count_only_in_sound() -> None:
    heard = ReleaseGate([], keep=[])
    heard.check_text("号码是四三零一零三一九九", "第 5.0 秒", spoken=True)
    assert {f.what for f in heard.report.findings} == {"其他"}
    read = ReleaseGate([], keep=[])
    read.check_text("号码是四三零一零三一九九", "第 1 页")
    assert read.report.passed


def test_a_refusal_blocks_without_a_value() -> None:
    gate = ReleaseGate([], keep=[])
    gate.refuse("转写置信度 0.31 低于 0.55")
    assert not gate.report.passed and gate.report.reason() == "转写置信度 0.31 低于 0.55"
