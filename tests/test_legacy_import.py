"""Importing a closed paper dossier end to end: `archive import-dossier` with and without a catalog
spreadsheet, what it makes (a filed legacy case, one record per 件 cut from the kept scan, search
opening the right page of the right 件, findings shown as history), and bad dossiers refused with
nothing imported. The web review flow is in tests/test_legacy_web.py."""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from archive.audit import SYSTEM
from archive.db import session_scope
from archive.enums import CaseOrigin, CaseStatus, EnforcementKind, ProcessingStatus, Retention, Stage
from archive.models import AuditEvent, Case, CaseEvent, Dossier, DossierImport, EventKind, Record, StoredFile
from archive.storage import hash_file
from archive.timeutil import to_local
from pipelines.context import Services
from pipelines.legacy.catalog import CatalogRow
from pipelines.legacy.files import FolderError, match
from pipelines.legacy.plan import Plan, PlannedPiece, problems
from pipelines.legacy.source import SourceError, as_pdf, cut
from search_api.services import ServiceError, legacy
from tests.conftest import run_cli
from tests.support.documents import docx_with_table, photo_with_exif, write_text_pdf
from tests.support.legacy_dossier import (
    LegacyDossier,
    encrypted,
    make_dossier,
    overlapping_ranges,
    pages_past_end,
    without_catalog,
    write_catalog_xlsx,
)
from ui.cli_common import OPERATOR

# --- the plan's checks and the scan's forms (fast) -------------------------------------------


def _plan(**changes: Any) -> Plan:
    pieces = [
        PlannedPiece(seq=1, title="立案审批表", first_index=2, last_index=3),
        PlannedPiece(seq=2, title="询问笔录", first_index=4, last_index=6),
    ]
    base = dict(
        page_count=7,
        case_no="农安监罚〔2019〕3号",
        name="某公司未按规定培训案",
        party="某公司",
        opened=date(2019, 3, 1),
        closed=date(2019, 4, 1),
        retention=Retention.YEARS_30,
        archivist="王芳",
        kind=EnforcementKind.PENALTY,
        origin=CaseOrigin.EX_OFFICIO,
        pieces=pieces,
        cover_page=0,
        catalog_pages=[1],
    )
    return Plan(**(base | changes))  # type: ignore[arg-type]


def test_a_complete_plan_has_no_problems_and_each_flaw_is_named() -> None:
    assert problems(_plan()) == []
    two = _plan().pieces
    cases = {
        "案号": _plan(case_no=""),
        "案件名称": _plan(name=""),
        "立案日期": _plan(opened=None),
        "早于立案日期": _plan(closed=date(2019, 2, 1)),
        "保管期限": _plan(retention=None),
        "立卷人": _plan(archivist=""),
        "至少要有一件": _plan(pieces=[]),
        "不在扫描件的 1–7 页之内": _plan(pieces=[two[0], PlannedPiece(2, "询问笔录", 4, 7)]),
        "重叠或次序颠倒": _plan(pieces=[two[0], PlannedPiece(2, "询问笔录", 3, 6)]),
        "卷内目录页": _plan(pieces=[PlannedPiece(1, "立案审批表", 1, 3), two[1]]),
        "没有题名": _plan(pieces=[two[0], PlannedPiece(2, " ", 4, 6)]),
    }
    for words, plan in cases.items():
        found = problems(plan)
        assert len(found) == 1 and words in found[0], (words, found)


def test_a_scan_comes_as_pdf_tiff_or_a_folder_of_page_images(tmp_path: Path) -> None:
    pages = [Image.new("L", (827, 1169), 255 - 40 * i) for i in range(3)]  # A4 at 100 dpi
    tiff = tmp_path / "卷.tif"
    pages[0].save(tiff, save_all=True, append_images=pages[1:], dpi=(100, 100))
    folder = tmp_path / "pages"
    folder.mkdir()
    for i, page in enumerate(pages, start=1):
        page.save(folder / f"{i}.png", dpi=(100, 100))
    page_10 = folder / "10.png"  # name order is as people number pages: 2 before 10
    Image.new("L", (827, 1169), 0).save(page_10, dpi=(100, 100))
    for source, count in ((tiff, 3), (folder, 4)):
        work = tmp_path / f"work-{source.name}"
        work.mkdir()
        pdf = pdfium.PdfDocument(str(as_pdf(source, work)))
        assert len(pdf) == count
        assert round(pdf[0].get_width() / 72 * 25.4) == 210  # A4 stays A4 on paper
        last = pdf[count - 1].render(scale=0.1).to_pil().convert("L")
        assert last.getpixel((5, 5)) < 30 if source is folder else last.getpixel((5, 5)) > 100
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    for bad, words in ((empty, "空文件"), (tmp_path / "none.pdf", "找不到")):
        with pytest.raises(SourceError, match=words):
            as_pdf(bad, tmp_path)
    text = tmp_path / "说明.txt"
    text.write_text("不是扫描件", encoding="utf-8")
    with pytest.raises(SourceError, match="不是扫描卷宗"):
        as_pdf(text, tmp_path)


