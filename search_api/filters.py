"""Search filters as a request or a command gives them: checked and turned into an index query.

Light on purpose (no web framework, no database): `archive search` reads its options here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from archive.enums import Classification, RecordForm, Stage
from indexer.documents import SORTS, SearchQuery


class FilterError(ValueError):
    """A filter value is not allowed; the message names the field and what is (Chinese)."""


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
        raise FilterError(f"未知{label}：{value}（可选：{'、'.join(m.value for m in allowed)}）")
    return value


def parse_day(value: str | None, label: str) -> date | None:
    """A YYYY-MM-DD value (None if empty); FilterError naming the field otherwise."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{label}格式不正确：{value}（示例：2026-10-09）") from None


def _sort(value: str) -> str:
    if value not in SORTS:
        raise FilterError(f"未知排序：{value}（可选：relevance、date）")
    return value


def parse_filters(
    *,
    case: str | None = None,
    stage: str | None = None,
    form: str | None = None,
    kind: str | None = None,
    made_by: str | None = None,
    classification: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    sort: str = "relevance",
) -> Filters:
    """The filters from their text values; empty values (as an HTML form sends) mean no filter."""
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


# query-string name → parse_filters argument
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
