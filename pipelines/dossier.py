"""Filing a closed case into a dossier (卷宗, 第二十七条), exporting it as a BagIt package
(RFC 8493), and checking the fixity of every stored original.

Filing orders the records by stage and date and numbers them (件号), renders the cover and the
卷内目录 as a PDF kept in the store, sets the retention (永久/30年/10年), names the archivist, and
freezes the case: its records, metadata and transcripts can no longer change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import bagit
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.cases import get_by_case_no
from archive.db import session_scope
from archive.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Dossier,
    EventKind,
    FileRole,
    ProcessingStatus,
    Record,
    RecordForm,
    Retention,
    Stage,
    utcnow,
)
from archive.timeutil import to_local
from pipelines.catalog import CatalogItem, Cover, render
from pipelines.compliance import refresh_cases
from pipelines.context import Services
from pipelines.detect import MediaFamily, family_of

STAGE_ORDER = {s: i for i, s in enumerate(Stage)}
# The 备注 of an 音像 record in the 卷内目录 by its family (anything else is a photo).
AV_KIND = {MediaFamily.AUDIO: "录音", MediaFamily.VIDEO: "录像"}
EXTENSIONS = {
    "application/json": ".json",
    "text/plain; charset=utf-8": ".txt",
    "application/x-subrip; charset=utf-8": ".srt",
    "text/vtt; charset=utf-8": ".vtt",
    "image/jpeg": ".jpg",
}


class DossierError(ValueError):
    """The case cannot be filed or exported now (message in Chinese, says why)."""


def _day(moment: datetime | None) -> date | None:
    return to_local(moment).date() if moment else None


def ordered(records: list[Record]) -> list[Record]:
    """Records in filing order: by stage (程序启动 → 归档管理), then date made, then id — or
    as numbered already (a filed case; an imported paper dossier keeps its catalog's order)."""
    if records and all(r.piece_no for r in records):
        return sorted(records, key=lambda r: (r.piece_no or 0, r.id))
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(
        records,
        key=lambda r: (
            STAGE_ORDER.get(r.stage, len(STAGE_ORDER)) if r.stage else len(STAGE_ORDER),
            to_local(r.made_at or r.stored_at) if (r.made_at or r.stored_at) else far,
            r.id,
        ),
    )


def _note(r: Record) -> str:
    if r.form is RecordForm.AUDIOVISUAL:
        seconds = ((r.source_meta or {}).get("media") or {}).get("duration_s")
        kind = AV_KIND.get(family_of(r.mime), "照片")
        return f"{kind} {int(seconds) // 60}分{int(seconds) % 60:02d}秒" if seconds else kind
    return "处理失败" if r.status is ProcessingStatus.FAILED else ""


def catalog(records: list[Record]) -> list[CatalogItem]:
    """The 卷内目录 rows, numbered in filing order."""
    return [
        CatalogItem(
            piece_no=n,
            responsible=r.made_by or "",
            doc_no=r.doc_no or "",
            title=r.title,
            day=_day(r.made_at),
            pages=r.page_count or 1,
            note=_note(r),
        )
        for n, r in enumerate(ordered(records), start=1)
    ]


def _load(s: Session, case_no: str) -> Case:
    case = get_by_case_no(session=s, case_no=case_no)
    s.refresh(case)
    return (
        s.scalar(
            select(Case)
            .where(Case.id == case.id)
            .options(selectinload(Case.records).selectinload(Record.files), selectinload(Case.parties))
        )
        or case
    )


def _cover(case: Case, retention: str, archivist: str, filed: date) -> Cover:
    return Cover(
        case_no=case.case_no,
        case_name=case.name,
        parties="、".join(p.name for p in case.parties),
        kind=case.enforcement_kind.value,
        opened=_day(case.opened_at),
        ended=_day(case.enforcement_ended_at),
        filed=filed,
        retention=retention,
        archivist=archivist,
    )


def preview(svc: Services, case_no: str, retention: Retention, archivist: str) -> bytes:
    """The catalog PDF the case would be filed with (nothing changes)."""
    with Session(svc.engine) as s:
        case = _load(s, case_no)
        today = to_local(utcnow()).date()
        return render(_cover(case, retention.value, archivist, today), catalog(list(case.records)))


def file_case(svc: Services, case_no: str, *, retention: Retention, archivist: str, filed_by: str) -> Dossier:
    """File an ended case (执行终结) into its dossier and freeze it."""
    if not archivist.strip():
        raise DossierError("须指定归档、保管责任人（第二十七条）")
    with session_scope(svc.engine) as s:
        case = _load(s, case_no)
        if case.status is CaseStatus.ARCHIVED:
            raise DossierError(f"案件 {case_no} 已归档")
        if case.status is not CaseStatus.ENDED:
            raise DossierError(f"案件 {case_no} 尚未执行终结，不能归档（先记录“执行终结”环节）")
        busy = [
            r.title
            for r in case.records
            if r.status in (ProcessingStatus.PENDING, ProcessingStatus.PROCESSING)
        ]
        if busy:
            raise DossierError(f"仍有记录在处理中：{'、'.join(busy[:5])}；处理完成后再归档")
        if not case.records:
            raise DossierError(f"案件 {case_no} 没有任何记录")
        now = utcnow()
        records = ordered(list(case.records))
        pdf = render(_cover(case, retention.value, archivist, to_local(now).date()), catalog(records))
        info = svc.store.put_bytes(pdf, mime="application/pdf")
        for n, r in enumerate(records, start=1):
            r.piece_no = n
        scan = legacy_scan(records)
        dossier = Dossier(
            case_id=case.id,
            retention=retention,
            archivist=archivist.strip(),
            filed_by=filed_by,
            filed_at=now,
            pieces=len(records),
            catalog_sha256=info.sha256,
            source_sha256=scan[0] if scan else None,
            source_name=scan[1] if scan else None,
        )
        s.add(dossier)
        case.status, case.archived_at, case.archivist = CaseStatus.ARCHIVED, now, archivist.strip()
        s.add(CaseEvent(case_id=case.id, kind=EventKind.FILED, occurred_at=now, note=f"{filed_by} 归档"))
        # The originals and the catalog stay undeletable for the retention period (object lock
        # on S3; read-only files locally) — before the commit, so a failure leaves the case open.
        until = retain_until(retention, to_local(now).date())
        for sha in [*(r.sha256 for r in records), info.sha256, *(scan[:1] if scan else [])]:
            svc.store.retain(sha, until)
        s.flush()
        s.expunge(dossier)
        case_id = case.id
    refresh_cases(svc, [case_id])
    return dossier


def legacy_scan(records: list[Record]) -> tuple[str, str] | None:
    """SHA-256 and file name of the paper dossier scan the records were cut from, if they were."""
    for r in records:
        legacy = (r.source_meta or {}).get("legacy") or {}
        if legacy.get("source_sha256"):
            return str(legacy["source_sha256"]), str(legacy.get("source_name") or "卷宗扫描件")
    return None


RETENTION_YEARS = {Retention.PERMANENT: 100, Retention.YEARS_30: 30, Retention.YEARS_10: 10}


def retain_until(retention: Retention, filed: date) -> date:
    """The object-lock date of a dossier's files: 永久 is locked for 100 years (S3 needs a date)."""
    years = RETENTION_YEARS[retention]
    try:
        return filed.replace(year=filed.year + years)
    except ValueError:  # 29 February
        return filed.replace(year=filed.year + years, day=28)


def _copy(svc: Services, sha256: str, target: Path) -> None:
    """Stream an object to ``target``, checking its SHA-256 on the way."""
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for block in svc.store.iter_bytes(sha256):
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != sha256:
        raise DossierError(f"存储中的对象 {sha256[:12]}… 校验值不符：原件可能已被篡改，导出中止")


def _safe(name: str) -> str:
    return "".join(c if c not in '/\\:*?"<>|\0' else "_" for c in name)[:120] or "file"


def _record_meta(r: Record) -> dict[str, Any]:
    return {
        "件号": r.piece_no,
        "record_id": r.id,
        "title": r.title,
        "stage": r.stage.value if r.stage else None,
        "form": r.form.value,
        "document_type": r.document_type,
        "doc_no": r.doc_no,
        "made_how": r.made_how,
        "made_at": r.made_at.isoformat() if r.made_at else None,
        "made_by": r.made_by,
        "proves": r.proves,
        "classification": r.classification.value,
        "original_name": r.original_name,
        "mime": r.mime,
        "size": r.size,
        "sha256": r.sha256,
        "stored_at": r.stored_at.isoformat(),
        "status": r.status.value,
        "warnings": r.warnings or [],
        "source_meta": r.source_meta or {},
        "files": {f.kind: f.sha256 for f in r.files},
    }


def export_bag(svc: Services, case_no: str, dest: Path) -> Path:
    """Write the filed case as a BagIt bag at ``dest`` (a new directory)."""
    if dest.exists() and any(dest.iterdir()):
        raise DossierError(f"目标目录 {dest} 不为空")
    with Session(svc.engine) as s:
        case = _load(s, case_no)
        dossier = s.scalar(select(Dossier).where(Dossier.case_id == case.id))
        if case.status is not CaseStatus.ARCHIVED or dossier is None:
            raise DossierError(f"案件 {case_no} 尚未归档，不能导出卷宗")
        events = list(
            s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.occurred_at))
        )
        records = sorted(case.records, key=lambda r: r.piece_no or 0)
        dest.mkdir(parents=True, exist_ok=True)
        try:
            _copy(svc, dossier.catalog_sha256, dest / "卷内目录.pdf")
            if dossier.source_sha256:  # an imported paper dossier: the scan every 件 was cut from
                _copy(svc, dossier.source_sha256, dest / "卷宗扫描件" / _safe(dossier.source_name or "scan"))
            for r in records:
                prefix = f"{r.piece_no or 0:03d}"
                _copy(svc, r.sha256, dest / "originals" / f"{prefix}-{_safe(r.original_name)}")
                for f in r.files:
                    if f.role is FileRole.DERIVATIVE:
                        ext = EXTENSIONS.get(f.mime, "")
                        _copy(svc, f.sha256, dest / "derived" / prefix / f"{_safe(f.kind)}{ext}")
                (dest / "metadata").mkdir(exist_ok=True)
                (dest / "metadata" / f"{prefix}.json").write_text(
                    json.dumps(_record_meta(r), ensure_ascii=False, indent=1), encoding="utf-8"
                )
            case_json = {
                "case_no": case.case_no,
                "name": case.name,
                "enforcement_kind": case.enforcement_kind.value,
                "origin": case.origin.value,
                "legacy": case.legacy,
                "opened_at": case.opened_at.isoformat() if case.opened_at else None,
                "enforcement_ended_at": case.enforcement_ended_at.isoformat()
                if case.enforcement_ended_at
                else None,
                "source_scan": {"name": dossier.source_name, "sha256": dossier.source_sha256}
                if dossier.source_sha256
                else None,
                "parties": [p.name for p in case.parties],
                "retention": dossier.retention.value,
                "archivist": dossier.archivist,
                "filed_by": dossier.filed_by,
                "filed_at": dossier.filed_at.isoformat(),
                "events": [
                    {
                        "kind": e.kind.value,
                        "at": e.occurred_at.isoformat(),
                        "note": e.note,
                        "av_exempt": e.av_exempt,
                    }
                    for e in events
                ],
            }
            (dest / "case.json").write_text(
                json.dumps(case_json, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            # DA/T 46: the record of every management action on the case and its records
            objects = [f"case:{case.case_no}"] + [f"record:{r.id}" for r in records]
            (dest / "audit.json").write_text(
                json.dumps(audit.trail(svc.engine, objects), ensure_ascii=False, indent=1), encoding="utf-8"
            )
            bagit.make_bag(
                str(dest),
                bag_info={
                    "Source-Organization": "农安县应急管理局",
                    "External-Identifier": case.case_no,
                    "External-Description": case.name,
                    "Bagging-Date": to_local(utcnow()).date().isoformat(),
                    "Retention-Period": dossier.retention.value,
                    "Payload-Pieces": str(len(records)),
                },
                checksums=["sha256"],
            )
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return dest


def verify_bag(path: Path) -> list[str]:
    """Problems found re-validating a bag (empty when it is complete and unaltered).

    bagit stops at the Payload-Oxum (file count and bytes) when files were added or removed;
    then every missing, added and altered file is named here instead.
    """
    try:
        bag = bagit.Bag(str(path))
    except bagit.BagError as exc:
        return [f"不是有效的 BagIt 包：{exc}"]
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = [str(d) for d in getattr(exc, "details", [])]
        return details or [str(exc), *_named_problems(bag, path)]
    return []


def _named_problems(bag: bagit.Bag, root: Path) -> list[str]:
    missing, extra = bag.compare_manifests_with_fs()
    out = [f"缺少文件：{p}" for p in sorted(missing)] + [f"多出文件：{p}" for p in sorted(extra)]
    for rel, sums in sorted(bag.entries.items()):
        expected = sums.get("sha256")
        target = root / rel
        if expected and rel.startswith("data/") and target.is_file():
            digest = hashlib.sha256()
            with target.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
            if digest.hexdigest() != expected:
                out.append(f"文件被改动：{rel}")
    return out


@dataclass(frozen=True)
class FixityResult:
    """One stored original re-hashed."""

    record_id: int
    title: str
    sha256: str
    ok: bool


def original_problem(svc: Services, sha256: str) -> str | None:
    """Re-hash one stored original: None if it matches its recorded SHA-256, else what is wrong."""
    try:
        return None if svc.store.verify(sha256) else "SHA-256 与入库时不同"
    except (KeyError, OSError):
        return "存储中找不到原件"


def fixity(svc: Services) -> list[FixityResult]:
    """Re-hash every stored original against its recorded SHA-256."""
    with Session(svc.engine) as s:
        rows = list(s.execute(select(Record.id, Record.title, Record.sha256).order_by(Record.id)))
    # One object can hold the original of several records (the same file in several cases).
    ok = {sha: original_problem(svc, sha) is None for sha in dict.fromkeys(sha for _, _, sha in rows)}
    return [FixityResult(rid, title, sha, ok[sha]) for rid, title, sha in rows]
