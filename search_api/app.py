"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fastapi import FastAPI

from archive.settings import Settings, get_settings
from pipelines.background import Background
from pipelines.context import open_services
from search_api import auth
from search_api.routes import access, compliance, dossiers, portal, uploads
from search_api.routes import audit as audit_routes
from search_api.routes.api import public, router

Extension = Callable[[FastAPI], None]


def create_app(settings: Settings | None = None, extensions: Iterable[Extension] = ()) -> FastAPI:
    """Build the API app on ``settings``; ``extensions`` add more routes (the UI does)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="执法全过程记录档案系统 API",
        version="0.1.0",
        description="Administrative enforcement record archive: ingest, store, search.",
    )
    app.state.settings = settings
    app.state.services = open_services(settings)
    app.state.background = Background(app.state.services)
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
    return app
