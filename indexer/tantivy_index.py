"""Embedded search index: tantivy on disk, fed the token streams of indexer.analysis."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import tantivy

from archive.timeutil import as_utc, to_utc
from indexer.analysis import analyse, query_words, sequence_plan
from indexer.documents import FACET_FIELDS, AccessFilter, IndexDoc, SearchQuery, SearchResult
from indexer.hits import make_hit
from indexer.query import ParsedQuery, parse_for

_KEYWORDS = ("case_no", "stage", "form", "document_type", "made_by", "classification")
LOCK_WAIT_S = 120.0
# Added to the score for each query word in the title: a record titled by the query comes first
# whatever the title's length (a BM25-scored title field would favour the shortest title).
TITLE_BONUS = 1.0
# Results kept per query and access filter while the index is unchanged (any commit, from any
# process, starts afresh): paging, the back button and a facet's count shown again cost
# milliseconds instead of counting and ranking every match once more.
CACHED_QUERIES = 256
# Ranking first looks among the records best scored by their words alone: this many times the
# hits wanted, divided by the share of records that match (at most WORDS_FIRST_MAX), and only when
# at least WORDS_FIRST_MIN_SHARE of all records match (the case where scoring every match is slow).
# Where too few of those match, every match is scored.
WORDS_FIRST = 2
WORDS_FIRST_MAX = 2000
WORDS_FIRST_MIN_SHARE = 0.02
_TOTAL = "__total"


@dataclass(frozen=True)
class _Ranked:
    """One query's exact total, its facets (if asked) and its first hits in order."""

    total: int
    hits: tuple[tuple[float, Any], ...]  # (score, DocAddress), ranked
    depth: int  # how many hits were asked for (hits holds fewer only when there are no more)
    facets: dict[str, list[tuple[str, int]]] | None
    commit: bytes  # the commit (meta.json) the hits' addresses belong to


def _rounded(score: Any) -> float:
    """A score as shown."""
    return round(float(score), 4)


