"""Uploading a case's files over HTTP, following their processing, retrying a failed one."""

from __future__ import annotations

import io
import math
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import pypdfium2 as pdfium
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from archive import audit
from archive.media import MediaFamily, family_of
from archive.models import Stage
from archive.timeutil import CST
from pipelines.dossier import original_problem
from pipelines.ingest import RecordMeta
from pipelines.redaction import PDFIUM_LOCK
from search_api.deps import (
    AccessDep,
    EditorDep,
    PrincipalDep,
    ServicesDep,
    VisibleRecordDep,
    background,
    check_csrf_header,
    get_principal,
)
from search_api.records import NotVisibleError, get_record
from search_api.schemas import STATUS_LABELS
from search_api.services import records

router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_principal)], tags=["records"])
csrf = [Depends(check_csrf_header)]
CHUNK = 1 << 20
UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")
PAGE_WIDTH = 1100  # pixels of a page image in the viewer (readable on a laptop, light on the network)
PAGE_MAX_PIXELS = 8_000_000  # whatever the page's shape, one page image stays under ~24 MB in memory


class UploadOut(BaseModel):
    """What became of one uploaded file."""

    status: Literal["ingested", "duplicate"]
    record_id: int | None
    message: str


class StatusOut(BaseModel):
    """Processing state of a record, for progress displays."""

    record_id: int
    status: str
    label: str
    progress: float
    error: str | None


def safe_name(name: str | None) -> str:
    """The file's own name without any directory part or control characters (kept as its
    original name; never used as a path on its own)."""
    base = UNSAFE.sub("", Path((name or "").replace("\\", "/")).name).strip(" .")
    return base[-200:] or "未命名文件"


