"""Chinese analysis in one place: jieba words (+ dictionary sub-words) and characters.

Three token streams are indexed for each text:
- ``words``: jieba precise segmentation, with every dictionary sub-word of a word placed at
  the word's position, so both 行政复议 and 复议 match (ranking);
- ``grams``: overlapping character pairs, so a query of two or more characters matches exactly
  where its characters appear in order — the same hit set as a substring scan (recall);
- ``chars``: one token per character, for one-character queries.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import jieba

DOMAIN_DICT = Path(__file__).with_name("domain_dict.txt")
_lock = threading.Lock()
_ready = False


class Tok(NamedTuple):
    """One token: text, position, char offsets in the analysed text."""

    text: str
    position: int
    start: int
    end: int


def _init() -> None:
    global _ready
    with _lock:
        if _ready:
            return
        jieba.setLogLevel(logging.WARNING)
        # jieba caches its parsed dictionary as a file; the system temp dir is writable.
        jieba.dt.tmp_dir = tempfile.gettempdir()
        jieba.initialize()
        jieba.load_userdict(str(DOMAIN_DICT))
        _ready = True


_HALFWIDTH = {0x3000: " ", **{c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}}


def halfwidth(text: str) -> str:
    """Map full-width ASCII and the ideographic space to half-width (same length)."""
    return text.translate(_HALFWIDTH)


def normalise(text: str) -> str:
    """Half-width and case-folded (same length as ``text``)."""
    return halfwidth(text).lower()


def word_tokens(text: str) -> list[Tok]:
    """jieba precise words plus their dictionary sub-words at the same position."""
    _init()
    text = normalise(text)
    freq = jieba.dt.FREQ
    toks: list[Tok] = []
    pos = 0
    for word, start, end in jieba.tokenize(text, HMM=False):
        if word.isspace():
            continue
        toks.append(Tok(word, pos, start, end))
        n = len(word)
        if n > 2:
            for size in range(2, n):
                for i in range(n - size + 1):
                    sub = word[i : i + size]
                    if freq.get(sub):
                        toks.append(Tok(sub, pos, start + i, start + i + size))
        pos += 1
    return toks


def char_tokens(text: str) -> list[Tok]:
    """One token per non-space character, positions consecutive."""
    text = normalise(text)
    toks: list[Tok] = []
    pos = 0
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        toks.append(Tok(ch, pos, i, i + 1))
        pos += 1
    return toks


def gram_tokens(text: str) -> list[Tok]:
    """Overlapping character pairs of the whitespace-free text, positions consecutive.

    A query of n ≥ 2 characters is a phrase of its n−1 pairs: the same hits as matching its
    characters in sequence, but over far more selective postings than single characters.
    """
    chars = char_tokens(text)
    return [Tok(a.text + b.text, a.position, a.start, b.end) for a, b in pairwise(chars)]


def query_grams(term: str) -> list[str]:
    """The character pairs a query term of two or more characters must match in sequence."""
    return [t.text for t in gram_tokens(term)]


def query_chars(term: str) -> list[str]:
    """The character sequence a query term must match."""
    return [t.text for t in char_tokens(term)]


def query_words(term: str) -> list[str]:
    """jieba words of a query term (used to rank, not to decide hits)."""
    return sorted({t.text for t in word_tokens(term)})


@dataclass(frozen=True)
class Analysed:
    """Both token streams of one document body, computed once (possibly in a worker).

    Plain tuples (text, position, start, end): they cross process boundaries cheaply.
    """

    body: str
    words: list[tuple[str, int, int, int]]
    chars: list[tuple[str, int, int, int]]
    grams: list[tuple[str, int, int, int]]


def body_of(title: str, text: str) -> str:
    """What is indexed of a record: its title, then its text."""
    return f"{title}\n{text}"


def analyse(title: str, text: str) -> Analysed:
    """Analyse a record's title and text the way every backend indexes them."""
    body = body_of(title, text)
    words: list[tuple[str, int, int, int]] = [tuple(t) for t in word_tokens(body)]  # type: ignore[misc]
    chars: list[tuple[str, int, int, int]] = [tuple(t) for t in char_tokens(body)]  # type: ignore[misc]
    grams = [(a[0] + b[0], a[1], a[2], b[3]) for a, b in pairwise(chars)]
    return Analysed(body, words, chars, grams)


def title_words(analysed: Analysed, title: str) -> list[tuple[str, int, int, int]]:
    """The word tokens of the title (the body begins with the title, then a line break)."""
    end = len(title)
    return [t for t in analysed.words if t[3] <= end]
