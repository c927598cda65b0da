"""What a request may cost the server before anyone knows who sent it.

:class:`BodyLimits` is an ASGI middleware that decides from the headers alone, before a byte of
the body is read or parsed: a body must announce its length (chunked bodies get 411), a length
over the cap gets 413 (multipart uploads: ``ARCHIVE_UPLOAD_MAX_MB``; any other body:
``ARCHIVE_REQUEST_MAX_KB``), and a multipart upload without valid credentials gets 401 before it
is spooled to disk. The HTTP server then holds the client to the length it announced.

:func:`validation_problem` answers a 422 without echoing the input back (a 300 MB field must not
come back in the error), and :func:`undecodable` turns text that cannot be stored (a lone UTF-16
surrogate in JSON) into a 400 instead of a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MSG_CHARS = 200


class BodyLimits:
    """Refuse oversized, unannounced or anonymous-upload bodies from their headers alone."""

    def __init__(
        self, app: ASGIApp, *, upload_max: int, body_max: int, signed_in: Callable[[Request], bool]
    ) -> None:
        self.app = app
        self.upload_max, self.body_max = upload_max, body_max
        self.signed_in = signed_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        cap = self.upload_max if multipart else self.body_max
        length = headers.get("content-length")
        problem: tuple[int, str] | None = None
        if "chunked" in headers.get("transfer-encoding", "").lower() or (length is None and multipart):
            problem = (411, "请求须注明内容长度（Content-Length）")
        elif length is not None and (not length.isdigit() or len(length) > 15):
            problem = (400, "内容长度（Content-Length）无效")
        elif length is not None and int(length) > cap:
            limit = f"{cap // (1024 * 1024)} MB" if cap >= 1024 * 1024 else f"{cap // 1024} KB"
            problem = (413, f"请求内容超过上限 {limit}")
        elif multipart and not await run_in_threadpool(self.signed_in, Request(scope)):
            problem = (401, "请先登录")
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, detail = problem
        # The body is never read: the server closes the connection after this answer.
        response = JSONResponse({"detail": detail}, status_code=status, headers={"Connection": "close"})
        await response(scope, receive, send)


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    """A 422 naming each field and what is wrong with it, never the input itself."""
    errors: list[dict[str, Any]] = []
    for e in exc.errors()[:20]:
        errors.append(
            {
                "loc": [str(part)[:64] for part in e.get("loc", ())][:8],
                "msg": str(e.get("msg", ""))[:MSG_CHARS],
                "type": str(e.get("type", ""))[:64],
            }
        )
    return JSONResponse({"detail": errors}, status_code=422)


def undecodable(_request: Request, _exc: Exception) -> JSONResponse:
    """Text that cannot be stored or hashed (a lone surrogate): the client's fault, not ours."""
    return JSONResponse({"detail": "请求中含有无效的字符（如单独的 UTF-16 代理项）"}, status_code=400)
