"""Elasticsearch backend: the same analysis as the embedded index, sent as whitespace-joined tokens.

Searches and writes go through an alias; a rebuild fills a new index (named ``<alias>-<time>``)
and swaps the alias to it in one atomic step, so searches never see a half-built index.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError, UnsupportedProductError, helpers

from archive.settings import IndexSettings
from archive.timeutil import as_utc
from indexer.analysis import Analysed, analyse, query_words, sequence_plan
from indexer.documents import (
    FACET_FIELDS,
    AccessFilter,
    IndexDoc,
    IndexUnavailableError,
    SearchQuery,
    SearchResult,
)
from indexer.hits import make_hit
from indexer.query import ParsedQuery, parse_for
from indexer.tantivy_index import TITLE_BONUS, day_start

log = logging.getLogger(__name__)
TEMPLATE = Path(__file__).with_name("es") / "template.json"
KEYWORDS = ("case_no", "stage", "form", "document_type", "made_by", "classification")
SOURCE = ["record_id", "title", "case_no", "stage", "raw", "page_starts", "segments"]
BULK_CHUNK = 500


class IndexWriteError(RuntimeError):
    """Elasticsearch refused some documents even after retries; the message says which and why."""


@cache
def template_body(alias: str) -> dict[str, Any]:
    """The index template (indexer/es/template.json) for ``alias``."""
    body: dict[str, Any] = json.loads(TEMPLATE.read_text(encoding="utf-8").replace("{alias}", alias))
    body.pop("_comment", None)
    return body


def es_source(doc: IndexDoc) -> dict[str, Any]:
    """The _source of a record's document."""
    a: Analysed = doc.analysed or analyse(doc.title, doc.text)
    made_at = as_utc(doc.made_at) if doc.made_at else None
    return {
        "record_id": doc.record_id,
        **{name: getattr(doc, name) or "" for name in KEYWORDS},
        "made_at": made_at.astimezone(UTC).isoformat() if made_at else None,
        "title": doc.title,
        # Space-separated tokens (no token contains whitespace): the whitespace tokenizer gives
        # back exactly these tokens at consecutive positions.
        "words": a.words,
        "title_words": a.title_words,
        "chars": a.chars,
        "grams": a.grams,
        "tris": a.tris,
        "raw": doc.text,
        "page_starts": list(doc.page_starts),
        "segments": {"offsets": [s[0] for s in doc.segments], "seconds": [s[1] for s in doc.segments]},
    }


def make_client(cfg: IndexSettings) -> Elasticsearch:
    """An Elasticsearch client from the settings (retries with backoff on 429/5xx and timeouts)."""
    auth: dict[str, Any] = {}
    if cfg.es_ca_certs is not None:
        auth["ca_certs"] = str(cfg.es_ca_certs)
    if cfg.es_api_key is not None:
        auth["api_key"] = cfg.es_api_key.get_secret_value()
    elif cfg.es_username and cfg.es_password is not None:
        auth["basic_auth"] = (cfg.es_username, cfg.es_password.get_secret_value())
    return Elasticsearch(
        [u.strip() for u in cfg.es_url.split(",") if u.strip()],
        request_timeout=cfg.es_timeout_s,
        max_retries=cfg.es_retries,
        retry_on_timeout=True,
        retry_on_status=(429, 502, 503, 504),
        server_mode=cfg.es_server_mode,
        **auth,
    )


