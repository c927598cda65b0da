"""The scanned paper dossiers of tests/support/legacy_dossier.py are what the import tests take them
for: image-only PDFs whose pages the ground truth names exactly, a 卷内目录 that OCR can read, the
same rows as spreadsheets, and bad inputs that are bad in the way they say."""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from openpyxl import load_workbook
from PIL import Image

from archive.enums import Stage
from tests.support import legacy_dossier as ld

SEED = 2  # 45 pages, a two-page 卷内目录


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[ld.LegacyDossier, float]:
    start = time.perf_counter()
    d = ld.make_dossier(tmp_path_factory.mktemp("dossier"), SEED, pages=45, tiff=True)
    return d, time.perf_counter() - start


@pytest.fixture(scope="module")
def dossier(made: tuple[ld.LegacyDossier, float]) -> ld.LegacyDossier:
    return made[0]


@pytest.fixture(scope="module")
def catalog_ocr(dossier: ld.LegacyDossier) -> list[str]:
    """OCR lines of the 卷内目录 pages, read from the PDF as a viewer renders it."""
    from pipelines.ocr import get_ocr

    pdf = pdfium.PdfDocument(str(dossier.pdf))
    try:
        lines: list[str] = []
        for i in dossier.truth.catalog_pages:
            image = pdf[i].render(scale=dossier.truth.dpi / 72).to_pil().convert("RGB")
            lines += [line.text for line in get_ocr().recognize(image).lines]
        return lines
    finally:
        pdf.close()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def overlap(truth: str, read: str) -> float:
    """Share of the characters of ``truth`` (with multiplicity) that ``read`` has too."""
    want, got = Counter(squash(truth)), Counter(squash(read))
    return sum(min(n, got[c]) for c, n in want.items()) / sum(want.values())


def stated_ranges(truth: ld.DossierTruth) -> list[tuple[int, int] | None]:
    """The printed page range each catalog row states, DA/T 22 style: a row giving only its start
    ends where the next row starts, the last row ends at the last page; None for a blank row."""
    last_no = truth.page_count - 1 - truth.page_offset if truth.catalog_pages else None
    starts = [p.stated[0] for p in truth.pieces]
    out: list[tuple[int, int] | None] = []
    for i, p in enumerate(truth.pieces):
        first, last = p.stated
        if first is None:
            out.append(None)
            continue
        if last is None:
            later = [s for s in starts[i + 1 :] if s is not None]
            last = later[0] - 1 if later else (last_no or truth.pieces[-1].last_page_no)
        out.append((first, last))
    return out


def tiles(ranges: list[tuple[int, int]], first: int, last: int) -> bool:
    """Do the ranges, in order, cover first…last with no gap and no overlap?"""
    expect = first
    for a, b in ranges:
        if a != expect or b < a:
            return False
        expect = b + 1
    return expect == last + 1


def image_of(d: ld.LegacyDossier, index: int) -> Image.Image:
    return Image.open(io.BytesIO(d.pages[index])).convert("RGB")


# --------------------------------------------------------------------------------------------


def test_generation_is_fast(made: tuple[ld.LegacyDossier, float]) -> None:
    d, seconds = made
    print(f"45-page dossier with TIFF: {seconds:.1f} s")
    assert d.truth.page_count == 45
    assert seconds < 30, f"making one dossier took {seconds:.1f} s"


def test_pdf_is_image_only_with_the_expected_pages(dossier: ld.LegacyDossier) -> None:
    truth = dossier.truth
    raw = dossier.pdf.read_bytes()
    assert b"/Font" not in raw and b"/ToUnicode" not in raw
    pdf = pdfium.PdfDocument(str(dossier.pdf))
    try:
        assert len(pdf) == truth.page_count == len(dossier.pages) == 45
        for i in range(len(pdf)):
            page = pdf[i]
            assert page.get_textpage().count_chars() == 0, f"page {i} has a text layer"
            objects = list(page.get_objects())
            assert [o.type for o in objects] == [pdfium_c.FPDF_PAGEOBJ_IMAGE], f"page {i}: {objects}"
            image = objects[0]
            assert isinstance(image, pdfium.PdfImage)
            assert image.get_filters() == ["DCTDecode"]
            width = image.get_metadata().width
            assert abs(width - 210 / 25.4 * truth.dpi) < 3
            w, h = page.get_size()
            assert abs(w - 595.3) < 1 and abs(h - 841.9) < 1  # A4
    finally:
        pdf.close()
    assert dossier.tiff is not None
    with Image.open(dossier.tiff) as tif:
        assert getattr(tif, "n_frames", 1) == truth.page_count


