"""导入卷宗: archivists upload a scanned paper dossier, review the proposed split page by page,
and confirm it into a filed legacy case. The work is ``search_api.services.legacy``'s."""

from __future__ import annotations

import contextlib
import copy
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from archive.actor import Actor
from archive.enums import CaseOrigin, EnforcementKind, Retention, Stage
from archive.models import DossierImport
from archive.permissions import Action, may
from indexer.documents import AccessFilter
from pipelines.background import Background
from pipelines.context import Services
from pipelines.legacy.imports import Status
from pipelines.legacy.plan import plan_from, problems
from search_api.auth import check_csrf
from search_api.deps import AccessDep, Id, PrincipalDep, ServicesDep, background, get_principal
from search_api.services import EVERYTHING, ServiceError, legacy
from ui.render import render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_principal)])
MAX_PAGE = 100_000
COVER_FIELDS = ("case_no", "name", "party", "opened", "closed", "retention", "archivist", "kind", "origin")
PIECE_FIELDS = ("title", "doc_no", "author", "date", "document_type", "stage")


def _archivist(who: PrincipalDep) -> None:
    if not may(who.role, Action.IMPORT_DOSSIER):
        raise HTTPException(403, "只有档案管理员可以导入纸质卷宗")


def _propose_later(bg: Background, svc: Services, import_id: int) -> None:
    def work() -> None:
        legacy.propose_now(svc, import_id)

    bg.later(f"dossier-propose:{import_id}", work)


def _finish_later(bg: Background, svc: Services, who: Actor, reach: AccessFilter, import_id: int) -> None:
    def work() -> None:
        # a refusal's reason is kept on the import (mark_stuck), where its page shows it
        with contextlib.suppress(ServiceError):
            legacy.finish(svc, who, reach, import_id)

    bg.later(f"dossier-finish:{import_id}", work)


def resume(svc: Services, bg: Background, who: Actor) -> None:
    """At the server's start: read the dossiers a stopped server was reading, and finish the
    confirmed imports it left (as ``who``, the system)."""
    to_read, to_finish = legacy.unfinished(svc)
    for import_id in to_read:
        _propose_later(bg, svc, import_id)
    for import_id in to_finish:
        _finish_later(bg, svc, who, EVERYTHING, import_id)


@pages.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, svc: ServicesDep, who: PrincipalDep) -> HTMLResponse:
    """导入卷宗: the upload form and the latest imports with their state."""
    _archivist(who)
    rows = legacy.recent(svc, who.actor)
    return render(request, "imports.html", {"rows": rows, "Status": Status, "error": None})


def _kept(upload: UploadFile, folder: Path, name: str) -> Path:
    target = folder / name
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    return target