# --- the whole import (slow: every 件 is OCR'd) ----------------------------------------------


@pytest.fixture(scope="module")
def dossier(tmp_path_factory: pytest.TempPathFactory) -> LegacyDossier:
    return make_dossier(tmp_path_factory.mktemp("legacy"), 5, pages=30, tiff=True)


def _own_phrases(d: LegacyDossier, index: int, length: int = 14) -> list[str]:
    """Phrases typed on page ``index`` that no other page holds (what a search must find there)."""
    others = "".join(line for i in range(d.truth.page_count) if i != index for line in d.printed_lines(i))
    return [
        line[:length]
        for line in d.printed_lines(index)
        if len(re.findall(r"[\u4e00-\u9fff]", line[:length])) >= 10 and line[:length] not in others
    ]


@pytest.mark.slow
def test_a_dossier_with_its_spreadsheet_becomes_a_filed_legacy_case(
    dossier: LegacyDossier, tmp_path: Path
) -> None:
    t = dossier.truth
    sheet = tmp_path / "卷内目录.xlsx"
    write_catalog_xlsx(t, sheet, variant=4)  # 责任部门, 文件日期 as date cells, columns reordered
    data = tmp_path / "var"
    done = run_cli(["import-dossier", str(dossier.pdf), "--catalog", str(sheet), "--json"], data)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["case_no"] == t.case.case_no and result["pieces"] == len(t.pieces)
    assert result["retention"] == t.case.retention and result["archivist"] == t.case.filed_by

    engine = create_engine(f"sqlite:///{data / 'archive.db'}")
    scan_sha, _ = hash_file(dossier.pdf)
    with Session(engine) as s:
        case = s.scalars(select(Case)).one()
        assert case.legacy and case.status is CaseStatus.ARCHIVED
        assert to_local(case.opened_at).date() == t.case.opened  # the historical dates, not today
        assert to_local(case.enforcement_ended_at).date() == t.case.closed
        assert [p.name for p in case.parties] == [t.case.party]
        kinds = {e.kind for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))}
        assert {EventKind.STARTED, EventKind.ENFORCEMENT_ENDED, EventKind.FILED} <= kinds
        records = list(s.scalars(select(Record).where(Record.case_id == case.id).order_by(Record.piece_no)))
        assert [r.piece_no for r in records] == list(range(1, len(t.pieces) + 1))  # the catalog's order
        for r, p in zip(records, t.pieces, strict=True):
            assert (r.title, r.doc_no or "", r.made_by) == (p.title, p.doc_no, p.responsible)
            assert to_local(r.made_at).date() == p.day
            assert r.stage == Stage(p.stage) and r.document_type == p.doc_type
            assert r.page_count == p.page_count and r.status is ProcessingStatus.PROCESSED
            assert f"第 {p.first_page + 1}" in (r.made_how or "")
            scan = s.scalar(select(StoredFile).where(StoredFile.record_id == r.id, StoredFile.kind == "scan"))
            assert scan is not None and scan.sha256 == scan_sha  # the whole scan, unaltered, beside each
        dossier_row = s.scalars(select(Dossier)).one()
        assert dossier_row.source_sha256 == scan_sha and dossier_row.pieces == len(t.pieces)
        assert s.scalar(select(func.count()).select_from(DossierImport)) == 1
        steps = [(e.event_type, e.detail.get("step"), e.object) for e in s.scalars(select(AuditEvent))]
        assert [x for x in steps if x[0] in ("dossier_import", "dossier_file")] == [
            ("dossier_import", "upload", "import:1"),
            ("dossier_import", "confirm", f"case:{t.case.case_no}"),
            ("dossier_file", None, f"case:{t.case.case_no}"),
        ]  # one event per action, the confirm and the filing in the case's own trail

    # each 件's PDF holds exactly its pages, as scanned
    store = data / "objects"
    source = pdfium.PdfDocument(str(dossier.pdf))
    for r, p in zip(records, t.pieces, strict=True):
        piece_pdf = pdfium.PdfDocument(str(next(store.rglob(r.sha256))))
        assert len(piece_pdf) == p.page_count
        first = piece_pdf[0].render(scale=0.2).to_pil().convert("L").tobytes()
        assert first == source[p.first_page].render(scale=0.2).to_pil().convert("L").tobytes()
        piece_pdf.close()
    source.close()

    # search opens the right page of the right 件
    multi = [p for p in t.pieces if p.page_count >= 3]
    assert multi
    target = multi[0]
    phrases = _own_phrases(dossier, target.last_page)
    assert phrases, "the generated page should carry phrases of its own"
    found = []
    for phrase in phrases:
        out = run_cli(["search", f'"{phrase}"', "--json", "--limit", "3"], data)
        assert out.returncode == 0, out.stderr
        hits = json.loads(out.stdout)["hits"]
        if hits:
            found.append((hits[0]["title"], hits[0]["page"]))
    assert found, f"none of {phrases} was found"
    assert set(found) == {(target.title, target.page_count)}, found

    # findings are history: reported, not breaches
    check = run_cli(["check", "--case", t.case.case_no, "--json"], data)
    assert check.returncode == 0, check.stderr
    (case_findings,) = json.loads(check.stdout)
    assert case_findings["legacy"] is True and case_findings["findings"]
    assert {f["historical"] for f in case_findings["findings"]} == {True}

    # the BagIt export carries the scan; fixity covers it
    bag = tmp_path / "bag"
    assert run_cli(["dossier", "export", t.case.case_no, str(bag)], data).returncode == 0
    kept = list((bag / "data" / "卷宗扫描件").iterdir())
    assert len(kept) == 1 and hash_file(kept[0])[0] == scan_sha
    assert run_cli(["dossier", "verify", str(bag)], data).returncode == 0
    assert run_cli(["fixity"], data).returncode == 0


