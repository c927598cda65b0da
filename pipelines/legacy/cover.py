"""The case facts on a dossier's cover (卷宗封面), read from its OCR text.

Covers print a label and its value — 案号、案由 (or 案卷题名)、当事人、立案日期、结案日期、保管期限、
立卷人 — in boxes whose reading order OCR does not always keep; each value is looked for right
after its label, and a 案号 is also recognised by its shape (机关代字〔年份〕序号号) anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from archive.enums import Retention
from pipelines.legacy.catalog import doc_number, parse_date

CASE_NO = re.compile(r"[\u4e00-\u9fff]{2,8}[〔\[［(（](?:19|20)\d{2}[〕\]］)）]\d{1,5}号")
_LABELS = {
    "case_no": ("案号", "文号", "卷号"),
    "name": ("案由", "案卷题名", "题名", "案件名称"),
    "party": ("当事人", "被处罚人", "被检查单位"),
    "opened": ("立案日期", "立案时间", "起始日期"),
    "closed": ("结案日期", "结案时间", "终止日期"),
    "retention": ("保管期限",),
    "archivist": ("立卷人", "整理人", "归档人"),
}
_ALL_LABELS = "|".join(sorted({w for ws in _LABELS.values() for w in ws}, key=len, reverse=True))
_VALUE = r"\s*[:：]?\s*(.+?)\s*(?=(?:{labels})\s*[:：]?|$)"


@dataclass(frozen=True)
class CoverFacts:
    """What the cover says; any field may be missing (the archivist completes it in review)."""

    case_no: str = ""
    name: str = ""
    party: str = ""
    opened: date | None = None
    closed: date | None = None
    retention: Retention | None = None
    archivist: str = ""


def _after(label: str, text: str) -> str:
    m = re.search(re.escape(label) + _VALUE.format(labels=_ALL_LABELS), text, re.S)
    return m.group(1).strip() if m else ""


def _is_label(line: str) -> bool:
    return any(line.startswith(w) for ws in _LABELS.values() for w in ws)


def _field(name: str, lines: list[str]) -> str:
    """The value after ``name``'s label: on the label's own line, or (a boxed form, where label
    and value sit in cells of their own) on the next line that is not a label itself."""
    for i, line in enumerate(lines):
        for label in _LABELS[name]:
            if not line.startswith(label) and label not in line:
                continue
            value = _after(label, line)
            if value:
                return value
            if line == label and i + 1 < len(lines) and not _is_label(lines[i + 1]):
                return lines[i + 1]
    return ""


def _retention(text: str) -> Retention | None:
    for r in Retention:
        if r.value in text.replace(" ", ""):
            return r
    if "长期" in text:
        return Retention.YEARS_30
    if "短期" in text:
        return Retention.YEARS_10
    return None


def read_cover(text: str) -> CoverFacts:
    """The facts of a cover from its OCR text (lines in reading order)."""
    # printed forms space their labels out ("案　　号", "当 事 人"): read without any spaces
    lines = [re.sub(r"[\s\u3000]+", "", line) for line in text.splitlines() if line.strip()]
    joined = "".join(line.replace(" ", "") for line in lines)
    labelled = re.sub(r"\s+", "", _field("case_no", lines))
    m = CASE_NO.search(labelled) or next(
        (found for line in lines if (found := CASE_NO.search(line.replace(" ", "")))), None
    )
    case_no = doc_number(m.group(0) if m else labelled)
    return CoverFacts(
        case_no=case_no,
        name=_field("name", lines),
        party=_field("party", lines),
        opened=parse_date(_field("opened", lines)),
        closed=parse_date(_field("closed", lines)),
        retention=_retention(_field("retention", lines) or joined),
        archivist=_field("archivist", lines).replace(" ", ""),
    )


def read_cover_table(rows: list[list[str]], text: str) -> CoverFacts:
    """The facts of a boxed cover: each label's value is the next filled cell of its row (a value
    that wraps inside its box stays whole); what the boxes do not give is read from ``text``."""
    found: dict[str, str] = {}
    for row in rows:
        cells = [re.sub(r"[\s\u3000]+", "", c) for c in row]
        for i, cell in enumerate(cells):
            name = next((n for n, labels in _LABELS.items() if cell in labels), None)
            if name is None or name in found:
                continue
            value = next((c for c in cells[i + 1 :] if c), "")
            if value and not _is_label(value):
                found[name] = value
    loose = read_cover(text)
    case_no = CASE_NO.search(found.get("case_no", "")) if found.get("case_no") else None
    retention = _retention(found.get("retention", ""))
    return CoverFacts(
        case_no=doc_number(case_no.group(0)) if case_no else loose.case_no,
        name=found.get("name") or loose.name,
        party=found.get("party") or loose.party,
        opened=parse_date(found.get("opened")) or loose.opened,
        closed=parse_date(found.get("closed")) or loose.closed,
        retention=retention or loose.retention,
        archivist=found.get("archivist") or loose.archivist,
    )
