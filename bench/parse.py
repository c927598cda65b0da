"""Parsing speed for text PDFs: pages per second through our pipeline's parser (per-page text,
thumbnails, the text-layer check) under its limits — a child forked per file as before, one
long-lived parse process, and one per core as the workers run them — versus Apache Tika alone
(iscc-tika), in the same run.

    .venv/bin/python bench/parse.py [--files 40] [--pages 10]

The last line is one JSON object with both figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.settings import Settings  # noqa: E402
from pipelines.isolation import ParseWorker, run_limited  # noqa: E402
from pipelines.parsers import ParseContext, parse_file  # noqa: E402
from pipelines.samples import inspection_text, write_pdf  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--pages", type=int, default=10, help="pages per PDF")
    args = ap.parse_args()
    limits = Settings().parsing
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as tmp:
        files = []
        for i in range(args.files):
            pages = [inspection_text(rng, i * 100 + p) for p in range(args.pages)]
            files.append(write_pdf(Path(tmp) / f"doc{i}.pdf", pages))
        total_pages = args.files * args.pages
        ctx = ParseContext(mime="application/pdf", ocr_dpi=limits.ocr_dpi)
        limit = {"timeout_s": limits.timeout_s, "memory_mb": limits.memory_mb}

        t0 = time.perf_counter()
        chars = sum(len(run_limited(parse_file, f, ctx, **limit).text) for f in files)
        forked_s = time.perf_counter() - t0

        one = ParseWorker()
        one.call(parse_file, files[0], ctx, **limit)  # start it (and import) outside the timing
        t0 = time.perf_counter()
        kept_chars = sum(len(one.call(parse_file, f, ctx, **limit).text) for f in files)
        kept_s = time.perf_counter() - t0
        one.close()
        assert kept_chars == chars

        cores = os.cpu_count() or 1
        workers = [ParseWorker() for _ in range(cores)]
        for w in workers:
            w.call(parse_file, files[0], ctx, **limit)

        def share(w: ParseWorker, mine: list[Path]) -> int:
            return sum(len(w.call(parse_file, f, ctx, **limit).text) for f in mine)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(cores) as pool:
            parts = [pool.submit(share, w, files[i::cores]) for i, w in enumerate(workers)]
            assert sum(p.result() for p in parts) == chars
        ours_s = time.perf_counter() - t0
        for w in workers:
            w.close()

        from iscc_tika import Extractor

        extractor = Extractor()
        extractor.extract_file_to_string(str(files[0]))  # start Tika's VM outside the timing
        t0 = time.perf_counter()
        tika_chars = 0
        for f in files:
            text, _meta = extractor.extract_file_to_string(str(f))
            tika_chars += len(text)
        tika_s = time.perf_counter() - t0

    figures = {
        "files": args.files,
        "pages": total_pages,
        "ours_pages_per_s": round(total_pages / ours_s, 1),
        "ours_seconds": round(ours_s, 2),
        "one_kept_process_pages_per_s": round(total_pages / kept_s, 1),
        "forked_per_file_pages_per_s": round(total_pages / forked_s, 1),
        "tika_pages_per_s": round(total_pages / tika_s, 1),
        "tika_seconds": round(tika_s, 2),
        "ours_chars": chars,
        "tika_chars": tika_chars,
        "cores": os.cpu_count(),
    }
    print(
        f"our PDF parser, a child forked per file (before): {figures['forked_per_file_pages_per_s']} pages/s;"
        f" one long-lived parse process: {figures['one_kept_process_pages_per_s']} pages/s;"
        f" one per core ({cores}): {figures['ours_pages_per_s']} pages/s"
        f" ({total_pages} pages in {ours_s:.2f} s)",
        file=sys.stderr,
    )
    print(
        f"Tika alone (iscc-tika, in process, text only): {figures['tika_pages_per_s']} pages/s "
        f"({tika_s:.2f} s)",
        file=sys.stderr,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
