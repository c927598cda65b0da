"""Text as a person reads it: numbers and names across spaces, dashes, dots and line breaks.

A text layer or transcript writes "139 0431 8866", "139-0431-8866", "430103⏎199001011237",
"一三九零四三一八八六六" or "１３９…"; a reader sees one number in each. These helpers make views of a
text in which such writings become plain digits, each with a map back to the original offsets,
so a span found in a view is a span of the original (separators inside it included).

- :func:`numeral_digits` turns runs of Chinese numerals (〇零一幺二两三…九, also 壹贰叁… and the
  circle 〇/○) into ASCII digits, one character for one, so offsets do not move.
- :func:`digit_chains` gives runs of digit groups that are separated only by spaces, line breaks
  or one number separator (- . · /), the groups a reader would join into one number.
- :func:`compact` drops all whitespace (and number separators between letters or digits) and
  keeps the offset of every remaining character: names and codes split by a line break.
- :func:`fold_for_match` is the comparison form used by the release gate: NFKC, numerals as
  digits, no whitespace or separators, upper case.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "Chain",
    "View",
    "compact",
    "digit_chains",
    "fold_for_match",
    "match_view",
    "numeral_digits",
    "occurrences",
]

_NUMERALS = {
    **dict.fromkeys("〇零○Ｏ洞", "0"),
    **dict.fromkeys("一幺壹", "1"),
    **dict.fromkeys("二两贰", "2"),
    **dict.fromkeys("三叁", "3"),
    **dict.fromkeys("四肆", "4"),
    **dict.fromkeys("五伍", "5"),
    **dict.fromkeys("六陆", "6"),
    **dict.fromkeys("七柒拐", "7"),
    **dict.fromkeys("八捌", "8"),
    **dict.fromkeys("九玖勾", "9"),
}
# Spoken/radio forms (洞 0, 幺 1, 拐 7, 勾 9) count only inside a run that has plain numerals too.
_PLAIN = frozenset("〇零○一二三四五六七八九")
MIN_NUMERAL_RUN = 3  # 一二 is prose often enough; three or more in a row are a digit string
SEPARATORS = frozenset("-‐‑‒–—―.·・•/_")
SPACES = frozenset(" \t\r\n\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u3000")
MAX_GAP = 6  # characters between two groups of one number (a line break and its indentation)


def numeral_digits(text: str) -> str:
    """``text`` with runs of Chinese numerals (and digits among them) as ASCII digits, same length."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        if text[i] not in _NUMERALS and not ("0" <= text[i] <= "9"):
            i += 1
            continue
        j = i
        while j < n:
            if text[j] in _NUMERALS or "0" <= text[j] <= "9":
                j += 1
            elif text[j] in SPACES and j + 1 < n and (text[j + 1] in _NUMERALS or "0" <= text[j + 1] <= "9"):
                j += 1  # 一 三 九 …: spaced numerals are still one number
            else:
                break
        run = text[i:j]
        numerals = sum(c in _NUMERALS for c in run)
        if numerals >= MIN_NUMERAL_RUN and any(c in _PLAIN for c in run):
            for k in range(i, j):
                out[k] = _NUMERALS.get(text[k], text[k])
        i = j
    return "".join(out)


@dataclass(frozen=True)
class Chain:
    """Digit groups a reader joins into one number: ``groups`` are (start, end) offsets."""

    groups: tuple[tuple[int, int], ...]

    def windows(self, text: str, longest: int = 19) -> Iterator[tuple[str, int, int, tuple[int, ...]]]:
        """(digits, start, end, group sizes) of every run of consecutive groups, up to ``longest`` digits."""
        for i in range(len(self.groups)):
            digits = ""
            for j in range(i, len(self.groups)):
                a, b = self.groups[j]
                digits += text[a:b]
                if len(digits) > longest:
                    break
                sizes = tuple(e - s for s, e in self.groups[i : j + 1])
                yield digits, self.groups[i][0], b, sizes


def _group_end(text: str, i: int) -> int:
    j = i
    while j < len(text) and "0" <= text[j] <= "9":
        j += 1
    after = text[j + 1 : j + 2]
    if text[j : j + 1] in ("X", "x") and not (after.isascii() and after.isalnum()):
        j += 1  # the check character of a resident ID
    return j


def digit_chains(text: str) -> list[Chain]:
    """Chains of two or more digit groups in ``text`` (ASCII digits; fold numerals first) joined
    by whitespace (line breaks included) and at most one separator character between two groups."""
    chains: list[Chain] = []
    groups: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if not ("0" <= text[i] <= "9"):
            i += 1
            continue
        j = _group_end(text, i)
        if groups:
            gap = text[groups[-1][1] : i]
            seps = sum(c in SEPARATORS for c in gap)
            joined = (
                len(gap) <= MAX_GAP
                and seps <= 1
                and all(c in SPACES or c in SEPARATORS for c in gap)
                and text[groups[-1][1] - 1] not in "Xx"
            )
            if not joined:
                if len(groups) > 1:
                    chains.append(Chain(tuple(groups)))
                groups = []
        groups.append((i, j))
        i = j
    if len(groups) > 1:
        chains.append(Chain(tuple(groups)))
    return chains


@dataclass(frozen=True)
class View:
    """A folded copy of a text and, for each of its characters, the offset in the original."""

    text: str
    pos: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``text[start:end]`` (end exclusive)."""
        return self.pos[start], self.pos[end - 1] + 1


def compact(text: str) -> View:
    """``text`` without whitespace, and without separators standing between two letters/digits."""
    chars: list[str] = []
    pos: list[int] = []
    n = len(text)
    for i, c in enumerate(text):
        if c in SPACES:
            continue
        if c in SEPARATORS and chars and chars[-1].isascii() and chars[-1].isalnum():
            k = i + 1
            while k < n and text[k] in SPACES:
                k += 1
            if k < n and text[k].isascii() and text[k].isalnum():
                continue
        chars.append(c)
        pos.append(i)
    return View("".join(chars), tuple(pos))


def _width(c: str) -> str:
    folded = unicodedata.normalize("NFKC", c)
    return folded.upper() if len(folded) == 1 else c


def match_view(text: str) -> View:
    """``text`` as values are compared in it: full width folded, numerals as digits, no spacing or
    number separators, upper case; each character mapped back to its offset in ``text``."""
    return compact(numeral_digits("".join(_width(c) for c in text)))


def fold_for_match(text: str) -> str:
    """The form in which two writings of one value compare equal (the release gate's check)."""
    return match_view(text).text


def occurrences(view: View, value: str) -> list[tuple[int, int]]:
    """Every place ``value`` (any writing of it) occurs in the text of ``view``, as original spans."""
    needle = fold_for_match(value)
    out: list[tuple[int, int]] = []
    if not needle:
        return out
    at = view.text.find(needle)
    while at >= 0:
        out.append(view.span(at, at + len(needle)))
        at = view.text.find(needle, at + 1)
    return out
