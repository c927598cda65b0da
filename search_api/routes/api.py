"""REST API v1 (thin: services do the work)."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import audit
from archive.actor import Actor
from archive.media import DerivedKind, derived_file, family_of, is_thumb
from archive.models import FileRole, Record
from archive.permissions import Action
from archive.users import TOKEN_DAYS, revoke_session
from pipelines.transcripts import MAX_CORRECTION_BYTES, versions_of
from search_api.auth import Principal, check_password, client_ip, csrf_token
from search_api.deps import (
    AccessDep,
    EditorDep,
    Id,
    PrincipalDep,
    RecordRemoverDep,
    ServicesDep,
    VisibleRecordDep,
    allowed_to,
    background,
    check_csrf_header,
    get_principal,
)
from search_api.records import extracted_text, list_cases, record_out
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
    TranscriptVersionOut,
)
from search_api.search import FiltersDep, run_search
from search_api.services import records, users
from search_api.suggest import suggest

# Authenticated by default: every route on `router` needs a signed-in user.
router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_principal)])
public = APIRouter(prefix="/api/v1")


@public.get("/health", response_model=HealthOut, tags=["system"])
def health(svc: ServicesDep, response: Response) -> HealthOut:
    """Liveness (no sign-in needed): database reachable, backends named, the task queue's Redis
    reachable (503 ``degraded`` when it is not)."""
    from pipelines.status import queue_state

    with Session(svc.engine) as s:
        s.execute(select(1))
    queue = queue_state(svc.settings)
    redis = "not used" if queue.reachable is None else ("ok" if queue.reachable else "unreachable")
    if queue.reachable is False:
        response.status_code = 503
    return HealthOut(
        status="degraded" if queue.reachable is False else "ok",
        version=version("enforcement-archive"),
        database=svc.engine.dialect.name,
        storage=svc.store.name,
        index=svc.index.name,
        queue=queue.backend,
        redis=redis,
        queue_depth=queue.depth,
    )


StatusReaderDep = Annotated[Principal, Depends(allowed_to(Action.SEE_SYSTEM))]


@router.get("/status", tags=["system"])
def archive_status_report(svc: ServicesDep, who: StatusReaderDep) -> dict[str, Any]:
    """The archive's health (as `archive status --json`): records, stuck and failed jobs, queue,
    index against records, last fixity run, audit head, disk, calendar years."""
    from pipelines.status import archive_status

    return archive_status(svc).as_dict()


class TokenIn(BaseModel):
    """Credentials for an API token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(default="api", max_length=64, description="令牌用途，如：批量导入脚本")
    days: int = Field(default=30, ge=1, le=TOKEN_DAYS)


class TokenOut(BaseModel):
    """A bearer token: send it as ``Authorization: Bearer <token>``; shown once."""

    token: str
    expires_at: datetime


@public.post("/auth/token", response_model=TokenOut, status_code=201, tags=["system"])
def create_token(body: TokenIn, request: Request, svc: ServicesDep) -> TokenOut:
    """Exchange a user name and password for a bearer token (failures are slowed per name and
    address as on the sign-in page: 429 with Retry-After)."""
    user = check_password(request, svc.engine, body.username, body.password)
    if user is None:
        raise HTTPException(401, "用户名或密码错误")
    who = Actor(user.username, user.role, client_ip(request), user_id=user.id)
    token = users.issue_token(svc, who, user.username, body.name, body.days)
    return TokenOut(token=token, expires_at=datetime.now(UTC) + timedelta(days=body.days))


@router.delete("/auth/token", status_code=204, tags=["system"])
def revoke_token(request: Request, svc: ServicesDep, who: PrincipalDep) -> Response:
    """Revoke the bearer token this call is made with."""
    header = request.headers.get("authorization", "")
    if who.via != "token" or not header.lower().startswith("bearer "):
        raise HTTPException(400, "此请求未使用 API 令牌")
    with Session(svc.engine) as s:
        revoke_session(session=s, token=header[7:].strip())
        s.commit()
    audit.record(svc.engine, "logout", who.actor, f"user:{who.username}", via="token")
    return Response(status_code=204)


@router.get("/search", response_model=SearchOut, tags=["search"])
def search(
    request: Request,
    svc: ServicesDep,
    access: AccessDep,
    who: PrincipalDep,
    filters: FiltersDep,
    q: str = Query(
        ..., min_length=1, max_length=500, description='检索式：词（空格=同时包含）、"短语"、-排除、OR'
    ),
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10000),
    facets: bool = Query(False, description="同时返回分面计数"),
) -> SearchOut:
    """Full-text search over every record the caller may see (a party: their granted records,
    redacted)."""
    query = filters.query(q, limit=limit, offset=offset, facets=facets)
    result = run_search(svc, query, access, who, background(request))
    return SearchOut(
        total=result.total,
        hits=[HitOut(**vars(h)) for h in result.hits],
        pending=len(result.pending),
        facets={k: [FacetOut(value=v, count=n) for v, n in vals] for k, vals in result.facets.items()},
    )


