"""Parsing speed for text PDFs: pages per second through our pipeline's parser (child process
with limits, per-page text, thumbnails) versus Apache Tika alone (iscc-tika), in the same run.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.settings import Settings  # noqa: E402
from pipelines.isolation import run_limited  # noqa: E402
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

        t0 = time.perf_counter()
        chars = 0
        for f in files:
            ctx = ParseContext(mime="application/pdf", ocr_dpi=limits.ocr_dpi)
            result = run_limited(parse_file, f, ctx, timeout_s=limits.timeout_s, memory_mb=limits.memory_mb)
            chars += len(result.text)
        ours_s = time.perf_counter() - t0

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
        "tika_pages_per_s": round(total_pages / tika_s, 1),
        "tika_seconds": round(tika_s, 2),
        "ours_chars": chars,
        "tika_chars": tika_chars,
        "cores": os.cpu_count(),
    }
    print(
        f"our PDF parser (child process, per-page text + thumbnails): {figures['ours_pages_per_s']} pages/s "
        f"({total_pages} pages in {ours_s:.2f} s, one process)",
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
