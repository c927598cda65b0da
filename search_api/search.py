"""Search parameters shared by the API and the pages, and running a search for a caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Annotated

from fastapi import Depends, HTTPException, Query

from archive import audit
from archive.models import Classification, RecordForm, Stage
from indexer.documents import SORTS, AccessFilter, IndexUnavailableError, SearchQuery, SearchResult
from indexer.query import QuerySyntaxError
from pipelines.background import Background
from pipelines.context import Services
from search_api.auth import Principal
from search_api.portal import prepare_quietly, search_granted


@dataclass(frozen=True)
class Filters:
    """The filters and sort a search request carries (all optional)."""

    case: str | None = None
    stage: str | None = None
    form: str | None = None
    kind: str | None = None
    made_by: str | None = None
    classification: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"

    def query(self, text: str, *, limit: int, offset: int, facets: bool) -> SearchQuery:
        """The index query for ``text`` under these filters."""
        return SearchQuery(
            text,
            case_no=self.case,
            stage=self.stage,
            form=self.form,
            document_type=self.kind,
            made_by=self.made_by,
            classification=self.classification,
            date_from=self.date_from,
            date_to=self.date_to,
            sort=self.sort,
            limit=limit,
            offset=offset,
            facets=facets,
        )


def _choice(
    value: str | None, allowed: type[Stage] | type[RecordForm] | type[Classification], label: str
) -> str | None:
    if not value:
        return None
    if value not in {m.value for m in allowed}:
        raise HTTPException(400, f"未知{label}：{value}（可选：{'、'.join(m.value for m in allowed)}）")
    return value


def parse_day(value: str | None, label: str) -> date | None:
    """A YYYY-MM-DD query value (None if empty); a 400 naming the field otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{label}格式不正确：{value}（示例：2026-10-09）") from None


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
    """Read the filters from the query string; empty values (as an HTML form sends) mean no filter."""
    return Filters(
        case=case or None,
        stage=_choice(stage, Stage, "环节"),
        form=_choice(form, RecordForm, "记录形式"),
        kind=kind or None,
        made_by=made_by or None,
        classification=_choice(classification, Classification, "密级"),
        date_from=parse_day(date_from, "起始日期"),
        date_to=parse_day(date_to, "截止日期"),
        sort=_sort(sort),
    )


def _sort(value: str) -> str:
    if value not in SORTS:
        raise HTTPException(400, f"未知排序：{value}（可选：relevance、date）")
    return value


# query-string name → get_filters argument
FILTER_PARAMS = {
    "case": "case",
    "stage": "stage",
    "form": "form",
    "kind": "kind",
    "made_by": "made_by",
    "classification": "classification",
    "from": "date_from",
    "to": "date_to",
    "sort": "sort",
}

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
