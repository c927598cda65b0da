"""Turning a matched document into a hit: snippet, page and recording second.

Shared by every backend so that a hit looks the same whichever index found it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from indexer.documents import Hit
from indexer.highlight import first_match, snippet


def locate(
    at: int | None, page_starts: Sequence[int], segments: Sequence[Sequence[float]]
) -> tuple[int | None, float | None]:
    """The 1-based page and the segment start second holding text offset ``at``."""
    if at is None:
        return None, None
    page = bisect.bisect_right(page_starts, at) if page_starts else None
    start_s = None
    if segments:
        i = bisect.bisect_right([int(s[0]) for s in segments], at) - 1
        start_s = float(segments[max(i, 0)][1])
    return page, start_s


def make_hit(
    *,
    record_id: int,
    score: float,
    title: str,
    case_no: str,
    stage: str,
    raw: str,
    terms: list[str],
    page_starts: Sequence[int] = (),
    segments: Sequence[Sequence[float]] = (),
) -> Hit:
    """A hit with its highlighted snippet and where the first match is."""
    page, start_s = locate(first_match(raw, terms), page_starts, segments)
    return Hit(
        record_id=record_id,
        score=score,
        title=title,
        case_no=case_no,
        stage=stage,
        snippet=snippet(raw, terms),
        page=page,
        start_s=start_s,
    )
