"""Snippets computed from the stored raw text, with matched terms in <mark>."""

from __future__ import annotations

import html
import re
from functools import lru_cache

from indexer.analysis import normalise

# Whitespace between two CJK characters is a line break of the source layout, not a space.
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


@lru_cache(maxsize=1024)
def _pattern(term: str) -> re.Pattern[str] | None:
    # Match as the index does: whitespace between the characters is ignored (a PDF line
    # break may split a word).
    chars = "".join(normalise(term).split())
    return re.compile(r"\s*".join(map(re.escape, chars))) if chars else None


def _spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    norm = normalise(text)  # same length as text
    spans: list[tuple[int, int]] = []
    for term in terms:
        pattern = _pattern(term)
        if pattern is not None:
            spans.extend(m.span() for m in pattern.finditer(norm))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def first_match(text: str, terms: list[str]) -> int | None:
    """Offset in ``text`` of the first occurrence of any term (whitespace-insensitive)."""
    norm = normalise(text)
    found = [m.start() for t in terms if (p := _pattern(t)) and (m := p.search(norm))]
    return min(found) if found else None


def snippet(text: str, terms: list[str], width: int = 120) -> str:
    """An HTML-escaped window of ``text`` around the first match, matches wrapped in <mark>."""
    text = _CJK_GAP.sub("", " ".join(text.split()))
    spans = _spans(text, terms)
    if spans:
        lo = max(0, spans[0][0] - width // 3)
        hi = min(len(text), lo + width)
    else:
        lo, hi = 0, min(len(text), width)
    out = ["…" if lo > 0 else ""]
    cur = lo
    for s, e in spans:
        if e <= lo or s >= hi:
            continue
        s, e = max(s, lo), min(e, hi)
        out.append(html.escape(text[cur:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        cur = e
    out.append(html.escape(text[cur:hi]))
    out.append("…" if hi < len(text) else "")
    return "".join(out)
