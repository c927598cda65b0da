"""Dependencies declared once: services, the signed-in principal, its access filter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from archive.models import Record
from indexer.documents import AccessFilter
from pipelines.context import Services
from search_api.auth import Principal, access_filter_for, load_principal
from search_api.records import NOT_FOUND, NotVisibleError, get_record


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


def get_visible_record(record_id: int, svc: ServicesDep, access: AccessDep) -> Record:
    """The record of the path, if the caller may see it; else 404 (never saying which)."""
    with Session(svc.engine) as s:
        try:
            return get_record(session=s, record_id=record_id, access=access)
        except NotVisibleError:
            raise HTTPException(404, NOT_FOUND) from None


VisibleRecordDep = Annotated[Record, Depends(get_visible_record)]