def _optional(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


@router.post("/cases/{case_no}/records", response_model=UploadOut, status_code=201, dependencies=csrf)
def upload(
    case_no: str,
    request: Request,
    svc: ServicesDep,
    access: AccessDep,
    who: EditorDep,
    file: Annotated[UploadFile, File(description="一个文件；多个文件请逐个上传")],
    stage: Annotated[Stage | None, Form(description="环节（第三条）")] = None,
    document_type: Annotated[str | None, Form(max_length=64)] = None,
    title: Annotated[str | None, Form(max_length=255)] = None,
    doc_no: Annotated[str | None, Form(max_length=64)] = None,
    made_how: Annotated[str | None, Form(max_length=255, description="制作方法（第二十六条）")] = None,
    made_at: Annotated[datetime | None, Form(description="制作时间（第二十六条）")] = None,
    made_by: Annotated[str | None, Form(max_length=64, description="制作人（第二十六条）")] = None,
    proves: Annotated[str | None, Form(max_length=500, description="证明对象（第二十六条）")] = None,
    event_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> UploadOut:
    """Store one file of a case unaltered (SHA-256, object lock) and queue its processing
    (text, OCR, transcript, index). Status: ``GET /api/v1/records/{id}/status``."""
    name = safe_name(file.filename)
    limit = svc.settings.upload_max_mb << 20
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        path = Path(tmp) / name
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(
                        413, f"文件超过 {svc.settings.upload_max_mb} MB 的上传上限，请用命令行导入"
                    )
                out.write(chunk)
        meta = RecordMeta(
            case_no=case_no,
            stage=stage,
            document_type=_optional(document_type),
            title=_optional(title),
            doc_no=_optional(doc_no),
            made_how=_optional(made_how),
            made_at=made_at,
            made_by=_optional(made_by),
            proves=_optional(proves),
            event_id=event_id,
        )
        outcome = records.add_file(svc, who.actor, access, path, meta, shown=name)
    if outcome.status == "failed":
        raise HTTPException(422, outcome.reason or "无法保存该文件")
    assert outcome.record_id is not None
    if outcome.status == "duplicate":
        with Session(svc.engine) as s:
            try:
                get_record(session=s, record_id=outcome.record_id, access=access)
                seen = True
            except NotVisibleError:
                seen = False
        return UploadOut(
            status="duplicate",
            record_id=outcome.record_id if seen else None,
            message="相同内容的文件已在本案中，未重复保存",
        )
    background(request).submit([outcome.record_id])
    return UploadOut(status="ingested", record_id=outcome.record_id, message="已保存原件，正在处理")


@router.get("/records/{record_id}/status", response_model=StatusOut)
def record_status(record: VisibleRecordDep, svc: ServicesDep) -> StatusOut:
    """Processing status and progress (0–1) of a record."""
    job = next((j for j in record.jobs if j.kind == "process"), None)  # loaded with the record
    status = record.status.value
    return StatusOut(
        record_id=record.id,
        status=status,
        label=STATUS_LABELS[status],
        progress=1.0 if status == "processed" else (job.progress if job else 0.0),
        error=record.error,
    )


@router.post("/records/{record_id}/retry", response_model=StatusOut, dependencies=csrf)
def retry(record: VisibleRecordDep, request: Request, svc: ServicesDep, who: EditorDep) -> StatusOut:
    """Run a failed record's processing again (the stored original is reused)."""
    if not background(request).retry([record.id], who.actor):
        raise HTTPException(409, "该记录没有失败的处理任务")
    return StatusOut(
        record_id=record.id, status="pending", label=STATUS_LABELS["pending"], progress=0.0, error=None
    )


class FixityOut(BaseModel):
    """One stored original re-hashed now."""

    record_id: int
    sha256: str
    ok: bool
    checked_at: str
    detail: str


@router.get("/records/{record_id}/fixity", response_model=FixityOut)
def record_fixity(record: VisibleRecordDep, svc: ServicesDep, who: PrincipalDep) -> FixityOut:
    """Re-hash this record's stored original against the SHA-256 recorded at ingest."""
    problem = original_problem(svc, record.sha256)
    ok, detail = problem is None, problem or ""
    audit.record(svc.engine, "fixity", who.actor, f"record:{record.id}", "ok" if ok else "failed")
    now = datetime.now(CST).strftime("%Y-%m-%d %H:%M:%S")
    return FixityOut(record_id=record.id, sha256=record.sha256, ok=ok, checked_at=now, detail=detail)


@contextmanager
def _pdf_errors() -> Iterator[None]:
    try:
        yield
    except pdfium.PdfiumError:
        raise HTTPException(409, "该 PDF 无法渲染（文件损坏或已加密）") from None


@router.get("/records/{record_id}/pages/{page}", response_class=Response)
def page_image(
    record: VisibleRecordDep,
    page: Annotated[int, PathParam(ge=1, le=100_000)],
    svc: ServicesDep,
    who: PrincipalDep,
) -> Response:
    """Page ``page`` (from 1) of a PDF record as a JPEG image, for the viewer (audited)."""
    if family_of(record.mime) is not MediaFamily.PDF:
        raise HTTPException(404, "该记录不是 PDF")
    if not 1 <= page <= (record.page_count or 0):
        raise HTTPException(404, "没有这一页")
    with tempfile.TemporaryDirectory(prefix="page-") as tmp:
        path = Path(tmp) / "original.pdf"
        with path.open("wb") as out:  # streamed to disk: pdfium reads only the page it needs
            for block in svc.store.iter_bytes(record.sha256):
                out.write(block)
        with PDFIUM_LOCK, _pdf_errors():
            pdf = pdfium.PdfDocument(str(path))
            try:
                pdf_page = pdf[page - 1]
                width, height = pdf_page.get_size()
                scale = min(PAGE_WIDTH / max(width, 1.0), 4.0)
                if width * height * scale * scale > PAGE_MAX_PIXELS:  # a poster, a strip 17,000 pt long
                    scale = 0.99 * math.sqrt(PAGE_MAX_PIXELS / max(width * height, 1.0))  # pdfium rounds up
                image = pdf_page.render(scale=scale).to_pil()
            finally:
                pdf.close()
    records.opened(svc, who.actor, record.id, file="page", page=page)
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=85)
    return Response(
        buf.getvalue(), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )
