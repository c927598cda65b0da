"""Server-rendered zh-CN pages (Jinja2) on the API app."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from archive import audit
from archive.media import MediaFamily, family_of, is_thumb
from archive.models import (
    AccessRequest,
    CaseStatus,
    Classification,
    ProcessingStatus,
    Record,
    RecordForm,
    RequestStatus,
    Role,
    Stage,
)
from archive.permissions import Action, may
from archive.settings import Settings
from pipelines.compliance import breaches, current, findings_of, ranked_cases, today_local
from pipelines.queue import failed_jobs
from pipelines.status import archive_status
from pipelines.transcripts import (
    MAX_CORRECTION_BYTES,
    transcript_of,
    versions_of,
)
from search_api.app import create_app as create_api_app
from search_api.auth import (
    CSRF_EXPIRED,
    CsrfError,
    NotAuthenticatedError,
    Principal,
    check_csrf,
    check_password,
    home_of,
    load_principal,
    sign_in,
    sign_out,
)
from search_api.deps import (
    AccessDep,
    PrincipalDep,
    ServicesDep,
    VisibleRecordDep,
    background,
    get_principal,
)
from search_api.limits import validation_problem
from search_api.records import count_cases, list_cases, page_texts
from search_api.search import FILTER_PARAMS, Filters, get_filters, run_search
from search_api.services import ServiceError, records
from search_api.services.integrity import run_fixity
from search_api.throttle import TooManyAttemptsError
from ui import web_access, web_cases, web_legacy
from ui.render import render as _render

HERE = Path(__file__).parent


# Authenticated by default: every page on `pages` needs a signed-in user.
pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_principal)])
public_pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
RECENT_CASES = 20  # cases listed on the search page (and offered in its 案号 field)


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
    """Check the password (failures slowed per name and address) and start a new session."""
    check_csrf(request, csrf)
    error, status = "", 401
    try:
        user = check_password(request, svc.engine, username, password)
    except TooManyAttemptsError as exc:
        user, error, status = None, str(exc), 429
    if user is None:
        ctx = {"next": _safe_next(next), "error": error or "用户名或密码错误", "username": username}
        return _render(request, "login.html", ctx, status_code=status)
    sign_in(request, svc.engine, user.id)
    return RedirectResponse(
        _safe_next(next) if _safe_next(next) != "/" else home_of(user.role), status_code=303
    )


@public_pages.post("/logout")
def logout(request: Request, svc: ServicesDep, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    """End the session (on the server too)."""
    check_csrf(request, csrf)
    try:
        who = load_principal(request, svc.engine)
        audit.record(svc.engine, "logout", who.actor, f"user:{who.username}")
    except NotAuthenticatedError:
        pass
    sign_out(request, svc.engine)
    return RedirectResponse("/login", status_code=303)


COMPLIANCE_PER_PAGE = 50  # cases per page of 合规检查
HOME_CASES, HOME_ITEMS = 30, 50  # what the 工作台 lists at most (the rest: 案件, 合规检查)
DEADLINE_RULE = "art27.archive_deadline"  # 第二十七条: filed within 30 days of 执行终结
ATTENTION_RULES = {
    "art25.av_upload_deadline": "音像记录超期未上传（第二十五条）",
    "art26.metadata": "记录缺少第二十六条信息",
    "art26.transcript": "录音缺少文字记录（第二十六条）",
}


@pages.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, who: PrincipalDep) -> HTMLResponse:
    """The API's interactive documentation (Swagger UI from the installed package, no CDN)."""
    return _render(request, "docs.html", {})


@pages.get("/", response_model=None)
def home(
    request: Request, svc: ServicesDep, access: AccessDep, who: PrincipalDep
) -> HTMLResponse | RedirectResponse:
    """工作台: what needs this user's attention — overdue uploads and missing metadata in their
    cases, cases due for filing, requests awaiting their review or approval, failed jobs."""
    if not may(who.role, Action.USE_STAFF_PAGES):
        return RedirectResponse("/portal", status_code=302)
    today = today_local()
    with Session(svc.engine) as s:
        cases = list_cases(session=s, access=access, limit=HOME_CASES)
        case_count = count_cases(session=s, access=access)
        waiting = {
            st: n
            for st, n in s.execute(
                select(AccessRequest.status, func.count()).group_by(AccessRequest.status)
            ).all()
        }
    # read from the stored findings (recomputed on change and once a day), never case by case
    attention = findings_of(svc, access.case_nos, ATTENTION_RULES, limit=HOME_ITEMS, today=today)
    due = findings_of(svc, access.case_nos, [DEADLINE_RULE], limit=HOME_ITEMS, today=today)
    mine = {
        Role.ARCHIVIST: (RequestStatus.SUBMITTED, "待您审查的查阅申请"),
        Role.LEADER: (RequestStatus.REVIEWED, "待您审批的查阅申请"),
    }.get(who.role)
    ctx = {
        "cases": cases,
        "case_count": case_count,
        "attention": [(no, f, ATTENTION_RULES[f.rule_id]) for no, f in attention.rows],
        "attention_total": attention.total,
        "due": due.rows if may(who.role, Action.SEE_OVERSIGHT) else [],
        "requests": (mine[1], waiting.get(mine[0], 0)) if mine else None,
        "failed": failed_jobs(svc) if may(who.role, Action.SEE_OVERSIGHT) else [],
        "system": archive_status(svc) if may(who.role, Action.SEE_SYSTEM) else None,
        "errors": breaches(svc, access.case_nos),
        "today": today,
    }
    return _render(request, "home.html", ctx)


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
    who: PrincipalDep,
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
            result = run_search(svc, query, access, who, background(request))
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
    with Session(svc.engine) as s:  # the latest only: a province's 10,000 cases are paged on 案件
        cases = list_cases(session=s, access=access, limit=RECENT_CASES)
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
            "recent": RECENT_CASES,
            "stages": [s.value for s in Stage],
            "facets": facets,
            "link": link,
            "forms": [f.value for f in RecordForm],
            "classifications": [c.value for c in Classification],
        },
    )


