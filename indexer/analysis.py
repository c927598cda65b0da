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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import add
from pathlib import Path
from typing import TypeVar, cast

DOMAIN_DICT = Path(__file__).with_name("domain_dict.txt")
_lock = threading.Lock()
_segmenter = None
_words: frozenset[str] = frozenset()
_subwords: dict[str, tuple[str, ...]] = {}
_SUBWORD_CACHE = 200_000
T = TypeVar("T")


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


def _cache_file(name: str, sources: list[Path]) -> Path:
    """Where data parsed from ``sources`` is kept between processes, named by what it was read from."""
    key = hashlib.sha256()
    for source in sources:
        st = source.stat()
        key.update(f"{source}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "enforcement-archive"
    return base / f"{name}-{key.hexdigest()[:24]}.marshal"


def cached(name: str, sources: list[Path], build: Callable[[], T], valid: Callable[[object], bool]) -> T:
    """``build()``'s result (plain data: dicts, strings, numbers), kept in the user's cache directory
    until a source file changes. Parsing jieba's dictionary takes seconds; a command run from a
    script, and every worker process, would pay it every time. What is read back is checked with
    ``valid`` (a damaged or foreign file is rebuilt); a read-only home just builds again."""
    cache = _cache_file(name, sources)
    try:
        data = marshal.loads(cache.read_bytes())
        if valid(data):
            return cast(T, data)
    except (OSError, EOFError, ValueError, TypeError):
        pass
    data = build()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(data))  # type: ignore[arg-type]  # plain data, as documented
        tmp.replace(cache)
    except (OSError, ValueError):
        pass
    return data


def _frequencies() -> tuple[int, dict[str, int]]:
    """jieba's total and every word's frequency, from both dictionaries (~0.25 s to parse)."""
    sources = [jieba_dictionary(), DOMAIN_DICT]

    def build() -> tuple[int, dict[str, int]]:
        freq: dict[str, int] = {}
        total = sum(_read_dict(source, freq) for source in sources)
        return total, freq

    def valid(data: object) -> bool:
        return (
            isinstance(data, tuple)
            and len(data) == 2
            and isinstance(data[0], int)
            and isinstance(data[1], dict)
            and bool(data[1])
        )

    return cached("segmenter", sources, build, valid)


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