@pytest.mark.slow
def test_dry_run_prints_the_proposal_and_keeps_nothing(dossier: LegacyDossier, tmp_path: Path) -> None:
    data = tmp_path / "var"
    done = run_cli(["import-dossier", str(dossier.pdf), "--dry-run", "--json"], data)
    assert done.returncode == 0, done.stderr
    proposal = json.loads(done.stdout)
    t = dossier.truth
    assert proposal["catalog_from"] == "scan"
    assert [(p["first_index"], p["last_index"]) for p in proposal["pieces"]] == [
        (p.first_page, p.last_page) for p in t.pieces
    ]
    assert proposal["cover"]["case_no"] == t.case.case_no
    assert dossier.tiff is not None  # the same dossier scanned to a multi-page TIFF splits the same
    from_tiff = run_cli(["import-dossier", str(dossier.tiff), "--dry-run", "--json"], data)
    assert from_tiff.returncode == 0, from_tiff.stderr
    tiff_pieces = json.loads(from_tiff.stdout)["pieces"]
    assert [(p["first_index"], p["last_index"]) for p in tiff_pieces] == [
        (p["first_index"], p["last_index"]) for p in proposal["pieces"]
    ]
    db = data / "archive.db"
    assert not db.exists() and not (data / "objects").exists()  # nothing stored, nothing registered

    # an edited proposal is what gets imported: a boundary moved, a title corrected
    edited = dict(proposal)
    pieces = [dict(p) for p in proposal["pieces"]]
    pieces[0]["title"] = pieces[0]["title"] + "（复印件）"
    pieces[1]["last_index"] -= 1
    pieces[2]["first_index"] -= 1
    edited["pieces"] = pieces
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    # the same plan with two pieces overlapping is refused and nothing is registered
    bad = dict(edited, pieces=[dict(p) for p in pieces])
    bad["pieces"][1]["last_index"] += 3
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    refused = run_cli(["import-dossier", str(dossier.pdf), "--proposal", str(bad_file)], data)
    assert refused.returncode == 1 and "重叠" in refused.stderr, refused.stderr
    with Session(create_engine(f"sqlite:///{db}")) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(Record)) == 0
        row = s.scalars(select(DossierImport)).one()
        assert row.status == "ready"  # kept for review in the web, not half-imported


