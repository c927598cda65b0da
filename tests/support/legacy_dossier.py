"""Scanned paper dossiers (卷宗) of closed cases, with their ground truth, for the import of legacy files.

A dossier made here is what a county bureau's archive room hands over after scanning a bound,
closed 行政处罚 case file: one image-only PDF (optionally a multi-page TIFF too) of

1. the cover (卷宗封面): 全宗号/目录号/案卷号 boxes, the bureau, 案卷题名 (案由), 案号, 当事人, 立案日期,
   结案日期, 保管期限, 立卷人, "本卷共 N 件 M 页";
2. the 卷内目录 (DA/T 22 columns 序号, 文号, 责任者, 题名, 日期, 页号, 备注) on one or two pre-ruled form
   pages, long 题名 wrapped inside their cell, 页号 written "3-5", "3～5", "3—5" or only the start page
   "6", exactly one row with 页号 left blank, dates written 2019.03.05, 2019年3月5日 or 20190305;
3. the documents (件) in order, 1–6 pages each, typed in their usual layouts (审批表 forms, 笔录 with
   问/答 and a signature at the foot of every page, 文书 with the bureau's red round seal over the
   date, a bank's 转讫 stamp on the receipt, photo sheets), handwritten-looking signatures and notes.

Every page is drawn at ``dpi`` (150–200) and then scanned: greyish paper, uneven light, a skew of up to
±1.5°, a small shift, binding holes on some dossiers, sensor noise and dust, a slight blur on some
pages, and JPEG at quality 40–70; the JPEG bytes go into the PDF untouched (no text layer).

Page convention (also in :data:`PAGE_CONVENTION` and in every ground-truth JSON):

* ``first_page`` / ``last_page`` / ``catalog_pages`` / ``cover_page`` are **0-based PDF page indexes**.
* 页号 (``first_page_no`` / ``last_page_no``) are the numbers **printed on the paper**: as DA/T 22 has
  it, the cover and the 卷内目录 carry no 页号; the first page of the first 件 is 页号 1, stamped in the
  upper right corner of every document page. The cover is index 0 and the catalog pages follow
  it, so ``pdf index = 页号 + page_offset`` with ``page_offset = len(catalog_pages)`` (0 when the
  catalog pages are missing).
* The 卷内目录's 页号 column refers to these printed numbers. Some documents also print their own
  "第 x 页 共 y 页" at the foot: that is the page within the document, not the 页号.

Everything is decided by ``seed``: the same seed gives the same PDF bytes.

Bad inputs for the importer: :func:`without_catalog`, :func:`pages_past_end`,
:func:`overlapping_ranges`, :func:`encrypted` (reportlab's RC4 128-bit standard security handler:
neither pikepdf nor pyaes is installed, so AES is not available). Spreadsheets of the same catalog:
:func:`write_catalog_xlsx`, :func:`write_catalog_csv`, with header names that vary between calls.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import random
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from archive.enums import Stage
from pipelines.redaction import cjk_font_path
from pipelines.samples import COMPANIES, FINDINGS, GIVEN, OFFICERS, ROADS, SURNAMES, TOWNS

PAGE_CONVENTION = (
    "first_page/last_page/catalog_pages/cover_page are 0-based PDF page indexes; 页号 "
    "(first_page_no/last_page_no and the 卷内目录's 页号 column) are the numbers stamped on the paper: "
    "the cover and the 卷内目录 are not numbered, the first page of the first 件 is 页号 1, so "
    "pdf index = 页号 + page_offset (page_offset = number of catalog pages; the cover is index 0)"
)

PAGE_W, PAGE_H = 210.0, 297.0  # mm, A4
INK = (24, 24, 28)
PEN = (28, 38, 98)  # blue-black ballpoint
RED = (222, 30, 38)
MM_PER_PT = 25.4 / 72

SONG, HEI, SANS, SERIF_BOLD, MONO = "song", "hei", "sans", "serif_bold", "mono"
_FACES = {
    SONG: ("NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    HEI: ("NotoSansCJK-Bold.ttc", "Noto Sans CJK SC"),
    SANS: ("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    SERIF_BOLD: ("NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC"),
    MONO: ("DejaVuSansMono-Bold.ttf", "DejaVu Sans Mono"),
}

COUNTIES = [("农安县", "农"), ("德惠市", "德"), ("榆树市", "榆"), ("九台区", "九"), ("双阳区", "双")]
BANKS = ["中国农业银行", "中国工商银行", "中国建设银行", "吉林农村商业银行"]
RETENTIONS = ["永久", "30年", "10年"]
RETENTION_CODE = {"永久": "Y", "30年": "D30", "10年": "D10"}  # in the 档号
UPPER_WAN = {1: "壹万元整", 2: "贰万元整", 3: "叁万元整", 5: "伍万元整", 8: "捌万元整"}
# the finding → (the rule broken, the rule that punishes it)
BASIS = {
    FINDINGS[0]: (
        "《危险化学品安全管理条例》第二十条第一款",
        "《危险化学品安全管理条例》第八十条第一款第（二）项",
    ),
    FINDINGS[1]: (
        "《中华人民共和国安全生产法》第二十七条第一款",
        "《中华人民共和国安全生产法》第九十四条第（七）项",
    ),
    FINDINGS[2]: ("《中华人民共和国安全生产法》第三十九条第二款", "《中华人民共和国安全生产法》第一百零二条"),
    FINDINGS[3]: (
        "《中华人民共和国安全生产法》第二十五条第一款",
        "《中华人民共和国安全生产法》第九十四条第（三）项",
    ),
    FINDINGS[4]: (
        "《中华人民共和国安全生产法》第三十八条第一款",
        "《中华人民共和国安全生产法》第九十八条第（五）项",
    ),
    FINDINGS[5]: (
        "《生产安全事故应急预案管理办法》第三十三条",
        "《生产安全事故应急预案管理办法》第四十五条第一款",
    ),
    FINDINGS[6]: (
        "《中华人民共和国安全生产法》第三十三条第二款",
        "《中华人民共和国安全生产法》第九十六条第（三）项",
    ),
    FINDINGS[7]: (
        "《中华人民共和国消防法》第十六条第一款",
        "《中华人民共和国安全生产法》第九十六条第（二）项",
    ),
}
WEEKDAY_FREE = (5, 6)


# ----------------------------------------------------------------------------------------------
# ground truth


@dataclass
class CaseFacts:
    """What the cover says."""

    fonds_no: str  # 全宗号
    catalog_no: str  # 目录号
    volume_no: str  # 案卷号
    archive_code: str  # 档号
    agency: str  # 机关名称 (立卷单位)
    title: str  # 案卷题名 (案由)
    case_no: str  # 案号
    party: str  # 当事人
    legal_rep: str  # 法定代表人
    officers: list[str]  # 承办人
    result: str  # 处理结果
    opened: date  # 立案日期
    closed: date  # 结案日期
    retention: str  # 保管期限
    filed_by: str  # 立卷人
    filed_on: date  # 立卷日期
    year: int  # 年度
    piece_count: int  # 卷内件数
    page_count: int  # 卷内页数: numbered (document) pages only


@dataclass
class Piece:
    """One 件: its 卷内目录 row and where it really is."""

    seq: int  # 序号
    doc_no: str  # 文号 ('' when it has none)
    responsible: str  # 责任者
    title: str  # 题名
    day: date  # 日期
    doc_type: str  # 文书类型
    stage: str  # expected 环节 (archive.enums.Stage value)
    first_page: int  # PDF page index
    last_page: int
    first_page_no: int  # 页号 printed on the paper
    last_page_no: int
    catalog_pages: str  # the 页号 cell as written in the 卷内目录 ('' = left blank)
    catalog_date: str  # the 日期 cell as written
    note: str = ""  # 备注
    title_lines: int = 1  # lines the 题名 takes in its cell
    seal_pages: list[int] = field(default_factory=list)  # PDF indexes with a red seal or stamp
    signature_pages: list[int] = field(default_factory=list)  # PDF indexes with a signature

    @property
    def page_count(self) -> int:
        return self.last_page - self.first_page + 1

    @property
    def stated(self) -> tuple[int | None, int | None]:
        """The (first, last) 页号 the catalog cell states; last is None when only the start is written."""
        return parse_page_cell(self.catalog_pages)


@dataclass
class DossierTruth:
    """The ground truth of one scanned dossier."""

    seed: int
    dpi: int
    page_count: int  # PDF pages
    cover_page: int
    catalog_pages: list[int]
    page_offset: int  # pdf index = 页号 + page_offset (= number of catalog pages)
    case: CaseFacts
    pieces: list[Piece]
    catalog_rows_per_page: int
    variant: str = "good"  # or without_catalog / pages_past_end / overlapping_ranges / encrypted
    defects: list[str] = field(default_factory=list)
    password: str | None = None
    convention: str = PAGE_CONVENTION

    @property
    def document_pages(self) -> range:
        """PDF indexes of the numbered (document) pages."""
        return range(self.page_offset + 1, self.page_count)  # 页号 1 … the last

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: dates as ISO strings."""
        out = asdict(self)
        for p in out["pieces"]:
            p["stated_first"], p["stated_last"] = parse_page_cell(p["catalog_pages"])
        return _iso(out)

    def write_json(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
        return path


def _iso(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


PAGE_CELL = re.compile(r"^\s*(\d+)\s*(?:[-～~—–－]+\s*(\d+))?\s*$")


def parse_page_cell(cell: str) -> tuple[int | None, int | None]:
    """'3-5' / '3～5' / '3—5' → (3, 5); '6' → (6, None); '' → (None, None)."""
    m = PAGE_CELL.match(cell or "")
    if not m:
        return None, None
    return int(m.group(1)), int(m.group(2)) if m.group(2) else None


@dataclass
class LegacyDossier:
    """A generated dossier: its files, its truth, and the scanned JPEG of every PDF page."""

    truth: DossierTruth
    pdf: Path
    tiff: Path | None
    pages: list[bytes]
    _plan: _Plan = field(repr=False)

    def printed_lines(self, index: int) -> list[str]:
        """The typed lines on PDF page ``index`` (not handwriting, seals or stamps)."""
        return [op[3] for op in self._plan.drafts[index].ops if op[0] == "text"]


# ----------------------------------------------------------------------------------------------
# fonts and measuring (in mm)


@cache
def _font_file(face: str) -> tuple[str, int]:
    name, family = _FACES[face]
    for root in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts")):
        for path in sorted(root.rglob(name)) if root.is_dir() else []:
            for index in range(12 if path.suffix == ".ttc" else 1):
                try:
                    if ImageFont.truetype(str(path), 12, index=index).getname()[0] == family:
                        return str(path), index
                except OSError:
                    break
    found = cjk_font_path()
    if found is None:
        raise RuntimeError("no Chinese font on this machine (install fonts-noto-cjk)")
    return str(found[0]), found[1]


_local = threading.local()


def _pil_font(face: str, px: int) -> ImageFont.FreeTypeFont:
    """A font of ``px`` pixels, one object per thread (FreeType faces are not shared across threads)."""
    fonts = _local.__dict__.setdefault("fonts", {})
    key = (face, px)
    if key not in fonts:
        path, index = _font_file(face)
        fonts[key] = ImageFont.truetype(path, max(px, 4), index=index)
    return fonts[key]


@cache
def _char_em(face: str, ch: str) -> float:
    """Advance of one character in em."""
    return _pil_font(face, 200).getlength(ch) / 200


def text_mm(s: str, face: str = SONG, pt: float = 12) -> float:
    """Width of ``s`` in mm."""
    return sum(_char_em(face, c) for c in s) * pt * MM_PER_PT


NO_LINE_START = set("，。、；：？！）》」』”’％〕】,.;:!?)]")
NO_LINE_END = set("（《「『“‘〔【(")


def wrap(s: str, width_mm: float, face: str = SONG, pt: float = 12, indent_mm: float = 0) -> list[str]:
    """Greedy line breaks: runs of ASCII letters/digits kept whole, closing punctuation hung."""
    tokens = re.findall(r"[A-Za-z0-9.·%/:\-]+|.", s)
    lines: list[str] = []
    line, used, limit = "", 0.0, width_mm - indent_mm
    for tok in tokens:
        w = text_mm(tok, face, pt)
        if line and used + w > limit and not (len(tok) == 1 and tok in NO_LINE_START):
            carry = ""
            if len(line) > 1 and line[-1] in NO_LINE_END:  # an opening bracket goes with what it opens
                line, carry = line[:-1], line[-1]
            lines.append(line)
            line, used, limit = carry, text_mm(carry, face, pt), width_mm
        line += tok
        used += w
    if line:
        lines.append(line)
    return lines or [""]


# ----------------------------------------------------------------------------------------------
# drafts: a page as a list of drawing operations in mm, rendered later (in any thread)


@dataclass
class _Draft:
    kind: str  # cover / catalog / document
    page_no: int | None = None  # 页号 stamped on it
    ops: list[tuple[Any, ...]] = field(default_factory=list)
    seals: int = 0
    signatures: int = 0

    def text(
        self,
        x: float,
        y: float,
        s: str,
        face: str = SONG,
        pt: float = 12,
        color: tuple[int, int, int] = INK,
        anchor: str = "ls",
    ) -> None:
        """``s`` with its baseline at ``y`` (anchor as PIL's: l/m/r + s)."""
        if s:
            self.ops.append(("text", x, y, s, face, pt, color, anchor))

    def center(self, y: float, s: str, face: str = SONG, pt: float = 12, x0: float = 0, x1: float = PAGE_W):
        self.text((x0 + x1) / 2, y, s, face, pt, anchor="ms")

    def spaced(self, y: float, s: str, face: str = HEI, pt: float = 22) -> None:
        """A title with a space between characters, centred (as forms print them)."""
        self.center(y, " ".join(s), face, pt)

    def line(self, x0: float, y0: float, x1: float, y1: float, w: float = 0.3, color=INK) -> None:
        self.ops.append(("line", x0, y0, x1, y1, w, color))

    def rect(self, x0: float, y0: float, x1: float, y1: float, w: float = 0.3, color=INK) -> None:
        self.ops.append(("rect", x0, y0, x1, y1, w, color))

    def para(
        self,
        x: float,
        y: float,
        width: float,
        s: str,
        pt: float = 12,
        leading: float = 1.7,
        indent: int = 2,
        face: str = SONG,
    ) -> float:
        """A paragraph from baseline ``y``; returns the baseline after it."""
        ind = indent * pt * MM_PER_PT
        for i, ln in enumerate(wrap(s, width, face, pt, ind)):
            self.text(x + (ind if i == 0 else 0), y, ln, face, pt)
            y += pt * leading * MM_PER_PT
        return y

    def sign(self, x: float, y: float, name: str, seed: int, flourish: bool = True, pt: float = 0) -> None:
        """A handwritten-looking name from ``x`` on baseline ``y``."""
        self.ops.append(("sign", x, y, name, seed, flourish, pt))
        self.signatures += 1

    def hand(self, x: float, y: float, s: str, seed: int, pt: float = 14) -> None:
        """Handwritten-looking words (an opinion, a date)."""
        self.ops.append(("sign", x, y, s, seed, False, pt))

    def seal(self, cx: float, cy: float, arc: str, seed: int, bottom: str = "", d: float = 40) -> None:
        self.ops.append(("seal", cx, cy, d, arc, bottom, seed))
        self.seals += 1

    def stamp(self, x0: float, y0: float, lines: Sequence[str], seed: int) -> None:
        """A rectangular red stamp (a bank's 转讫)."""
        self.ops.append(("stamp", x0, y0, tuple(lines), seed))
        self.seals += 1

    def fill(self, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int]) -> None:
        self.ops.append(("fill", x0, y0, x1, y1, color))

    def photo(self, x0: float, y0: float, x1: float, y1: float, seed: int) -> None:
        self.ops.append(("photo", x0, y0, x1, y1, seed))


LEFT, RIGHT, BODY_W = 25.0, 187.0, 162.0  # body column of a document page
TOP_BASE, BOTTOM_BASE = 30.0, 268.0  # first and last baselines of body text


# ----------------------------------------------------------------------------------------------
# the case and its pieces


@dataclass
class _Ctx:
    rng: random.Random
    year: int
    county: str
    agency: str
    abbr: str  # 农应急 / 农安监
    serial: int
    company: str
    rep: str
    rep_sex: str
    rep_age: int
    address: str
    phone: str
    finding: str
    finding2: str
    officers: list[str]
    recorder: str
    chief: str  # 负责人
    section_head: str
    witness: str
    amount: int  # 万元
    bank: str
    case_no: str
    days: dict[str, date] = field(default_factory=dict)
    doc_nos: dict[str, str] = field(default_factory=dict)
    rep_born: date = date(1970, 1, 1)
    rep_id: str = ""

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, self.rng.randint(1, 2)))

    def cn(self, d: date) -> str:
        return f"{d.year}年{d.month}月{d.day}日"

    def seed(self) -> int:
        return self.rng.randrange(1 << 30)

    def doc_no(self, kind: str) -> str:
        n = self.serial if kind in {"罚", "罚告", "立"} else self.serial + self.rng.randint(3, 40)
        return f"{self.abbr}{kind}〔{self.year}〕{n}号"

    def id_no(self, born: date | None = None) -> str:
        """A 18-digit 公民身份号码 of someone born on ``born`` (the 法定代表人 by default)."""
        b = born or self.rep_born
        r = self.rng
        return f"2201{r.randint(22, 25):02d}{b:%Y%m%d}{r.randint(100, 999)}{r.randint(0, 9)}"


