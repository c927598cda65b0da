"""The proposed split of a scanned dossier: its cover facts, its catalog pages, and each 件 with
its catalog row, its pages and what it is. Proposed, not trusted: the archivist reviews it.

The catalog comes from a spreadsheet when one is given, else from the 卷内目录 pages themselves
(found by their heading among the first pages, read as a ruled table). A row without 页号 is
placed by reading the headings of the pages it could start on.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from PIL import Image

from pipelines.legacy import files
from pipelines.legacy.catalog import CatalogError, CatalogRow, column_of, read_catalog_file, rows_from_table
from pipelines.legacy.cover import CoverFacts, read_cover_table
from pipelines.legacy.kinds import kind_of
from pipelines.legacy.source import PDFIUM, SourceError, as_pdf
from pipelines.legacy.split import SplitError, split_pages
from pipelines.legacy.table import Table, read_table
from pipelines.ocr import get_ocr

DPI = 150
LOOK_FOR_CATALOG = 4  # the catalog follows the cover within the first pages
HEADING = "卷内目录"


class DossierError(ValueError):
    """The dossier cannot be read or split; the message says why (Chinese). Nothing is imported."""


@dataclass(frozen=True)
class ProposedPiece:
    """One 件 as proposed: catalog fields, PDF page indexes (0-based, inclusive), its kind."""

    seq: int
    title: str
    doc_no: str
    author: str
    date: str | None  # ISO
    first_index: int
    last_index: int
    stated_pages: str  # the 页号 as the catalog gives them ("" when it does not)
    document_type: str
    stage: str | None
    activity: str | None
    file: str | None = None  # a folder's file that is this 件 (no pages to cut)


@dataclass
class Proposal:
    """What the import would make of a dossier."""

    source: str
    page_count: int
    cover_page: int | None
    catalog_pages: list[int]
    first_numbered: int
    cover: dict[str, Any]
    pieces: list[ProposedPiece]
    catalog_from: str  # "spreadsheet" | "scan"
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain data (dates as ISO strings)."""
        out = asdict(self)
        out["cover"] = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in self.cover.items()}
        return out


