"""Realistic Chinese sample files for the demo, tests and benchmarks (made here, never fetched)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from indexer.documents import IndexDoc

FONT = "STSong-Light"  # a CID font reportlab knows without a font file
_registered = False

COMPANIES = [
    "农安县宏达化工有限公司",
    "农安县顺通物流有限公司",
    "长春市北方烟花爆竹批发站",
    "农安县金鑫矿业有限公司",
    "农安县万家福超市",
    "吉林省恒泰建筑工程有限公司",
]
PERSONS = ["张建国", "李秀兰", "王志强", "刘海燕", "陈立新", "赵明"]
OFFICERS = ["孙立军", "周晓梅", "吴国庆", "郑海波"]
FINDINGS = [
    "危险化学品仓库未设置可燃气体报警装置",
    "特种作业人员未持特种作业操作证上岗",
    "安全出口被货物堵塞，疏散通道不畅通",
    "未按规定开展安全生产教育和培训",
    "重大事故隐患排查治理台账记录不全",
    "应急预案未按规定组织演练",
    "液氨储罐压力表超过检定有效期",
    "消防器材配备不足且部分失效",
]
DOC_TYPES = ["现场检查记录", "询问笔录", "责令限期整改指令书", "行政处罚告知书", "行政处罚决定书", "送达回证"]


def _font() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True


def write_pdf(path: Path, pages: list[str], title: str = "") -> Path:
    """A text-layer PDF with one string per page, wrapped to the page width."""
    _font()
    c = canvas.Canvas(str(path), pagesize=A4, invariant=True)  # same input → same bytes
    c.setTitle(title)
    _, height = A4
    per_line = 36
    for text in pages:
        c.setFont(FONT, 12)
        y = height - 72
        for para in text.split("\n"):
            for i in range(0, max(len(para), 1), per_line):
                c.drawString(60, y, para[i : i + per_line])
                y -= 18
                if y < 60:
                    break
        c.showPage()
    c.save()
    return path


def inspection_text(rng: random.Random, serial: int, extra: str = "") -> str:
    """A plausible 现场检查记录 body."""
    company = rng.choice(COMPANIES)
    officer_a, officer_b = rng.sample(OFFICERS, 2)
    findings = rng.sample(FINDINGS, 2)
    return (
        f"现场检查记录（编号 农应急检〔2026〕{serial}号）\n"
        f"被检查单位：{company}\n"
        f"检查时间：2026年{rng.randint(1, 11)}月{rng.randint(1, 28)}日\n"
        f"检查人员：{officer_a}、{officer_b}（执法证号 2201{rng.randint(100000, 999999)}）\n"
        f"检查情况：经现场检查发现，{findings[0]}；{findings[1]}。{extra}\n"
        "以上情况当事人已确认无误，责令限期整改。\n"
    )


def make_text_pdfs(
    folder: Path, count: int, *, marker: str, every: int = 7, seed: int = 2026, pages: int = 1
) -> set[str]:
    """``count`` inspection PDFs of ``pages`` pages; every ``every``-th contains ``marker`` (on its
    first page). Returns their names."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with_marker: set[str] = set()
    for i in range(count):
        name = f"检查记录_{i:04d}.pdf"
        extra = f"另查明{marker}。" if i % every == 0 else ""
        more = [inspection_text(rng, i * 100 + p) for p in range(1, pages)]
        write_pdf(folder / name, [inspection_text(rng, i, extra), *more], title=name)
        if extra:
            with_marker.add(name)
    return with_marker


STAGES = ["程序启动", "调查取证", "审查决定", "送达执行", "归档管理"]
CLAUSES = [
    *FINDINGS,
    "执法人员出示执法证件，告知当事人依法享有陈述、申辩和要求听证的权利",
    "现场使用执法记录仪全程录像，录像资料于当日存储至专用存储器",
    "依据《中华人民共和国安全生产法》第九十九条的规定，责令限期整改",
    "当事人对检查结果无异议，并在现场检查记录上签字确认",
    "对涉案危险化学品实施先行登记保存，并开具先行登记保存证据通知书",
    "行政处罚决定书以留置送达方式送达，见证人在场并签名",
    "当事人不服本决定的，可以在六十日内申请行政复议",
    "经集体讨论决定，给予罚款人民币{n}万元的行政处罚",
    "整改复查时发现隐患已整改完毕，同意销案",
    "询问笔录记载了当事人对违法事实的陈述",
]

INDEX_DOC_TYPES = ["现场检查记录", "询问笔录", "行政处罚决定书", "送达回证", "整改复查意见书"]
CLASSIFICATIONS = ["公开", "内部", "商业秘密", "个人隐私"]


TOWNS = ["农安镇", "合隆镇", "烧锅镇", "哈拉海镇", "万顺乡", "开安镇", "青山口乡", "伏龙泉镇"]
ROADS = ["兴农路", "工业大街", "黄龙路", "宝塔街", "富民大路", "腾飞路"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀兰志强海燕立新明华丽军伟芳娜敏静磊洋勇艳杰涛"


def _details(rng: random.Random) -> str:
    """The particulars that make each record different: time, place, people, phone numbers."""
    name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))
    return (
        f"检查时间{rng.randint(1, 12)}月{rng.randint(1, 28)}日{rng.randint(8, 17)}时{rng.randint(0, 59)}分，"
        f"地点{rng.choice(TOWNS)}{rng.choice(ROADS)}{rng.randint(1, 999)}号，"
        f"现场陪同人员{name}，联系电话13{rng.randint(0, 999_999_999):09d}"
    )


DECADE_STEPS = 12_500  # 制作时间 steps of 7 hours: ten years, then they start again


def make_index_docs(n: int, rng: random.Random) -> list[IndexDoc]:
    """``n`` search documents of ~500 characters of enforcement prose, with varied metadata."""
    start = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
    docs = []
    for i in range(n):
        parts = [f"{rng.choice(COMPANIES)}（负责人{rng.choice(PERSONS)}）", _details(rng)]
        while sum(len(p) for p in parts) < 480:
            parts.append(rng.choice(CLAUSES).format(n=rng.randint(1, 20)))
        text = "。".join(parts) + "。"
        docs.append(
            IndexDoc(
                i + 1,
                f"执法记录{i + 1}",
                text,
                case_no=f"农应急罚〔2026〕{i % 997 + 1}号",
                stage=STAGES[i % 5],
                form="音像" if i % 7 == 0 else "文字",
                document_type=INDEX_DOC_TYPES[i % len(INDEX_DOC_TYPES)],
                made_by=rng.choice(OFFICERS),
                classification=CLASSIFICATIONS[i % len(CLASSIFICATIONS)],
                made_at=start + timedelta(hours=7 * (i % DECADE_STEPS)),
            )
        )
    return docs