def _context(rng: random.Random) -> _Ctx:
    year = rng.randint(2015, 2022)
    county, short = rng.choice(COUNTIES)
    if year <= 2018:
        agency, abbr = f"{county}安全生产监督管理局", f"{short}安监"
    else:
        agency, abbr = f"{county}应急管理局", f"{short}应急"
    company = county + re.sub(r"^(?:[^省市县]{1,3}[省市县])+", "", rng.choice(COMPANIES))
    officers = rng.sample(OFFICERS, 2)
    pool = [p for p in OFFICERS if p not in officers]
    finding, finding2 = rng.sample(FINDINGS, 2)
    serial = rng.randint(3, 86)
    ctx = _Ctx(
        rng=rng,
        year=year,
        county=county,
        agency=agency,
        abbr=abbr,
        serial=serial,
        company=company,
        rep="",
        rep_sex=rng.choice(["男", "男", "女"]),
        rep_age=rng.randint(31, 62),
        address=f"{county}{rng.choice(TOWNS)}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
        phone=f"13{rng.randint(0, 999_999_999):09d}",
        finding=finding,
        finding2=finding2,
        officers=officers,
        recorder=officers[1],
        chief="",
        section_head=pool[0],
        witness="",
        amount=rng.choice([1, 2, 3, 5, 8]),
        bank=rng.choice(BANKS),
        case_no=f"{abbr}罚〔{year}〕{serial}号",
    )
    ctx.rep, ctx.chief, ctx.witness = ctx.person(), ctx.person(), ctx.person()
    ctx.rep_born = date(year - ctx.rep_age, rng.randint(1, 12), rng.randint(1, 28))
    ctx.rep_id = ctx.id_no()
    return ctx


# (doc type, expected stage, min pages, max pages, core?, variant) in dossier order. The expected
# stages follow the demo case (pipelines/demo.py: 责令限期整改指令书 审查决定, 整改复查意见书 送达执行)
# and archive.enums.stage_of (结案审批表 records 执行终结, an activity of 送达执行).
SLOTS: list[tuple[str, Stage, int, int, bool, int]] = [
    ("立案审批表", Stage.START, 1, 3, True, 0),  # extra pages: 附件
    ("现场检查记录", Stage.INVESTIGATION, 1, 4, True, 0),
    ("勘验笔录", Stage.INVESTIGATION, 1, 4, False, 0),
    ("现场照片", Stage.INVESTIGATION, 1, 6, False, 0),
    ("询问笔录", Stage.INVESTIGATION, 2, 6, True, 0),  # the party's 法定代表人
    ("询问笔录", Stage.INVESTIGATION, 2, 6, False, 1),  # a witness (员工)
    ("证据材料", Stage.INVESTIGATION, 1, 6, False, 0),  # photocopies: licence, ID card …
    ("责令限期整改指令书", Stage.DECISION, 1, 2, False, 0),
    ("案件集体讨论记录", Stage.DECISION, 1, 3, False, 0),
    ("行政处罚告知书", Stage.DECISION, 1, 2, True, 0),
    ("送达回证", Stage.SERVICE, 1, 1, False, 0),  # of the 告知书
    ("陈述申辩笔录", Stage.DECISION, 1, 4, False, 0),
    ("行政处罚决定书", Stage.DECISION, 2, 5, True, 0),
    ("送达回证", Stage.SERVICE, 1, 1, True, 1),  # of the 决定书
    ("罚款缴纳凭证", Stage.SERVICE, 1, 1, True, 0),
    ("整改复查意见书", Stage.SERVICE, 1, 2, False, 0),
    ("结案审批表", Stage.SERVICE, 1, 3, True, 0),  # extra pages: 执行情况说明
]
# days after the previous 件 (inclusive range)
GAPS = {
    "立案审批表": (0, 0),
    "现场检查记录": (0, 0),
    "勘验笔录": (0, 1),
    "现场照片": (0, 0),
    "证据材料": (0, 2),
    "询问笔录": (1, 3),
    "责令限期整改指令书": (0, 1),
    "案件集体讨论记录": (3, 12),
    "行政处罚告知书": (1, 4),
    "送达回证": (0, 1),
    "陈述申辩笔录": (1, 3),
    "行政处罚决定书": (3, 9),
    "罚款缴纳凭证": (2, 14),
    "整改复查意见书": (5, 20),
    "结案审批表": (1, 10),
}


def _workday(d: date) -> date:
    while d.weekday() in WEEKDAY_FREE:
        d += timedelta(days=1)
    return d


@dataclass
class _PieceSpec:
    doc_type: str
    stage: Stage
    pages: int
    day: date
    doc_no: str
    responsible: str
    title: str
    note: str
    variant: int  # 0 = first of its type, 1 = the second (witness 笔录, 决定书's 送达回证)
    about: str = ""  # what a 送达回证 served


@dataclass
class _Plan:
    seed: int
    dpi: int
    ctx: _Ctx
    case: CaseFacts
    specs: list[_PieceSpec]
    rows_per_page: int
    page_cells: list[str]
    date_cells: list[str]
    drafts: list[_Draft]  # every PDF page
    holes: bool  # binding holes show on the left
    kraft: bool = False  # the cover is brown kraft paper


def _titles(ctx: _Ctx, doc_type: str, variant: int, about: str) -> tuple[str, str]:
    """(题名, 责任者)."""
    r = ctx.rng
    short = ctx.finding.split("，")[0]
    if doc_type == "立案审批表":
        return f"关于对{ctx.company}{short}立案调查的审批表", ctx.agency
    if doc_type == "现场检查记录":
        return r.choice([f"{ctx.company}现场检查记录", "现场检查记录"]), ctx.agency
    if doc_type == "勘验笔录":
        return f"{ctx.company}生产经营场所勘验笔录", ctx.agency
    if doc_type == "现场照片":
        return "现场检查照片", ctx.officers[0]
    if doc_type == "证据材料":
        return r.choice(["营业执照、法定代表人身份证明等证据材料复印件", "证据材料（复印件）"]), ctx.company
    if doc_type == "询问笔录":
        who = ctx.rep if variant == 0 else ctx.witness
        return f"对{who}的询问笔录", "、".join(ctx.officers)
    if doc_type == "案件集体讨论记录":
        return "案件集体讨论记录", ctx.agency
    if doc_type == "陈述申辩笔录":
        return f"{ctx.company}陈述申辩笔录", ctx.agency
    if doc_type == "送达回证":
        return f"送达回证（{about}）", ctx.agency
    if doc_type == "行政处罚决定书":
        return f"关于对{ctx.company}{short}的行政处罚决定书", ctx.agency
    if doc_type == "罚款缴纳凭证":
        return "罚款缴纳凭证（非税收入一般缴款书）", f"{ctx.bank}{ctx.county}支行"
    if doc_type == "结案审批表":
        return r.choice(["结案审批表", f"{ctx.company}案结案审批表"]), ctx.agency
    return doc_type, ctx.agency


DOC_NO_KIND = {
    "立案审批表": "立",
    "现场检查记录": "检记",
    "责令限期整改指令书": "责改",
    "行政处罚告知书": "罚告",
    "行政处罚决定书": "罚",
    "整改复查意见书": "复查",
}


def _choose(rng: random.Random, pages: int | None) -> tuple[list[tuple[str, Stage, int, int, int]], int, int]:
    """Which slots, the catalog rows per page, and the total PDF page count (``pages``, or 30–60)."""
    total = pages if pages is not None else rng.randint(30, 60)
    for attempt in range(3000):
        if pages is None and attempt % 200 == 199:
            total = rng.randint(30, 60)
        n = rng.randint(8, 15)
        optional = [i for i, s in enumerate(SLOTS) if not s[4]]
        picked = sorted([i for i, s in enumerate(SLOTS) if s[4]] + rng.sample(optional, n - 8))
        slots = [(k, st, lo, hi, v) for k, st, lo, hi, _core, v in (SLOTS[i] for i in picked)]
        rows_per_page = rng.choice([10, 12, 15, 15])
        cat = math.ceil(n / rows_per_page)
        lo = sum(s[2] for s in slots) + 1 + cat
        hi = sum(s[3] for s in slots) + 1 + cat
        multi = sum(1 for s in slots if s[3] > 1)
        if multi >= 6 and lo + 3 <= total <= hi:
            return slots, rows_per_page, total
    raise ValueError(f"cannot make a dossier of {pages} pages (30–60 are possible)")


def _distribute(rng: random.Random, slots: list[tuple[str, Stage, int, int, int]], total: int) -> list[int]:
    """Pages per 件 (within each type's range) summing to ``total``, with ≥ 5 documents of 2+ pages."""
    pages = [s[2] for s in slots]
    while sum(pages) < total:
        room = [i for i, s in enumerate(slots) if pages[i] < s[3]]
        short = [i for i in room if pages[i] == 1]
        multi = sum(1 for p in pages if p > 1)
        i = rng.choice(short if short and multi < 5 else room)
        pages[i] += 1
    return pages


