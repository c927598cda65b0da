"""The dossier's cover (卷宗封面) and catalog (卷内目录, DA/T 22-2015 columns) as a Chinese PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"  # a CID font every PDF reader has; no font file to ship
COLUMNS = ("件号", "责任者", "文号", "题名", "日期", "页数", "备注")


@dataclass(frozen=True)
class CatalogItem:
    """One 件 of the dossier."""

    piece_no: int
    responsible: str  # 责任者
    doc_no: str  # 文号
    title: str  # 题名
    day: date | None  # 日期
    pages: int  # 页数
    note: str  # 备注


@dataclass(frozen=True)
class Cover:
    """What the cover says."""

    case_no: str
    case_name: str
    parties: str
    kind: str
    opened: date | None
    ended: date | None
    filed: date
    retention: str
    archivist: str
    unit: str = "农安县应急管理局"


def _styles() -> tuple[ParagraphStyle, ParagraphStyle, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    title = ParagraphStyle("title", fontName=FONT, fontSize=22, leading=30, alignment=1)
    body = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=20)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=12)
    return title, body, cell


def _d(day: date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def render(cover: Cover, items: list[CatalogItem]) -> bytes:
    """Cover page, then the 卷内目录 table (repeated header on every page)."""
    title, body, cell = _styles()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=20 * mm,
        bottomMargin=18 * mm,
        title=f"{cover.case_no} 卷内目录",
        author=cover.unit,
        invariant=True,
    )
    facts = [
        ("立卷单位", cover.unit),
        ("案号", cover.case_no),
        ("案件名称", cover.case_name),
        ("当事人", cover.parties or "—"),
        ("执法类别", cover.kind),
        ("起止日期", f"{_d(cover.opened) or '—'} 至 {_d(cover.ended) or '—'}"),
        ("归档日期", _d(cover.filed)),
        ("件数", f"{len(items)} 件，共 {sum(i.pages for i in items)} 页"),
        ("保管期限", cover.retention),
        ("立卷人", cover.archivist),
    ]
    story: list[object] = [Spacer(1, 40 * mm), Paragraph("行政执法案卷", title), Spacer(1, 20 * mm)]
    cover_table = Table(
        [[Paragraph(k, body), Paragraph(v, body)] for k, v in facts], colWidths=[35 * mm, 120 * mm]
    )
    cover_table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.grey)]))
    story += [cover_table, PageBreak(), Paragraph("卷内目录", title), Spacer(1, 6 * mm)]
    rows = [[Paragraph(c, cell) for c in COLUMNS]]
    for i in items:
        values = (str(i.piece_no), i.responsible, i.doc_no, i.title, _d(i.day), str(i.pages), i.note)
        rows.append([Paragraph(v, cell) for v in values])
    widths = [12 * mm, 28 * mm, 30 * mm, 56 * mm, 18 * mm, 12 * mm, 18 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(table)
    doc.build(story)
    return out.getvalue()
