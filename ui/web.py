"""Server-rendered zh-CN pages (Jinja2) on the API app."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from archive.models import Stage
from archive.settings import Settings
from archive.timeutil import to_local
from indexer.documents import SearchQuery
from search_api.app import create_app as create_api_app
from search_api.deps import AccessDep, ServicesDep
from search_api.records import NotVisibleError, get_record, list_cases

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def _local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(value).strftime(fmt) if value else "—"


templates.env.filters["local_time"] = _local_time
pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


@pages.get("/")
def home() -> RedirectResponse:
    """The search page is the start page."""
    return RedirectResponse("/search", status_code=302)


@pages.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    svc: ServicesDep,
    access: AccessDep,
    q: str = Query("", max_length=500),
    case: str = Query(""),
    stage: str = Query(""),
    page: int = Query(1, ge=1, le=500),
) -> HTMLResponse:
    """检索: one box, optional case and stage filters, highlighted snippets."""
    result = None
    error = None
    stage_value = stage if stage in {s.value for s in Stage} else None
    if q.strip():
        try:
            result = svc.index.search(
                SearchQuery(
                    q, case_no=case or None, stage=stage_value, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
                ),
                access,
            )
        except ValueError:
            error = "检索式无法解析，请检查引号或特殊字符"
    with Session(svc.engine) as s:
        cases = list_cases(session=s, access=access)
    return templates.TemplateResponse(
        request,
        "search.html",
        {
            "q": q,
            "case": case,
            "stage": stage_value or "",
            "page": page,
            "page_size": PAGE_SIZE,
            "result": result,
            "error": error,
            "cases": cases,
            "stages": [s.value for s in Stage],
        },
    )


@pages.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(record_id: int, request: Request, svc: ServicesDep, access: AccessDep) -> HTMLResponse:
    """记录: metadata, fixity, stored files and the extracted text."""
    with Session(svc.engine) as s:
        try:
            record = get_record(session=s, record_id=record_id, access=access)
        except NotVisibleError:
            raise HTTPException(404, "记录不存在或无权查看") from None
        text_file = next((f for f in record.files if f.kind == "text"), None)
        text = b"".join(svc.store.iter_bytes(text_file.sha256)).decode("utf-8") if text_file else ""
        return templates.TemplateResponse(request, "record.html", {"r": record, "text": text})


def install(app: FastAPI) -> None:
    """Add the pages and static files to the API app."""
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole web application: API + pages (``uvicorn ui.web:create_app --factory``)."""
    return create_api_app(settings, extensions=[install])