def plan(seed: int, pages: int | None = None, dpi: int = 150) -> _Plan:
    """Decide everything about the dossier of ``seed`` and lay out its pages (nothing rendered)."""
    rng = random.Random(seed)
    ctx = _context(rng)
    slots, rows_per_page, total = _choose(rng, pages)
    n_cat = math.ceil(len(slots) / rows_per_page)
    counts = _distribute(rng, slots, total - 1 - n_cat)
    day = _workday(date(ctx.year, rng.randint(1, 9), rng.randint(1, 28)))
    specs: list[_PieceSpec] = []
    for (kind, stage, _lo, _hi, variant), n in zip(slots, counts, strict=True):
        a, b = GAPS[kind]
        day = _workday(day + timedelta(days=rng.randint(a, b)))
        about = ["行政处罚告知书", "行政处罚决定书"][variant] if kind == "送达回证" else ""
        title, responsible = _titles(ctx, kind, variant, about)
        doc_no = ctx.doc_no(DOC_NO_KIND[kind]) if kind in DOC_NO_KIND and rng.random() < 0.9 else ""
        if kind == "行政处罚决定书":
            doc_no = ctx.case_no
        note = ""
        if kind == "罚款缴纳凭证":
            note = rng.choice(["复印件", ""])
        elif kind == "现场照片":
            note = f"{2 * n}张"
        elif kind == "证据材料":
            note = "复印件"
        specs.append(_PieceSpec(kind, stage, n, day, doc_no, responsible, title, note, variant, about))
    ctx.days = {s.doc_type: s.day for s in specs}
    ctx.doc_nos = {s.doc_type: s.doc_no for s in specs}
    page_cells, date_cells = _catalog_cells(rng, specs)
    result = f"罚款人民币{UPPER_WAN[ctx.amount]}"
    archive_year = specs[-1].day.year
    retention = rng.choice(RETENTIONS)
    fonds = f"{rng.randint(1, 160):03d}"
    volume = f"{rng.randint(1, 120):04d}"
    case = CaseFacts(
        fonds_no=fonds,
        catalog_no=f"{rng.randint(1, 9)}",
        volume_no=volume,
        archive_code=f"{fonds}-XZ·{archive_year}-{RETENTION_CODE[retention]}-{volume}",
        agency=ctx.agency,
        title=f"{ctx.company}{ctx.finding.split('，')[0]}案",
        case_no=ctx.case_no,
        party=ctx.company,
        legal_rep=ctx.rep,
        officers=list(ctx.officers),
        result=result,
        opened=specs[0].day,
        closed=specs[-1].day,
        retention=retention,
        filed_by=ctx.person(),
        filed_on=_workday(specs[-1].day + timedelta(days=rng.randint(5, 40))),
        year=ctx.year,
        piece_count=len(specs),
        page_count=sum(s.pages for s in specs),
    )
    holes = rng.random() < 0.6
    p = _Plan(
        seed, dpi, ctx, case, specs, rows_per_page, page_cells, date_cells, [], holes, rng.random() < 0.5
    )
    p.drafts = [_cover(p), *_catalog(p, page_cells)]
    page_no = 1
    for spec in specs:
        for draft in _document(ctx, spec):
            draft.page_no = page_no
            page_no += 1
            p.drafts.append(draft)
    assert len(p.drafts) == total, (len(p.drafts), total)
    return p


def _catalog_cells(rng: random.Random, specs: list[_PieceSpec]) -> tuple[list[str], list[str]]:
    """The 页号 and 日期 cells as the clerk wrote them."""
    n = len(specs)
    starts, page = [], 1
    for s in specs:
        starts.append(page)
        page += s.pages
    multi = [i for i, s in enumerate(specs) if s.pages > 1]
    blank = rng.choice(range(1, n - 1))
    forms = ["-", "～", "—", "start"]
    usable = [i for i in multi if i != blank]
    rng.shuffle(usable)
    chosen = {i: forms[k] for k, i in enumerate(usable[:4])}
    for i in usable[4:]:
        chosen[i] = rng.choice(forms)
    pages = []
    for i, s in enumerate(specs):
        a, b = starts[i], starts[i] + s.pages - 1
        if i == blank:
            pages.append("")
        elif s.pages == 1 or chosen[i] == "start":
            pages.append(str(a))
        else:
            pages.append(f"{a}{chosen[i]}{b}")
    styles = [0, 1, 2] + [rng.randrange(3) for _ in range(n - 3)]
    rng.shuffle(styles)
    dates = []
    for s, style in zip(specs, styles, strict=True):
        d = s.day
        dates.append([f"{d:%Y.%m.%d}", f"{d.year}年{d.month}月{d.day}日", f"{d:%Y%m%d}"][style])
    return pages, dates


# ----------------------------------------------------------------------------------------------
# cover and catalog


def _cover(p: _Plan) -> _Draft:
    c, ctx, r = p.case, p.ctx, p.ctx.rng
    d = _Draft("cover")
    d.rect(14, 14, 196, 283, 0.8)
    d.rect(16.5, 16.5, 193.5, 280.5, 0.3)
    # 全宗号 / 目录号 / 案卷号 boxes, upper right
    x0, x1, xm, y = 128.0, 186.0, 148.0, 24.0
    for label, value in (("全宗号", c.fonds_no), ("目录号", c.catalog_no), ("案卷号", c.volume_no)):
        d.rect(x0, y, x1, y + 8)
        d.line(xm, y, xm, y + 8)
        d.text((x0 + xm) / 2, y + 5.6, label, SONG, 10.5, anchor="ms")
        d.text((xm + x1) / 2, y + 5.8, value, SONG, 12, anchor="ms")
        y += 8
    d.center(72, c.agency, HEI, 22)
    d.spaced(92, "行政处罚案卷", HEI, 30)
    rows: list[tuple[str, str, float]] = [
        ("案卷题名", c.title, 22),
        ("案　　号", c.case_no, 12),
        ("当 事 人", c.party, 12),
        ("立案日期", ctx.cn(c.opened), 12),
        ("结案日期", ctx.cn(c.closed), 12),
        ("承 办 人", "、".join(c.officers), 12),
        ("处理结果", c.result, 12),
        ("卷内件页", f"本卷共 {c.piece_count} 件 {c.page_count} 页", 12),
        ("保管期限", c.retention, 12),
        ("立 卷 人", c.filed_by, 12),
        ("立卷日期", ctx.cn(c.filed_on), 12),
    ]
    x0, xl, x1, y = 28.0, 62.0, 182.0, 116.0
    top = y
    for label, value, h in rows:
        d.line(x0, y, x1, y)
        d.text((x0 + xl) / 2, y + h / 2 + 1.6, label, HEI, 12, anchor="ms")
        lines = wrap(value, x1 - xl - 8, SONG, 14)
        base = y + h / 2 + 1.9 - (len(lines) - 1) * 3.2
        for ln in lines:
            d.text(xl + 4, base, ln, SONG, 14)
            base += 6.4
        y += h
    d.line(x0, y, x1, y)
    d.line(x0, top, x0, y)
    d.line(xl, top, xl, y)
    d.line(x1, top, x1, y)
    d.text(30, 268, f"档号：{c.archive_code}", SONG, 12)
    d.text(182, 268, f"{c.year}年度", SONG, 12, anchor="rs")
    if r.random() < 0.5:  # the archivist's hand-written 卷号 on the spine label area
        d.hand(120, 276, f"卷号{c.volume_no}", r.randrange(1 << 30), pt=13)
    return d


CAT_COLS = [
    ("序号", 9.0),
    ("文号", 31.0),
    ("责任者", 26.0),
    ("题名", 54.0),
    ("日期", 28.0),
    ("页号", 15.0),
    ("备注", 11.0),
]
CAT_LEFT, CAT_TOP, CAT_BOTTOM, CAT_HEAD = 18.0, 46.0, 282.0, 11.0
CAT_PT = 10.0


def _cell_lines(col: str, s: str) -> list[str]:
    width = dict(CAT_COLS)[col] - 2.6
    return wrap(s, width, SONG, CAT_PT) if s else []


def _catalog(p: _Plan, page_cells: list[str]) -> list[_Draft]:
    specs, case = p.specs, p.case
    per = p.rows_per_page
    row_h = (CAT_BOTTOM - CAT_TOP - CAT_HEAD) / per
    drafts = []
    n_pages = math.ceil(len(specs) / per)
    for k in range(n_pages):
        d = _Draft("catalog")
        d.spaced(26, "卷内目录", HEI, 22)
        d.text(CAT_LEFT, 40, f"档号：{case.archive_code}", SONG, 10.5)
        if n_pages > 1:
            d.text(CAT_LEFT + 174, 40, f"第 {k + 1} 页  共 {n_pages} 页", SONG, 10.5, anchor="rs")
        x1 = CAT_LEFT + sum(w for _, w in CAT_COLS)
        bottom = CAT_TOP + CAT_HEAD + per * row_h
        d.rect(CAT_LEFT, CAT_TOP, x1, bottom, 0.6)
        x = CAT_LEFT
        for name, w in CAT_COLS:
            d.text(x + w / 2, CAT_TOP + CAT_HEAD / 2 + 1.8, name, HEI, 10.5, anchor="ms")
            x += w
            if x < x1 - 0.1:
                d.line(x, CAT_TOP, x, bottom, 0.35)
        for i in range(per + 1):
            d.line(CAT_LEFT, CAT_TOP + CAT_HEAD + i * row_h, x1, CAT_TOP + CAT_HEAD + i * row_h, 0.3)
        for i, idx in enumerate(range(k * per, min(len(specs), (k + 1) * per))):
            s = specs[idx]
            cells = {
                "序号": str(idx + 1),
                "文号": s.doc_no,
                "责任者": s.responsible,
                "题名": s.title,
                "日期": p.date_cells[idx],
                "页号": page_cells[idx],
                "备注": s.note,
            }
            y_top = CAT_TOP + CAT_HEAD + i * row_h
            x = CAT_LEFT
            for name, w in CAT_COLS:
                lines = _cell_lines(name, cells[name])
                lead = CAT_PT * 1.35 * MM_PER_PT
                base = y_top + row_h / 2 + 1.3 - (len(lines) - 1) * lead / 2
                for ln in lines:
                    if name == "题名" or (name in {"文号", "责任者"} and len(lines) > 1):
                        d.text(x + 1.3, base, ln, SONG, CAT_PT)
                    else:
                        d.text(x + w / 2, base, ln, SONG, CAT_PT, anchor="ms")
                    base += lead
                x += w
        drafts.append(d)
    return drafts


# ----------------------------------------------------------------------------------------------
# documents


def _header_fields(d: _Draft, y: float, fields: Sequence[tuple[str, str]], pt: float = 12) -> float:
    """Form lines 'label：value' with the value underlined, two per line where short."""
    i = 0
    step = pt * 2.0 * MM_PER_PT
    while i < len(fields):
        label, value = fields[i]
        half = BODY_W / 2 - 6
        pair = (
            i + 1 < len(fields)
            and text_mm(f"{label}：{value}", SONG, pt) < half
            and text_mm("：".join(fields[i + 1]), SONG, pt) < half
        )
        d.text(LEFT, y, f"{label}：", SONG, pt)
        x = LEFT + text_mm(f"{label}：", SONG, pt)
        end = LEFT + BODY_W / 2 - 4 if pair else RIGHT
        lines = wrap(value, end - x - 2, SONG, pt)
        for k, ln in enumerate(lines):
            d.text(x + 1.5, y, ln, SONG, pt)
            d.line(x, y + 1.2, end, y + 1.2, 0.2)
            if k < len(lines) - 1:
                y += step
        if pair:
            label2, value2 = fields[i + 1]
            x2 = LEFT + BODY_W / 2
            d.text(x2, y, f"{label2}：", SONG, pt)
            xv = x2 + text_mm(f"{label2}：", SONG, pt)
            d.text(xv + 1.5, y, value2, SONG, pt)
            d.line(xv, y + 1.2, RIGHT, y + 1.2, 0.2)
            i += 1
        i += 1
        y += step
    return y


@dataclass
class _Doc:
    """How a flowing document is laid out: first-page header, body stream, closing, page foot."""

    header: Callable[[_Draft], float]
    body: Iterator[str]
    closing: Callable[[_Draft, float], None]
    closing_h: float
    pt: float = 12
    leading: float = 1.8
    foot: Callable[[_Draft, int, int], None] | None = None
    qa: bool = False  # 问/答 paragraphs (no first-line indent)


def _flow(ctx: _Ctx, doc: _Doc, n: int) -> list[_Draft]:
    """Exactly ``n`` pages: full body pages, then a last page with some body and the closing."""
    step = doc.pt * doc.leading * MM_PER_PT
    bottom = BOTTOM_BASE - (10 if doc.foot else 0)
    drafts: list[_Draft] = []
    pending: list[str] = []
    for k in range(n):
        d = _Draft("document")
        y = doc.header(d) if k == 0 else TOP_BASE
        last = k == n - 1
        limit = bottom if not last else y + (bottom - doc.closing_h - y) * ctx.rng.uniform(0.35, 0.9)
        while y <= limit:
            if not pending:
                text = next(doc.body)
                ind = 0 if doc.qa else 2
                pending = wrap(text, BODY_W, SONG, doc.pt, ind * doc.pt * MM_PER_PT)
                pending = [("\u3000\u3000" if ind else "") + pending[0], *pending[1:]]
                if last and y + len(pending) * step > limit + step:
                    pending = []
                    break
            line = pending.pop(0)
            if line.startswith("\u3000\u3000"):
                d.text(LEFT + 2 * doc.pt * MM_PER_PT, y, line[2:], SONG, doc.pt)
            else:
                d.text(LEFT, y, line, SONG, doc.pt)
            y += step
        if last:
            doc.closing(d, min(y + 2, bottom - doc.closing_h + 4))
        if doc.foot:
            doc.foot(d, k + 1, n)
        drafts.append(d)
    return drafts


