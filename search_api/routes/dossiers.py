"""Filing a closed case into its dossier (第二十七条): catalog preview, file and freeze, export."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from archive.cases import CaseNotFoundError
from archive.models import Retention
from archive.permissions import Action
from pipelines.dossier import preview
from search_api.auth import Principal
from search_api.deps import (
    AccessDep,
    ServicesDep,
    allowed_to,
    case_in_reach,
    check_csrf_header,
    get_principal,
)
from search_api.services import cases

router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_principal)], tags=["dossiers"])
FilerDep = Annotated[Principal, Depends(allowed_to(Action.FILE_CASE))]
ReaderDep = Annotated[Principal, Depends(allowed_to(Action.READ_DOSSIER))]


class FileIn(BaseModel):
    """How the case is filed."""

    retention: Retention
    archivist: str = Field(min_length=1, max_length=64, description="归档、保管责任人（第二十七条）")


class DossierOut(BaseModel):
    """A filed dossier."""

    case_no: str
    retention: str
    archivist: str
    filed_by: str
    filed_at: str
    pieces: int


def _visible(svc: ServicesDep, access: AccessDep, case_no: str) -> None:
    with Session(svc.engine) as s:
        case_in_reach(s, case_no, access)


@router.get("/cases/{case_no}/dossier/preview.pdf", response_class=Response)
def dossier_preview(
    case_no: str,
    svc: ServicesDep,
    access: AccessDep,
    _who: ReaderDep,
    retention: Annotated[Retention, Query()] = Retention.PERMANENT,
    archivist: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The cover and 卷内目录 the case would be filed with (nothing changes)."""
    _visible(svc, access, case_no)
    try:
        pdf = preview(svc, case_no, retention, archivist)
    except CaseNotFoundError:
        raise HTTPException(404, "案件不存在或无权查看") from None
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": "inline"})


@router.post(
    "/cases/{case_no}/dossier",
    response_model=DossierOut,
    status_code=201,
    dependencies=[Depends(check_csrf_header)],
)
def file_dossier(
    case_no: str, body: FileIn, svc: ServicesDep, access: AccessDep, who: FilerDep
) -> DossierOut:
    """File an ended case: number the pieces, store the catalog, lock the originals for the
    retention period and freeze the case."""
    d = cases.file_case(svc, who.actor, access, case_no, body.retention, body.archivist)
    filed = d.filed_at
    return DossierOut(
        case_no=case_no,
        retention=d.retention.value,
        archivist=d.archivist,
        filed_by=d.filed_by,
        filed_at=filed.isoformat(),
        pieces=d.pieces,
    )


def zip_dir(root: Path, target: Path) -> None:
    """Zip ``root`` (stored, not compressed: originals are mostly compressed media already)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                z.write(path, Path(root.name) / path.relative_to(root))


@router.get("/cases/{case_no}/dossier/bag.zip", response_class=FileResponse)
def dossier_bag(case_no: str, svc: ServicesDep, access: AccessDep, who: ReaderDep) -> FileResponse:
    """The filed case as a zipped BagIt bag (originals, derived text, metadata, catalog, audit
    trail, SHA-256 manifests)."""
    tmp = Path(tempfile.mkdtemp(prefix="bag-"))
    try:
        bag = cases.export_dossier(svc, who.actor, access, case_no, tmp / "bag")
        target = tmp / "bag.zip"
        zip_dir(bag, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    name = f"{case_no}-卷宗.zip"
    return FileResponse(
        target,
        media_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )
