"""Text-quality measures shared by tests and benchmarks."""

from __future__ import annotations


def squash(text: str) -> str:
    """Text without any whitespace."""
    return "".join(text.split())


def cer(expected: str, got: str) -> float:
    """Character error rate: Levenshtein distance / reference length, whitespace ignored."""
    a, b = squash(expected), squash(got)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1] / max(1, len(a))


_DIGIT = "零一二三四五六七八九"
_PLACES = ((1000, "千"), (100, "百"), (10, "十"))


def _cardinal(n: int) -> str:
    """A number below 10,000 as it is read: 15 十五, 105 一百零五, 1000 一千."""
    if n < 10:
        return _DIGIT[n]
    out, started, gap = "", False, False
    for value, name in _PLACES:
        d = n // value % 10
        if d:
            out += "零" if gap else ""
            out += ("" if value == 10 and not started and d == 1 else _DIGIT[d]) + name
            started, gap = True, False
        elif started:
            gap = True
    if n % 10:
        out += ("零" if gap else "") + _DIGIT[n % 10]
    return out


def spoken_numbers(text: str) -> str:
    """Digits as they are spoken, so a transcript and a reference compare however each wrote a
    number: years and long numbers digit by digit (92年 九二年, 13882674834), others read as
    amounts (8号线 八号线, 15 十五, 2.5 二点五)."""
    import re

    def read(m: re.Match[str]) -> str:
        whole, frac, year = m.group(1), m.group(2), m.group(3)
        if year or len(whole) > 4 or (len(whole) > 1 and whole.startswith("0")):
            head = "".join(_DIGIT[int(c)] for c in whole)
        else:
            head = _cardinal(int(whole))
        tail = ("点" + "".join(_DIGIT[int(c)] for c in frac)) if frac else ""
        return head + tail + (year or "")

    return re.sub(r"(\d+)(?:\.(\d+))?(年)?", read, text)