def _endless(first: Sequence[str], more: Callable[[], str]) -> Iterator[str]:
    """The scripted paragraphs, then ``more()`` for ever, never the same paragraph twice running."""
    yield from first
    last = ""
    while True:
        text = more()
        if text != last:
            yield text
        last = text


STORES = ["一号", "二号", "东侧", "西侧"]
GOODS = ["甲醇", "乙酸乙酯", "液化石油气", "油漆稀释剂", "硝酸铵"]
LACKING = ["防爆灯具", "静电释放装置", "警示标识"]
PAPERS = ["安全生产责任制", "安全教育培训档案", "隐患排查治理台账", "应急预案演练记录"]
PAPER_FAULTS = ["记录不完整", "未见相关记录", "签字缺失", "内容与实际不符"]
TRADES = ["危险化学品经营", "仓储物流", "烟花爆竹批发", "建筑施工", "商品零售"]
EXCUSES = ["公司资金紧张，一直没顾上", "负责这项工作的人辞职了，没人管", "我们对这方面的规定不太了解"]


def _clause(ctx: _Ctx) -> str:
    """One more sentence of what the inspectors saw."""
    r = ctx.rng
    k = r.randrange(7)
    if k == 0:
        return f"现场检查时发现{r.choice(FINDINGS)}，执法人员当场拍照取证，照片共{r.randint(3, 12)}张。"
    if k == 1:
        return (
            f"该单位{r.choice(STORES)}仓库存放{r.choice(GOODS)}约{r.randint(2, 40)}吨，"
            f"仓库面积约{r.randint(80, 900)}平方米，未见{r.choice(LACKING)}。"
        )
    if k == 2:
        return (
            f"经查阅{ctx.company}{r.choice(PAPERS)}，{r.choice(PAPER_FAULTS)}，"
            f"{ctx.year}年{r.randint(1, 12)}月以后无记录。"
        )
    if k == 3:
        return f"现场陪同人员{ctx.person()}（联系电话13{r.randint(0, 999_999_999):09d}）对上述情况予以确认。"
    if k == 4:
        return (
            f"执法人员使用执法记录仪对检查过程全程录像，录像时长约{r.randint(15, 90)}分钟，"
            "当日存入专用存储设备。"
        )
    if k == 5:
        return f"检查发现{ctx.finding2}，已责令现场负责人立即整改，并告知其整改完成后书面报告。"
    return (
        f"该单位共有从业人员{r.randint(12, 260)}人，其中特种作业人员{r.randint(2, 18)}人，"
        f"持证{r.randint(0, 10)}人。"
    )


def _sig_block(
    d: _Draft, ctx: _Ctx, y: float, who: Sequence[tuple[str, list[str]]], day: date | None
) -> float:
    for label, names in who:
        d.text(LEFT, y, f"{label}：", SONG, 12)
        x = LEFT + text_mm(f"{label}：", SONG, 12) + 3
        for name in names:
            d.sign(x, y, name, ctx.seed())
            x += 34
        if day is not None:
            d.text(RIGHT, y, ctx.cn(day), SONG, 12, anchor="rs")
        y += 12
    return y


def _page_foot(signer: str | None, ctx: _Ctx) -> Callable[[_Draft, int, int], None]:
    def foot(d: _Draft, k: int, n: int) -> None:
        if signer:
            d.text(LEFT + 60, 274, "被询问（检查）人签名：", SONG, 10.5)
            d.sign(LEFT + 104, 274, signer, ctx.seed(), flourish=ctx.rng.random() < 0.5)
        d.center(284, f"第 {k} 页  共 {n} 页", SONG, 10.5)

    return foot


def _record_header(title: str, ctx: _Ctx, fields: Sequence[tuple[str, str]], intro: str = "") -> Callable:
    def header(d: _Draft) -> float:
        d.center(22, ctx.agency, SONG, 12)
        d.spaced(36, title, HEI, 20)
        y = _header_fields(d, 52, fields)
        if intro:
            y = d.para(LEFT, y + 2, BODY_W, intro, 12, 1.8)
        return y + 2

    return header


def _hm(ctx: _Ctx, lo: int = 8, hi: int = 15) -> tuple[str, str]:
    h = ctx.rng.randint(lo, hi)
    m = ctx.rng.choice([0, 10, 15, 20, 30, 40, 45, 50])
    h2, m2 = h + ctx.rng.randint(0, 2), ctx.rng.choice([0, 5, 10, 25, 30, 35, 50, 55])
    if (h2, m2) <= (h, m):
        h2 += 1
    return f"{h}时{m:02d}分", f"{h2}时{m2:02d}分"


def _cards(ctx: _Ctx) -> str:
    return "、".join(f"{o}（执法证号{ctx.rng.randint(22000000, 22999999)}）" for o in ctx.officers)


def _inspection(ctx: _Ctx, spec: _PieceSpec, kind: str) -> _Doc:
    t0, t1 = _hm(ctx)
    day = ctx.cn(spec.day)
    if kind == "现场检查记录":
        fields = [
            ("被检查单位", ctx.company),
            ("地址", ctx.address),
            ("法定代表人（负责人）", ctx.rep),
            ("联系电话", ctx.phone),
            ("检查场所", f"{ctx.company}生产区、仓储区"),
            ("检查时间", f"{day}{t0}至{t1}"),
            ("检查人员", _cards(ctx)),
            ("记录人", ctx.recorder),
        ]
        intro = (
            f"我们是{ctx.agency}执法人员{ctx.officers[0]}、{ctx.officers[1]}，这是我们的执法证件（出示证件）。"
            "现依法对你单位进行现场检查，请予以配合。检查情况："
        )
    else:
        fields = [
            ("勘验时间", f"{day}{t0}至{t1}"),
            ("勘验场所", f"{ctx.company}（{ctx.address}）"),
            ("天气情况", ctx.rng.choice(["晴", "多云", "阴", "小雪"])),
            ("勘验人", _cards(ctx)),
            ("当事人", f"{ctx.company}  法定代表人{ctx.rep}"),
            ("被邀请人", ctx.witness),
            ("记录人", ctx.recorder),
        ]
        intro = "勘验情况及结果："
    first = [
        f"经现场检查，{ctx.company}{ctx.finding}。",
        f"{ctx.company}位于{ctx.address}，主要从事{ctx.rng.choice(TRADES)}，现场负责人{ctx.rep}陪同检查。",
        f"另查明，{ctx.finding2}。",
    ]
    signer = ctx.rep

    def closing(d: _Draft, y: float) -> None:
        y = d.para(LEFT, y, BODY_W, "以上记录已经本人核对，与实际情况相符。", 12, 1.8) + 4
        _sig_block(
            d,
            ctx,
            y,
            [("被检查单位现场负责人（签名）", [signer]), ("检查人员（签名）", list(ctx.officers))],
            spec.day,
        )

    return _Doc(
        _record_header(kind, ctx, fields, intro),
        _endless(first, lambda: _clause(ctx)),
        closing,
        44,
        foot=_page_foot(signer if ctx.rng.random() < 0.7 else None, ctx),
    )


def _qa_stream(ctx: _Ctx, who: str, witness: bool) -> Iterator[str]:
    r = ctx.rng
    company = ctx.company
    first = [
        f"问：我们是{ctx.agency}的执法人员（出示执法证件），现依法向你询问有关情况，你应当如实回答，"
        "对与本案无关的问题你有权拒绝回答。你听清楚了吗？",
        "答：听清楚了。",
        "问：你是否申请执法人员回避？",
        "答：不申请回避。",
        "问：请介绍一下你的基本情况。",
        f"答：我叫{who}，在{company}工作，"
        + ("是仓库保管员，干了三年多了。" if witness else "是公司的法定代表人，负责公司全面工作。"),
        f"问：{ctx.cn(ctx.days.get('现场检查记录', date(ctx.year, 1, 1)))}我局执法人员对你单位进行检查时，"
        "你是否在场？",
        "答：在场，我全程陪同检查。",
        f"问：检查中发现你单位{ctx.finding}，这个情况属实吗？",
        "答：属实。",
        "问：为什么会出现这种情况？",
        f"答：主要是{r.choice(EXCUSES)}，我们知道错了。",
    ]

    def more() -> str:
        q = r.choice(
            [
                (
                    "问：这种情况持续多长时间了？",
                    f"答：大概从{ctx.year}年{r.randint(1, 12)}月开始的，有{r.randint(2, 11)}个月了。",
                ),
                (
                    "问：公司有多少从业人员？",
                    f"答：一共{r.randint(15, 200)}人，一线工人{r.randint(10, 150)}人。",
                ),
                (
                    "问：仓库里存放的是什么物品？数量多少？",
                    f"答：主要是{r.choice(['甲醇', '油漆', '液化气', '鞭炮'])}，大约{r.randint(2, 40)}吨。",
                ),
                ("问：公司的安全管理人员是谁？", f"答：是{ctx.person()}，他兼职负责安全管理。"),
                ("问：公司是否组织过安全生产教育和培训？", f"答：组织过{r.randint(0, 3)}次，但没有记录。"),
                (
                    "问：对发现的问题你们采取了什么措施？",
                    "答：检查以后我们马上开会研究，已经安排人员整改，正在采购设备。",
                ),
                ("问：你对检查中拍摄的照片和录像有无异议？", "答：没有异议。"),
                (
                    "问：你单位的营业执照和安全生产许可证是否在有效期内？",
                    f"答：在有效期内，{ctx.year + r.randint(1, 3)}年到期。",
                ),
                (
                    "问：除上述问题外，你单位还有其他安全隐患吗？",
                    f"答：可能还有{ctx.finding2.split('，')[0]}的问题，我们会一并整改。",
                ),
            ]
        )
        pending.append(q[1])
        return q[0]

    pending: list[str] = []
    yield from first
    while True:
        yield pending.pop() if pending else more()


def _questioning(ctx: _Ctx, spec: _PieceSpec) -> _Doc:
    witness = spec.variant == 1
    age = ctx.rng.randint(22, 58) if witness else ctx.rep_age
    who = ctx.witness if witness else ctx.rep
    t0, t1 = _hm(ctx)
    fields = [
        ("询问时间", f"{ctx.cn(spec.day)}{t0}至{t1}"),
        ("询问地点", ctx.rng.choice([f"{ctx.agency}执法办案室", f"{ctx.company}办公室"])),
        ("询问人", "、".join(ctx.officers)),
        ("记录人", ctx.recorder),
        ("被询问人", who),
        ("性别", ctx.rep_sex if not witness else ctx.rng.choice(["男", "女"])),
        ("年龄", str(age)),
        (
            "身份证号",
            ctx.id_no(date(ctx.year - age, ctx.rng.randint(1, 12), ctx.rng.randint(1, 28)))
            if witness
            else ctx.rep_id,
        ),
        ("工作单位", ctx.company),
        ("职务", "仓库保管员" if witness else "法定代表人"),
        ("住址", f"{ctx.county}{ctx.rng.choice(TOWNS)}{ctx.rng.choice(ROADS)}{ctx.rng.randint(1, 300)}号"),
        ("联系电话", f"13{ctx.rng.randint(0, 999_999_999):09d}"),
    ]

    def closing(d: _Draft, y: float) -> None:
        for s in ["问：以上笔录你看一下，是否与你所说的一致？", "答：以上笔录我看过，和我说的一样。"]:
            d.text(LEFT, y, s, SONG, 12)
            y += 7.6
        d.hand(LEFT + 8, y + 4, "以上笔录我已看过，与我说的相符。", ctx.seed(), pt=13)
        _sig_block(d, ctx, y + 16, [("被询问人签名", [who]), ("询问人签名", list(ctx.officers))], spec.day)

    return _Doc(
        _record_header("询问笔录", ctx, fields),
        _qa_stream(ctx, who, witness),
        closing,
        58,
        foot=_page_foot(who, ctx),
        qa=True,
    )


