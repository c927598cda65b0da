"""Snippets computed from the stored raw text, with matched terms in <mark>."""

from __future__ import annotations

import html
import re

from indexer.analysis import normalise

# Whitespace between two CJK characters is a line break of the source layout, not a space.
_CJK_GAP = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u9fff\uff00-\uffef])")


def _spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    # Match as the index does: whitespace between characters is ignored (a PDF line break
    # may split a word), so search a whitespace-free copy and map offsets back.
    norm = normalise(text)
    where = [i for i, ch in enumerate(norm) if not ch.isspace()]
    dense = "".join(norm[i] for i in where)
    spans: list[tuple[int, int]] = []
    for term in terms:
        needle = "".join(normalise(term).split())
        if not needle:
            continue
        start = dense.find(needle)
        while start != -1:
            spans.append((where[start], where[start + len(needle) - 1] + 1))
            start = dense.find(needle, start + 1)
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
    spans = _spans(text, terms)
    return spans[0][0] if spans else None


def snippet(text: str, terms: list[str], width: int = 120) -> str:
    """An HTML-escaped window of ``text`` around the first match, matches wrapped in <mark>."""
    text = _CJK_GAP.sub("", " ".join(text.split()))
    spans = _spans(text, terms)
    if spans:
        first = spans[0][0]
        lo = max(0, first - width // 3)
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
