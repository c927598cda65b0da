"""What an archivist confirms: the case facts and each 件's pages and fields, checked before
anything is written.

A :class:`Plan` starts as the proposal (``propose``) and takes the archivist's edits (a moved
boundary, a corrected 题名, the catalog pages dropped from the pieces). :func:`problems` says, in
Chinese, everything that keeps it from being imported; an import never starts with one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from archive.enums import CaseOrigin, EnforcementKind, EventKind, Retention, Stage

CASE_NO_MAX = 64
TEXT_MAX = 255


@dataclass(frozen=True)
class PlannedPiece:
    """One 件 to be made: its PDF pages (0-based, inclusive) and its 第二十六条 fields."""

    seq: int
    title: str
    first_index: int
    last_index: int
    doc_no: str = ""
    author: str = ""
    day: date | None = None
    document_type: str = ""
    stage: Stage | None = None
    activity: EventKind | None = None
    file: str | None = None  # a folder's file that is this 件 (its pages are not cut from a scan)

    @property
    def pages(self) -> int:
        """How many pages it has."""
        return self.last_index - self.first_index + 1


@dataclass(frozen=True)
class Plan:
    """A dossier as it will be imported."""

    page_count: int
    case_no: str
    name: str
    party: str
    opened: date | None
    closed: date | None
    retention: Retention | None
    archivist: str
    kind: EnforcementKind
    origin: CaseOrigin
    pieces: list[PlannedPiece]
    cover_page: int | None = None
    catalog_pages: list[int] = field(default_factory=list)

    def unassigned(self) -> list[int]:
        """PDF page indexes in no 件 and not the cover or catalog (kept in the scan, said)."""
        if any(p.file for p in self.pieces):
            return []
        used = {i for p in self.pieces for i in range(p.first_index, p.last_index + 1)}
        used |= set(self.catalog_pages) | ({self.cover_page} if self.cover_page is not None else set())
        return [i for i in range(self.page_count) if i not in used]


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _enum_or_none(cls: Any, value: Any) -> Any:
    return cls(value) if value not in (None, "") else None


def infer_kind(pieces: list[PlannedPiece]) -> EnforcementKind:
    """执法类别 from the documents filed: a 处罚决定书/告知书 makes it 行政处罚, a 查封扣押 or
    强制执行 one 行政强制, else 监督检查 (the archivist may change it)."""
    types = {p.document_type for p in pieces}
    if types & {"行政处罚决定书", "行政处罚告知书"}:
        return EnforcementKind.PENALTY
    if types & {"查封扣押决定书", "强制执行文书"}:
        return EnforcementKind.COERCION
    return EnforcementKind.SUPERVISION


def infer_origin(pieces: list[PlannedPiece]) -> CaseOrigin:
    """案件来源: a 投诉/举报 document makes it 投诉举报, else 依职权."""
    if any("投诉" in p.title or "举报" in p.title for p in pieces):
        return CaseOrigin.COMPLAINT
    return CaseOrigin.EX_OFFICIO


def plan_from(proposal: dict[str, Any], case_no: str | None = None) -> Plan:
    """The plan a proposal (``Proposal.to_json()``, possibly edited) makes; ``case_no`` overrides
    the cover's. ValueError when a field has the wrong form."""
    pieces = [
        PlannedPiece(
            seq=int(p["seq"]),
            title=str(p.get("title") or ""),
            first_index=int(p["first_index"]),
            last_index=int(p["last_index"]),
            doc_no=str(p.get("doc_no") or ""),
            author=str(p.get("author") or ""),
            day=_day(p.get("date")),
            document_type=str(p.get("document_type") or ""),
            stage=_enum_or_none(Stage, p.get("stage")),
            activity=_enum_or_none(EventKind, p.get("activity")),
            file=str(p["file"]) if p.get("file") else None,
        )
        for p in proposal.get("pieces") or []
    ]
    cover = proposal.get("cover") or {}
    kind = _enum_or_none(EnforcementKind, cover.get("kind")) or infer_kind(pieces)
    origin = _enum_or_none(CaseOrigin, cover.get("origin")) or infer_origin(pieces)
    return Plan(
        page_count=int(proposal["page_count"]),
        case_no=(case_no or str(cover.get("case_no") or "")).strip(),
        name=str(cover.get("name") or "").strip(),
        party=str(cover.get("party") or "").strip(),
        opened=_day(cover.get("opened")),
        closed=_day(cover.get("closed")),
        retention=_enum_or_none(Retention, cover.get("retention")),
        archivist=str(cover.get("archivist") or "").strip(),
        kind=kind,
        origin=origin,
        pieces=pieces,
        cover_page=proposal.get("cover_page"),
        catalog_pages=[int(i) for i in proposal.get("catalog_pages") or []],
    )


_CASE_NO = re.compile(r"^[^\s/\\<>]{2,64}$")


def problems(plan: Plan) -> list[str]:
    """Everything that keeps the plan from being imported (empty when it can be)."""
    out: list[str] = []
    if not plan.case_no:
        out.append("封面上没有读到案号：请填写案号")
    elif not _CASE_NO.match(plan.case_no):
        out.append(f"案号“{plan.case_no[:CASE_NO_MAX]}”格式不对（2–64 个字符，不含空格和斜杠）")
    if not plan.name:
        out.append("请填写案件名称（案由）")
    if len(plan.name) > TEXT_MAX or len(plan.party) > TEXT_MAX:
        out.append(f"案件名称或当事人过长（至多 {TEXT_MAX} 个字）")
    if plan.opened is None:
        out.append("请填写立案日期")
    if plan.closed is None:
        out.append("请填写结案日期（执行终结）")
    if plan.opened and plan.closed and plan.closed < plan.opened:
        out.append(f"结案日期 {plan.closed} 早于立案日期 {plan.opened}")
    if plan.retention is None:
        out.append("请选择保管期限（永久、30年、10年）")
    if not plan.archivist:
        out.append("请填写立卷人（第二十七条：归档、保管责任人）")
    if not plan.pieces:
        out.append("没有任何一件：至少要有一件文书")
    last = -1
    reserved = set(plan.catalog_pages) | ({plan.cover_page} if plan.cover_page is not None else set())
    for p in plan.pieces:
        name = f"第 {p.seq} 件“{p.title[:20]}”"
        if not p.title.strip():
            out.append(f"第 {p.seq} 件没有题名")
        if len(p.title) > TEXT_MAX:
            out.append(f"{name}的题名过长（至多 {TEXT_MAX} 个字）")
        if len(p.doc_no) > 64 or len(p.author) > 64 or len(p.document_type) > 64:
            out.append(f"{name}的文号、责任者或文书类型过长（至多 64 个字）")
        if p.file is not None:  # a file of its own: no pages to cut
            if p.file != Path(p.file).name or p.file.startswith("."):
                out.append(f"{name}的文件名“{p.file[:40]}”不是文件夹中的一个文件")
            continue
        if not 0 <= p.first_index <= p.last_index < plan.page_count:
            out.append(
                f"{name}的页码 {p.first_index + 1}–{p.last_index + 1} 不在扫描件的 1–{plan.page_count} 页之内"
            )
            continue
        if p.first_index <= last:
            out.append(f"{name}从扫描件第 {p.first_index + 1} 页开始，与前一件重叠或次序颠倒")
        taken = sorted(reserved & set(range(p.first_index, p.last_index + 1)))
        if taken:
            out.append(f"{name}包含封面或卷内目录页（第 {taken[0] + 1} 页）")
        last = max(last, p.last_index)
    return out