def _statement(ctx: _Ctx, spec: _PieceSpec) -> _Doc:
    t0, t1 = _hm(ctx)
    fields = [
        ("时间", f"{ctx.cn(spec.day)}{t0}至{t1}"),
        ("地点", f"{ctx.agency}会议室"),
        ("陈述申辩人", f"{ctx.rep}（{ctx.company}法定代表人）"),
        ("承办人", "、".join(ctx.officers)),
        ("记录人", ctx.recorder),
    ]
    first = [
        f"承办人：{ctx.company}，我局于{ctx.cn(ctx.days.get('行政处罚告知书', spec.day))}"
        "向你单位送达了行政处罚告知书，"
        "你单位依法享有陈述、申辩的权利，现在请你进行陈述和申辩。",
        f"陈述申辩人：对你们认定的{ctx.finding}的事实我们没有异议。",
        "陈述申辩人：但是我们公司规模小，今年经营困难，希望能够从轻处罚。检查以后我们已经积极整改。",
    ]

    def more() -> str:
        return ctx.rng.choice(
            [
                f"陈述申辩人：我们已经整改了{ctx.rng.randint(60, 100)}%，"
                f"剩下的{ctx.rng.randint(5, 20)}天内完成。",
                "承办人：你单位提出的整改情况，请提供相关证明材料。",
                "陈述申辩人：好的，我们会尽快把整改照片和采购合同送过来。",
                "承办人：你还有其他需要陈述、申辩的吗？",
                f"陈述申辩人：希望考虑到我们是初次违法，{ctx.rng.choice(('减轻处罚', '从轻处罚'))}。",
            ]
        )

    def closing(d: _Draft, y: float) -> None:
        y = d.para(LEFT, y, BODY_W, "陈述申辩人：没有了。", 12, 1.8) + 4
        d.hand(LEFT + 8, y, "以上记录属实。", ctx.seed(), pt=13)
        _sig_block(d, ctx, y + 12, [("陈述申辩人", [ctx.rep]), ("承办人", list(ctx.officers))], spec.day)

    return _Doc(
        _record_header("陈述申辩笔录", ctx, fields),
        _endless(first, more),
        closing,
        46,
        foot=_page_foot(ctx.rep, ctx),
    )


def _discussion(ctx: _Ctx, spec: _PieceSpec) -> _Doc:
    members = [ctx.chief, ctx.section_head, *ctx.officers]
    t0, t1 = _hm(ctx, 9, 15)
    fields = [
        ("时间", f"{ctx.cn(spec.day)}{t0}至{t1}"),
        ("地点", f"{ctx.agency}三楼会议室"),
        ("主持人", ctx.chief),
        ("出席人员", "、".join(members)),
        ("记录人", ctx.recorder),
        ("案由", f"{ctx.company}{ctx.finding.split('，')[0]}案"),
    ]
    basis = BASIS[ctx.finding]
    first = [
        f"{ctx.officers[0]}（承办人）：汇报案件调查情况。经查，{ctx.company}{ctx.finding}，"
        f"违反了{basis[0]}的规定，证据有现场检查记录、询问笔录、现场照片等。",
        f"{ctx.officers[0]}（承办人）：依据{basis[1]}，建议给予罚款人民币{UPPER_WAN[ctx.amount]}的行政处罚。",
        f"{ctx.section_head}：同意承办人意见，事实清楚，证据确实充分，适用法律正确。",
    ]

    def more() -> str:
        who = ctx.rng.choice(members)
        return f"{who}：" + ctx.rng.choice(
            [
                "当事人检查后整改态度较好，可以在裁量基准内从轻处罚。",
                "建议同时责令其限期整改，并在整改期满后进行复查。",
                "同意，本案程序合法，已履行告知义务。",
                f"该单位{ctx.year - 1}年曾因类似问题被责令整改，不宜减轻处罚。",
            ]
        )

    def closing(d: _Draft, y: float) -> None:
        y = d.para(
            LEFT,
            y,
            BODY_W,
            f"讨论结论：经集体讨论，决定对{ctx.company}处以罚款人民币{UPPER_WAN[ctx.amount]}的行政处罚。",
            12,
            1.8,
        )
        d.text(LEFT, y + 8, "出席人员签名：", SONG, 12)
        x = LEFT + 32
        for m in members:
            d.sign(x, y + 8, m, ctx.seed(), flourish=False)
            x += 32

    return _Doc(_record_header("案件集体讨论记录", ctx, fields), _endless(first, more), closing, 30)


def _official(ctx: _Ctx, spec: _PieceSpec) -> _Doc:
    """责令限期整改指令书, 行政处罚告知书, 行政处罚决定书, 整改复查意见书: 公文 with the seal."""
    kind = spec.doc_type
    basis = BASIS[ctx.finding]
    days = ctx.days
    pt = 14.0

    def header(d: _Draft) -> float:
        d.center(32, ctx.agency, HEI, 22)
        d.center(47, kind, HEI, 22)
        d.text(RIGHT, 60, spec.doc_no, SONG, 14, anchor="rs")
        y = 74.0
        if kind == "行政处罚决定书":
            for s in [
                f"被处罚单位：{ctx.company}",
                f"地址：{ctx.address}",
                f"法定代表人：{ctx.rep}    职务：法定代表人",
            ]:
                d.text(LEFT, y, s, SONG, pt)
                y += pt * 1.8 * MM_PER_PT
            return y
        d.text(LEFT, y, f"{ctx.company}：", SONG, pt)
        return y + pt * 1.8 * MM_PER_PT

    inspected = ctx.cn(days.get("现场检查记录", spec.day))
    if kind == "责令限期整改指令书":
        limit = spec.day + timedelta(days=ctx.rng.choice([15, 20, 30]))
        first = [
            f"经查，你单位存在下列问题：1.{ctx.finding}；2.{ctx.finding2}。",
            f"现责令你单位对上述第1项、第2项问题于{ctx.cn(limit)}前整改完毕，达到有关法律法规规章和标准规定的要求。"
            "由此造成事故的，依法追究有关人员的责任。",
            "整改期间，你单位应当采取措施，确保安全生产。对安全不能保障的，应当从危险区域内撤出作业人员，"
            "并疏散可能危及的其他人员，设置警戒标志，暂时停产停业或者停止使用相关设施、设备。",
        ]
    elif kind == "整改复查意见书":
        first = [
            f"我局于{inspected}作出了责令限期整改指令书，经对你单位整改情况进行复查，提出如下意见：",
            f"1.{ctx.finding}的问题已整改完毕，已{ctx.rng.choice(('验收合格', '建立台账', '清理完毕'))}；",
            f"2.{ctx.finding2}的问题已整改完毕。",
        ]
    elif kind == "行政处罚告知书":
        first = [
            f"经查，你单位{ctx.finding}。以上事实有现场检查记录、询问笔录、现场照片等证据为证。",
            f"你单位的上述行为违反了{basis[0]}的规定，依据{basis[1]}的规定，"
            f"我局拟对你单位作出罚款人民币{UPPER_WAN[ctx.amount]}的行政处罚。",
            "根据《中华人民共和国行政处罚法》的规定，你单位可在收到本告知书之日起三日内向本机关进行陈述和申辩，"
            "逾期不陈述申辩的，视为你单位放弃上述权利。",
        ]
    else:  # 行政处罚决定书
        first = [
            f"违法事实及证据：{inspected}，我局执法人员在对你单位进行现场检查时发现，你单位{ctx.finding}。",
            "以上事实有下列证据证明：1.现场检查记录；2.询问笔录；3.现场照片；4.营业执照复印件；"
            "5.法定代表人身份证明。",
            f"你单位的上述行为违反了{basis[0]}的规定，依据{basis[1]}的规定，"
            f"决定给予罚款人民币{UPPER_WAN[ctx.amount]}的行政处罚。",
            f"我局于{ctx.cn(days.get('行政处罚告知书', spec.day))}向你单位送达了行政处罚告知书，"
            "你单位在法定期限内提出了陈述申辩，经复核，你单位提出的理由不能成立，不予采纳。",
            "罚款限你单位于收到本决定书之日起十五日内缴至指定银行和账号。逾期不缴纳罚款的，"
            "每日按罚款数额的百分之三加处罚款。",
        ]

    def more() -> str:
        return ctx.rng.choice(
            [
                f"经复核，上述违法事实清楚，证据确实充分。当事人{ctx.rep}对违法事实予以确认。",
                "执法人员在调查过程中出示了执法证件，告知了当事人享有的权利，并使用执法记录仪全程记录。",
                f"另查明，你单位{ctx.finding2}，已责令改正。",
                f"根据{ctx.county}安全生产行政处罚自由裁量基准，本案违法情节属于一般情形。",
                "当事人在调查期间能够积极配合，主动整改，依法可以从轻处罚。",
            ]
        )

    def closing(d: _Draft, y: float) -> None:
        remedy = (
            f"如不服本决定，可以在收到本决定书之日起六十日内依法向{ctx.county}人民政府申请行政复议，"
            f"或者在六个月内依法向{ctx.county}人民法院提起行政诉讼，但本决定不停止执行。"
        )
        if kind in {"行政处罚决定书", "责令限期整改指令书"}:
            y = d.para(LEFT, y, BODY_W, remedy, pt, 1.8) + 6
        d.text(RIGHT - 8, y + 10, ctx.agency, SONG, pt, anchor="rs")
        d.text(RIGHT - 12, y + 20, ctx.cn(spec.day), SONG, pt, anchor="rs")
        d.seal(RIGHT - 30 + ctx.rng.uniform(-5, 5), y + 12 + ctx.rng.uniform(-3, 3), ctx.agency, ctx.seed())
        if kind != "行政处罚决定书":
            d.text(LEFT, y + 40, "被检查单位负责人（签收）：", SONG, 12)
            d.sign(LEFT + 60, y + 40, ctx.rep, ctx.seed())
            d.text(RIGHT, y + 40, ctx.cn(spec.day), SONG, 12, anchor="rs")
        d.text(LEFT, 280, "本文书一式两份，一份交当事人，一份存档。", SONG, 10)

    return _Doc(header, _endless(first, more), closing, 82, pt=pt, leading=1.8)


def _attachment(ctx: _Ctx, title: str) -> _Doc:
    def header(d: _Draft) -> float:
        d.text(LEFT, 24, "附件", HEI, 14)
        d.center(36, title, HEI, 16)
        return 50.0

    k = itertools.count(1)

    def more() -> str:
        return f"{next(k)}.{_clause(ctx)}"

    def closing(d: _Draft, y: float) -> None:
        d.text(RIGHT, y + 8, f"{ctx.officers[0]}  {ctx.officers[1]}", SONG, 12, anchor="rs")

    return _Doc(header, _endless([], more), closing, 14)


def _form(
    d: _Draft, x0: float, x1: float, y: float, label_w: float, rows: Sequence[tuple[str, float, Any]]
) -> float:
    """A ruled form: label cell | content cell per row; content is a string or a callable(d, box)."""
    top = y
    for label, h, content in rows:
        d.line(x0, y, x1, y, 0.4)
        lines = wrap(label, label_w - 4, SONG, 12)
        base = y + h / 2 + 1.6 - (len(lines) - 1) * 2.9
        for ln in lines:
            d.text(x0 + label_w / 2, base, ln, SONG, 12, anchor="ms")
            base += 5.8
        if callable(content):
            content(d, (x0 + label_w, y, x1, y + h))
        elif content:
            vl = wrap(content, x1 - x0 - label_w - 6, SONG, 12)
            base = y + min(h / 2 + 1.6 - (len(vl) - 1) * 2.9, 7.5 if len(vl) > 2 else 99)
            for ln in vl:
                d.text(x0 + label_w + 3, base, ln, SONG, 12)
                base += 6.2
        y += h
    d.line(x0, y, x1, y, 0.4)
    d.line(x0, top, x0, y, 0.4)
    d.line(x0 + label_w, top, x0 + label_w, y, 0.4)
    d.line(x1, top, x1, y, 0.4)
    return y


def _opinion(ctx: _Ctx, words: str, signer: str, day: date) -> Callable[[_Draft, tuple], None]:
    def draw(d: _Draft, box: tuple[float, float, float, float]) -> None:
        x0, y0, x1, y1 = box
        d.hand(x0 + 6, y0 + 11, words, ctx.seed(), pt=14)
        d.text(x1 - 58, y1 - 5, "签名：", SONG, 11)
        d.sign(x1 - 46, y1 - 5, signer, ctx.seed())
        d.hand(x1 - 28, y1 - 5, f"{day.month}.{day.day}", ctx.seed(), pt=11)

    return draw


def _approval(ctx: _Ctx, spec: _PieceSpec) -> _Draft:
    d = _Draft("document")
    closing = spec.doc_type == "结案审批表"
    d.spaced(30, spec.doc_type, HEI, 20)
    if spec.doc_no:
        d.text(RIGHT + 3, 42, f"编号：{spec.doc_no}", SONG, 11, anchor="rs")
    when = ctx.cn(ctx.days.get("立案审批表", spec.day))
    party = f"{ctx.company}（法定代表人：{ctx.rep}，地址：{ctx.address}，电话：{ctx.phone}）"
    if not closing:
        facts = (
            f"{ctx.cn(spec.day)}，执法人员在对{ctx.company}进行监督检查时发现，该单位{ctx.finding}，"
            f"涉嫌违反{BASIS[ctx.finding][0]}的规定，需要立案调查。"
        )
        rows = [
            ("案件来源", 13.0, ctx.rng.choice(["监督检查", "群众举报", "上级交办", "其他部门移送"])),
            ("案    由", 13.0, f"{ctx.finding.split('，')[0]}案"),
            ("当 事 人", 24.0, party),
            ("简要案情", 52.0, facts),
            ("承办人意见", 34.0, _opinion(ctx, "建议立案调查。", ctx.officers[0], spec.day)),
            ("承办机构意见", 30.0, _opinion(ctx, "同意立案。", ctx.section_head, spec.day)),
            ("负责人审批意见", 30.0, _opinion(ctx, "同意。", ctx.chief, spec.day)),
            ("备    注", 14.0, ""),
        ]
    else:
        paid = ctx.days.get("罚款缴纳凭证", spec.day)
        rows = [
            ("案    由", 13.0, f"{ctx.finding.split('，')[0]}案"),
            ("当 事 人", 24.0, party),
            ("立案时间", 13.0, when),
            ("处罚决定", 28.0, f"{ctx.case_no}：罚款人民币{UPPER_WAN[ctx.amount]}"),
            ("执行情况", 30.0, f"当事人已于{ctx.cn(paid)}将罚款全额缴至指定银行，整改已完成。"),
            ("承办人意见", 32.0, _opinion(ctx, "建议结案。", ctx.officers[0], spec.day)),
            ("承办机构意见", 28.0, _opinion(ctx, "同意结案。", ctx.section_head, spec.day)),
            ("负责人审批意见", 28.0, _opinion(ctx, "同意。", ctx.chief, spec.day)),
        ]
    _form(d, 20, 190, 46, 34, rows)
    return d