TRANSCRIPT_STATUS = {
    ProcessingStatus.PENDING: "等待转写",
    ProcessingStatus.PROCESSING: "正在转写",
}


def _transcript_state(record: Record, meta: dict[str, Any]) -> str | None:
    """The 第二十六条 transcript status of a sound record (None for other records)."""
    if not family_of(record.mime).is_sound:
        return None
    if record.status is ProcessingStatus.FAILED:
        return f"转写失败：{record.error or '原因未知'}"
    if record.status in TRANSCRIPT_STATUS:
        done = next((j.progress for j in record.jobs if j.kind == "process"), 0.0)
        return TRANSCRIPT_STATUS[record.status] + (f"（已完成 {done:.0%}）" if done else "")
    status = str(meta.get("transcript_status") or "已转写")
    by = meta.get("transcript_corrected_by")
    return f"{status}（{by}）" if by else status


def _record_context(
    request: Request, record: Record, svc: ServicesDep, who: Principal, **extra: Any
) -> dict[str, Any]:
    transcript = transcript_of(svc.store, record)
    pages = [] if transcript is not None else page_texts(svc.store, record)
    thumbs = {f.kind for f in record.files if is_thumb(f.kind)}
    meta = record.source_meta or {}
    with Session(svc.engine) as s:
        versions = versions_of(s, record.id)
    frozen = record.case is not None and record.case.status is CaseStatus.ARCHIVED
    return {
        "r": record,
        "pages": pages,
        "thumbs": thumbs,
        "ocr_pages": set(meta.get("ocr_pages", [])),
        "meta": meta,
        "prefilled": set(record.prefilled or []),
        "transcript": transcript,
        "transcript_state": _transcript_state(record, meta),
        "versions": versions,
        "can_correct": transcript is not None and may(who.role, Action.UPLOAD) and not frozen,
        "media": meta.get("media") or {},
        "keyframes": sorted(thumbs, key=lambda k: int(k.split("-")[1])),
        "correction_error": None,
        "correction_text": "\n".join(seg.text for seg in transcript.segments) if transcript else "",
        "correction_note": "",
        "is_pdf": family_of(record.mime) is MediaFamily.PDF and bool(pages),
        "derived": [f for f in record.files if f.role.value == "derivative" and not is_thumb(f.kind)],
        "can_retry": may(who.role, Action.UPLOAD) and not frozen,
    } | extra


@pages.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(
    request: Request, record: VisibleRecordDep, svc: ServicesDep, who: PrincipalDep
) -> HTMLResponse:
    """记录: metadata, fixity, stored files, the extracted text or the transcript and its versions."""
    records.opened(svc, who.actor, record.id)
    return _render(request, "record.html", _record_context(request, record, svc, who))


