"""Rendering pages: the Jinja2 environment and what every page's layout needs."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from archive.permissions import Action, actions_of
from archive.timeutil import to_local
from pipelines.derived import thumb_kind
from pipelines.detect import MediaFamily, family_of
from search_api.auth import NotAuthenticatedError, Principal, csrf_token, load_principal
from search_api.schemas import STATUS_LABELS

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(value).strftime(fmt) if value else "—"


def _json_text(value: object) -> str:
    # Chinese stays readable (tojson escapes it to \\uXXXX); autoescaping still applies.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


templates.env.filters["local_time"] = _local_time
templates.env.filters["json_text"] = _json_text
templates.env.globals["STATUS_LABELS"] = STATUS_LABELS  # the same words as the status API
# What a file is and its derived files' kinds, as the code tells them (never a MIME prefix or a
# kind string in a template): family_of(r.mime).is_sound, family_of(m) == MediaFamily.VIDEO,
# thumb_kind(n).
templates.env.globals["family_of"] = family_of
templates.env.globals["MediaFamily"] = MediaFamily
templates.env.globals["thumb_kind"] = thumb_kind


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a page with what the layout needs: the signed-in user and the CSRF token."""
    try:
        me: Principal | None = load_principal(request, request.app.state.services.engine)
    except NotAuthenticatedError:
        me = None
    actions = actions_of(me.role) if me is not None else frozenset()
    base = {"me": me, "csrf": csrf_token(request), "can": lambda action: Action(action) in actions}
    return templates.TemplateResponse(request, name, base | context, status_code=status_code)