def day_start(day: date) -> datetime:
    """00:00 Beijing time of ``day``, in UTC (made_at is stored in UTC)."""
    return to_utc(datetime(day.year, day.month, day.day))


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("record_id", stored=True, indexed=True, fast=True)
    for name in _KEYWORDS:
        sb.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    sb.add_date_field("made_at", stored=True, indexed=True, fast=True)
    sb.add_text_field("title", stored=True, tokenizer_name="raw")
    # Token streams made by indexer.analysis, space-separated: "whitespace" splits them back into
    # exactly those tokens. Only the triples need positions (phrases); words need frequencies (BM25).
    sb.add_text_field("words", stored=False, tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("title_words", stored=False, tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("chars", stored=False, tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("grams", stored=False, tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("tris", stored=False, tokenizer_name="whitespace", index_option="position")
    # Raw text kept for snippets; bytes so that it is stored but not indexed.
    sb.add_bytes_field("raw", stored=True, indexed=False)
    sb.add_bytes_field("page_starts", stored=True, indexed=False)
    sb.add_bytes_field("segments", stored=True, indexed=False)
    return sb.build()


class IndexSchemaError(RuntimeError):
    """The index on disk was made with another schema: it must be rebuilt (archive reindex)."""


class TantivyIndex:
    """One tantivy index directory; one writer at a time across processes (lock retried)."""

    name = "tantivy"

    def __init__(self, path: Path, heap_mb: int = 128) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        try:
            self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
            raise IndexSchemaError(
                f"索引 {self.path} 由旧版本建立，结构已变化：请运行 archive reindex 重建索引"
            ) from exc
        self.heap = heap_mb * 1024 * 1024
        self._lock = threading.Lock()
        self._meta = b""  # meta.json of the commit the searcher below reads
        self._searcher: tantivy.Searcher | None = None
        self._cache: OrderedDict[tuple[SearchQuery, AccessFilter], _Ranked] = OrderedDict()

    def _current(self) -> tuple[tantivy.Searcher, bytes]:
        """A searcher of the latest commit (reused until the next one) and that commit's id."""
        try:
            meta = (self.path / "meta.json").read_bytes()  # rewritten atomically by every commit
        except OSError:
            meta = b""
        with self._lock:
            if self._searcher is None or meta != self._meta:
                self.index.reload()
                self._searcher, self._meta = self.index.searcher(), meta
                self._cache.clear()
            return self._searcher, self._meta

    @contextmanager
    def _writer(self) -> Iterator[tantivy.IndexWriter]:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                writer = self.index.writer(heap_size=self.heap, num_threads=1)
                break
            except ValueError as exc:
                if "Lock" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        try:
            yield writer
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # releases the writer lock
        self.index.reload()

    def _document(self, doc: IndexDoc) -> tantivy.Document:
        a = doc.analysed or analyse(doc.title, doc.text)
        d = tantivy.Document()
        d.add_integer("record_id", doc.record_id)
        for name in _KEYWORDS:
            d.add_text(name, getattr(doc, name) or "")
        made_at = as_utc(doc.made_at) if doc.made_at else None
        if made_at is not None:
            d.add_date("made_at", made_at)
        d.add_text("title", doc.title)
        d.add_text("words", a.words)
        d.add_text("title_words", a.title_words)
        d.add_text("chars", a.chars)
        d.add_text("grams", a.grams)
        d.add_text("tris", a.tris)
        d.add_bytes("raw", doc.text.encode("utf-8"))
        d.add_bytes("page_starts", json.dumps(list(doc.page_starts)).encode())
        d.add_bytes("segments", json.dumps([list(s) for s in doc.segments]).encode())
        return d

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        """Replace each record's document."""
        if not docs:
            return
        prepared = [self._document(doc) for doc in docs]  # analyse before taking the lock
        with self._writer() as w:
            for doc, tdoc in zip(docs, prepared, strict=True):
                w.delete_documents_by_term("record_id", doc.record_id)
                w.add_document(tdoc)

    def delete(self, record_ids: Sequence[int]) -> None:
        """Remove the records' documents."""
        with self._writer() as w:
            for rid in record_ids:
                w.delete_documents_by_term("record_id", rid)

    def clear(self) -> None:
        """Remove everything."""
        with self._writer() as w:
            w.delete_all_documents()

    def rebuild(self, batches: Iterable[Sequence[IndexDoc]]) -> int:
        """Replace documents batch by batch (searches go on; stale ones are pruned after)."""
        done = 0
        for batch in batches:
            self.upsert(batch)
            done += len(batch)
        return done

    def prune(self, keep: Sequence[int]) -> int:
        """Delete documents whose record id is not in ``keep``; returns how many."""
        self.index.reload()
        searcher = self.index.searcher()
        stale_query = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, tantivy.Query.all_query()),
                (tantivy.Occur.MustNot, tantivy.Query.term_set_query(self.schema, "record_id", list(keep))),
            ]
        )
        total = getattr(searcher.search(stale_query, limit=1, count=True), "count", 0) or 0
        if not total:
            return 0
        found = searcher.search(stale_query, limit=int(total))
        stale = [int(searcher.doc(a).get_first("record_id") or 0) for _, a in found.hits]
        self.delete(stale)
        return len(stale)

    def count(self) -> int:
        """Live documents."""
        self.index.reload()
        return int(self.index.searcher().num_docs)

    def _chars(self, text: str) -> tantivy.Query:
        """Where the characters of ``text`` occur in sequence (whitespace ignored)."""
        plan = sequence_plan(text)
        if plan is None:
            return tantivy.Query.empty_query()
        if len(plan.tokens) == 1:
            return tantivy.Query.term_query(self.schema, plan.field, plan.tokens[0][1])
        return tantivy.Query.phrase_query(self.schema, plan.field, list(plan.tokens))

    def _text_query(self, parsed: ParsedQuery) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """Hits from character sequences (exact); ranking from jieba words."""
        Q, must, should = tantivy.Query, tantivy.Occur.Must, tantivy.Occur.Should
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for group in parsed.groups:
            if len(group) == 1:
                hit = self._chars(group[0].text)
            else:
                hit = Q.boolean_query([(should, self._chars(c.text)) for c in group])
            # Character sequences decide hits only; ranking comes from the words below.
            clauses.append((must, Q.const_score_query(hit, 0.0)))
        for clause in parsed.excluded:
            clauses.append((tantivy.Occur.MustNot, self._chars(clause.text)))
        for text in parsed.positive:
            for word in query_words(text):
                clauses.append((should, Q.term_query(self.schema, "words", word)))
                title = Q.term_query(self.schema, "title_words", word)
                clauses.append((should, Q.const_score_query(title, TITLE_BONUS)))
        return clauses

    def _filters(self, query: SearchQuery, access: AccessFilter) -> list[tantivy.Query]:
        Q = tantivy.Query
        out: list[tantivy.Query] = []
        if access.case_nos is not None:
            out.append(Q.term_set_query(self.schema, "case_no", sorted(access.case_nos)))
        if access.classifications is not None:
            out.append(Q.term_set_query(self.schema, "classification", sorted(access.classifications)))
        for name in _KEYWORDS:
            value = getattr(query, name)
            if value:
                out.append(Q.term_query(self.schema, name, value))
        if query.date_from or query.date_to:
            lo = day_start(query.date_from) if query.date_from else None
            hi = day_start(query.date_to + timedelta(days=1)) if query.date_to else None
            out.append(
                Q.range_query(
                    self.schema, "made_at", tantivy.FieldType.Date, lo, hi, include_upper=hi is None
                )
            )
        return out

    def _matches(
        self, searcher: tantivy.Searcher, matching: tantivy.Query, facets: bool
    ) -> tuple[int, dict[str, list[tuple[str, int]]] | None]:
        """The exact number of matches and, if asked, the facet counts: one pass over the matches."""
        if not facets:
            return int(getattr(searcher.search(matching, limit=1, count=True), "count", 0) or 0), None
        aggs: dict[str, Any] = {name: {"terms": {"field": name, "size": 100}} for name in FACET_FIELDS}
        aggs[_TOTAL] = {"value_count": {"field": "record_id"}}
        result = searcher.aggregate(matching, aggs)
        counts = {
            name: [(b["key"], int(b["doc_count"])) for b in result[name]["buckets"] if b["key"]]
            for name in FACET_FIELDS
        }
        return int(result[_TOTAL]["value"]), counts

    def search(self, query: SearchQuery, access: AccessFilter) -> SearchResult:
        """Query language (indexer.query) + filters; BM25 on words, or newest 制作时间 first."""
        parsed = parse_for(query.text, access)
        if parsed is None:
            return SearchResult(total=0)
        searcher, meta = self._current()
        key = (replace(query, limit=0, offset=0, facets=False), access)
        want = query.offset + query.limit
        with self._lock:
            ranked = self._cache.get(key)
        if ranked is not None and ranked.commit != meta:
            ranked = None  # cached for a newer commit than this searcher's
        if (
            ranked is None
            or (ranked.depth < want and len(ranked.hits) == ranked.depth)
            or (query.facets and ranked.facets is None)
        ):
            depth = max(want, ranked.depth if ranked else 0)
            ranked = self._rank(searcher, parsed, query, access, depth, meta)
            with self._lock:
                if meta == self._meta:  # not a commit older than the cache's
                    self._cache[key] = ranked
                    while len(self._cache) > CACHED_QUERIES:
                        self._cache.popitem(last=False)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
        page = [(score, searcher.doc(address)) for score, address in ranked.hits[query.offset : want]]
        terms = parsed.positive
        hits = []
        for score, stored in page:
            hits.append(
                make_hit(
                    record_id=int(stored.get_first("record_id") or 0),
                    score=round(float(score), 4) if query.sort != "date" else 0.0,
                    title=str(stored.get_first("title") or ""),
                    case_no=str(stored.get_first("case_no") or ""),
                    stage=str(stored.get_first("stage") or ""),
                    raw=bytes(stored.get_first("raw") or b"").decode("utf-8"),
                    terms=terms,
                    page_starts=json.loads(bytes(stored.get_first("page_starts") or b"[]")),
                    segments=json.loads(bytes(stored.get_first("segments") or b"[]")),
                )
            )
        facets = (ranked.facets or {}) if query.facets else {}
        return SearchResult(total=ranked.total, hits=hits, facets=facets)

    def _rank(
        self,
        searcher: tantivy.Searcher,
        parsed: ParsedQuery,
        query: SearchQuery,
        access: AccessFilter,
        depth: int,
        commit: bytes,
    ) -> _Ranked:
        """Count every match (and its facets) and rank the first ``depth``; BM25 on words, or newest
        制作时间 first."""
        clauses = self._text_query(parsed)
        # Filters decide hits only: they add nothing to the score (as the ranking words alone give).
        Q = tantivy.Query
        clauses += [(tantivy.Occur.Must, Q.const_score_query(f, 0.0)) for f in self._filters(query, access)]
        # Which records match: the character sequences, exclusions and filters (no scoring).
        matching = Q.boolean_query([c for c in clauses if c[0] != tantivy.Occur.Should])
        total, facets = self._matches(searcher, matching, query.facets)
        if query.sort == "date":
            found = searcher.search(
                matching, limit=depth, count=False, order_by_field="made_at", order=tantivy.Order.Desc
            )
            return _Ranked(total, tuple((0.0, a) for _, a in found.hits), depth, facets, commit)
        ranking = [c for c in clauses if c[0] == tantivy.Occur.Should]
        hits: list[tuple[float, Any]] = []
        if depth and total:
            want = min(depth, total)
            best = self._best_by_words(searcher, matching, ranking, want, total) if ranking else None
            if best is None:
                best = list(searcher.search(Q.boolean_query(clauses), limit=depth, count=False).hits)
            hits = best
        # Equal scores keep the engine's order (by segment, then document): the same order at every
        # depth, so that paging never repeats or skips a hit.
        page = tuple((_rounded(score), a) for score, a in hits)
        return _Ranked(total, page, depth, facets, commit)

    def _best_by_words(
        self,
        searcher: tantivy.Searcher,
        matching: tantivy.Query,
        ranking: list[tuple[tantivy.Occur, tantivy.Query]],
        want: int,
        total: int,
    ) -> list[tuple[float, Any]] | None:
        """The ``want`` best matches, found cheaply: the best-scored records by their words alone
        (only the words score, so the engine can skip whole blocks of postings that cannot make
        the first ``want``) that also match. None when too few of those match; the caller then
        scores every match. Scores are the same as in the full query, whose other clauses score 0.
        """
        share = total / max(int(searcher.num_docs), 1)  # of all records, how many match
        if share < WORDS_FIRST_MIN_SHARE:
            return None  # few match: scoring them all is cheap, and few best-worded ones would
        pool = min(WORDS_FIRST_MAX, math.ceil(want * WORDS_FIRST / share))
        found = searcher.search(tantivy.Query.boolean_query(ranking), limit=pool, count=False)
        if not found.hits:
            return None
        ids = searcher.fast_field_values("record_id", [a for _, a in found.hits])
        check = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, matching),
                (tantivy.Occur.Must, tantivy.Query.term_set_query(self.schema, "record_id", ids)),
            ]
        )
        confirmed = searcher.search(check, limit=len(found.hits), count=False)
        ok = {(a.segment_ord, a.doc) for _, a in confirmed.hits}
        hits = [(score, a) for score, a in found.hits if (a.segment_ord, a.doc) in ok][:want]
        # Fewer than wanted is exact only if the words ranking listed every record they score:
        # a match whose words score nothing is not in it.
        return hits if len(hits) == want else None