@pages.post("/imports", response_model=None)
def upload_form(
    request: Request,
    svc: ServicesDep,
    who: PrincipalDep,
    scan: Annotated[UploadFile, File()],
    catalog: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """Keep the uploaded scan (and catalog spreadsheet), then read it in the background."""
    check_csrf(request, csrf)
    _archivist(who)
    name = Path(scan.filename or "卷宗扫描件.pdf").name[:200]
    cat_name = Path(catalog.filename).name[:200] if catalog is not None and catalog.filename else ""
    with tempfile.TemporaryDirectory(prefix="dossier-upload-") as tmp:
        try:
            path = _kept(scan, Path(tmp), "scan" + Path(name).suffix.lower())
            if path.stat().st_size == 0:
                raise ServiceError(f"{name} 是空文件")
            cat = None
            if catalog is not None and cat_name:
                cat = _kept(catalog, Path(tmp), "catalog" + Path(cat_name).suffix.lower())
            if cat is not None and cat.suffix not in {".xlsx", ".csv"}:
                raise ServiceError("卷内目录表格应为 XLSX 或 CSV 文件")
            import_id = legacy.upload(svc, who.actor, path, name=name, catalog=cat, catalog_name=cat_name)
        except ServiceError as exc:
            rows = legacy.recent(svc, who.actor)
            ctx = {"rows": rows, "Status": Status, "error": str(exc)}
            return render(request, "imports.html", ctx, status_code=422)
    _propose_later(background(request), svc, import_id)
    return RedirectResponse(f"/imports/{import_id}", status_code=303)


def _review_context(
    row: DossierImport, found: list[str] | None = None, error: str | None = None
) -> dict[str, Any]:
    proposal = row.proposal or {}
    plan = plan_from(proposal) if proposal else None
    return {
        "row": row,
        "status": Status(row.status),
        "proposal": proposal,
        "plan": plan,
        "read": proposal.get("read") or {},
        "problems": found if found is not None else (problems(plan) if plan else []),
        "error": error,
        "stages": [s.value for s in Stage],
        "retentions": [r.value for r in Retention],
        "kinds": [k.value for k in EnforcementKind],
        "origins": [o.value for o in CaseOrigin],
        "unassigned": [i + 1 for i in plan.unassigned()] if plan else [],
        "catalog_pages": ",".join(str(i + 1) for i in plan.catalog_pages) if plan else "",
        "files_mode": bool(plan and any(p.file for p in plan.pieces)),
        "busy": row.status in (Status.PROPOSING, Status.IMPORTING),
    }


@pages.get("/imports/{import_id}", response_class=HTMLResponse)
def import_page(request: Request, import_id: Id, svc: ServicesDep, who: PrincipalDep) -> HTMLResponse:
    """One import: its reading progress, its proposed split to review, or where it went."""
    _archivist(who)
    row = legacy.get(svc, who.actor, import_id)
    return render(request, "import.html", _review_context(row))


@pages.get("/imports/{import_id}/pages/{page}.png", response_class=Response)
def page_image(
    import_id: Id, page: Annotated[int, PathParam(ge=1, le=MAX_PAGE)], svc: ServicesDep, who: PrincipalDep
) -> Response:
    """A page of the scan, small (the review page's first and last page of each 件)."""
    _archivist(who)
    data = legacy.page_image(svc, who.actor, import_id, page - 1)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _page_list(text: str, label: str) -> list[int]:
    """ "2" / "2,3" / "2-3" (1-based pages as people write them) as 0-based indexes."""
    out: list[int] = []
    for part in text.replace("，", ",").replace("、", ",").split(","):
        part = part.strip().replace("～", "-").replace("–", "-")
        if not part:
            continue
        try:
            lo, _, hi = part.partition("-")
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise ServiceError(f"{label}应写页码，如 2 或 2-3") from None
        if not 1 <= first <= last <= MAX_PAGE:
            raise ServiceError(f"{label}的页码 {part} 不对")
        out += list(range(first - 1, last))
    return sorted(set(out))


def _edited(proposal: dict[str, Any], form: FormData) -> dict[str, Any]:
    """The proposal with the review form's values (pages shown 1-based, kept 0-based)."""
    out = copy.deepcopy(proposal)
    cover = out.setdefault("cover", {})
    for key in COVER_FIELDS:
        if key in form:
            cover[key] = str(form[key]).strip()[:255] or None
    if "catalog_pages" in form:
        out["catalog_pages"] = _page_list(str(form["catalog_pages"]), "卷内目录页")
    if "cover_page" in form:
        cover_pages = _page_list(str(form["cover_page"]), "封面页")
        if len(cover_pages) > 1:
            raise ServiceError("封面只有一页")
        out["cover_page"] = cover_pages[0] if cover_pages else None
    for piece in out.get("pieces") or []:
        key = f"p{piece['seq']}_"
        for edge in ("first", "last"):
            if key + edge in form:
                try:
                    piece[f"{edge}_index"] = int(str(form[key + edge])) - 1
                except ValueError:
                    raise ServiceError(
                        f"第 {piece['seq']} 件的{'起始' if edge == 'first' else '结束'}页应是数字"
                    ) from None
        for field in PIECE_FIELDS:
            if key + field in form:
                piece[field] = str(form[key + field]).strip()[:255] or None
        for text_field in ("title", "doc_no", "author", "document_type"):
            piece[text_field] = piece.get(text_field) or ""
    return out


@pages.post("/imports/{import_id}", response_model=None)
async def review_form(
    request: Request, import_id: Id, svc: ServicesDep, access: AccessDep, who: PrincipalDep
) -> HTMLResponse | RedirectResponse:
    """保存核对 or 确认导入: keep the archivist's edits; on confirm, register the case and its 件,
    then read and file them in the background."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    _archivist(who)
    row = legacy.get(svc, who.actor, import_id)
    action = str(form.get("action") or "save")
    try:
        if row.proposal is None:
            raise ServiceError("该卷宗尚未识别完成")
        found = legacy.review(svc, who.actor, import_id, _edited(row.proposal, form))
        if action == "confirm":
            if found:
                raise legacy.PlanProblems(found)
            legacy.confirm(svc, who.actor, import_id)
            _finish_later(background(request), svc, who.actor, access, import_id)
    except legacy.PlanProblems as exc:
        row = legacy.get(svc, who.actor, import_id)
        return render(
            request, "import.html", _review_context(row, exc.problems, "不能导入：请先改正下列问题"), 409
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise
        row = legacy.get(svc, who.actor, import_id)
        return render(request, "import.html", _review_context(row, None, str(exc)), exc.status)
    saved = "" if action == "confirm" else "?saved=1"
    return RedirectResponse(f"/imports/{import_id}{saved}", status_code=303)


@pages.post("/imports/{import_id}/abandon", response_model=None)
def abandon_form(
    request: Request, import_id: Id, svc: ServicesDep, who: PrincipalDep, csrf: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """放弃: the import is not confirmed (its upload stays stored, unused)."""
    check_csrf(request, csrf)
    _archivist(who)
    legacy.abandon(svc, who.actor, import_id)
    return RedirectResponse("/imports", status_code=303)


@pages.post("/imports/{import_id}/continue", response_model=None)
def continue_form(
    request: Request,
    import_id: Id,
    svc: ServicesDep,
    access: AccessDep,
    who: PrincipalDep,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """继续导入: a confirmed import whose reading or filing stopped is taken up again."""
    check_csrf(request, csrf)
    _archivist(who)
    row = legacy.get(svc, who.actor, import_id)
    if row.status != Status.IMPORTING:
        raise HTTPException(409, "该导入没有待完成的步骤")
    _finish_later(background(request), svc, who.actor, access, import_id)
    return RedirectResponse(f"/imports/{import_id}", status_code=303)