class ElasticsearchIndex:
    """Records in Elasticsearch behind an alias."""

    name = "elasticsearch"

    def __init__(self, cfg: IndexSettings, client: Elasticsearch | None = None) -> None:
        self.cfg = cfg
        self.alias = cfg.es_alias
        self.es = client or make_client(cfg)
        self._ready = False

    # --- index lifecycle -------------------------------------------------------------------

    def _put_template(self) -> None:
        body = template_body(self.alias)
        self.es.indices.put_index_template(
            name=self.alias,
            index_patterns=body["index_patterns"],
            priority=body["priority"],
            template=body["template"],
        )

    def _new_index(self) -> str:
        name = f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        self.es.indices.create(index=name)  # settings and mappings come from the template
        return name

    def _problem(self, exc: Exception) -> str:
        """What went wrong talking to the server, as an operator can act on it."""
        status = getattr(exc, "status_code", None)
        if isinstance(exc, UnsupportedProductError):
            return f"{self.cfg.es_url} 不是 Elasticsearch 服务（或版本过旧）"
        if status == 406 or (status == 400 and "media_type" in str(exc).lower()):
            return (
                f"Elasticsearch（{self.cfg.es_url}）拒绝了本系统的请求格式（HTTP {status}）："
                "服务器版本与客户端不兼容，需要 Elasticsearch 8.x 或 9.x"
            )
        if status in (401, 403):
            return (
                f"Elasticsearch（{self.cfg.es_url}）拒绝访问（HTTP {status}）："
                "检查 ARCHIVE_INDEX__ES_USERNAME / ES_PASSWORD 或 ES_API_KEY"
            )
        if status is not None:
            return f"Elasticsearch（{self.cfg.es_url}）答复错误 HTTP {status}：{exc}"
        return f"无法连接检索服务 Elasticsearch（{self.cfg.es_url}）：{type(exc).__name__}"

    def _ensure(self) -> None:
        if self._ready:
            return
        try:
            self._put_template()
        except (TransportError, ApiError) as exc:
            raise IndexUnavailableError(self._problem(exc)) from exc
        if not self.es.indices.exists_alias(name=self.alias):
            name = self._new_index()
            self.es.indices.put_alias(index=name, name=self.alias)
        self._ready = True

    def _bulk(self, actions: Iterable[dict[str, Any]], *, refresh: bool | str = False) -> int:
        """Send actions in chunks, retrying rejected ones with exponential backoff."""
        done, failed = 0, []
        for ok, item in helpers.streaming_bulk(
            self.es,
            actions,
            chunk_size=BULK_CHUNK,
            max_retries=self.cfg.es_retries,
            initial_backoff=0.5,
            max_backoff=30,
            raise_on_error=False,
            refresh=refresh,
        ):
            op, result = next(iter(item.items()))
            if ok or (op == "delete" and result.get("status") == 404):
                done += 1
            else:
                failed.append(f"{result.get('_id')}: {result.get('error')}")
        if failed:
            raise IndexWriteError(f"{len(failed)} 条记录未能写入检索索引：" + "；".join(failed[:5]))
        return done

    def _index_actions(self, docs: Iterable[IndexDoc], index: str) -> Iterator[dict[str, Any]]:
        for doc in docs:
            yield {"_op_type": "index", "_index": index, "_id": str(doc.record_id), "_source": es_source(doc)}

    # --- the SearchIndex contract ------------------------------------------------------------

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        """Replace each record's document; searchable when this returns."""
        if not docs:
            return
        self._ensure()
        self._bulk(self._index_actions(docs, self.alias), refresh="wait_for")

    def delete(self, record_ids: Sequence[int]) -> None:
        """Remove the records' documents (missing ones are fine)."""
        if not record_ids:
            return
        self._ensure()
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": str(r)} for r in record_ids)
        self._bulk(actions, refresh="wait_for")

    def clear(self) -> None:
        """Remove every document."""
        self._ensure()
        self.es.delete_by_query(index=self.alias, query={"match_all": {}}, refresh=True, conflicts="proceed")

    def _ids(self) -> set[int]:
        return {
            int(h["_id"])
            for h in helpers.scan(
                self.es, index=self.alias, query={"query": {"match_all": {}}}, _source=False
            )
        }

    def prune(self, keep: Sequence[int]) -> int:
        """Delete documents whose record id is not in ``keep``; returns how many."""
        self._ensure()
        stale = sorted(self._ids() - set(keep))
        self.delete(stale)
        return len(stale)

    def count(self) -> int:
        """Documents behind the alias."""
        self._ensure()
        self.es.indices.refresh(index=self.alias)
        return int(self.es.count(index=self.alias)["count"])

    def rebuild(self, batches: Iterable[Sequence[IndexDoc]]) -> int:
        """Fill a fresh index, then point the alias at it atomically and drop the old one(s)."""
        self._put_template()
        new = self._new_index()
        try:
            done = self._bulk(self._index_actions((d for b in batches for d in b), new))
            self.es.indices.refresh(index=new)
        except BaseException:
            self.es.indices.delete(index=new, ignore_unavailable=True)
            raise
        try:
            old = list(self.es.indices.get_alias(name=self.alias))
        except NotFoundError:
            old = []
        actions: list[dict[str, Any]] = [{"remove": {"index": o, "alias": self.alias}} for o in old]
        actions.append({"add": {"index": new, "alias": self.alias}})
        self.es.indices.update_aliases(actions=actions)
        for o in old:
            self.es.indices.delete(index=o, ignore_unavailable=True)
        self._ready = True
        return done

    # --- queries -----------------------------------------------------------------------------

    @staticmethod
    def _chars(text: str) -> dict[str, Any]:
        """Where the characters of ``text`` occur in sequence (whitespace ignored)."""
        plan = sequence_plan(text)
        if plan is None:
            return {"match_none": {}}
        if len(plan.consecutive) == 1:
            return {"term": {plan.field: plan.consecutive[0]}}
        return {"match_phrase": {plan.field: " ".join(plan.consecutive)}}

    def _text_query(self, parsed: ParsedQuery, filters: list[dict[str, Any]]) -> dict[str, Any]:
        """Hits from character sequences (in filter context: exact, unscored); ranking from words."""
        required: list[dict[str, Any]] = []
        for group in parsed.groups:
            if len(group) == 1:
                required.append(self._chars(group[0].text))
            else:
                alternatives = [self._chars(c.text) for c in group]
                required.append({"bool": {"should": alternatives, "minimum_should_match": 1}})
        should: list[dict[str, Any]] = []
        for text in parsed.positive:
            for w in query_words(text):
                should.append({"term": {"words": w}})
                title = {"term": {"title_words": w}}
                should.append({"constant_score": {"filter": title, "boost": TITLE_BONUS}})
        return {
            "filter": required + filters,
            "should": should,
            "minimum_should_match": 0,
            "must_not": [self._chars(c.text) for c in parsed.excluded],
        }

    @staticmethod
    def _filters(query: SearchQuery, access: AccessFilter) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if access.case_nos is not None:
            out.append({"terms": {"case_no": sorted(access.case_nos)}})
        if access.classifications is not None:
            out.append({"terms": {"classification": sorted(access.classifications)}})
        for name in KEYWORDS:
            value = getattr(query, name)
            if value:
                out.append({"term": {name: value}})
        if query.date_from or query.date_to:
            bounds: dict[str, str] = {}
            if query.date_from:
                bounds["gte"] = day_start(query.date_from).isoformat()
            if query.date_to:
                bounds["lt"] = day_start(query.date_to + timedelta(days=1)).isoformat()
            out.append({"range": {"made_at": bounds}})
        return out

    def search(self, query: SearchQuery, access: AccessFilter) -> SearchResult:
        """Query language (indexer.query) + filters; BM25 on words, or newest 制作时间 first."""
        parsed = parse_for(query.text, access)
        if parsed is None:
            return SearchResult(total=0)
        self._ensure()
        body: dict[str, Any] = {
            "query": {"bool": self._text_query(parsed, self._filters(query, access))},
            "from": query.offset,
            "size": query.limit,
            "track_total_hits": True,
            "_source": SOURCE,
        }
        if query.sort == "date":
            body["sort"] = [{"made_at": {"order": "desc", "missing": "_last"}}, {"record_id": "desc"}]
        else:
            body["sort"] = ["_score", {"record_id": "asc"}]
        if query.facets:
            body["aggs"] = {name: {"terms": {"field": name, "size": 100}} for name in FACET_FIELDS}
        started = time.perf_counter()
        try:
            res = self.es.search(index=self.alias, **body)
        except (TransportError, ApiError) as exc:
            log.warning("Elasticsearch search failed: %s", exc)
            reason = type(exc).__name__
            raise IndexUnavailableError(f"检索服务暂时不可用（Elasticsearch：{reason}），请稍后重试") from exc
        log.debug("es search %.1f ms", (time.perf_counter() - started) * 1000)
        terms = parsed.positive
        hits = []
        for h in res["hits"]["hits"]:
            src = h["_source"]
            seg = src.get("segments") or {}
            hits.append(
                make_hit(
                    record_id=int(src["record_id"]),
                    score=round(float(h.get("_score") or 0.0), 4) if query.sort != "date" else 0.0,
                    title=src.get("title") or "",
                    case_no=src.get("case_no") or "",
                    stage=src.get("stage") or "",
                    raw=src.get("raw") or "",
                    terms=terms,
                    page_starts=src.get("page_starts") or [],
                    segments=list(zip(seg.get("offsets") or [], seg.get("seconds") or [], strict=True)),
                )
            )
        facets = {}
        if query.facets:
            facets = {
                name: [
                    (b["key"], int(b["doc_count"])) for b in res["aggregations"][name]["buckets"] if b["key"]
                ]
                for name in FACET_FIELDS
            }
        return SearchResult(total=int(res["hits"]["total"]["value"]), hits=hits, facets=facets)
