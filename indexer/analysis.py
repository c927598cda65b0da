"""Chinese analysis in one place: jieba words (+ dictionary sub-words), characters, pairs.

Three token streams are indexed for each text, each as one string of space-separated tokens
(every backend splits them on whitespace, so both index exactly these tokens):
- ``words``: jieba precise segmentation (no HMM) with the shipped domain dictionary, each word
  followed by its dictionary sub-words, so both 行政复议 and 复议 match (ranking);
- ``chars``, ``grams``, ``tris``: every character, every overlapping pair and every overlapping
  triple of characters. A query term matches exactly where its characters occur in order — the
  same hit set as a substring scan (recall): one character is a ``chars`` term, two a ``grams``
  term, three a ``tris`` term, and a longer one a phrase of non-overlapping triples at their
  offsets (a 6-character term is 2 triples, not 5 pairs: far fewer positions to check).

Segmentation runs on jieba-rs (``rjieba``) loaded with jieba's own dictionary and the domain
dictionary so that it cuts exactly as jieba 0.42.1 does (a test compares them), at ~20× the
speed. Text is normalised first (full-width → half-width, lower case); whitespace is never
part of a token.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from operator import add
from pathlib import Path

DOMAIN_DICT = Path(__file__).with_name("domain_dict.txt")
_lock = threading.Lock()
_segmenter = None
_words: frozenset[str] = frozenset()
_subwords: dict[str, tuple[str, ...]] = {}
_SUBWORD_CACHE = 200_000


def jieba_dictionary() -> Path:
    """jieba's main dictionary file (word, frequency, tag per line)."""
    import jieba

    return Path(jieba.__file__).with_name("dict.txt")


def _read_dict(path: Path, freq: dict[str, int]) -> int:
    total = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2:
                freq[parts[0]] = int(parts[1])
                total += int(parts[1])
    return total


def _cache_file(sources: list[Path]) -> Path:
    """Where the parsed dictionaries are kept between processes, named by what they were read from."""
    key = hashlib.sha256()
    for source in sources:
        st = source.stat()
        key.update(f"{source}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "enforcement-archive"
    return base / f"segmenter-{key.hexdigest()[:24]}.marshal"


def _frequencies() -> tuple[int, dict[str, int]]:
    """jieba's total and every word's frequency, from both dictionaries. Parsing them takes a
    quarter of a second; a command run from a script would pay it every time, so the result is
    kept in the user's cache directory (plain data in marshal form, checked when read back)."""
    sources = [jieba_dictionary(), DOMAIN_DICT]
    cache = _cache_file(sources)
    try:
        total, freq = marshal.loads(cache.read_bytes())
        if isinstance(total, int) and isinstance(freq, dict) and freq:
            return total, freq
    except (OSError, EOFError, ValueError, TypeError):
        pass
    freq = {}
    total = sum(_read_dict(source, freq) for source in sources)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((total, freq)))
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home: parse again next time
    return total, freq


def _init() -> None:
    """Load the segmenter once per process (~1 s)."""
    global _segmenter, _words
    with _lock:
        if _segmenter is not None:
            return
        import rjieba

        # jieba keeps the frequency of a word a later line overrides in its total; jieba-rs
        # does not. Reproduce jieba's total so that both choose the same segmentation.
        total, freq = _frequencies()
        seg = rjieba.Jieba.empty()
        for word, f in freq.items():
            seg.add_word(word, f, None)
        missing = total - sum(freq.values())
        if missing:
            # NUL never reaches the dictionary lookup (it is not in a Chinese text block), so
            # this entry only corrects the total.
            seg.add_word("\x00", missing, None)
        _words = frozenset(w for w, f in freq.items() if f)
        _segmenter = seg


def warm_up() -> None:
    """Load the segmenter now, so that the first search after a server start is not slow."""
    _init()


_HALFWIDTH = {"\u3000": " ", **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}}
_FULLWIDTH = re.compile("[\u3000\uff01-\uff5e]")


def _to_half(m: re.Match[str]) -> str:
    return _HALFWIDTH[m.group()]


def halfwidth(text: str) -> str:
    """Map full-width ASCII and the ideographic space to half-width (same length)."""
    # A regex touching only the full-width characters is twice as fast as str.translate here.
    return _FULLWIDTH.sub(_to_half, text)


def normalise(text: str) -> str:
    """Half-width and case-folded (same length as ``text``)."""
    return halfwidth(text).lower()


def _subwords_of(word: str) -> tuple[str, ...]:
    subs = _subwords.get(word)
    if subs is None:
        n = len(word)
        subs = tuple(
            sub for size in range(2, n) for i in range(n - size + 1) if (sub := word[i : i + size]) in _words
        )
        if len(_subwords) > _SUBWORD_CACHE:
            _subwords.clear()
        _subwords[word] = subs
    return subs


def words(text: str, subwords: bool = True) -> list[str]:
    """jieba precise words of ``text`` (normalised here), each followed by its sub-words."""
    _init()
    assert _segmenter is not None
    out: list[str] = []
    for word in _segmenter.cut(normalise(text), False):
        if word.isspace():
            continue
        out.append(word)
        if subwords and len(word) > 2:
            out.extend(_subwords_of(word))
    return out


def chars_of(text: str) -> str:
    """The normalised text without whitespace: one character per token."""
    return "".join(normalise(text).split())


def _pairs(s: str) -> Iterator[str]:
    return map(add, s, s[1:])


def _triples(s: str) -> Iterator[str]:
    return map(add, map(add, s, s[1:]), s[2:])


@dataclass(frozen=True)
class SequencePlan:
    """How a backend finds a query term in ``field``: a record matches iff the term's characters
    occur in it consecutively.

    ``tokens`` are (offset, token) pairs for engines that take phrase offsets (fewest
    positions to check); ``consecutive`` is every token in order, the same constraint as a plain
    phrase, for engines that do not.
    """

    field: str
    tokens: tuple[tuple[int, str], ...]
    consecutive: tuple[str, ...]


def sequence_plan(term: str) -> SequencePlan | None:
    """The plan for one query term; None when it has no characters to look for."""
    s = chars_of(term)
    n = len(s)
    if n == 0:
        return None
    if n <= 2:
        return SequencePlan("chars" if n == 1 else "grams", ((0, s),), (s,))
    offsets = sorted({*range(0, n - 2, 3), n - 3})
    return SequencePlan("tris", tuple((i, s[i : i + 3]) for i in offsets), tuple(_triples(s)))


def query_words(term: str) -> list[str]:
    """jieba words of a query term (used to rank, not to decide hits).

    Without sub-words: the index holds each word's sub-words, so 复议 still meets 行政复议, and
    every extra query word is one more dense posting list to score (−15% time on AND queries).
    """
    return sorted(set(words(term, subwords=False)))


@dataclass(frozen=True)
class Analysed:
    """The token streams of one record, computed once (possibly in a worker process).

    Each is one string of space-separated tokens: cheap to pass between processes and indexed
    by whitespace splitting in every backend.
    """

    words: str
    title_words: str
    chars: str
    grams: str
    tris: str


def body_of(title: str, text: str) -> str:
    """What is indexed of a record: its title, then its text."""
    return f"{title}\n{text}"


def analyse(title: str, text: str) -> Analysed:
    """Analyse a record's title and text the way every backend indexes them."""
    title_words = words(title)
    s = chars_of(body_of(title, text))
    return Analysed(
        words=" ".join(title_words + words(text)),
        title_words=" ".join(title_words),
        chars=" ".join(s),
        grams=" ".join(_pairs(s)),
        tris=" ".join(_triples(s)),
    )