def _receipt(ctx: _Ctx, spec: _PieceSpec) -> _Draft:
    """A 送达回证, ruled, signed, sealed."""
    d = _Draft("document")
    d.spaced(32, "送达回证", HEI, 22)
    served = ctx.days.get(spec.about, spec.day)
    doc_no = ctx.doc_nos.get(spec.about, "")

    def signed(names: Sequence[str]) -> Callable[[_Draft, tuple], None]:
        def draw(d: _Draft, box: tuple) -> None:
            x = box[0] + 6
            for n in names:
                d.sign(x, box[3] - 7, n, ctx.seed())
                x += 36
            h, m = ctx.rng.randint(8, 16), ctx.rng.randint(0, 59)
            d.text(
                box[2] - 3,
                box[3] - 3,
                f"{served.year}年{served.month}月{served.day}日{h}时{m:02d}分",
                SONG,
                10.5,
                anchor="rs",
            )

        return draw

    rows = [
        ("送达文书名称及文号", 22.0, f"{spec.about}（{doc_no}）" if doc_no else spec.about),
        ("受送达人", 15.0, ctx.company),
        ("送达地点", 15.0, ctx.address),
        ("送达方式", 15.0, ctx.rng.choice(["直接送达", "直接送达", "留置送达"])),
        ("收件人签名或盖章", 30.0, signed([ctx.rep])),
        ("送达人签名", 26.0, signed(ctx.officers)),
        ("见证人签名", 22.0, ""),
        ("备注", 24.0, ""),
    ]
    y = _form(d, 20, 190, 48, 44, rows)
    d.text(RIGHT - 6, y + 18, ctx.agency, SONG, 14, anchor="rs")
    d.text(RIGHT - 10, y + 28, ctx.cn(served), SONG, 14, anchor="rs")
    d.seal(
        RIGHT - 30 + ctx.rng.uniform(-4, 4),
        y + 21,
        ctx.agency,
        ctx.seed(),
        bottom=ctx.rng.choice(["", "行政执法专用章"]),
    )
    return d


def _payment(ctx: _Ctx, spec: _PieceSpec) -> _Draft:
    """A bank's 非税收入一般缴款书, on the upper half of the page, with the bank's 转讫 stamp."""
    d = _Draft("document")
    x0, x1, y = 22.0, 188.0, 30.0
    d.center(y, "吉林省非税收入一般缴款书", HEI, 16)
    d.text(x0, y + 10, f"票据号码：{ctx.rng.randint(10**9, 10**10 - 1)}", SONG, 10)
    d.text(x1, y + 10, f"填制日期：{spec.day:%Y-%m-%d}", SONG, 10, anchor="rs")
    amount = f"¥{ctx.amount * 10000:,}.00"
    rows = [
        ("缴款人全称", 11.0, ctx.company),
        ("收款人全称", 11.0, f"{ctx.county}财政局非税收入专户"),
        ("执收单位", 11.0, ctx.agency),
        ("项目名称", 11.0, "罚没收入——安全生产监督管理罚没收入"),
        ("决定书文号", 11.0, ctx.case_no),
        ("金额（大写）", 11.0, f"人民币{UPPER_WAN[ctx.amount]}"),
        ("金额（小写）", 11.0, amount),
        ("收款银行", 11.0, f"{ctx.bank}{ctx.county}支行"),
    ]
    bottom = _form(d, x0, x1, y + 14, 36, rows)
    d.text(x0, bottom + 7, "第二联  收据（交缴款人）", SONG, 10)
    d.stamp(
        x1 - 62 + ctx.rng.uniform(-6, 6),
        bottom - 34,
        [f"{ctx.bank}", f"{ctx.county}支行", f"{spec.day:%Y.%m.%d}", "转讫"],
        ctx.seed(),
    )
    return d


def _photos(ctx: _Ctx, spec: _PieceSpec) -> list[_Draft]:
    out = []
    k = 1
    what = [
        ctx.finding.split("，")[0],
        ctx.finding2.split("，")[0],
        "仓库全景",
        "生产区现场",
        "安全出口",
        "消防器材",
    ]
    for page in range(spec.pages):
        d = _Draft("document")
        if page == 0:
            d.spaced(22, "现场照片", HEI, 18)
        for slot in range(2):
            y0 = 30 + slot * 124
            d.photo(45, y0, 165, y0 + 88, ctx.seed())
            d.text(LEFT + 10, y0 + 98, f"照片{k}：{ctx.company}{what[(k - 1) % len(what)]}", SONG, 11)
            line = f"拍摄时间：{ctx.cn(spec.day)}    拍摄人：{ctx.officers[0]}    见证人："
            d.text(LEFT + 10, y0 + 106, line, SONG, 11)
            d.sign(LEFT + 12 + text_mm(line, SONG, 11), y0 + 106, ctx.rep, ctx.seed(), flourish=False)
            k += 1
        out.append(d)
    return out


def _certified(d: _Draft, ctx: _Ctx, y: float) -> None:
    """'此复印件与原件一致', the party's signature and the company's seal under a photocopy."""
    d.hand(LEFT + 20, y, "此复印件与原件一致", ctx.seed(), pt=15)
    d.sign(LEFT + 100, y + 2, ctx.rep, ctx.seed())
    d.hand(
        LEFT + 135, y + 2, f"{ctx.year}.{ctx.rng.randint(1, 12)}.{ctx.rng.randint(1, 28)}", ctx.seed(), pt=12
    )
    d.seal(LEFT + 70 + ctx.rng.uniform(-8, 8), y - 4, ctx.company, ctx.seed(), d=38)


def _copies(ctx: _Ctx, spec: _PieceSpec) -> list[_Draft]:
    """Photocopies the party handed in: business licence, ID card (both sides), 身份证明书 …"""
    r = ctx.rng
    code = (
        f"91220{r.randint(100, 199)}MA{r.randint(10**5, 10**6 - 1)}{r.choice('ABCDEFGHJK')}{r.randint(0, 9)}"
    )
    born = ctx.rep_born
    founded = date(ctx.year - r.randint(2, 15), r.randint(1, 12), r.randint(1, 28))
    grey = (222, 222, 220)

    def licence(d: _Draft) -> None:
        d.fill(28, 30, 182, 196, grey)
        d.rect(32, 34, 178, 192, 1.2)
        d.spaced(52, "营业执照", HEI, 24)
        y = 66.0
        for label, value in [
            ("统一社会信用代码", code),
            ("名称", ctx.company),
            ("类型", "有限责任公司（自然人投资或控股）"),
            ("法定代表人", ctx.rep),
            ("注册资本", f"人民币{r.choice([50, 100, 200, 500, 1000])}万元"),
            ("成立日期", ctx.cn(founded)),
            ("营业期限", f"长期（自{ctx.cn(founded)}起）"),
            ("住所", ctx.address),
            ("经营范围", "危险化学品经营（凭许可证经营）；仓储服务（不含危险品）；建材、五金销售。"),
        ]:
            d.text(40, y, label, SONG, 11)
            x = max(72.0, 44 + text_mm(label, SONG, 11))
            for ln in wrap(value, 170 - x, SONG, 11):
                d.text(x, y, ln, SONG, 11)
                y += 7
            y += 2
        d.text(170, 184, f"登记机关    {ctx.cn(founded)}", SONG, 10, anchor="rs")
        d.seal(150, 172, f"{ctx.county}市场监督管理局", ctx.seed(), d=36)
        _certified(d, ctx, 222)

    def id_card(d: _Draft) -> None:
        for y0, front in ((36, True), (128, False)):
            d.fill(45, y0, 165, y0 + 76, grey)
            d.rect(45, y0, 165, y0 + 76, 0.5)
            if front:
                d.fill(130, y0 + 10, 158, y0 + 46, (165, 165, 162))
                y = y0 + 14
                for label, value in [
                    ("姓名", ctx.rep),
                    ("性别", f"{ctx.rep_sex}      民族  汉"),
                    ("出生", f"{born.year} 年 {born.month} 月 {born.day} 日"),
                    ("住址", ctx.address),
                ]:
                    d.text(52, y, label, HEI, 9)
                    for ln in wrap(value, 58, SONG, 10.5):
                        d.text(66, y, ln, SONG, 10.5)
                        y += 6
                    y += 3
                d.text(52, y0 + 68, "公民身份号码", HEI, 9)
                d.text(76, y0 + 68, ctx.rep_id, SONG, 12)
            else:
                d.text(105, y0 + 26, "中华人民共和国", HEI, 16, anchor="ms")
                d.text(105, y0 + 40, "居 民 身 份 证", HEI, 18, anchor="ms")
                d.text(62, y0 + 58, f"签发机关  {ctx.county}公安局", SONG, 10.5)
                d.text(62, y0 + 68, f"有效期限  {born.year + 30}.01.01-长期", SONG, 10.5)
        _certified(d, ctx, 238)

    def proof(d: _Draft) -> None:
        d.spaced(40, "法定代表人身份证明书", HEI, 20)
        y = d.para(
            LEFT,
            62,
            BODY_W,
            f"{ctx.rep}，性别{ctx.rep_sex}，{born.year}年{born.month}月{born.day}日出生，在我单位任法定代表人职务，"
            f"特此证明。身份证号码：{ctx.rep_id}。",
            14,
            2.0,
        )
        d.para(LEFT, y + 4, BODY_W, "附：法定代表人身份证复印件", 14, 2.0)
        d.text(RIGHT - 8, 150, ctx.company, SONG, 14, anchor="rs")
        d.text(RIGHT - 14, 162, ctx.cn(ctx.days.get("询问笔录", spec.day)), SONG, 14, anchor="rs")
        d.seal(RIGHT - 40, 152, ctx.company, ctx.seed(), d=38)

    makers = [licence, id_card, proof]
    out = []
    for k in range(spec.pages):
        d = _Draft("document")
        makers[k % 3](d)
        out.append(d)
    return out


def _document(ctx: _Ctx, spec: _PieceSpec) -> list[_Draft]:
    kind, n = spec.doc_type, spec.pages
    if kind in {"立案审批表", "结案审批表"}:
        title = "检查发现问题清单" if kind == "立案审批表" else "执行情况说明"
        return [_approval(ctx, spec), *(_flow(ctx, _attachment(ctx, title), n - 1) if n > 1 else [])]
    if kind == "送达回证":
        return [_receipt(ctx, spec)]
    if kind == "罚款缴纳凭证":
        return [_payment(ctx, spec)]
    if kind == "现场照片":
        return _photos(ctx, spec)
    if kind == "证据材料":
        return _copies(ctx, spec)
    if kind in {"现场检查记录", "勘验笔录"}:
        return _flow(ctx, _inspection(ctx, spec, kind), n)
    if kind == "询问笔录":
        return _flow(ctx, _questioning(ctx, spec), n)
    if kind == "陈述申辩笔录":
        return _flow(ctx, _statement(ctx, spec), n)
    if kind == "案件集体讨论记录":
        return _flow(ctx, _discussion(ctx, spec), n)
    return _flow(ctx, _official(ctx, spec), n)


# ----------------------------------------------------------------------------------------------
# rendering