def _refused(path: Path, data: Path) -> subprocess.CompletedProcess[str]:
    done = run_cli(["import-dossier", str(path)], data)
    assert done.returncode == 1, done.stderr
    with Session(create_engine(f"sqlite:///{data / 'archive.db'}")) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(Record)) == 0
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 0
    return done


@pytest.mark.slow
def test_bad_dossiers_are_refused_with_the_reason_and_nothing_imported(
    dossier: LegacyDossier, tmp_path: Path
) -> None:
    data = tmp_path / "var"
    cases = [
        (encrypted(dossier, tmp_path / "加密.pdf"), "密码"),
        (without_catalog(dossier, tmp_path / "无目录.pdf"), "找不到卷内目录"),
        (pages_past_end(dossier, tmp_path / "超出.pdf"), "超出卷宗"),
        (overlapping_ranges(dossier, tmp_path / "重叠.pdf"), "页号重叠"),
    ]
    for variant, words in cases:
        done = _refused(variant.pdf, data)
        assert words in done.stderr, (variant.pdf.name, done.stderr)
    # each upload is kept and shown as refused (its reason on the 导入卷宗 page)
    with Session(create_engine(f"sqlite:///{data / 'archive.db'}")) as s:
        statuses = [r.status for r in s.scalars(select(DossierImport).order_by(DossierImport.id))]
    assert statuses == ["refused"] * 4


# --- a folder of files, one per 件 -------------------------------------------------------------


def _rows(n: int) -> list[CatalogRow]:
    return [CatalogRow(seq=i, title=f"第{i}件文书") for i in range(1, n + 1)]


def test_a_folders_files_are_matched_to_the_catalog_by_their_numbers_else_by_order(tmp_path: Path) -> None:
    numbered = [tmp_path / n for n in ("第3件 送达回证.jpg", "01-立案审批表.pdf", "2 询问笔录.docx")]
    result = match(_rows(3), sorted(numbered, key=lambda p: p.name))
    assert [(r.seq, f.name) for r, f in result.pairs] == [
        (1, "01-立案审批表.pdf"),
        (2, "2 询问笔录.docx"),
        (3, "第3件 送达回证.jpg"),
    ]
    assert result.notes == []
    plain = [tmp_path / n for n in ("a.pdf", "b.pdf")]
    by_order = match(_rows(2), plain)
    assert [f.name for _, f in by_order.pairs] == ["a.pdf", "b.pdf"] and "顺序" in by_order.notes[0]
    with pytest.raises(FolderError, match="第 3 件“第3件文书”没有对应的文件"):
        match(_rows(3), numbered[1:])
    with pytest.raises(FolderError, match="3 个文件，卷内目录有 2 行"):
        match(_rows(2), [*plain, tmp_path / "c.pdf"])
    with pytest.raises(FolderError, match="序号都是 1"):
        match(_rows(2), [tmp_path / "1-a.pdf", tmp_path / "01-b.pdf"])


