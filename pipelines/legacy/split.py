"""Cutting a scanned dossier into its 件 by the 页号 of its catalog.

Printed 页号 count the dossier's numbered pages: page 1 is the first page after the cover and
the 卷内目录 (DA/T 22 numbers the documents, not the catalog). ``first_numbered`` is the PDF page
index that bears 页号 1. A row without its last page ends where the next row starts; a row with
no 页号 at all starts after the previous one ends, if that end is known. What cannot be decided
is left for the archivist and named, never guessed silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipelines.legacy.catalog import CatalogRow


class SplitError(ValueError):
    """The catalog's page numbers do not fit the dossier; the message names the rows (Chinese)."""


@dataclass(frozen=True)
class Piece:
    """One 件: its catalog row and its pages as PDF page indexes (inclusive, 0-based)."""

    row: CatalogRow
    first_index: int
    last_index: int

    @property
    def pages(self) -> int:
        """How many pages it has."""
        return self.last_index - self.first_index + 1


@dataclass(frozen=True)
class Split:
    """The proposed pieces and what the archivist must look at (a 页号 inferred, pages no row
    covers)."""

    pieces: list[Piece]
    notes: list[str]


FindStart = Callable[[CatalogRow, int, int], int | None]


def _missing_start(
    rows: list[CatalogRow], starts: list[int | None], i: int, numbered: int, find: FindStart | None
) -> tuple[int, str]:
    """Where row ``i``, which has no 页号, starts (printed page), and a note on how it was found."""
    row = rows[i]
    before = rows[i - 1] if i else None
    lo = 1 if before is None else (before.last_page + 1 if before.last_page else (starts[i - 1] or 0) + 1)
    following = next((s for s in starts[i + 1 :] if s is not None), None)
    hi = (following - 1) if following else numbered
    if lo > hi:
        raise SplitError(
            f"第 {row.seq} 件“{row.title}”没有页号，前后两件之间也没有留给它的页：请在核对时指定"
        )
    if lo == hi or (before is not None and before.last_page):
        return lo, f"第 {row.seq} 件“{row.title}”没有页号，按前后各件推定从第 {lo} 页开始"
    found = find(row, lo, hi) if find else None
    if found is not None and lo <= found <= hi:
        return found, f"第 {row.seq} 件“{row.title}”没有页号，按页面上的题名认定从第 {found} 页开始"
    return (
        lo,
        f"第 {row.seq} 件“{row.title}”没有页号，暂定从第 {lo} 页开始（应在第 {lo}-{hi} 页之间）：请核对",
    )


def split_pages(
    rows: list[CatalogRow], total_pages: int, first_numbered: int, find_start: FindStart | None = None
) -> Split:
    """Pieces of a dossier of ``total_pages`` PDF pages whose 页号 1 is at ``first_numbered``.

    A row without 页号 starts after the one before ends, or where ``find_start`` (reading the
    pages' own headings) finds its title between its neighbours; else at the first page it could
    start on, with a note. SplitError when a 页号 lies past the dossier's end or two rows overlap."""
    numbered = total_pages - first_numbered  # the last printed 页号
    if numbered < 1:
        raise SplitError("卷宗中在卷内目录之后没有文件页")
    starts: list[int | None] = [r.first_page for r in rows]
    notes: list[str] = []
    for i in range(len(rows)):
        if starts[i] is None:
            starts[i], note = _missing_start(rows, starts, i, numbered, find_start)
            notes.append(note)
    pieces: list[Piece] = []
    for i, row in enumerate(rows):
        first = starts[i]
        assert first is not None
        following = next((s for s in starts[i + 1 :] if s is not None), None)
        last = row.last_page if row.last_page is not None else (following - 1 if following else numbered)
        if first > numbered or last > numbered:
            raise SplitError(f"第 {row.seq} 件“{row.title}”的页号 {first}-{last} 超出卷宗的 {numbered} 页")
        if last < first:
            raise SplitError(
                f"第 {row.seq} 件“{row.title}”的起页 {first} 在下一件的起页之后：页号重叠或顺序颠倒"
            )
        if pieces:
            before = pieces[-1]
            before_last = before.last_index - first_numbered + 1
            if first <= before_last:
                raise SplitError(
                    f"第 {before.row.seq} 件（{before.row.first_page}-{before_last}）与第 {row.seq} 件"
                    f"（{first}-{last}）的页号重叠"
                )
            if first > before_last + 1:
                notes.append(f"第 {before_last + 1}-{first - 1} 页不属于目录中的任何一件")
        pieces.append(Piece(row, first_numbered + first - 1, first_numbered + last - 1))
    if pieces and pieces[-1].last_index < total_pages - 1:
        notes.append(
            f"最后一件之后还有 {total_pages - 1 - pieces[-1].last_index} 页（如卷内备考表）不属于任何一件"
        )
    return Split(pieces, notes)