def _render(draft: _Draft, dpi: int, holes: bool) -> Image.Image:
    k = dpi / 25.4
    img = Image.new("RGB", (round(PAGE_W * k), round(PAGE_H * k)), "white")
    draw = ImageDraw.Draw(img)

    def px(v: float) -> int:
        return round(v * k)

    for op in draft.ops:
        name = op[0]
        if name == "text":
            _, x, y, s, face, pt, color, anchor = op
            draw.text(
                (px(x), px(y)), s, font=_pil_font(face, round(pt * dpi / 72)), fill=color, anchor=anchor
            )
        elif name == "line":
            _, x0, y0, x1, y1, w, color = op
            draw.line((px(x0), px(y0), px(x1), px(y1)), fill=color, width=max(1, round(w * k)))
        elif name == "fill":
            _, x0, y0, x1, y1, color = op
            draw.rectangle((px(x0), px(y0), px(x1), px(y1)), fill=color)
        elif name == "rect":
            _, x0, y0, x1, y1, w, color = op
            draw.rectangle((px(x0), px(y0), px(x1), px(y1)), outline=color, width=max(1, round(w * k)))
        elif name == "sign":
            _, x, y, s, seed, flourish, pt = op
            _signature(img, px(x), px(y), s, seed, dpi, flourish, pt)
        elif name == "seal":
            _, cx, cy, dmm, arc, bottom, seed = op
            _press(img, _seal_mask(px(dmm), arc, bottom), px(cx), px(cy), seed)
        elif name == "stamp":
            _, x0, y0, lines, seed = op
            mask = _stamp_mask(lines, dpi)
            _press(img, mask, px(x0) + mask.shape[1] // 2, px(y0) + mask.shape[0] // 2, seed, spin=6)
        elif name == "photo":
            _, x0, y0, x1, y1, seed = op
            img.paste(_photo((px(x1) - px(x0), px(y1) - px(y0)), seed), (px(x0), px(y0)))
    if draft.page_no is not None:
        _page_number(img, draft.page_no, dpi)
    if holes:
        for y in (98.0, 148.0, 198.0):
            r = 3.0 * k
            draw.ellipse((px(9) - r, px(y) - r, px(9) + r, px(y) + r), fill=(150, 148, 142))
    return img


def _page_number(img: Image.Image, n: int, dpi: int) -> None:
    """The 页号 as a numbering stamp, upper right, slightly askew."""
    rng = random.Random(n * 7919)
    font = _pil_font(MONO, round(15 * dpi / 72))
    side = round(font.size)
    layer = Image.new("L", (side * 4, side * 2), 0)
    ImageDraw.Draw(layer).text(
        (layer.width // 2, layer.height // 2), str(n), font=font, fill=255, anchor="mm"
    )
    layer = layer.rotate(rng.uniform(-6, 6), resample=Image.Resampling.BILINEAR)
    k = dpi / 25.4
    x = round((186 + rng.uniform(-3, 3)) * k) - layer.width // 2
    y = round((13 + rng.uniform(-2, 2)) * k) - layer.height // 2
    color = rng.choice([(30, 30, 36), (40, 52, 120)])
    img.paste(color, (x, y), layer.point(lambda v: v * 0.85))


def _signature(
    img: Image.Image, x: int, y: int, name: str, seed: int, dpi: int, flourish: bool, pt: float
) -> None:
    """A name in a slanted, uneven hand (another font and size than the typing) plus a pen stroke."""
    rng = random.Random(seed)
    px = round((pt or rng.uniform(15, 20)) * dpi / 72)
    face = rng.choice([SERIF_BOLD, SANS, HEI])
    w = round(px * (len(name) * 1.2 + 2))
    h = round(px * 2.2)
    layer = Image.new("L", (w, h), 0)
    cx = px * 0.3
    for ch in name:
        size = round(px * rng.uniform(0.85, 1.15))
        glyph = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(glyph).text((size, size), ch, font=_pil_font(face, size), fill=255, anchor="mm")
        glyph = glyph.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR)
        layer.paste(
            255, (round(cx) - size // 2, round(h * 0.55 - size * 1.0 + rng.uniform(-0.15, 0.15) * px)), glyph
        )
        cx += size * (0.55 if ch.isascii() else rng.uniform(0.88, 1.05))
    shear = rng.uniform(0.15, 0.35)
    layer = layer.transform(
        layer.size, Image.Transform.AFFINE, (1, shear, -shear * h * 0.6, 0, 1, 0), Image.Resampling.BILINEAR
    )
    if flourish:
        pts = _walk(rng, cx - px * 0.2, h * 0.5, px, w, h)
        ImageDraw.Draw(layer).line(pts, fill=235, width=max(2, round(px / 12)), joint="curve")
    ink = rng.choice([PEN, PEN, (20, 20, 24)])
    img.paste(ink, (x, y - round(h * 0.62)), layer.point(lambda v: min(255, int(v * 1.1))))


def _walk(rng: random.Random, x: float, y: float, px: int, w: int, h: int) -> list[tuple[float, float]]:
    """A random-walk pen stroke: a tail off the last character, looping back under the name."""
    pts = [(x, y)]
    heading = rng.uniform(-0.6, 0.3)
    turn = 0.0
    step = px * 0.12
    for _ in range(rng.randint(28, 60)):
        turn = 0.75 * turn + rng.gauss(0, 0.22)
        heading += turn
        x = min(max(x + step * math.cos(heading), 2), w - 3)
        y = min(max(y + step * math.sin(heading), 2), h - 3)
        pts.append((x, y))
    return pts


@cache
def _seal_mask(d: int, arc: str, bottom: str) -> np.ndarray:
    """Coverage (0–1) of a round official seal: ring, name around the top, star in the middle."""
    size = d + 8
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    c = size / 2
    ring = max(3, round(d * 0.035))
    draw.ellipse((c - d / 2, c - d / 2, c + d / 2, c + d / 2), outline=255, width=ring)
    span = min(225.0 if bottom else 270.0, 27.0 * len(arc))  # leave the foot free for ``bottom``
    # characters as large as the arc leaves room for (long names are set smaller and closer)
    ch = round(min(d * 0.155, 0.92 * (d * 0.37) * math.radians(span) / len(arc)))
    font = _pil_font(SERIF_BOLD, ch)
    r = d / 2 - ring - ch * 0.62
    for i, s in enumerate(arc):
        a = -90 - span / 2 + span * (i + 0.5) / len(arc)
        glyph = Image.new("L", (ch * 2, ch * 2), 0)
        ImageDraw.Draw(glyph).text((ch, ch), s, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-(a + 90), resample=Image.Resampling.BICUBIC)
        gx = c + r * math.cos(math.radians(a)) - ch
        gy = c + r * math.sin(math.radians(a)) - ch
        img.paste(255, (round(gx), round(gy)), glyph)
    star_r = d * 0.17
    pts = []
    for i in range(10):
        rr = star_r if i % 2 == 0 else star_r * 0.382
        a = math.radians(-90 + 36 * i)
        pts.append((c + rr * math.cos(a), c + d * 0.01 + rr * math.sin(a)))
    draw.polygon(pts, fill=255)
    if bottom:
        bf = _pil_font(SERIF_BOLD, round(d * 0.085))
        draw.text((c, c + d * 0.27), bottom, font=bf, fill=255, anchor="mm")
    return np.asarray(img, dtype=np.float32) / 255


def _stamp_mask(lines: tuple[str, ...], dpi: int) -> np.ndarray:
    k = dpi / 25.4
    w, h = round(44 * k), round(30 * k)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    draw.rectangle((2, 2, w - 3, h - 3), outline=255, width=max(2, round(0.7 * k)))
    font = _pil_font(SERIF_BOLD, round(9 * dpi / 72))
    big = _pil_font(SERIF_BOLD, round(13 * dpi / 72))
    y = h * 0.2
    for i, ln in enumerate(lines):
        f = big if i == len(lines) - 1 else font
        draw.text((w / 2, y), ln, font=f, fill=255, anchor="mm")
        y += h * (0.19 if i < len(lines) - 2 else 0.24)
    return np.asarray(img, dtype=np.float32) / 255


def _press(img: Image.Image, mask: np.ndarray, cx: int, cy: int, seed: int, spin: float = 25) -> None:
    """Ink ``mask`` onto ``img`` in red, turned, unevenly inked, multiplied (the text shows through)."""
    rng = np.random.default_rng(seed)
    m = Image.fromarray((mask * 255).astype(np.uint8)).rotate(
        float(rng.uniform(-spin, spin)), resample=Image.Resampling.BILINEAR
    )
    a = np.asarray(m, dtype=np.float32) / 255
    h, w = a.shape
    blot = rng.uniform(0.45, 1.0, (5, 5)).astype(np.float32)
    field_ = np.asarray(Image.fromarray(blot, "F").resize((w, h), Image.Resampling.BICUBIC))
    grain = rng.uniform(0.7, 1.0, (h, w)).astype(np.float32)
    a = np.clip(a * np.clip(field_ * 1.4, 0.4, 1.0) * grain * rng.uniform(0.9, 1.0), 0, 1)
    x0, y0 = cx - w // 2, cy - h // 2
    box = (max(0, x0), max(0, y0), min(img.width, x0 + w), min(img.height, y0 + h))
    region = np.asarray(img.crop(box), dtype=np.float32)
    a = a[box[1] - y0 : box[3] - y0, box[0] - x0 : box[2] - x0, None]
    red = np.array(RED, dtype=np.float32) / 255
    out = region * (1 - a * (1 - red))
    img.paste(Image.fromarray(out.clip(0, 255).astype(np.uint8)), box[:2])


def _photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A printed photo of a warehouse-ish scene: shaded walls, shelves, drums."""
    rng = random.Random(seed)
    w, h = size
    wall = np.array([rng.randint(150, 205), rng.randint(145, 195), rng.randint(130, 180)], np.float32)
    var = np.random.default_rng(seed).uniform(0.75, 1.1, (4, 6, 1)).astype(np.float32)
    base = np.clip(var * wall, 0, 255).astype(np.uint8)
    img = Image.fromarray(base, "RGB").resize((w, h), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    floor = round(h * rng.uniform(0.55, 0.75))
    draw.rectangle((0, floor, w, h), fill=(rng.randint(95, 130), rng.randint(92, 125), rng.randint(85, 115)))
    for _ in range(rng.randint(2, 5)):
        x = rng.randint(0, w - 40)
        sw, sh = rng.randint(w // 8, w // 3), rng.randint(h // 4, h // 2)
        grey = rng.randint(70, 140)
        color = (grey, grey + rng.randint(0, 15), grey + rng.randint(0, 30))
        draw.rectangle((x, floor - sh, x + sw, floor), fill=color, outline=(20, 20, 20), width=2)
        for yy in range(floor - sh, floor, max(8, sh // 4)):
            draw.line((x, yy, x + sw, yy), fill=(40, 40, 40), width=2)
    for _ in range(rng.randint(2, 6)):
        x, r = rng.randint(0, w - 30), rng.randint(h // 14, h // 8)
        color = rng.choice([(150, 60, 45), (60, 85, 130), (175, 150, 60), (70, 110, 70)])
        draw.rectangle((x, floor - 2 * r, x + 2 * r, floor + r // 3), fill=color)
        draw.ellipse(
            (x, floor - 2 * r - r // 3, x + 2 * r, floor - 2 * r + r // 3),
            fill=tuple(min(255, c + 30) for c in color),
        )
    ramp = np.linspace(0.72, 1.0, (w + 1) // 2, dtype=np.float32)
    vignette = np.concatenate([ramp, ramp[::-1]])[:w]
    a = np.asarray(img.filter(ImageFilter.GaussianBlur(1.2)), np.float32) * vignette[None, :, None]
    return Image.fromarray(a.clip(0, 255).astype(np.uint8))


@cache
def _grain(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Sensor noise (σ ≈ 6 grey levels) as the parts to add and to subtract, a margin larger than a
    page so that each page takes its own window; made once per page size, from a fixed seed."""
    n = np.random.default_rng(2019).standard_normal((h + 97, w + 97), dtype=np.float32) * 6
    n3 = np.repeat(n[:, :, None], 3, axis=2)
    return np.clip(n3, 0, 255).astype(np.uint8), np.clip(-n3, 0, 255).astype(np.uint8)


def scanned(
    img: Image.Image, seed: int, page: int, dpi: int = 150, paper: tuple[int, int, int] | None = None
) -> bytes:
    """What an office scanner makes of ``img``: JPEG bytes (quality 40–70)."""
    import cv2  # opencv-python-headless comes with rapidocr

    rng = random.Random(seed * 100_003 + page)
    nrng = np.random.default_rng([seed, page])
    w, h = img.size
    a = np.asarray(img)
    # toner never quite black, paper never white: a tone curve per channel to the paper's colour
    black = rng.randint(28, 55)
    tone = (rng.randint(226, 240), rng.randint(224, 236), rng.randint(212, 228))
    paper = paper or tone
    v = np.arange(256, dtype=np.float32)[:, None]
    lut = (black + v * (np.array(paper, np.float32)[None, :] - black) / 255).astype(np.uint8)
    a = cv2.LUT(a, lut.reshape(256, 1, 3))
    # uneven light: a smooth field, darker towards one side
    light = 1 - 0.06 * np.abs(nrng.standard_normal((5, 4))).astype(np.float32)
    light *= np.linspace(1 - rng.uniform(0, 0.06), 1, 4, dtype=np.float32)[None, :]
    if rng.random() < 0.5:
        light = light[:, ::-1]
    shade = cv2.resize(np.ascontiguousarray(light), (w, h), interpolation=cv2.INTER_LINEAR)
    a = cv2.multiply(a, cv2.merge([shade, shade, shade]), dtype=cv2.CV_8U)
    # the sheet lies askew and off-centre on the glass; the lid shows around it
    angle = rng.uniform(0.3, 1.5) * rng.choice([-1, 1])
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += (rng.randint(-12, 12), rng.randint(-12, 12))
    a = cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(246, 246, 244))
    if rng.random() < 0.4:
        a = cv2.GaussianBlur(a, (0, 0), rng.uniform(0.45, 0.8))
    plus, minus = _grain(h, w)
    for _ in range(rng.randint(1, 2)):
        dy, dx = rng.randrange(97), rng.randrange(97)
        a = cv2.add(a, plus[dy : dy + h, dx : dx + w])
        dy, dx = rng.randrange(97), rng.randrange(97)
        a = cv2.subtract(a, minus[dy : dy + h, dx : dx + w])
    for _ in range(rng.randint(20, 120)):  # dust on the glass
        grey = rng.randint(60, 140)
        cv2.circle(a, (rng.randrange(w), rng.randrange(h)), rng.randint(1, 2), (grey, grey, grey), -1)
    out = io.BytesIO()
    Image.fromarray(a).save(out, "JPEG", quality=rng.randint(40, 70), dpi=(dpi, dpi))
    return out.getvalue()


def _scan_pages(p: _Plan, indexes: Sequence[int], workers: int) -> list[bytes]:
    def one(i: int) -> bytes:
        kraft = (206, 182, 142) if p.kraft and p.drafts[i].kind == "cover" else None
        return scanned(_render(p.drafts[i], p.dpi, p.holes), p.seed, i, p.dpi, kraft)

    if workers <= 1:
        return [one(i) for i in indexes]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, indexes))


