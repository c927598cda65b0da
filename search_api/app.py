"""The FastAPI application factory."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from archive.settings import Settings, get_settings
from pipelines.background import Background
from pipelines.context import open_services
from search_api import auth
from search_api.auth import NotAuthenticatedError, load_principal
from search_api.deps import get_principal
from search_api.limits import BodyLimits, undecodable, validation_problem
from search_api.routes import access, compliance, dossiers, portal, uploads
from search_api.routes import audit as audit_routes
from search_api.routes.api import public, router
from search_api.services import ServiceError

Extension = Callable[[FastAPI], None]
# Only the app's own scripts, styles and media; no framing, no inline script, no plug-ins.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
Next = Callable[[Request], Awaitable[Response]]


async def _service_error(request: Request, exc: Exception) -> Response:
    """A service's refusal answered like an HTTP error of its kind (JSON, or the page's view)."""
    assert isinstance(exc, ServiceError)
    http = StarletteHTTPException(exc.status, str(exc))
    handler = request.app.exception_handlers.get(StarletteHTTPException, http_exception_handler)
    response: Response = await handler(request, http)
    return response


async def _validation(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(exc)


def create_app(settings: Settings | None = None, extensions: Iterable[Extension] = ()) -> FastAPI:
    """Build the API app on ``settings``; ``extensions`` add more routes (the UI does)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="执法全过程记录档案系统 API",
        version="0.1.0",
        description="Administrative enforcement record archive: ingest, store, search.",
        openapi_url=None,  # served below, behind sign-in; the docs page is the UI's (no CDN)
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.services = open_services(settings)
    app.state.background = Background(app.state.services)
    engine = app.state.services.engine

    def signed_in(request: Request) -> bool:
        try:
            load_principal(request, engine)
        except NotAuthenticatedError:
            return False
        return True

    # Added before the session middleware, so it runs inside it (the session cookie is read).
    app.add_middleware(
        BodyLimits,
        upload_max=settings.upload_max_mb << 20,
        body_max=settings.request_max_kb << 10,
        signed_in=signed_in,
    )
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(UnicodeError, undecodable)
    app.add_exception_handler(ServiceError, _service_error)
    auth.install(app, settings)
    app.include_router(public)
    app.include_router(router)
    app.include_router(compliance.router)
    app.include_router(access.router)
    app.include_router(portal.router)
    app.include_router(audit_routes.router)
    app.include_router(uploads.router)
    app.include_router(dossiers.router)
    for extend in extensions:
        extend(app)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(get_principal)])
    def openapi_json() -> JSONResponse:
        """The OpenAPI description of the API, for signed-in users."""
        return JSONResponse(app.openapi())

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Next) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.middleware("http")
    async def server_timing(request: Request, call_next: Next) -> Response:
        # Time to the response head (a streamed body is not counted): bench/pages.py reads it.
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.1f}"
        return response

    return app