class _Pages:
    """The dossier's pages as images, rendered once each, and their OCR."""

    def __init__(self, path: Path) -> None:
        import pypdfium2 as pdfium

        try:
            with PDFIUM:
                self.pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise DossierError(f"{path.name} 设有密码，无法读取：请提供未加密的扫描件") from None
            raise DossierError(f"{path.name} 无法作为 PDF 打开（{exc}）") from None
        self.count = len(self.pdf)
        self._tables: dict[int, Table] = {}

    def close(self) -> None:
        """Close the PDF under the lock (not whenever, in whichever thread, it is collected)."""
        with PDFIUM:
            self.pdf.close()

    def image(self, index: int) -> Image.Image:
        with PDFIUM:
            return self.pdf[index].render(scale=DPI / 72).to_pil()

    def table(self, index: int) -> Table:
        """The page levelled, ruled and read by OCR (once: the cover and catalog pages are
        looked at both to find the catalog and to read it)."""
        if index not in self._tables:
            self._tables[index] = read_table(self.image(index))
        return self._tables[index]

    def text(self, index: int) -> str:
        return self.table(index).ocr.text

    def heading(self, index: int) -> str:
        """The upper part of a page's text (where a document's title is)."""
        image = self.image(index)
        top = image.crop((0, 0, image.width, image.height // 3))
        return get_ocr().recognize(top).text


def _plain(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", text)


def _catalog_pages(pages: _Pages) -> list[int]:
    found = [i for i in range(min(LOOK_FOR_CATALOG, pages.count)) if HEADING in _plain(pages.text(i))]
    if not found:
        return []
    out = [found[0]]
    while out[-1] + 1 in found:
        out.append(out[-1] + 1)
    return out


def _scan_rows(pages: _Pages, catalog: list[int]) -> list[CatalogRow]:
    """The rows of the catalog pages, each page read by its own header (its rules may differ
    from the first page's); a page without one continues the columns of the page before."""
    out: list[CatalogRow] = []
    header: list[object] | None = None
    for index in catalog:
        table: list[list[object]] = [list(r) for r in pages.table(index).rows]
        found = next((r for r in table if sum(column_of(str(c or "")) is not None for c in r) >= 3), None)
        header = found or header
        if header is None:
            raise CatalogError(f"第 {index + 1} 页的卷内目录没有表头（序号、题名、页号 …）")
        rows = rows_from_table(table if found else [header, *table], first_line=1)
        out += [replace(r, line=len(out) + n) for n, r in enumerate(rows, start=1)]
    return out


def _similar(title: str, heading: str) -> float:
    """Share of the title's characters found, in order, in the page's heading text."""
    title, heading = _plain(title), _plain(heading)
    if not title:
        return 0.0
    at, hits = 0, 0
    for ch in title:
        found = heading.find(ch, at)
        if found >= 0:
            hits, at = hits + 1, found + 1
    return hits / len(title)


def _piece(row: CatalogRow, first: int, last: int, file: str | None = None) -> ProposedPiece:
    kind = kind_of(row.title)
    stated = "" if row.first_page is None else str(row.first_page)
    if row.last_page is not None:
        stated += f"-{row.last_page}"
    return ProposedPiece(
        seq=row.seq,
        title=row.title,
        doc_no=row.doc_no,
        author=row.author,
        date=row.date.isoformat() if row.date else None,
        first_index=first,
        last_index=last,
        stated_pages=stated,
        document_type=kind.document_type if kind else "",
        stage=kind.stage.value if kind else None,
        activity=kind.activity.value if kind and kind.activity else None,
        file=file,
    )


def _propose_files(folder: Path, catalog_file: Path) -> Proposal:
    """A folder of files, one per 件, matched to the rows of its catalog spreadsheet."""
    try:
        rows = read_catalog_file(catalog_file)
        matched = files.match(rows, files.documents(folder, catalog_file))
    except (CatalogError, files.FolderError) as exc:
        raise DossierError(str(exc)) from None
    pieces = []
    for row, path in matched.pairs:
        pages = files.page_count(path) or 1
        pieces.append(_piece(row, 0, pages - 1, path.name))
    days = sorted(r.date for r in rows if r.date)
    notes = list(matched.notes)
    cover = CoverFacts(opened=days[0] if days else None, closed=days[-1] if days else None)
    if days:
        notes.append("没有卷宗封面：立案、结案日期按各件日期推定，案由、保管期限、立卷人请在核对时填写")
    decision = next((p for p in pieces if p.document_type == "行政处罚决定书" and p.doc_no), None)
    if decision is not None:
        cover = replace(cover, case_no=decision.doc_no)
        notes.append(f"案号按行政处罚决定书的文号推定为 {decision.doc_no}，请核对")
    return Proposal(
        source=folder.name,
        page_count=sum(p.last_index + 1 for p in pieces),
        cover_page=None,
        catalog_pages=[],
        first_numbered=0,
        cover=asdict(cover),
        pieces=pieces,
        catalog_from="spreadsheet",
        notes=notes,
    )


def propose(path: Path, catalog_file: Path | None = None) -> Proposal:
    """The proposed split of the dossier at ``path``: a scan (PDF, TIFF, a folder of page images)
    or a folder of files, one per 件, with its catalog spreadsheet."""
    if path.is_dir():
        try:
            catalog_file = catalog_file or files.catalog_in(path)
        except files.FolderError as exc:
            raise DossierError(str(exc)) from None
        if files.is_file_dossier(path, catalog_file):
            assert catalog_file is not None
            return _propose_files(path, catalog_file)
    with tempfile.TemporaryDirectory(prefix="dossier-propose-") as tmp:
        try:
            pdf = as_pdf(path, Path(tmp))
        except SourceError as exc:
            raise DossierError(str(exc)) from None
        proposal = _propose_scan(pdf, catalog_file)
    proposal.source = path.name
    return proposal


def _propose_scan(path: Path, catalog_file: Path | None = None) -> Proposal:
    """The proposed split of the scanned dossier at ``path`` (an image PDF)."""
    pages = _Pages(path)
    try:
        return _split_scan(path, pages, catalog_file)
    finally:
        pages.close()


def _split_scan(path: Path, pages: _Pages, catalog_file: Path | None) -> Proposal:
    catalog = _catalog_pages(pages)
    if catalog_file is None and not catalog:
        raise DossierError(
            f"在 {path.name} 的前 {LOOK_FOR_CATALOG} 页中找不到卷内目录："
            "请确认扫描件包含卷内目录，或用 --catalog 提供目录表格"
        )
    cover_page = 0 if 0 not in catalog else None
    if cover_page == 0:
        boxed = pages.table(0)
        cover = read_cover_table(boxed.rows, boxed.ocr.text)
    else:
        cover = CoverFacts()
    try:
        rows = read_catalog_file(catalog_file) if catalog_file else _scan_rows(pages, catalog)
    except CatalogError as exc:
        raise DossierError(str(exc)) from None
    first_numbered = (catalog[-1] + 1) if catalog else (1 if cover_page == 0 else 0)

    def find_start(row: CatalogRow, lo: int, hi: int) -> int | None:
        """The first page between ``lo`` and ``hi`` whose heading names the row: most of its
        title, or its document type (a 询问笔录 is headed 询问笔录, not by the catalog's 题名)."""
        kind = kind_of(row.title)
        for n in range(lo, hi + 1):
            heading = pages.heading(first_numbered + n - 1)
            if _similar(row.title, heading) >= 0.6 or (kind and kind.document_type in _plain(heading)):
                return n
        return None

    try:
        split = split_pages(rows, pages.count, first_numbered, find_start)
    except SplitError as exc:
        raise DossierError(str(exc)) from None
    pieces = [_piece(p.row, p.first_index, p.last_index) for p in split.pieces]
    return Proposal(
        source=path.name,
        page_count=pages.count,
        cover_page=cover_page,
        catalog_pages=catalog,
        first_numbered=first_numbered,
        cover=asdict(cover),
        pieces=pieces,
        catalog_from="spreadsheet" if catalog_file else "scan",
        notes=split.notes,
    )
