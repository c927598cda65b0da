"""Search parameters shared by the API and the pages, and running a search for a caller."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated

from fastapi import Depends, HTTPException, Query

from archive import audit
from archive.models import Stage
from indexer.documents import AccessFilter, IndexUnavailableError, SearchQuery, SearchResult
from indexer.query import QuerySyntaxError
from pipelines.background import Background
from pipelines.context import Services
from search_api import filters
from search_api.auth import Principal
from search_api.filters import FILTER_PARAMS as FILTER_PARAMS
from search_api.filters import Filters as Filters
from search_api.portal import prepare_quietly, search_granted


def parse_day(value: str | None, label: str) -> date | None:
    """A YYYY-MM-DD query value (None if empty); a 400 naming the field otherwise."""
    try:
        return filters.parse_day(value, label)
    except filters.FilterError as exc:
        raise HTTPException(400, str(exc)) from None


def get_filters(
    case: Annotated[str | None, Query(max_length=64, description="案号")] = None,
    stage: Annotated[str | None, Query(description="环节：" + "/".join(m.value for m in Stage))] = None,
    form: Annotated[str | None, Query(description="记录形式：文字/音像")] = None,
    kind: Annotated[str | None, Query(max_length=64, description="文书类型")] = None,
    made_by: Annotated[str | None, Query(max_length=64, description="制作人")] = None,
    classification: Annotated[str | None, Query(description="密级")] = None,
    date_from: Annotated[str | None, Query(alias="from", description="制作时间起（含），YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="制作时间止（含），YYYY-MM-DD")] = None,
    sort: Annotated[str, Query(description="relevance 相关度（默认）/ date 制作时间新→旧")] = "relevance",
) -> Filters:
    """Read the filters from the query string (a 400 naming a bad value)."""
    try:
        return filters.parse_filters(
            case=case,
            stage=stage,
            form=form,
            kind=kind,
            made_by=made_by,
            classification=classification,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
        )
    except filters.FilterError as exc:
        raise HTTPException(400, str(exc)) from None


FiltersDep = Annotated[Filters, Depends(get_filters)]


def run_search(
    svc: Services, query: SearchQuery, access: AccessFilter, who: Principal, background: Background
) -> SearchResult:
    """Search for the caller, audited; a query the language cannot parse is a 400 with the reason.

    A caller limited to redacted renditions (a party) is searched over those alone, never the
    index (filters other than the text do not apply there); renditions not made yet are made in
    ``background`` and counted in ``pending`` meanwhile.
    """
    try:
        if access.redacted:
            result = search_granted(svc, who.user_id, query.text, limit=query.limit, offset=query.offset)
            for record_id in result.pending:
                background.later(
                    f"rendition:{who.user_id}:{record_id}",
                    partial(prepare_quietly, svc, who.user_id, record_id),
                )
        else:
            result = svc.index.search(query, access)
        audit.record(svc.engine, "search", who.actor, "search", q=query.text, total=result.total)
        return result
    except QuerySyntaxError as exc:
        raise HTTPException(400, str(exc)) from None
    except IndexUnavailableError as exc:
        raise HTTPException(503, str(exc)) from None