@router.get("/suggest", response_model=list[SuggestionOut], tags=["search"])
def suggestions(
    svc: ServicesDep,
    access: AccessDep,
    q: str = Query(..., min_length=1, max_length=100, description="案号或当事人名称的开头"),
    limit: int = Query(10, ge=1, le=50),
) -> list[SuggestionOut]:
    """案号 and party names starting with (then containing) ``q``, among visible cases.

    A party gets only the 案号 of their granted cases: other people's names are never suggested.
    """
    with Session(svc.engine) as s:
        found = suggest(session=s, prefix=q, access=access, limit=limit)
    return [SuggestionOut(**vars(x)) for x in found]


@router.get("/records/{record_id}", response_model=RecordOut, tags=["records"])
def read_record(record: VisibleRecordDep, svc: ServicesDep, who: PrincipalDep) -> RecordOut:
    """A record with its metadata, processing status and stored files."""
    records.opened(svc, who.actor, record.id)
    return record_out(record)


@router.patch(
    "/records/{record_id}",
    response_model=RecordOut,
    tags=["records"],
    dependencies=[Depends(check_csrf_header)],
)
def edit_record(patch: RecordPatch, record: VisibleRecordDep, svc: ServicesDep, who: EditorDep) -> RecordOut:
    """Correct a record's metadata; the search index follows at once."""
    updated = records.edit_record(svc, who.actor, record.id, patch.model_dump(exclude_unset=True))
    return record_out(updated)


@router.delete(
    "/records/{record_id}", status_code=204, tags=["records"], dependencies=[Depends(check_csrf_header)]
)
def remove_record(record: VisibleRecordDep, svc: ServicesDep, who: RecordRemoverDep) -> Response:
    """Delete a record registered by mistake (not once its case is filed); gone from search too."""
    records.remove_record(svc, who.actor, record.id, record.sha256)
    return Response(status_code=204)


@router.get("/records/{record_id}/text", response_class=PlainTextResponse, tags=["records"])
def record_text(record: VisibleRecordDep, svc: ServicesDep, who: PrincipalDep) -> PlainTextResponse:
    """The extracted text of a record."""
    text = extracted_text(svc.store, record)
    if text is None:
        raise HTTPException(404, "该记录尚无提取文本")
    records.opened(svc, who.actor, record.id, file=DerivedKind.TEXT)
    return PlainTextResponse(text)


def served_type(record: Record) -> str:
    """The Content-Type of an original as stored: text names the encoding it was read in (a GB18030
    file is not UTF-8); text whose encoding is not known is plain bytes."""
    if not record.mime.startswith("text/"):
        return record.mime
    encoding = (record.source_meta or {}).get("encoding")
    try:
        name = codecs.lookup(encoding).name if isinstance(encoding, str) else None
    except LookupError:
        name = None
    return f"{record.mime}; charset={name}" if name else "application/octet-stream"


@router.get("/records/{record_id}/original", tags=["records"])
def record_original(record: VisibleRecordDep, svc: ServicesDep, who: PrincipalDep) -> StreamingResponse:
    """Download the unaltered original (streamed)."""
    records.opened(svc, who.actor, record.id, download=True, file="original")
    disposition = f"attachment; filename*=UTF-8''{quote(record.original_name)}"
    return StreamingResponse(
        svc.store.iter_bytes(record.sha256),
        media_type=served_type(record),
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(record.size),
            "X-Content-SHA256": record.sha256,
        },
    )


RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")  # 18 digits: past any file, within int64


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, length) of a single-range ``Range`` header, None for the whole object; 416 if it
    cannot be satisfied."""
    if not header:
        return None
    m = RANGE.match(header.strip()[:64])
    if m is None or (not m.group(1) and not m.group(2)):
        return None  # not a form we serve (e.g. several ranges): answer with the whole object
    if m.group(1):
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    else:  # the last N bytes
        start, end = max(size - int(m.group(2)), 0), size - 1
    if start >= size or end < start:
        raise HTTPException(416, "请求的范围超出文件大小", headers={"Content-Range": f"bytes */{size}"})
    return start, end - start + 1


@router.get("/records/{record_id}/media", tags=["records"])
def record_media(record: VisibleRecordDep, svc: ServicesDep, who: PrincipalDep, request: Request) -> Response:
    """The original of a recording or picture for the viewer, inline, with byte ranges (seeking
    in long video)."""
    if not family_of(record.mime).is_audiovisual:
        raise HTTPException(404, "该记录不是录音录像或图片")
    wanted = byte_range(request.headers.get("range"), record.size)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
    # every read is audited, a ranged one with its range (a player's seek reads a new range)
    span = None if wanted is None else f"{wanted[0]}-{wanted[0] + wanted[1] - 1}"
    records.opened(svc, who.actor, record.id, file="media", range=span)
    if wanted is None:
        headers["Content-Length"] = str(record.size)
        return StreamingResponse(svc.store.iter_bytes(record.sha256), media_type=record.mime, headers=headers)
    start, length = wanted
    headers |= {
        "Content-Range": f"bytes {start}-{start + length - 1}/{record.size}",
        "Content-Length": str(length),
    }
    return StreamingResponse(
        svc.store.iter_range(record.sha256, start, length),
        status_code=206,
        media_type=record.mime,
        headers=headers,
    )


@router.get("/records/{record_id}/files/{kind}", tags=["records"])
def record_file(
    kind: str, record: VisibleRecordDep, svc: ServicesDep, who: PrincipalDep
) -> StreamingResponse:
    """A derived file of a record: text, pages, ocr (boxes), thumb-N (page thumbnails)."""
    found = derived_file(record, kind)
    if found is None or found.role is not FileRole.DERIVATIVE:
        raise HTTPException(404, "该记录没有这个衍生文件")
    if not is_thumb(kind):
        records.opened(svc, who.actor, record.id, download=True, file=kind)
    return StreamingResponse(
        svc.store.iter_bytes(found.sha256),
        media_type=found.mime,
        headers={
            "Content-Length": str(found.size),
            "X-Content-SHA256": found.sha256,
            "Cache-Control": "private, max-age=3600",
        },
    )


def _versions(svc: ServicesDep, record_id: int) -> list[TranscriptVersionOut]:
    with Session(svc.engine) as s:
        rows = versions_of(s, record_id)
    out = [TranscriptVersionOut.model_validate(r, from_attributes=True) for r in rows]
    if out:
        out[-1].current = True
    return out


@router.get(
    "/records/{record_id}/transcript/versions",
    response_model=list[TranscriptVersionOut],
    tags=["transcripts"],
)
def transcript_versions(record: VisibleRecordDep, svc: ServicesDep) -> list[TranscriptVersionOut]:
    """Every version of the record's transcript (第二十六条), oldest first; the last is current."""
    return _versions(svc, record.id)


@router.get("/records/{record_id}/transcript/versions/{version}", tags=["transcripts"])
def transcript_version(
    version: Id, record: VisibleRecordDep, svc: ServicesDep, who: PrincipalDep
) -> Response:
    """One version's transcript JSON (segments, words, times), e.g. the machine one after a correction."""
    with Session(svc.engine) as s:
        row = next((r for r in versions_of(s, record.id) if r.version == version), None)
    if row is None:
        raise HTTPException(404, "没有这个转写版本")
    records.opened(svc, who.actor, record.id, transcript_version=version)
    return StreamingResponse(svc.store.iter_bytes(row.sha256), media_type="application/json")


@router.post(
    "/records/{record_id}/transcript",
    response_model=TranscriptVersionOut,
    status_code=201,
    tags=["transcripts"],
    dependencies=[Depends(check_csrf_header)],
)
def correct_transcript(
    record: VisibleRecordDep,
    svc: ServicesDep,
    who: EditorDep,
    file: Annotated[UploadFile | None, File(description="SRT、WebVTT、转写 JSON 或纯文本")] = None,
    text: Annotated[str | None, Form(description="纯文本校对稿，每行对应一段")] = None,
    note: Annotated[str, Form(max_length=500, description="校对说明")] = "",
) -> TranscriptVersionOut:
    """Upload an officer's corrected transcript: it becomes current, the machine one is kept."""
    if (file is None) == (text is None):
        raise HTTPException(422, "请上传一个校对稿文件，或填写校对文本（二者选一）")
    if file is not None:
        data, name = file.file.read(MAX_CORRECTION_BYTES + 1), file.filename or "transcript.txt"
    else:
        data, name = (text or "").encode("utf-8"), "form.txt"
    records.correct_transcript(svc, who.actor, record.id, data, name, note)
    latest = _versions(svc, record.id)[-1]
    return latest


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
