"""An independent oracle for search tests: which records a query should find, by substring scan.

It does not use the product's query parser or analysis: a test spells out what each query means
(AND of OR-groups of plain strings, minus excluded strings, plus metadata filters) and this
module scans the documents' own text for them.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from indexer.documents import IndexDoc

BEIJING = timedelta(hours=8)
SCANNED_FACETS = ("stage", "form", "document_type", "made_by", "classification")


def scan_body(doc: IndexDoc) -> str:
    """Title and text as one string: NFKC (full-width → half-width), lower case, no whitespace."""
    return scan_term(doc.title + "\n" + doc.text)


def scan_term(term: str) -> str:
    """A query word as :func:`scan_body` spells text (NFKC, lower case, no whitespace)."""
    return "".join(unicodedata.normalize("NFKC", term).lower().split())


def _beijing_day(doc: IndexDoc) -> date:
    assert doc.made_at is not None, f"record {doc.record_id} has no made_at"
    return (doc.made_at + BEIJING).date()


def _passes_filters(doc: IndexDoc, filters: Mapping[str, object]) -> bool:
    for name, value in filters.items():
        if name == "date_from":
            if _beijing_day(doc) < value:  # type: ignore[operator]
                return False
        elif name == "date_to":
            if _beijing_day(doc) > value:  # type: ignore[operator]
                return False
        elif getattr(doc, name) != value:
            return False
    return True


def scan(
    docs: Iterable[IndexDoc],
    all_of: Sequence[Sequence[str]],
    none_of: Sequence[str] = (),
    filters: Mapping[str, object] | None = None,
    case_nos: Iterable[str] | None = None,
) -> list[IndexDoc]:
    """Documents whose text contains one string of every group of ``all_of`` and none of ``none_of``,
    whose metadata equal ``filters`` and (when given) whose case is one of ``case_nos``."""
    assert all_of, "a query needs at least one group"
    allowed = None if case_nos is None else set(case_nos)
    out = []
    for doc in docs:
        body = scan_body(doc)
        if not all(any(s in body for s in group) for group in all_of):
            continue
        if any(s in body for s in none_of):
            continue
        if not _passes_filters(doc, filters or {}):
            continue
        if allowed is not None and doc.case_no not in allowed:
            continue
        out.append(doc)
    return out


def scan_ids(
    docs: Iterable[IndexDoc],
    all_of: Sequence[Sequence[str]],
    none_of: Sequence[str] = (),
    filters: Mapping[str, object] | None = None,
    case_nos: Iterable[str] | None = None,
) -> set[int]:
    """Record ids of :func:`scan`."""
    return {d.record_id for d in scan(docs, all_of, none_of, filters, case_nos)}


def scan_facets(docs: Iterable[IndexDoc]) -> dict[str, list[tuple[str, int]]]:
    """Sorted (value, count) per facet field of the small-valued fields, empty values left out."""
    docs = list(docs)
    return {
        name: sorted(Counter(v for d in docs if (v := getattr(d, name))).items()) for name in SCANNED_FACETS
    }