@pages.post("/records/{record_id}/transcript", response_model=None)
def correct_transcript_form(
    request: Request,
    record: VisibleRecordDep,
    svc: ServicesDep,
    who: PrincipalDep,
    csrf: Annotated[str, Form()] = "",
    text: Annotated[str, Form(max_length=MAX_CORRECTION_BYTES)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse | RedirectResponse:
    """校对转写: save the officer's corrected transcript as the new current version."""
    check_csrf(request, csrf)
    if file is not None and file.filename:
        data, name = file.file.read(MAX_CORRECTION_BYTES + 1), file.filename
    else:
        data, name = text.encode("utf-8"), "form.txt"
    try:
        records.correct_transcript(svc, who.actor, record.id, data, name, note)
    except ServiceError as exc:
        if exc.status not in (409, 422):
            raise
        ctx = _record_context(
            request, record, svc, who, correction_error=str(exc), correction_text=text, correction_note=note
        )
        return _render(request, "record.html", ctx, status_code=422)
    return RedirectResponse(f"/records/{record.id}?corrected=1#transcript", status_code=303)


@pages.post("/records/{record_id}/retry")
def retry_form(
    request: Request,
    record: VisibleRecordDep,
    svc: ServicesDep,
    who: PrincipalDep,
    csrf: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """重新处理 a failed record (the stored original is reused)."""
    check_csrf(request, csrf)
    if not may(who.role, Action.UPLOAD):
        raise HTTPException(403, "您的角色无权执行此操作")
    retried = bool(background(request).retry([record.id], who.actor))
    return RedirectResponse(f"/records/{record.id}?retried={int(retried)}", status_code=303)


@pages.get("/compliance", response_class=HTMLResponse)
def compliance_page(
    request: Request,
    svc: ServicesDep,
    access: AccessDep,
    who: PrincipalDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """合规检查: the visible cases' findings, most breaches first, a page of cases at a time;
    cases due or overdue for filing above them."""
    if not may(who.role, Action.USE_STAFF_PAGES):
        raise HTTPException(403, "您的角色无权查看合规检查")
    today = today_local()
    ranked = ranked_cases(svc, access.case_nos, today=today)
    shown = ranked[(page - 1) * COMPLIANCE_PER_PAGE : page * COMPLIANCE_PER_PAGE]
    results = {r.case_no: r for r in current(svc, shown, today=today)}
    due = findings_of(svc, access.case_nos, [DEADLINE_RULE], limit=COMPLIANCE_PER_PAGE, today=today)
    failed = failed_jobs(svc) if may(who.role, Action.SEE_OVERSIGHT) else []
    ctx = {
        "results": [results[no] for no in shown if no in results],
        "cases": len(ranked),
        "errors": breaches(svc, access.case_nos),
        "page": page,
        "pages": max(1, -(-len(ranked) // COMPLIANCE_PER_PAGE)),
        "due": due.rows,
        "due_total": due.total,
        "today": today,
        "failed": failed,
    }
    return _render(request, "compliance.html", ctx)


@pages.get("/fixity", response_class=HTMLResponse)
def fixity_page(request: Request, svc: ServicesDep, who: PrincipalDep) -> HTMLResponse:
    """固定性检查: re-hash every stored original and derived file now and list any that no longer match."""
    if not may(who.role, Action.SEE_OVERSIGHT):
        raise HTTPException(403, "您的角色无权执行固定性检查")
    checks = run_fixity(svc, who.actor)
    bad = [c for c in checks if not c.ok]
    originals = sum(c.role == "original" for c in checks)
    ctx = {"checked": len(checks), "originals": originals, "bad": bad, "at": datetime.now(UTC)}
    return _render(request, "fixity.html", ctx)


ERRORS = {
    400: ("请求无效", "表单可能已过期：请刷新页面后重试。"),
    403: ("无权访问", "您的角色不能执行此操作；如需权限请联系系统管理员。"),
    404: ("未找到", "记录或案件不存在，或者您无权查看。"),
    405: ("无法这样访问", "请从页面上的链接或按钮进入。"),
    409: ("无法完成", "请按页面提示处理后重试。"),
    413: ("文件过大", "较大的文件请用命令行 archive ingest 导入。"),
    422: ("请求参数不正确", "请检查填写的内容后重试。"),
}
NOT_PAGES = ("/api/", "/static/", "/openapi.json")
# Swagger UI 5 as installed by the swagger-ui-py package (its files only; nothing from a CDN).
_SWAGGER_SPEC = importlib.util.find_spec("swagger_ui")
assert _SWAGGER_SPEC is not None and _SWAGGER_SPEC.origin is not None, "swagger-ui-py is a dependency"
SWAGGER_UI = Path(_SWAGGER_SPEC.origin).parent / "static"


def _error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    heading, hint = ERRORS.get(status, ("出错了", "请稍后重试。"))
    ctx = {"status": status, "detail": detail, "heading": heading, "hint": hint}
    return _render(request, "error.html", ctx, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Pages answer errors with a page; the API keeps its JSON."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith(NOT_PAGES):
        return await http_exception_handler(request, exc)
    detail = exc.detail if isinstance(exc.detail, str) else ERRORS.get(exc.status_code, ("出错了", ""))[0]
    return _error_page(request, exc.status_code, detail)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith(NOT_PAGES):
        return validation_problem(exc)
    return _error_page(request, 422, "请求中的参数不符合要求（例如编号不是数字，或缺少必填项）。")


async def _csrf_error(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith(NOT_PAGES):
        return JSONResponse({"detail": CSRF_EXPIRED}, status_code=400)
    return _error_page(request, 400, f"{CSRF_EXPIRED}。")


def install(app: FastAPI) -> None:
    """Add the pages and static files to the API app."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(CsrfError, _csrf_error)
    app.include_router(public_pages)
    app.include_router(pages)
    app.include_router(web_access.pages)
    app.include_router(web_cases.pages)
    app.include_router(web_legacy.pages)
    # Mounted first: /static/swagger is the installed Swagger UI, the rest the app's own files.
    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_UI), name="swagger")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole web application: API + pages (``uvicorn ui.web:create_app --factory``)."""
    return create_api_app(settings, extensions=[install])