def test_pieces_tile_the_document_pages(dossier: ld.LegacyDossier) -> None:
    truth = dossier.truth
    assert truth.cover_page == 0
    assert truth.catalog_pages == list(range(1, 1 + len(truth.catalog_pages)))
    assert truth.page_offset == len(truth.catalog_pages)
    pieces = truth.pieces
    assert 8 <= len(pieces) <= 15
    # every document page belongs to exactly one 件, in order
    covered = [i for p in pieces for i in range(p.first_page, p.last_page + 1)]
    assert covered == list(truth.document_pages)
    assert covered[-1] == truth.page_count - 1 and covered[0] == truth.page_offset + 1
    for p in pieces:
        assert 1 <= p.page_count <= 6
        assert p.first_page - truth.page_offset == p.first_page_no
        assert p.last_page - truth.page_offset == p.last_page_no
        first, last = p.stated
        if first is not None:  # what the catalog says agrees with where the 件 is
            assert first == p.first_page_no, p
            assert last in {None, p.last_page_no}, p
    ranges = stated_ranges(truth)
    known = [r for r in ranges if r is not None]
    assert len(known) == len(pieces) - 1
    assert [p.seq for p in pieces] == list(range(1, len(pieces) + 1))
    # with the blank row's range filled in from its neighbours, the catalog tiles the pages
    blank = ranges.index(None)
    ranges[blank] = (pieces[blank].first_page_no, pieces[blank].last_page_no)
    assert tiles(ranges, 1, truth.pieces[-1].last_page_no)  # type: ignore[arg-type]
    case = truth.case
    assert case.piece_count == len(pieces) and case.page_count == pieces[-1].last_page_no
    assert case.opened == pieces[0].day and case.closed == pieces[-1].day
    assert case.retention in {"永久", "30年", "10年"}
    assert re.fullmatch(r".+〔\d{4}〕\d+号", case.case_no)


def test_catalog_cells_come_in_the_forms_clerks_write(dossier: ld.LegacyDossier) -> None:
    pieces = dossier.truth.pieces
    cells = [p.catalog_pages for p in pieces]
    assert cells.count("") == 1, cells
    assert any("-" in c for c in cells) and any("～" in c for c in cells) and any("—" in c for c in cells)
    assert any(c.isdigit() and p.page_count > 1 for c, p in zip(cells, pieces, strict=True)), cells
    forms = {
        "dotted": r"\d{4}\.\d{2}\.\d{2}",
        "chinese": r"\d{4}年\d{1,2}月\d{1,2}日",
        "compact": r"\d{8}",
    }
    seen = set()
    for p in pieces:
        kind = next(k for k, f in forms.items() if re.fullmatch(f, p.catalog_date))
        seen.add(kind)
        digits = [int(x) for x in re.findall(r"\d+", p.catalog_date)]
        if kind == "compact":
            digits = [int(p.catalog_date[:4]), int(p.catalog_date[4:6]), int(p.catalog_date[6:])]
        assert date(*digits) == p.day
    assert seen == set(forms)
    assert [p.day for p in pieces] == sorted(p.day for p in pieces)
    assert {p.stage for p in pieces} <= {s.value for s in Stage}
    assert any(p.title_lines >= 2 for p in pieces)


def test_ocr_reads_most_of_the_catalog_titles(dossier: ld.LegacyDossier, catalog_ocr: list[str]) -> None:
    titles = "".join(p.title for p in dossier.truth.pieces)
    score = overlap(titles, "\n".join(catalog_ocr))
    print(f"OCR finds {score:.1%} of the 题名 characters on the 卷内目录")
    assert score >= 0.8
    # a long 题名 is wrapped inside its cell: OCR sees its start on a line that is not the whole
    wrapped = [squash(p.title) for p in dossier.truth.pieces if p.title_lines >= 2]
    read = [squash(line) for line in catalog_ocr]
    assert any(
        not any(t in line for line in read) and any(len(line) >= 6 and t.startswith(line) for line in read)
        for t in wrapped
    ), (wrapped, read)


