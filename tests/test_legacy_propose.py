"""The proposed split of realistic scanned dossiers (tests/support/legacy_dossier.py): from the
scanned 卷内目录 alone and from a catalog spreadsheet, and bad dossiers refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.legacy.propose import DossierError, Proposal, propose
from tests.support.legacy_dossier import (
    DossierTruth,
    LegacyDossier,
    encrypted,
    make_dossier,
    overlapping_ranges,
    pages_past_end,
    without_catalog,
    write_catalog_csv,
    write_catalog_xlsx,
)

pytestmark = pytest.mark.slow  # OCR of the cover, the catalog and a few page headings: ~10 s each


@pytest.fixture(scope="module")
def dossiers(tmp_path_factory: pytest.TempPathFactory) -> list[LegacyDossier]:
    out = tmp_path_factory.mktemp("dossiers")
    return [make_dossier(out, seed) for seed in (3, 11)]


def _bounds(p: Proposal) -> list[tuple[int, int]]:
    return [(x.first_index, x.last_index) for x in p.pieces]


def _truth_bounds(t: DossierTruth) -> list[tuple[int, int]]:
    return [(x.first_page, x.last_page) for x in t.pieces]


def test_the_scanned_catalog_alone_cuts_every_piece_where_it_is(dossiers: list[LegacyDossier]) -> None:
    for d in dossiers:
        t = d.truth
        p = propose(d.pdf)
        assert p.catalog_from == "scan" and p.catalog_pages == t.catalog_pages
        assert p.first_numbered == t.page_offset + 1 and p.page_count == t.page_count
        assert _bounds(p) == _truth_bounds(t)
        blank = [x for x in t.pieces if not x.catalog_pages]
        assert len(blank) == 1 and any(f"第 {blank[0].seq} 件" in n for n in p.notes)  # said, not hidden
        assert [x.title for x in p.pieces] == [x.title for x in t.pieces]  # wrapped titles joined
        assert [x.date for x in p.pieces] == [x.day.isoformat() for x in t.pieces]
        assert [x.doc_no for x in p.pieces] == [x.doc_no for x in t.pieces]
        staged = [(x.stage, y.stage) for x, y in zip(p.pieces, t.pieces, strict=True) if x.stage]
        assert len(staged) >= len(t.pieces) - 2 and all(a == b for a, b in staged), staged
        c = p.cover
        assert (c["case_no"], c["name"], c["party"]) == (t.case.case_no, t.case.title, t.case.party)
        assert (c["opened"], c["closed"]) == (t.case.opened, t.case.closed)
        assert (c["retention"], c["archivist"]) == (t.case.retention, t.case.filed_by)


def test_a_catalog_spreadsheet_gives_the_same_cut(dossiers: list[LegacyDossier], tmp_path: Path) -> None:
    d = dossiers[0]
    xlsx = write_catalog_xlsx(d.truth, tmp_path / "目录.xlsx", variant=1).path
    csv = write_catalog_csv(d.truth, tmp_path / "目录.csv", variant=3, encoding="gb18030").path
    for sheet in (xlsx, csv):
        p = propose(d.pdf, sheet)
        assert p.catalog_from == "spreadsheet" and _bounds(p) == _truth_bounds(d.truth)
        assert p.pieces[0].date == d.truth.pieces[0].day.isoformat()


def test_bad_dossiers_are_refused_with_the_reason(dossiers: list[LegacyDossier], tmp_path: Path) -> None:
    d = dossiers[0]
    with pytest.raises(DossierError, match="找不到卷内目录"):
        propose(without_catalog(d, tmp_path / "无目录.pdf").pdf)
    with pytest.raises(DossierError, match="超出卷宗"):
        propose(pages_past_end(d, tmp_path / "超页.pdf").pdf)
    with pytest.raises(DossierError, match="重叠"):
        propose(overlapping_ranges(d, tmp_path / "重叠.pdf").pdf)
    with pytest.raises(DossierError, match="设有密码"):
        propose(encrypted(d, tmp_path / "加密.pdf").pdf)
