"""Server-rendered zh-CN pages (Jinja2) on the API app."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from archive.models import Classification, RecordForm, Stage
from archive.settings import Settings
from archive.timeutil import to_local
from archive.users import authenticate
from search_api.app import create_app as create_api_app
from search_api.auth import NotAuthenticatedError, Principal, check_csrf, csrf_token, load_principal, sign_in
from search_api.deps import AccessDep, ServicesDep, VisibleRecordDep, get_principal
from search_api.records import list_cases, page_texts, transcript_of
from search_api.search import FILTER_PARAMS, Filters, get_filters, run_search

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def _local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(value).strftime(fmt) if value else "—"


templates.env.filters["local_time"] = _local_time
# Authenticated by default: every page on `pages` needs a signed-in user.
pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_principal)])
public_pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


def _render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a page with what the layout needs: the signed-in user and the CSRF token."""
    try:
        me: Principal | None = load_principal(request, request.app.state.services.engine)
    except NotAuthenticatedError:
        me = None
    base = {"me": me, "csrf": csrf_token(request)}
    return templates.TemplateResponse(request, name, base | context, status_code=status_code)


def _safe_next(target: str) -> str:
    # Only same-site paths: an open redirect would let a link send users elsewhere after login.
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@public_pages.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """登录."""
    return _render(request, "login.html", {"next": _safe_next(next), "error": None, "username": ""})


@public_pages.post("/login", response_model=None)
def login(
    request: Request,
    svc: ServicesDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> HTMLResponse | RedirectResponse:
    """Check the password and start a session."""
    check_csrf(request, csrf)
    with Session(svc.engine) as s:
        user = authenticate(session=s, username=username.strip(), password=password)
    if user is None:
        ctx = {"next": _safe_next(next), "error": "用户名或密码错误", "username": username}
        return _render(request, "login.html", ctx, status_code=401)
    sign_in(request, user.id)
    return RedirectResponse(_safe_next(next), status_code=303)


@public_pages.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    """End the session."""
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@pages.get("/")
def home() -> RedirectResponse:
    """The search page is the start page."""
    return RedirectResponse("/search", status_code=302)


FACET_PARAMS = {
    "case_no": "case",
    "stage": "stage",
    "form": "form",
    "document_type": "kind",
    "made_by": "made_by",
    "classification": "classification",
}
FACET_LABELS = {
    "case_no": "案号",
    "stage": "环节",
    "form": "记录形式",
    "document_type": "文书类型",
    "made_by": "制作人",
    "classification": "密级",
}


@pages.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    svc: ServicesDep,
    access: AccessDep,
    q: str = Query("", max_length=500),
    page: int = Query(1, ge=1, le=500),
) -> HTMLResponse:
    """检索: the query language, filters, facets with counts, highlighted snippets."""
    result = None
    error = None
    try:
        # read here, not as a dependency, so that a bad filter is shown on the page
        given = request.query_params
        filters = get_filters(**{FILTER_PARAMS[k]: v for k, v in given.items() if k in FILTER_PARAMS})
    except HTTPException as exc:
        filters, error = Filters(), str(exc.detail)
    if q.strip() and error is None:
        try:
            query = filters.query(q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, facets=True)
            result = run_search(svc, query, access)
        except HTTPException as exc:
            error = str(exc.detail)
    params = {k: v for k, v in request.query_params.items() if v and k != "page"}

    def link(**changes: object) -> str:
        merged = {**params, **{k: v for k, v in changes.items() if v is not None}}
        return "/search?" + urlencode({k: v for k, v in merged.items() if v != ""})

    facets = []
    if result is not None:
        for name, values in result.facets.items():
            param = FACET_PARAMS[name]
            active = params.get(param)
            entries = [(v, n, link(**{param: v}), v == active) for v, n in values]
            if entries:
                facets.append((FACET_LABELS[name], entries, link(**{param: ""}) if active else None))
    with Session(svc.engine) as s:
        cases = list_cases(session=s, access=access)
    return _render(
        request,
        "search.html",
        {
            "q": q,
            "f": filters,
            "page": page,
            "page_size": PAGE_SIZE,
            "result": result,
            "error": error,
            "cases": cases,
            "stages": [s.value for s in Stage],
            "facets": facets,
            "link": link,
            "forms": [f.value for f in RecordForm],
            "classifications": [c.value for c in Classification],
        },
    )


@pages.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, record: VisibleRecordDep, svc: ServicesDep) -> HTMLResponse:
    """记录: metadata, fixity, stored files and the extracted text."""
    transcript = transcript_of(svc.store, record)
    pages = [] if transcript is not None else page_texts(svc.store, record)
    thumbs = {f.kind for f in record.files if f.kind.startswith("thumb-")}
    meta = record.source_meta or {}
    return _render(
        request,
        "record.html",
        {
            "r": record,
            "pages": pages,
            "thumbs": thumbs,
            "ocr_pages": set(meta.get("ocr_pages", [])),
            "meta": meta,
            "prefilled": set(record.prefilled or []),
            "transcript": transcript,
            "media": meta.get("media") or {},
            "keyframes": sorted(thumbs, key=lambda k: int(k.split("-")[1])),
        },
    )


def install(app: FastAPI) -> None:
    """Add the pages and static files to the API app."""
    app.include_router(public_pages)
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole web application: API + pages (``uvicorn ui.web:create_app --factory``)."""
    return create_api_app(settings, extensions=[install])