def test_scans_are_not_pristine(dossier: ld.LegacyDossier) -> None:
    """Grey paper, noise, JPEG artefacts and a measurable skew on the catalog page."""
    index = dossier.truth.catalog_pages[0]
    with Image.open(io.BytesIO(dossier.pages[index])) as jpeg:
        q = jpeg.quantization  # type: ignore[attr-defined]
        assert q[0][0] >= 9, "luminance quantisation of quality ≤ 70"
    grey = np.asarray(image_of(dossier, index).convert("L"), dtype=np.float64)
    h = grey.shape[0]
    k = dossier.truth.dpi / 25.4
    margin = grey[round(100 * k) : round(120 * k), round(196 * k) : round(204 * k)]  # blank right margin
    assert 150 < np.median(margin) < 245, "the paper is greyish, not white"
    assert margin.std() > 1.5, "the paper is noisy"

    def bottom_rule(x_mm: float) -> int:
        """Row of the table's bottom rule at ``x_mm``, searching from the page's foot."""
        strip = np.median(grey[:, round(x_mm * k) - 4 : round(x_mm * k) + 5], axis=1)
        return int(max(y for y in range(round(250 * k), h) if strip[y] < 110))

    left, right = bottom_rule(30), bottom_rule(180)
    skew = np.degrees(np.arctan2(left - right, 150 * k))
    assert 0.2 <= abs(skew) <= 2.0, f"skew {skew:.2f}°"


def test_seals_and_signatures_are_on_the_pages_they_are_said_to_be(dossier: ld.LegacyDossier) -> None:
    def red(index: int) -> int:
        a = np.asarray(image_of(dossier, index), dtype=np.int16)
        return int(((a[..., 0] > 150) & (a[..., 1] < 120) & (a[..., 2] < 120)).sum())

    sealed = [i for p in dossier.truth.pieces for i in p.seal_pages]
    assert len(sealed) >= 3
    assert all(red(i) > 800 for i in sealed), [red(i) for i in sealed]
    assert red(dossier.truth.catalog_pages[0]) < 50 and red(0) < 50
    signed = [i for p in dossier.truth.pieces for i in p.signature_pages]
    assert len(signed) >= 5


def test_ground_truth_json(dossier: ld.LegacyDossier) -> None:
    import json

    data = json.loads(dossier.pdf.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["page_count"] == 45 and data["convention"] == ld.PAGE_CONVENTION
    assert date.fromisoformat(data["case"]["opened"]) == dossier.truth.case.opened
    first = data["pieces"][0]
    assert date.fromisoformat(first["day"]) == dossier.truth.pieces[0].day
    assert first["first_page"] == dossier.truth.page_offset + 1 and first["first_page_no"] == 1
    assert [p["stated_first"] for p in data["pieces"]] == [p.stated[0] for p in dossier.truth.pieces]


def _read_xlsx(sheet: ld.CatalogSheet) -> list[dict[str, object]]:
    ws = load_workbook(sheet.path).active
    assert ws is not None
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if [c for c in r if c is not None] == sheet.headers)
    assert header + 1 == sheet.header_row
    return [dict(zip(sheet.columns, r, strict=True)) for r in rows[header + 1 :]]


def test_catalog_spreadsheets_round_trip(dossier: ld.LegacyDossier, tmp_path: Path) -> None:
    truth = dossier.truth
    expected = ld.catalog_rows(truth)
    seen_headers = set()
    for variant in range(len(ld.HEADER_VARIANTS)):
        sheet = ld.write_catalog_xlsx(truth, tmp_path / f"catalog{variant}.xlsx", variant)
        seen_headers.add(tuple(sheet.headers))
        rows = _read_xlsx(sheet)
        assert len(rows) == len(expected)
        for got, want, piece in zip(rows, expected, truth.pieces, strict=True):
            for column, value in got.items():
                if column == "日期" and sheet.dates_as_cells:
                    assert isinstance(value, datetime) and value.date() == piece.day
                else:
                    assert ("" if value is None else str(value)) == want[column], (column, value, want)
        for encoding in ("utf-8-sig", "gb18030"):
            path = tmp_path / f"catalog{variant}-{encoding}.csv"
            sheet = ld.write_catalog_csv(truth, path, variant, encoding=encoding)
            with path.open(encoding=encoding, newline="") as f:
                table = list(csv.reader(f))
            assert table[0] == sheet.headers
            assert [dict(zip(sheet.columns, r, strict=True)) for r in table[1:]] == expected
    assert len(seen_headers) == len(ld.HEADER_VARIANTS)
    names = {h for hs in seen_headers for h in hs}
    assert {"页号", "页次", "起止页", "题名", "文件题名", "责任者", "责任单位"} <= names
    # called without a variant, the header names change from one call to the next
    a = ld.write_catalog_xlsx(truth, tmp_path / "a.xlsx")
    b = ld.write_catalog_xlsx(truth, tmp_path / "b.xlsx")
    assert a.headers != b.headers


