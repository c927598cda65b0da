"""Search at scale on generated records (~500 characters of realistic enforcement prose each):
index throughput end to end (analysis on every core + tantivy), the index's size on disk, and —
in a separate process that only opens the index and searches, as `archive serve` does — p50/p95
latency of term, AND, phrase and filtered queries, each with its exact total and the six facets
the search page shows, and that process's peak RSS. Then the same queries on a SQLite FTS5
baseline index of the same corpus (jieba search-mode tokens; skipped above 200,000 records
unless --fts5), and recall against a plain substring scan over every record.

    .venv/bin/python bench/search.py [--records 100000] [--queries 1000] [--keep DIR]

The last line is one JSON object:
{"records", "index_records_per_s", "index_mb", "segments", "search_peak_rss_mb",
 "p95_ms": {"term", "and", "phrase", "filtered"} (first time asked), "again_p95_ms": {…} (asked
 again, from the result cache), "fts5_p95_ms": {…}, "recall"}

    .venv/bin/python bench/search.py --search-only DIR   # search an index kept with --keep DIR
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jieba  # noqa: E402
import tantivy  # noqa: E402

from indexer.analysis import DOMAIN_DICT, words  # noqa: E402
from indexer.documents import AccessFilter, IndexDoc, SearchQuery  # noqa: E402
from indexer.parallel import analysed_batches  # noqa: E402
from indexer.query import parse_query  # noqa: E402
from indexer.tantivy_index import TantivyIndex  # noqa: E402
from pipelines.samples import STAGES, make_index_docs  # noqa: E402

ALL = AccessFilter.unrestricted("bench")
TERMS = ["当事人", "危险化学品", "执法记录仪", "行政复议", "责令限期整改", "先行登记保存", "留置送达", "罚款"]
PAIRS = [("危险化学品", "整改"), ("当事人", "复议"), ("执法记录仪", "录像"), ("罚款", "集体讨论")]
PHRASES = ["责令限期整改", "先行登记保存证据", "陈述、申辩", "安全出口被货物堵塞"]
KINDS: dict[str, Callable[[int], SearchQuery]] = {
    "term": lambda i: SearchQuery(TERMS[i % len(TERMS)], facets=True),
    "and": lambda i: SearchQuery(" ".join(PAIRS[i % len(PAIRS)]), facets=True),
    "phrase": lambda i: SearchQuery(f'"{PHRASES[i % len(PHRASES)]}"', facets=True),
    "filtered": lambda i: SearchQuery(TERMS[i % len(TERMS)], stage=STAGES[i % 5], facets=True),
}


def timed(fn: Callable[[], object], reps: int) -> tuple[float, float]:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    process that started it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def searcher_main(path: str, reps: int) -> None:
    """The searching process: open the index, search, report latencies, totals and peak RSS.

    Each query is timed the first time it is asked since the last commit (the index's result
    cache emptied before every repetition) and asked again (served from that cache).
    """
    words("预热")  # archive serve loads the segmenter at start too
    t0 = time.perf_counter()
    index = TantivyIndex(Path(path))
    index.search(KINDS["term"](0), ALL)
    first_ms = (time.perf_counter() - t0) * 1000
    out: dict[str, Any] = {"first_search_ms": round(first_ms, 1), "totals": {}}
    for name in ("p50_ms", "p95_ms", "again_p50_ms", "again_p95_ms"):
        out[name] = {}
    for kind, make in KINDS.items():  # one untimed pass: steady state, not page-cache warm-up
        out["totals"][kind] = [index.search(make(i), ALL).total for i in range(len(TERMS))]

    def fresh(make: Callable[[int], SearchQuery], i: int) -> None:
        index._cache.clear()
        index.search(make(i), ALL)

    for kind, make in KINDS.items():
        counter = iter(range(10**9))
        p50, p95 = timed(lambda m=make, c=counter: fresh(m, next(c)), reps)  # type: ignore[misc]
        out["p50_ms"][kind], out["p95_ms"][kind] = round(p50, 2), round(p95, 2)
        for i in range(reps):  # the same queries asked once, so the timed ones are asked again
            index.search(make(i), ALL)
        counter = iter(range(10**9))
        p50, p95 = timed(lambda m=make, c=counter: index.search(m(next(c)), ALL), reps)  # type: ignore[misc]
        out["again_p50_ms"][kind], out["again_p95_ms"][kind] = round(p50, 2), round(p95, 2)
    out["facets_sample"] = index.search(KINDS["term"](0), ALL).facets.get("stage")
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out, ensure_ascii=False))


def fts5_build(path: Path, docs: list[IndexDoc]) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(body, stage UNINDEXED, case_no UNINDEXED, tokenize='unicode61')"
    )
    rows = ((d.record_id, " ".join(jieba.cut_for_search(d.title + d.text)), d.stage, d.case_no) for d in docs)
    db.executemany("INSERT INTO docs(rowid, body, stage, case_no) VALUES (?, ?, ?, ?)", rows)
    db.commit()
    return db


def fts5_query(db: sqlite3.Connection, match: str, stage: str | None = None) -> list[int]:
    sql = "SELECT rowid FROM docs WHERE docs MATCH ?" + (" AND stage = ?" if stage else "")
    sql += " ORDER BY rank LIMIT 20"
    return [r[0] for r in db.execute(sql, (match, stage) if stage else (match,))]


def fts5_match(term: str, phrase: bool = False) -> str:
    toks = [t for t in jieba.cut(term) if t.strip() and t not in "、，。"]
    return '"' + " ".join(toks) + '"' if phrase else " AND ".join(f'"{t}"' for t in toks)


def fts5_latency(db: sqlite3.Connection, reps: int) -> tuple[dict[str, float], dict[str, float]]:
    fts = {
        "term": lambda i: fts5_query(db, fts5_match(TERMS[i % len(TERMS)])),
        "and": lambda i: fts5_query(db, " AND ".join(fts5_match(t) for t in PAIRS[i % len(PAIRS)])),
        "phrase": lambda i: fts5_query(db, fts5_match(PHRASES[i % len(PHRASES)], phrase=True)),
        "filtered": lambda i: fts5_query(db, fts5_match(TERMS[i % len(TERMS)]), STAGES[i % 5]),
    }
    f50: dict[str, float] = {}
    f95: dict[str, float] = {}
    for run in fts.values():
        for i in range(len(TERMS)):
            run(i)
    for kind, run in fts.items():
        counter = iter(range(10**9))
        f50[kind], f95[kind] = timed(lambda f=run, c=counter: f(next(c)), reps)  # type: ignore[misc]
    return f50, f95


def recall(
    index: TantivyIndex, docs: list[IndexDoc], queries: int, rng: random.Random
) -> tuple[float, int, int]:
    """Random 2–8 character pieces of random records, found by the index vs a scan of every record.

    Half of the pieces come from the record's particulars, where rare strings are, as in real
    records. The scan runs over one string of every record (whitespace removed, as the index
    ignores it) joined by a separator no piece contains, so 1,000,000 records scan in C.
    """
    texts = ["".join((d.title + "\n" + d.text).split()) for d in docs]
    starts: list[int] = []
    pos = 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + 1
    corpus = "\x00".join(texts)
    index.index.reload()
    searcher = index.index.searcher()
    found_total = expected_total = asked = 0
    while asked < queries:
        i = rng.randrange(len(docs))
        body = texts[i]
        lo = body.index("检查时间") if asked % 2 else 0
        start = rng.randrange(lo, len(body) - 8)
        needle = body[start : start + rng.randint(2, 8)]
        # The same query search() runs, without building snippets for thousands of hits.
        query = tantivy.Query.boolean_query(index._text_query(parse_query(f'"{needle}"')))
        if (searcher.search(query, limit=1, count=True).count or 0) > 5000:
            # Too common to list here (the latency queries cover such terms). Judged by the
            # index's count only to save a scan: a miss lowers that count, so pieces the index
            # gets wrong are still drawn.
            continue
        expected: set[int] = set()
        at = corpus.find(needle)
        while at != -1:
            n = bisect.bisect_right(starts, at) - 1
            expected.add(docs[n].record_id)
            at = corpus.find(needle, starts[n] + len(texts[n]) + 1)  # next record
        found = searcher.search(query, limit=len(expected) + 10)
        got = {int(searcher.doc(a).get_first("record_id") or 0) for _, a in found.hits}
        found_total += len(got & expected)
        expected_total += len(expected)
        asked += 1
    return found_total / max(1, expected_total), found_total, expected_total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000, help="recall queries")
    ap.add_argument("--reps", type=int, default=100, help="timed repetitions per query kind")
    ap.add_argument(
        "--fts5",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="build the SQLite FTS5 baseline (default: up to 200,000 records)",
    )
    ap.add_argument(
        "--keep", type=Path, help="build the index here and keep it (default: a temporary folder)"
    )
    ap.add_argument("--search-only", metavar="DIR", help="only search an index built before with --keep DIR")
    args = ap.parse_args()
    if args.search_only:
        searcher_main(args.search_only, args.reps)
        return
    rng = random.Random(2026)
    words("预热")
    docs = make_index_docs(args.records, rng)
    print(
        f"{len(docs)} records, {sum(len(d.text) for d in docs) / len(docs):.0f} chars each", file=sys.stderr
    )
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        where = args.keep or Path(tmp) / "index"
        index = TantivyIndex(where, heap_mb=256)
        t0 = time.perf_counter()
        done = 0
        for batch in analysed_batches(docs, batch=2000):
            index.upsert(batch)
            done += len(batch)
            if done % 100_000 == 0:
                print(f"  {done} indexed, {done / (time.perf_counter() - t0):.0f}/s", file=sys.stderr)
        index_s = time.perf_counter() - t0
        rate = len(docs) / index_s
        index_mb = sum(f.stat().st_size for f in where.rglob("*") if f.is_file()) / 2**20
        segments = len(json.loads((where / "meta.json").read_text())["segments"])
        print(
            f"tantivy: indexed {len(docs)} in {index_s:.1f} s → {rate:.0f} records/s "
            f"(analysis on {os.cpu_count()} cores); {index_mb:.0f} MB on disk, {segments} segments",
            file=sys.stderr,
        )
        child = subprocess.run(
            [sys.executable, __file__, "--search-only", str(where), "--reps", str(args.reps)],
            capture_output=True,
            text=True,
            check=True,
        )
        ours = json.loads(child.stdout.strip().splitlines()[-1])
        for kind in KINDS:
            p50, p95 = ours["p50_ms"][kind], ours["p95_ms"][kind]
            a50, a95 = ours["again_p50_ms"][kind], ours["again_p95_ms"][kind]
            print(
                f"{kind:9s} tantivy first asked p50 {p50:6.1f} p95 {p95:6.1f} ms; asked again p50 {a50:5.1f}"
                f" p95 {a95:5.1f} ms (totals {ours['totals'][kind][:4]} …, with facets)",
                file=sys.stderr,
            )
        print(
            f"searching process: first search {ours['first_search_ms']} ms after opening, "
            f"peak RSS {ours['peak_rss_mb']} MB",
            file=sys.stderr,
        )

        f50: dict[str, float] = {}
        f95: dict[str, float] = {}
        if args.fts5 if args.fts5 is not None else args.records <= 200_000:
            jieba.load_userdict(str(DOMAIN_DICT))  # the baseline gets the domain dictionary too
            t0 = time.perf_counter()
            db = fts5_build(Path(tmp) / "fts5.db", docs)
            print(f"FTS5 baseline built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            f50, f95 = fts5_latency(db, args.reps)
            for kind in f95:
                print(
                    f"{kind:9s} FTS5 p50 {f50[kind]:7.1f} ms p95 {f95[kind]:7.1f} ms (no facets)",
                    file=sys.stderr,
                )

        t0 = time.perf_counter()
        got, found_total, expected_total = recall(index, docs, args.queries, rng)
        print(
            f"recall over {args.queries} substring queries: {got:.4%} ({found_total}/{expected_total}), "
            f"{time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
        )
    result = {
        "records": len(docs),
        "index_records_per_s": round(rate, 1),
        "index_mb": round(index_mb, 1),
        "segments": segments,
        "search_peak_rss_mb": ours["peak_rss_mb"],
        "first_search_ms": ours["first_search_ms"],
        "p50_ms": ours["p50_ms"],
        "p95_ms": ours["p95_ms"],
        "again_p50_ms": ours["again_p50_ms"],
        "again_p95_ms": ours["again_p95_ms"],
        "fts5_p50_ms": {k: round(v, 2) for k, v in f50.items()},
        "fts5_p95_ms": {k: round(v, 2) for k, v in f95.items()},
        "recall": round(got, 6),
        "recall_queries": args.queries,
        "cores": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
