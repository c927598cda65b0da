"""Dependencies declared once: services, the signed-in principal, its access filter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from indexer.documents import AccessFilter
from pipelines.context import Services
from search_api.auth import Principal, access_filter_for, load_principal


def get_services(request: Request) -> Services:
    """The process's services, built by create_app."""
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(request: Request, svc: ServicesDep) -> Principal:
    """The signed-in user (NotAuthenticatedError → 401 for the API, a redirect for pages)."""
    return load_principal(request, svc.engine)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_access(principal: PrincipalDep) -> AccessFilter:
    """The server-built access filter of the caller; never taken from the request."""
    return access_filter_for(principal)


AccessDep = Annotated[AccessFilter, Depends(get_access)]
