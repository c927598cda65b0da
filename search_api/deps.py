"""Dependencies declared once: services, the current principal's access filter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from indexer.documents import AccessFilter
from pipelines.context import Services


def get_services(request: Request) -> Services:
    """The process's services, built by create_app."""
    svc: Services = request.app.state.services
    return svc


def get_access(request: Request) -> AccessFilter:
    """The server-built access filter of the caller.

    Until accounts and roles land, the app serves one operator on loopback (see README):
    that operator may see every case.
    """
    return AccessFilter.unrestricted(principal=request.client.host if request.client else "local")


ServicesDep = Annotated[Services, Depends(get_services)]
AccessDep = Annotated[AccessFilter, Depends(get_access)]
