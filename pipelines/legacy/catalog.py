"""A 卷内目录 (the catalog of a paper dossier, DA/T 22) as rows: from a spreadsheet or CSV whose
headers are named the many ways bureaus name them, or from the text read off a scanned table.

A row's 页号 says where its 件 starts in the dossier ("3-5", "3～5", "3—5", "3至5", a single start
page "6", or nothing); its 日期 is written as 2019.03.05, 2019年3月5日, 2019-3-5 or 20190305.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

# Column → the header names it goes by (compared after removing spaces and full-width forms).
COLUMNS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "件号", "顺序号", "编号"),
    "doc_no": ("文号", "文件编号", "发文字号", "文书编号"),
    "author": (
        "责任者",
        "责任单位",
        "发文机关",
        "责任人",
        "制作人",
        "责任部门",
        "责任机关",
        "形成单位",
        "发文单位",
    ),
    "title": ("题名", "文件题名", "标题", "文件名称", "题名及内容"),
    "date": ("日期", "成文日期", "时间", "形成日期", "文件日期", "形成时间", "成文时间", "发文日期"),
    "pages": ("页号", "页次", "起止页", "起止页号", "页码", "所在页", "页数"),
    "note": ("备注", "附注", "说明"),
}
REQUIRED = ("title",)

_LOOKALIKES = str.maketrans({"l": "1", "I": "1", "|": "1", "O": "0", "o": "0"})
_RANGE = re.compile(r"^\s*(\d{1,4})\s*(?:[-–—－~～至到]+\s*(\d{1,4}))?\s*$")
_DATES = (
    re.compile(r"(\d{4})\s*[年.\-/／]\s*(\d{1,2})\s*[月.\-/／]\s*(\d{1,2})\s*日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


class CatalogError(ValueError):
    """The catalog cannot be read; the message says which row or column and why (Chinese)."""


@dataclass(frozen=True)
class CatalogRow:
    """One 件 as its catalog row lists it; ``first_page``/``last_page`` are printed 页号 (None
    when the row does not say)."""

    seq: int
    title: str
    doc_no: str = ""
    author: str = ""
    date: date | None = None
    first_page: int | None = None
    last_page: int | None = None
    note: str = ""
    line: int = 0  # where it was read (spreadsheet row, or table row on the scan)


_YEAR_BRACKETS = re.compile(r"[〔\[［(（【]\s*((?:19|20)\d{2})\s*[〕\]］)）】]")


def doc_number(text: str) -> str:
    """A 文号 as written (机关代字〔年份〕序号号): the year's brackets as 〔〕 whatever OCR or the
    typist made of them, no spaces."""
    return _YEAR_BRACKETS.sub(r"〔\1〕", re.sub(r"[\s\u3000]+", "", text or ""))


def _norm(text: str) -> str:
    text = re.sub(r"\s+", "", text or "")
    return text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})


def page_range(text: str | int | float | None) -> tuple[int | None, int | None]:
    """(first, last) printed page of a 页号 cell; last is None for a single start page; (None,
    None) for an empty cell; CatalogError for anything else."""
    if text is None:
        return None, None
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    # a scanned cell: specks read as stops, 1 read as l or I, 0 as O
    value = _norm(str(text)).strip(".,。，、·'\"`:：;；").translate(_LOOKALIKES)
    if not value:
        return None, None
    m = _RANGE.match(value)
    if not m:
        raise CatalogError(f"页号“{text}”无法识别（应为如 3-5、3～5 或 6 的页码）")
    first, last = int(m.group(1)), int(m.group(2)) if m.group(2) else None
    if last is not None and last < first:
        raise CatalogError(f"页号“{text}”的止页小于起页")
    return first, last


def parse_date(text: str | date | datetime | None) -> date | None:
    """The date of a 日期 cell (None when empty or unreadable: a catalog date is informative)."""
    if isinstance(text, datetime):  # a date cell of a spreadsheet
        return text.date()
    if text is None or isinstance(text, date):
        return text
    value = _norm(str(text))
    for pattern in _DATES:
        m = pattern.search(value)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def column_of(header: str) -> str | None:
    name = _norm(header)
    for column, names in COLUMNS.items():
        if name in names:
            return column
    for column, names in COLUMNS.items():  # "题名（内容）", "页号（起止）" …
        if any(name.startswith(n) for n in names):
            return column
    return None


def _header(table: list[list[object]]) -> tuple[int, list[str | None]]:
    """The header row (the first naming a 题名 column) and the column of each of its cells."""
    for at, header in enumerate(table):
        columns = [column_of(str(cell or "")) for cell in header]
        if "title" in columns:
            return at, columns
    raise CatalogError("目录表中找不到表头（至少要有“题名”一列）")


def rows_from_table(table: list[list[object]], *, first_line: int = 1) -> list[CatalogRow]:
    """Catalog rows from a table whose first row holding a 题名 column is its header."""
    at, columns = _header(table)
    out: list[CatalogRow] = []
    for offset, cells in enumerate(table[at + 1 :], start=at + 1):
        values = {c: cells[i] for i, c in enumerate(columns) if c and i < len(cells)}
        if not any(str(v or "").strip() for v in values.values()):
            continue
        if sum(column_of(str(c or "")) is not None for c in cells) >= 3:
            continue  # the header again, at the top of a continuation page
        line = first_line + offset
        # typed catalogs use full-width brackets; OCR sometimes reads them half-width
        title = re.sub(r"\s+", "", str(values.get("title") or "")).replace("(", "（").replace(")", "）")
        if not title:
            raise CatalogError(f"目录第 {line} 行没有题名")
        try:
            first, last = page_range(values.get("pages"))  # type: ignore[arg-type]
        except CatalogError as exc:
            raise CatalogError(f"目录第 {line} 行：{exc}") from None
        seq_text = _norm(str(values.get("seq") or ""))
        seq = int(float(seq_text)) if re.fullmatch(r"\d+(\.0)?", seq_text) else len(out) + 1
        out.append(
            CatalogRow(
                seq=seq,
                title=title,
                doc_no=doc_number(_norm(str(values.get("doc_no") or ""))),
                author=str(values.get("author") or "").strip(),
                date=parse_date(values.get("date")),  # type: ignore[arg-type]
                first_page=first,
                last_page=last,
                note=str(values.get("note") or "").strip(),
                line=line,
            )
        )
    if not out:
        raise CatalogError("目录表中没有任何条目")
    return out


def read_catalog_file(path: Path) -> list[CatalogRow]:
    """The rows of a catalog spreadsheet (XLSX) or CSV (UTF-8 with or without BOM, or GB18030)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # a damaged or mislabelled file: say so
            raise CatalogError(f"无法读取目录表格 {path.name}：{type(exc).__name__}") from None
        sheet = book.worksheets[0]
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
        book.close()
        return rows_from_table(table)
    if suffix in (".csv", ".txt"):
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise CatalogError(f"目录文件 {path.name} 的编码无法识别（请存为 UTF-8 或 GB18030）")
        return rows_from_table([list(r) for r in csv.reader(io.StringIO(text))])
    raise CatalogError(f"不支持的目录文件类型：{path.name}（请用 XLSX 或 CSV）")


def renumbered(rows: list[CatalogRow]) -> list[CatalogRow]:
    """Rows in catalog order, numbered 1…n as filed (件号)."""
    return [replace(r, seq=n) for n, r in enumerate(rows, start=1)]
