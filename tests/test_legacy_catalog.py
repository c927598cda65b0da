"""Reading a paper dossier's 卷内目录 and cutting the dossier by it: the catalog in its many
spellings, page ranges and dates in mixed forms, a row without 页号, rows that do not fit."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from archive.enums import EventKind, Retention, Stage
from pipelines.legacy.catalog import CatalogError, CatalogRow, page_range, parse_date, read_catalog_file
from pipelines.legacy.cover import read_cover
from pipelines.legacy.kinds import kind_of
from pipelines.legacy.split import SplitError, split_pages

ROWS = [
    ["1", "农应急立〔2019〕17号", "农安县应急管理局", "立案审批表", "2019.03.05", "1-2", ""],
    ["2", "", "农安县应急管理局", "现场检查记录", "2019年3月6日", "3～5", ""],
    ["3", "", "农安县应急管理局", "询问笔录（农安县某化工有限公司法定代表人张某）", "20190307", "6", ""],
    ["4", "农应急责改〔2019〕9号", "农安县应急管理局", "责令限期整改指令书", "2019-3-7", "", "无页号"],
    ["5", "农应急罚〔2019〕17号", "农安县应急管理局", "行政处罚决定书", "2019.04.02", "12—13", ""],
    ["6", "", "农安县应急管理局", "行政处罚决定书送达回证", "2019.04.03", "14", ""],
]


def _xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["卷内目录"])  # a title row above the header, as printed catalogs have
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_page_ranges_and_dates_in_their_mixed_forms() -> None:
    assert [page_range(v) for v in ("3-5", "3～5", "3—5", "3至5", " 6 ", "", None, 7.0, "１２－１３")] == [
        (3, 5), (3, 5), (3, 5), (3, 5), (6, None), (None, None), (None, None), (7, None), (12, 13),
    ]  # fmt: skip
    assert [page_range(v) for v in ("40-41.", "l2-I3", "1O")] == [(40, 41), (12, 13), (10, None)]  # scans
    for bad in ("三至五", "5-3", "p.3"):
        with pytest.raises(CatalogError):
            page_range(bad)
    assert {parse_date(v) for v in ("2019.03.05", "2019年3月5日", "20190305", "2019-3-5", "2019/03/05")} == {
        date(2019, 3, 5)
    }
    assert parse_date("无日期") is None and parse_date("2019.13.40") is None


@pytest.mark.parametrize(
    "header",
    [
        ["序号", "文号", "责任者", "题名", "日期", "页号", "备注"],
        ["件号", "文件编号", "责任单位", "文件题名", "成文日期", "起止页", "附注"],
        ["顺序号", "发文字号", "发文机关", "标 题", "时间", "页次", "说明"],
        ["顺序号", "文号", "责任部门", "文件题名", "形成时间", "所在页码", "附注"],
        ["序号", "文书编号", "形成单位", "题名", "成文时间", "起止页码", "备注"],
    ],
)
def test_a_spreadsheet_catalog_is_read_whatever_its_headers_are_called(
    tmp_path: Path, header: list[str]
) -> None:
    rows = read_catalog_file(_xlsx(tmp_path / "目录.xlsx", header, ROWS))
    assert [(r.seq, r.first_page, r.last_page) for r in rows] == [
        (1, 1, 2), (2, 3, 5), (3, 6, None), (4, None, None), (5, 12, 13), (6, 14, None),
    ]  # fmt: skip
    assert rows[0].doc_no == "农应急立〔2019〕17号" and rows[2].date == date(2019, 3, 7)
    assert [r.author for r in rows] == ["农安县应急管理局"] * 6  # every header names its column
    assert [r.date for r in rows][:2] == [date(2019, 3, 5), date(2019, 3, 6)]
    assert rows[3].note == "无页号" and rows[0].line == 3  # the spreadsheet's own row number


def test_a_csv_catalog_in_gb18030_is_read(tmp_path: Path) -> None:
    path = tmp_path / "目录.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["序号", "题名", "页号"])
        writer.writerows([[r[0], r[3], r[5]] for r in ROWS])
    assert [r.title for r in read_catalog_file(path)][-1] == "行政处罚决定书送达回证"


def test_a_bad_catalog_says_what_is_wrong(tmp_path: Path) -> None:
    no_title = _xlsx(tmp_path / "a.xlsx", ["序号", "页号"], [["1", "1"]])
    with pytest.raises(CatalogError, match="题名"):
        read_catalog_file(no_title)
    bad_pages = _xlsx(tmp_path / "b.xlsx", ["序号", "题名", "页号"], [["1", "立案审批表", "一"]])
    with pytest.raises(CatalogError, match="第 3 行：页号“一”无法识别"):
        read_catalog_file(bad_pages)
    (tmp_path / "c.xlsx").write_bytes(b"not a spreadsheet")
    with pytest.raises(CatalogError, match="无法读取"):
        read_catalog_file(tmp_path / "c.xlsx")
    with pytest.raises(CatalogError, match="不支持"):
        read_catalog_file(tmp_path / "d.pdf")


def _rows(*pages: tuple[int | None, int | None]) -> list[CatalogRow]:
    return [CatalogRow(n, f"文件{n}", first_page=a, last_page=b) for n, (a, b) in enumerate(pages, start=1)]


def test_the_dossier_is_cut_where_the_catalog_says() -> None:
    # cover + one catalog page, then 14 numbered pages and a 备考表
    split = split_pages(_rows((1, 2), (3, 5), (6, None), (12, 13), (14, 14)), 17, 2)
    assert [(p.first_index, p.last_index) for p in split.pieces] == [
        (2, 3),
        (4, 6),
        (7, 12),
        (13, 14),
        (15, 15),
    ]
    assert split.notes == ["最后一件之后还有 1 页（如卷内备考表）不属于任何一件"]
    # a last row with its start only runs to the last page
    assert split_pages(_rows((1, 2), (3, None)), 17, 2).pieces[-1].last_index == 16


def test_a_row_without_page_numbers_is_placed_by_its_neighbours_or_the_pages_headings() -> None:
    rows = _rows((1, 2), (3, None), (None, None), (8, None))
    guessed = split_pages(rows, 12, 2)
    assert [(p.first_index, p.last_index) for p in guessed.pieces] == [(2, 3), (4, 4), (5, 8), (9, 11)]
    assert "暂定从第 4 页开始（应在第 4-7 页之间）" in guessed.notes[0]
    seen: list[tuple[int, int]] = []

    def heading(row: CatalogRow, lo: int, hi: int) -> int:
        seen.append((lo, hi))
        return 6

    found = split_pages(rows, 12, 2, heading)
    assert seen == [(4, 7)] and "按页面上的题名认定从第 6 页开始" in found.notes[0]
    assert [(p.first_index, p.last_index) for p in found.pieces][1:3] == [(4, 6), (7, 8)]
    # after a row with its last page, the start is certain
    assert split_pages(_rows((1, 2), (None, None), (5, 6)), 9, 2).pieces[1].first_index == 4


def test_page_numbers_that_do_not_fit_the_dossier_are_refused() -> None:
    with pytest.raises(SplitError, match="超出卷宗的 10 页"):
        split_pages(_rows((1, 4), (5, 11)), 12, 2)
    with pytest.raises(SplitError, match="重叠"):
        split_pages(_rows((1, 5), (4, 6)), 12, 2)
    with pytest.raises(SplitError, match="顺序颠倒"):
        split_pages(_rows((1, None), (6, None), (3, None)), 12, 2)
    with pytest.raises(SplitError, match="没有文件页"):
        split_pages(_rows((1, None)), 2, 2)


def test_the_kind_and_stage_of_a_piece_come_from_its_title() -> None:
    def of(title: str) -> tuple[str, Stage, EventKind | None] | None:
        k = kind_of(title)
        return (k.document_type, k.stage, k.activity) if k else None

    assert of("立案审批表") == ("立案审批表", Stage.START, EventKind.STARTED)
    assert of("关于对某超市消防器材配备不足立案调查的审批表") == (
        "立案审批表",
        Stage.START,
        EventKind.STARTED,
    )
    assert of("询问笔录（张某）") == ("询问笔录", Stage.INVESTIGATION, EventKind.QUESTION_PARTY)
    assert of("现场检查笔录") == ("现场检查记录", Stage.INVESTIGATION, EventKind.INSPECTION)
    assert of("行政处罚决定书") == ("行政处罚决定书", Stage.DECISION, EventKind.DECISION)
    assert of("行政处罚决定书送达回证") == ("送达回证", Stage.SERVICE, EventKind.SERVE_DIRECT)
    assert of("强制执行决定书") == ("强制执行文书", Stage.SERVICE, EventKind.FORCED_EXECUTION)
    assert of("结案审批表") == ("结案审批表", Stage.SERVICE, EventKind.ENFORCEMENT_ENDED)
    assert of("情况说明") is None


def test_the_cover_facts_are_read_from_its_text() -> None:
    text = """农安县应急管理局
    行 政 处 罚 案 卷
    案由：农安县某化工有限公司未按规定配备消防设施案
    案号 农应急罚 〔2019〕 17 号
    当事人：农安县某化工有限公司
    立案日期 2019年3月5日 结案日期 2019.06.20
    保管期限：永久   立卷人：王 秀芝"""
    facts = read_cover(text)
    assert facts.case_no == "农应急罚〔2019〕17号"
    assert (
        facts.name == "农安县某化工有限公司未按规定配备消防设施案" and facts.party == "农安县某化工有限公司"
    )
    assert (facts.opened, facts.closed) == (date(2019, 3, 5), date(2019, 6, 20))
    assert (facts.retention, facts.archivist) == (Retention.PERMANENT, "王秀芝")
    assert read_cover("保管期限 长期").retention is Retention.YEARS_30
    assert read_cover("无关文字") == type(facts)()