def test_catalog_pages_missing(dossier: ld.LegacyDossier, tmp_path: Path) -> None:
    bad = ld.without_catalog(dossier, tmp_path / "no-catalog.pdf")
    t = bad.truth
    n_cat = len(dossier.truth.catalog_pages)
    assert t.variant == "without_catalog" and t.defects
    assert t.catalog_pages == [] and t.page_offset == 0
    assert len(pdfium.PdfDocument(str(bad.pdf))) == t.page_count == dossier.truth.page_count - n_cat
    covered = [i for p in t.pieces for i in range(p.first_page, p.last_page + 1)]
    assert covered == list(range(1, t.page_count))
    for before, after in zip(dossier.truth.pieces, t.pieces, strict=True):
        assert after.first_page == before.first_page - n_cat
        assert bad.pages[after.first_page] == dossier.pages[before.first_page]


def test_page_numbers_past_the_end(dossier: ld.LegacyDossier, tmp_path: Path) -> None:
    bad = ld.pages_past_end(dossier, tmp_path / "past-end.pdf")
    t = bad.truth
    last_no = t.pieces[-1].last_page_no
    assert t.variant == "pages_past_end" and t.defects
    assert max(b for r in stated_ranges(t) if r for b in r) > last_no
    assert not tiles([r for r in stated_ranges(t) if r], 1, last_no)
    # only the catalog pages were scanned again; the documents are the same scans
    for i in range(t.page_count):
        assert (bad.pages[i] != dossier.pages[i]) == (i in t.catalog_pages and i == t.catalog_pages[-1])
    assert len(pdfium.PdfDocument(str(bad.pdf))) == t.page_count


def test_overlapping_ranges(dossier: ld.LegacyDossier, tmp_path: Path) -> None:
    bad = ld.overlapping_ranges(dossier, tmp_path / "overlap.pdf")
    t = bad.truth
    assert t.variant == "overlapping_ranges" and t.defects
    ranges = [r for r in stated_ranges(t) if r]
    assert any(a[1] >= b[0] for a, b in pairwise(ranges)), ranges
    good = [r for r in stated_ranges(dossier.truth) if r]
    assert all(a[1] < b[0] for a, b in pairwise(good))
    assert sum(a != b for a, b in zip(bad.pages, dossier.pages, strict=True)) >= 1


def test_password_protected_pdf(dossier: ld.LegacyDossier, tmp_path: Path) -> None:
    bad = ld.encrypted(dossier, tmp_path / "locked.pdf")
    assert b"/Encrypt" in bad.pdf.read_bytes()
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(str(bad.pdf))
    pdf = pdfium.PdfDocument(str(bad.pdf), password=bad.truth.password)
    try:
        assert len(pdf) == dossier.truth.page_count
        assert pdf[0].get_textpage().count_chars() == 0
    finally:
        pdf.close()


def test_every_seed_plans_a_plausible_dossier() -> None:
    for seed in range(40):
        t = ld.dossier_truth(seed)
        pieces = t.pieces
        assert 8 <= len(pieces) <= 15 and 30 <= t.page_count <= 60, (seed, len(pieces), t.page_count)
        assert t.page_count == 1 + len(t.catalog_pages) + pieces[-1].last_page_no
        assert len(t.catalog_pages) in {1, 2}
        assert all(1 <= p.page_count <= 6 for p in pieces)
        assert [p.catalog_pages for p in pieces].count("") == 1
        assert any(p.title_lines >= 2 for p in pieces) and all(p.title_lines <= 3 for p in pieces)
        covered = [i for p in pieces for i in range(p.first_page, p.last_page + 1)]
        assert covered == list(t.document_pages), seed
    assert len({ld.dossier_truth(s).page_count for s in range(40)}) > 10  # spread over 30–60


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = ld.make_dossier(tmp_path / "a", 5, pages=30)
    b = ld.make_dossier(tmp_path / "b", 5, pages=30, workers=1)
    c = ld.make_dossier(tmp_path / "c", 6, pages=30)
    assert a.pdf.read_bytes() == b.pdf.read_bytes()
    assert a.truth == b.truth
    assert a.pdf.read_bytes() != c.pdf.read_bytes()
