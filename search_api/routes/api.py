"""REST API v1 (thin: services do the work)."""

from __future__ import annotations

from importlib.metadata import version
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.records import RecordFrozenError, RecordMissingError, delete_record, update_record
from search_api.auth import csrf_token
from search_api.deps import (
    AccessDep,
    EditorDep,
    PrincipalDep,
    RecordRemoverDep,
    ServicesDep,
    VisibleRecordDep,
    check_csrf_header,
    get_principal,
)
from search_api.records import NOT_FOUND, extracted_text, list_cases, record_out
from search_api.schemas import (
    CaseOut,
    FacetOut,
    HealthOut,
    HitOut,
    MeOut,
    RecordOut,
    RecordPatch,
    SearchOut,
    SuggestionOut,
)
from search_api.search import FiltersDep, run_search
from search_api.suggest import suggest

# Authenticated by default: every route on `router` needs a signed-in user.
router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_principal)])
public = APIRouter(prefix="/api/v1")


@public.get("/health", response_model=HealthOut, tags=["system"])
def health(svc: ServicesDep) -> HealthOut:
    """Liveness (no sign-in needed): database reachable, backends named."""
    with Session(svc.engine) as s:
        s.execute(select(1))
    return HealthOut(
        status="ok",
        version=version("enforcement-archive"),
        database=svc.engine.dialect.name,
        storage=svc.store.name,
        index=svc.index.name,
    )


@router.get("/search", response_model=SearchOut, tags=["search"])
def search(
    svc: ServicesDep,
    access: AccessDep,
    filters: FiltersDep,
    q: str = Query(
        ..., min_length=1, max_length=500, description='检索式：词（空格=同时包含）、"短语"、-排除、OR'
    ),
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10000),
    facets: bool = Query(False, description="同时返回分面计数"),
) -> SearchOut:
    """Full-text search over every record the caller may see."""
    result = run_search(svc, filters.query(q, limit=limit, offset=offset, facets=facets), access)
    return SearchOut(
        total=result.total,
        hits=[HitOut(**vars(h)) for h in result.hits],
        facets={k: [FacetOut(value=v, count=n) for v, n in vals] for k, vals in result.facets.items()},
    )


@router.get("/suggest", response_model=list[SuggestionOut], tags=["search"])
def suggestions(
    svc: ServicesDep,
    access: AccessDep,
    q: str = Query(..., min_length=1, max_length=100, description="案号或当事人名称的开头"),
    limit: int = Query(10, ge=1, le=50),
) -> list[SuggestionOut]:
    """案号 and party names starting with (then containing) ``q``, among visible cases."""
    with Session(svc.engine) as s:
        return [SuggestionOut(**vars(x)) for x in suggest(session=s, prefix=q, access=access, limit=limit)]


@router.get("/records/{record_id}", response_model=RecordOut, tags=["records"])
def read_record(record: VisibleRecordDep) -> RecordOut:
    """A record with its metadata, processing status and stored files."""
    return record_out(record)


@router.patch(
    "/records/{record_id}",
    response_model=RecordOut,
    tags=["records"],
    dependencies=[Depends(check_csrf_header)],
)
def edit_record(patch: RecordPatch, record: VisibleRecordDep, svc: ServicesDep, _who: EditorDep) -> RecordOut:
    """Correct a record's metadata; the search index follows at once."""
    try:
        updated = update_record(svc, record.id, patch.model_dump(exclude_unset=True))
    except RecordFrozenError as exc:
        raise HTTPException(409, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return record_out(updated)


@router.delete(
    "/records/{record_id}", status_code=204, tags=["records"], dependencies=[Depends(check_csrf_header)]
)
def remove_record(record: VisibleRecordDep, svc: ServicesDep, _who: RecordRemoverDep) -> Response:
    """Delete a record registered by mistake (not once its case is filed); gone from search too."""
    try:
        delete_record(svc, record.id)
    except RecordFrozenError as exc:
        raise HTTPException(409, str(exc)) from None
    except RecordMissingError:
        raise HTTPException(404, NOT_FOUND) from None
    return Response(status_code=204)


@router.get("/records/{record_id}/text", response_class=PlainTextResponse, tags=["records"])
def record_text(record: VisibleRecordDep, svc: ServicesDep) -> PlainTextResponse:
    """The extracted text of a record."""
    text = extracted_text(svc.store, record)
    if text is None:
        raise HTTPException(404, "该记录尚无提取文本")
    return PlainTextResponse(text)


@router.get("/records/{record_id}/original", tags=["records"])
def record_original(record: VisibleRecordDep, svc: ServicesDep) -> StreamingResponse:
    """Download the unaltered original (streamed)."""
    disposition = f"attachment; filename*=UTF-8''{quote(record.original_name)}"
    return StreamingResponse(
        svc.store.iter_bytes(record.sha256),
        media_type=record.mime,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(record.size),
            "X-Content-SHA256": record.sha256,
        },
    )


@router.get("/records/{record_id}/files/{kind}", tags=["records"])
def record_file(kind: str, record: VisibleRecordDep, svc: ServicesDep) -> StreamingResponse:
    """A derived file of a record: text, pages, ocr (boxes), thumb-N (page thumbnails)."""
    found = next((f for f in record.files if f.kind == kind and f.role.value == "derivative"), None)
    if found is None:
        raise HTTPException(404, "该记录没有这个衍生文件")
    return StreamingResponse(
        svc.store.iter_bytes(found.sha256),
        media_type=found.mime,
        headers={
            "Content-Length": str(found.size),
            "X-Content-SHA256": found.sha256,
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get("/cases", response_model=list[CaseOut], tags=["cases"])
def cases(svc: ServicesDep, access: AccessDep) -> list[CaseOut]:
    """Cases the caller may see."""
    with Session(svc.engine) as s:
        return list_cases(session=s, access=access)


@router.get("/me", response_model=MeOut, tags=["system"])
def me(principal: PrincipalDep, request: Request) -> MeOut:
    """The signed-in user, and the session's CSRF token for PATCH/POST/DELETE calls."""
    return MeOut(
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role.value,
        csrf=csrf_token(request),
    )