def _catalog_sheet(path: Path, rows: list[tuple[int, str, str, str, str, str]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["序号", "文号", "责任者", "题名", "日期", "页次"])
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


@pytest.mark.slow
def test_a_folder_of_files_with_its_catalog_becomes_a_legacy_case(
    dossier: LegacyDossier, tmp_path: Path
) -> None:
    folder = tmp_path / "卷宗文件夹"
    folder.mkdir()
    t = dossier.truth
    first = t.pieces[0]  # its pages, cut from the scan, as the bureau's own PDF of it
    cut(dossier.pdf, [(first.first_page, first.last_page)], tmp_path)[0].rename(folder / "01 立案审批表.pdf")
    docx_with_table(folder / "02 询问笔录.docx")
    photo_with_exif(folder / "03 现场照片.jpg")
    _catalog_sheet(
        folder / "卷内目录.xlsx",
        [
            (1, first.doc_no, first.responsible, first.title, first.catalog_date, "1-2"),
            (2, "", "周晓梅", "对张某的询问笔录", "2019.07.10", "3"),
            (3, "", "周晓梅", "现场检查照片", "2019.07.10", "4"),
        ],
    )
    data = tmp_path / "var"
    flags = ["--case", "农安应急罚〔2019〕88号", "--name", "某公司未开展安全培训案", "--retention", "10年"]
    done = run_cli(["import-dossier", str(folder), *flags, "--archivist", "王芳", "--json"], data)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["pieces"] == 3 and result["retention"] == "10年"
    with Session(create_engine(f"sqlite:///{data / 'archive.db'}")) as s:
        case = s.scalars(select(Case)).one()
        assert case.legacy and case.name == "某公司未开展安全培训案"
        assert (to_local(case.opened_at).date(), to_local(case.enforcement_ended_at).date()) == (
            first.day,
            date(2019, 7, 10),
        )  # no cover: the earliest and latest dates of the 件
        records = list(s.scalars(select(Record).order_by(Record.piece_no)))
        assert [r.original_name for r in records] == [
            "01 立案审批表.pdf",
            "02 询问笔录.docx",
            "03 现场照片.jpg",
        ]
        assert [r.sha256 for r in records] == [hash_file(folder / r.original_name)[0] for r in records]
        assert [r.stage for r in records] == [Stage.START, Stage.INVESTIGATION, Stage.INVESTIGATION]
        assert records[0].page_count == first.page_count and records[1].made_by == "周晓梅"
        assert {r.status for r in records} == {ProcessingStatus.PROCESSED}
        no_scan = s.scalar(select(func.count()).select_from(StoredFile).where(StoredFile.kind == "scan"))
        assert no_scan == 0  # each file is its own original: there is no scan to keep
    out = run_cli(["search", '"可燃气体报警装置"', "--json"], data)
    assert [h["title"] for h in json.loads(out.stdout)["hits"]][:1] == ["对张某的询问笔录"]


def _text_folder(folder: Path) -> Path:
    """Two typed (text-layer) 件 and their catalog: read without OCR, so the test is quick."""
    folder.mkdir()
    write_text_pdf(folder / "01 立案审批表.pdf", ["立案审批表 经审查，拟对某公司立案调查。"])
    write_text_pdf(folder / "02 结案审批表.pdf", ["结案审批表 罚款已缴纳，建议结案。", "第二页 承办人意见"])
    return _catalog_sheet(
        folder / "目录.xlsx",
        [
            (1, "农应急立〔2019〕5号", "农安县应急管理局", "关于对某公司立案调查的审批表", "2019.03.01", "1"),
            (2, "", "农安县应急管理局", "某公司案结案审批表", "2019.04.20", "2-3"),
        ],
    )


def test_a_confirmed_import_stopped_midway_is_finished_after_a_restart(svc: Services, tmp_path: Path) -> None:
    from pipelines.background import Background
    from ui.web_legacy import resume

    catalog = _text_folder(tmp_path / "文件夹")
    import_id = legacy.upload(svc, OPERATOR, catalog.parent, name="文件夹")
    assert legacy.propose_now(svc, import_id).status == "ready"
    cover = {"case_no": "农应急罚〔2019〕5号", "name": "某公司案", "retention": "30年", "archivist": "王芳"}
    row = legacy.get(svc, OPERATOR, import_id)
    assert row.proposal is not None
    assert (
        legacy.review(svc, OPERATOR, import_id, row.proposal | {"cover": row.proposal["cover"] | cover}) == []
    )
    confirmed = legacy.confirm(svc, OPERATOR, import_id)
    with pytest.raises(ServiceError, match="不能确认导入"):  # a second confirm registers nothing more
        legacy.confirm(svc, OPERATOR, import_id)
    # the server stopped here, after registering and before reading: the row even lost its 案号
    with session_scope(svc.engine) as s:
        s.get(DossierImport, import_id).case_no = None  # type: ignore[union-attr]
    bg = Background(svc)
    resume(svc, bg, SYSTEM)  # what `archive serve` does at start
    for _ in range(300):
        if legacy.get(svc, OPERATOR, import_id).status == "filed":
            break
        time.sleep(0.2)
    row = legacy.get(svc, OPERATOR, import_id)
    assert (row.status, row.case_no) == ("filed", confirmed.case_no)
    with session_scope(svc.engine) as s:
        case = s.scalars(select(Case)).one()
        assert case.status is CaseStatus.ARCHIVED and case.archivist == "王芳"
        assert s.scalar(select(func.count()).select_from(Record)) == 2  # no duplicates
        assert s.scalar(select(Dossier.filed_by)) == SYSTEM.shown_name  # finished by the server itself