def _write_pdf(path: Path, pages: Sequence[bytes], password: str | None = None) -> Path:
    """An image-only PDF: each JPEG a full A4 page, its bytes embedded unchanged (DCTDecode).

    Written directly (a dozen objects' syntax): deterministic, and no decoding of the JPEGs as
    reportlab does to hash them. With ``password``, reportlab writes it instead, encrypted."""
    if password is not None:
        return _encrypted_pdf(path, pages, password)
    pw, ph = A4
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(len(pages)))
    objs.append(f"<< /Type /Pages /Count {len(pages)} /Kids [{kids}] >>".encode())
    for i, jpeg in enumerate(pages):
        w, h = Image.open(io.BytesIO(jpeg)).size
        page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2f} {ph:.2f}] "
            f"/Resources << /XObject << /Im{i} {image} 0 R >> >> /Contents {content} 0 R >>".encode()
        )
        draw = f"q {pw:.2f} 0 0 {ph:.2f} 0 0 cm /Im{i} Do Q".encode()
        objs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw))
        head = (
            f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB "
            f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n"
        )
        objs.append(head.encode() + jpeg + b"\nendstream")
        assert page == len(objs) - 2
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    ident = hashlib.md5(bytes(out)).hexdigest().encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R /ID [<%s><%s>] >>\n" % (len(objs) + 1, ident, ident)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def _encrypted_pdf(path: Path, pages: Sequence[bytes], password: str) -> Path:
    """The same pages through reportlab with its standard security handler (RC4, 128-bit)."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    encrypt = StandardEncryption(password, password + "-owner", strength=128)
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True, encrypt=encrypt, pageCompression=0)
    was = rl_config.useA85
    rl_config.useA85 = 0  # binary image streams: reportlab's pure-Python ASCII85 takes ~50 ms a page
    try:
        for jpeg in pages:
            c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width=A4[0], height=A4[1])
            c.showPage()
        c.save()
    finally:
        rl_config.useA85 = was
    return path


def _write_tiff(path: Path, pages: Sequence[bytes], dpi: int) -> Path:
    images = [Image.open(io.BytesIO(j)).convert("RGB") for j in pages]
    images[0].save(
        path, "TIFF", save_all=True, append_images=images[1:], compression="jpeg", quality=75, dpi=(dpi, dpi)
    )
    return path


# ----------------------------------------------------------------------------------------------
# public entry points


def _truth(p: _Plan, catalog: bool = True) -> DossierTruth:
    planned_cat = math.ceil(len(p.specs) / p.rows_per_page)
    n_cat = planned_cat if catalog else 0
    offset = n_cat  # the cover is index 0, the catalog 1…n_cat, 页号 1 is index n_cat + 1
    pieces = []
    page_no = 1
    for i, s in enumerate(p.specs):
        first = page_no + offset
        drafts = p.drafts[page_no + planned_cat : page_no + planned_cat + s.pages]
        pieces.append(
            Piece(
                seq=i + 1,
                doc_no=s.doc_no,
                responsible=s.responsible,
                title=s.title,
                day=s.day,
                doc_type=s.doc_type,
                stage=s.stage.value,
                first_page=first,
                last_page=first + s.pages - 1,
                first_page_no=page_no,
                last_page_no=page_no + s.pages - 1,
                catalog_pages=p.page_cells[i],
                catalog_date=p.date_cells[i],
                note=s.note,
                title_lines=len(_cell_lines("题名", s.title)),
                seal_pages=[first + k for k, d in enumerate(drafts) if d.seals],
                signature_pages=[first + k for k, d in enumerate(drafts) if d.signatures],
            )
        )
        page_no += s.pages
    return DossierTruth(
        seed=p.seed,
        dpi=p.dpi,
        page_count=1 + n_cat + page_no - 1,
        cover_page=0,
        catalog_pages=list(range(1, 1 + n_cat)),
        page_offset=offset,
        case=p.case,
        pieces=pieces,
        catalog_rows_per_page=p.rows_per_page,
    )


def dossier_truth(seed: int, pages: int | None = None) -> DossierTruth:
    """The ground truth of the dossier of ``seed`` without rendering it (cheap)."""
    return _truth(plan(seed, pages))


def make_dossier(
    out_dir: Path,
    seed: int = 0,
    *,
    pages: int | None = None,
    dpi: int = 150,
    tiff: bool = False,
    workers: int = 2,
    name: str | None = None,
) -> LegacyDossier:
    """Scan the dossier of ``seed`` into ``out_dir``: ``<name>.pdf`` (+ ``.tif``) and ``<name>.json``.

    ``pages``: total PDF pages (30–60; by default chosen by the seed). ``dpi``: 150–200.
    """
    if not 100 <= dpi <= 300:
        raise ValueError("dpi should be about 150–200")
    out_dir.mkdir(parents=True, exist_ok=True)
    p = plan(seed, pages, dpi)
    truth = _truth(p)
    scans = _scan_pages(p, range(len(p.drafts)), workers)
    stem = name or f"dossier-{seed}"
    pdf = _write_pdf(out_dir / f"{stem}.pdf", scans)
    tif = _write_tiff(out_dir / f"{stem}.tif", scans, dpi) if tiff else None
    truth.write_json(out_dir / f"{stem}.json")
    return LegacyDossier(truth, pdf, tif, scans, p)


def _variant(
    d: LegacyDossier,
    path: Path,
    truth: DossierTruth,
    pages: list[bytes],
    password: str | None = None,
) -> LegacyDossier:
    _write_pdf(path, pages, password)
    truth.write_json(path.with_suffix(".json"))
    return LegacyDossier(truth, path, None, pages, d._plan)


def without_catalog(d: LegacyDossier, path: Path) -> LegacyDossier:
    """The dossier with its 卷内目录 pages missing: cover, then the documents."""
    t = _truth(d._plan, catalog=False)
    t.variant, t.defects = "without_catalog", ["卷内目录缺失"]
    drop = set(d.truth.catalog_pages)
    return _variant(d, path, t, [j for i, j in enumerate(d.pages) if i not in drop])


def _recatalog(
    d: LegacyDossier, path: Path, cells: list[str], variant: str, defects: list[str]
) -> LegacyDossier:
    p = replace(d._plan, page_cells=cells)
    cat = _catalog(p, cells)
    p.drafts = [p.drafts[0], *cat, *p.drafts[1 + len(cat) :]]
    scans = list(d.pages)
    for i, jpeg in zip(d.truth.catalog_pages, _scan_pages(p, d.truth.catalog_pages, 2), strict=True):
        scans[i] = jpeg
    t = _truth(p)
    t.variant, t.defects = variant, defects
    out = _variant(d, path, t, scans)
    out._plan = p
    return out


def pages_past_end(d: LegacyDossier, path: Path, beyond: int = 5) -> LegacyDossier:
    """The last row's 页号 runs ``beyond`` pages past the last page (a clerk's slip)."""
    cells = list(d._plan.page_cells)
    last = d.truth.pieces[-1]
    end = last.last_page_no + beyond
    cells[-1] = f"{last.first_page_no}-{end}"
    defect = f"第{last.seq}件 页号 {cells[-1]} 超出末页 {d.truth.pieces[-1].last_page_no}"
    return _recatalog(d, path, cells, "pages_past_end", [defect])


def overlapping_ranges(d: LegacyDossier, path: Path) -> LegacyDossier:
    """One row's 页号 range runs two pages into the next 件's."""
    cells = list(d._plan.page_cells)
    pieces = d.truth.pieces
    for i in range(len(pieces) - 1):
        if cells[i] and cells[i + 1] and pieces[i].page_count > 1:
            break
    else:  # pragma: no cover - every plan has such a pair (≥ 5 multi-page 件)
        raise ValueError("no row to overlap")
    a = pieces[i]
    cells[i] = f"{a.first_page_no}-{a.last_page_no + 2}"
    defect = f"第{a.seq}件 页号 {cells[i]} 与第{a.seq + 1}件 {cells[i + 1]} 重叠"
    return _recatalog(d, path, cells, "overlapping_ranges", [defect])


def encrypted(d: LegacyDossier, path: Path, password: str = "nongan2019") -> LegacyDossier:
    """The same scan as a password-protected PDF (reportlab, RC4 128-bit; the user password opens it)."""
    t = replace(d.truth, variant="encrypted", defects=["PDF 已加密"], password=password)
    return _variant(d, path, t, list(d.pages), password)


# ----------------------------------------------------------------------------------------------
# the catalog as a spreadsheet

CANONICAL = ("序号", "文号", "责任者", "题名", "日期", "页号", "备注")
# header names as offices type them; the second element of a variant: its column order
HEADER_VARIANTS: list[tuple[tuple[str, ...], tuple[int, ...], bool, bool]] = [
    # (names in canonical order, column order, title rows above the header, dates as date cells)
    (("序号", "文号", "责任者", "题名", "日期", "页号", "备注"), (0, 1, 2, 3, 4, 5, 6), False, False),
    (
        ("件号", "文件编号", "责任单位", "文件题名", "成文日期", "页次", "备注"),
        (0, 2, 1, 3, 4, 5, 6),
        True,
        True,
    ),
    (
        ("顺序号", "文号", "责任者", "文件题名", "形成时间", "起止页", "附注"),
        (0, 3, 1, 2, 4, 5, 6),
        False,
        False,
    ),
    (
        (" 序 号", "文  号", "责任人", "题　名", "日 期", "起止页号", "备 注"),
        (0, 1, 2, 3, 4, 5, 6),
        True,
        False,
    ),
    (
        ("序号", "发文字号", "责任部门", "标题", "文件日期", "所在页码", "说明"),
        (5, 0, 3, 1, 2, 4, 6),
        False,
        True,
    ),
]
_calls = itertools.count()


@dataclass
class CatalogSheet:
    path: Path
    headers: list[str]  # as written, left to right
    columns: list[str]  # the canonical name of each column, left to right
    header_row: int  # 1-based row of the header
    dates_as_cells: bool
    encoding: str | None = None  # CSV only


def catalog_rows(truth: DossierTruth) -> list[dict[str, str]]:
    """The 卷内目录 rows as written on paper, by canonical column name."""
    return [
        {
            "序号": str(p.seq),
            "文号": p.doc_no,
            "责任者": p.responsible,
            "题名": p.title,
            "日期": p.catalog_date,
            "页号": p.catalog_pages,
            "备注": p.note,
        }
        for p in truth.pieces
    ]


def _pick(variant: int | None) -> tuple[tuple[str, ...], tuple[int, ...], bool, bool]:
    return HEADER_VARIANTS[(next(_calls) if variant is None else variant) % len(HEADER_VARIANTS)]


def write_catalog_xlsx(truth: DossierTruth, path: Path, variant: int | None = None) -> CatalogSheet:
    """The catalog as typed into Excel; ``variant`` picks the header names (default: the next one)."""
    from openpyxl import Workbook

    names, order, title, date_cells = _pick(variant)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "卷内目录"
    row = 1
    if title:
        ws.cell(1, 1, "卷内目录")
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(order))
        ws.cell(2, 1, f"案号：{truth.case.case_no}")
        ws.cell(2, 4, f"档号：{truth.case.archive_code}")
        row = 4
    for col, k in enumerate(order, start=1):
        ws.cell(row, col, names[k])
    for piece, cells in zip(truth.pieces, catalog_rows(truth), strict=True):
        row += 1
        for col, k in enumerate(order, start=1):
            key = CANONICAL[k]
            value: Any = cells[key]
            if key == "序号" or (key == "页号" and value.isdigit()):
                value = int(value)
            elif key == "日期" and date_cells:
                value = piece.day
            ws.cell(row, col, value if value != "" else None)
            if key == "日期" and date_cells:
                ws.cell(row, col).number_format = "yyyy.mm.dd"
    wb.save(path)
    return CatalogSheet(
        path, [names[k] for k in order], [CANONICAL[k] for k in order], 4 if title else 1, date_cells
    )


def write_catalog_csv(
    truth: DossierTruth, path: Path, variant: int | None = None, encoding: str = "utf-8-sig"
) -> CatalogSheet:
    """The catalog as a CSV (Excel's "CSV UTF-8" has a BOM; ``gb18030`` for the older exports)."""
    names, order, _title, _dates = _pick(variant)
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow([names[k] for k in order])
        for cells in catalog_rows(truth):
            w.writerow([cells[CANONICAL[k]] for k in order])
    return CatalogSheet(path, [names[k] for k in order], [CANONICAL[k] for k in order], 1, False, encoding)
