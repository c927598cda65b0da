"""Ingest throughput: text PDFs per second, and a 2 GB file hashed + stored (MB/s, peak RSS)
on the local store and on SeaweedFS S3. Prints figures; the last line is one JSON object.

    .venv/bin/python bench/ingest.py [--files 200] [--size-mb 2048] [--pages 1] [--pdfs-only] [--office]

The text PDFs come from reportlab with its standard Chinese font, which is not embedded: pdfium
looks up a system font to stand in for it each time such a file is opened (~10 ms a file). With
``--office`` they are word-processor documents exported to PDF by LibreOffice, with the subset of
the font they use embedded, as Word and WPS write them (generating them takes ~45 s a thousand).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.settings import Settings  # noqa: E402
from pipelines.context import open_services  # noqa: E402
from pipelines.ingest import RecordMeta, ingest_file  # noqa: E402
from pipelines.queue import make_queue  # noqa: E402
from pipelines.samples import inspection_text, make_text_pdfs  # noqa: E402


def make_big_file(path: Path, size_mb: int) -> None:
    """A file of ``size_mb`` MiB whose blocks all differ (no compression or dedup shortcuts)."""
    block = os.urandom(1024 * 1024)
    with path.open("wb") as f:
        for i in range(size_mb):
            f.write(i.to_bytes(8, "little") + block[8:])


def make_office_pdfs(folder: Path, count: int, *, marker: str, every: int = 7, pages: int = 1) -> None:
    """``count`` inspection records of ``pages`` pages written as DOCX and exported to PDF by
    LibreOffice in one run (embedded subset fonts)."""
    import random

    from docx import Document
    from docx.enum.text import WD_BREAK

    rng = random.Random(2026)
    docs = folder.with_name(folder.name + "-docx")
    docs.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        extra = f"另查明{marker}。" if i % every == 0 else ""
        doc = Document()
        for p in range(pages):
            text = inspection_text(rng, i, extra) if p == 0 else inspection_text(rng, i * 100 + p)
            for line in text.splitlines():
                doc.add_paragraph(line)
            if p < pages - 1:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.save(str(docs / f"检查记录_{i:04d}.docx"))
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("--office needs LibreOffice (soffice) to export the PDFs")
    names = sorted(map(str, docs.iterdir()))
    for at in range(0, len(names), 100):  # one long run stops part-way; a hundred at a time does not
        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder), *names[at : at + 100]],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=600,
        )
    made = len(list(folder.glob("*.pdf")))
    if made != count:
        raise SystemExit(f"LibreOffice exported {made} of {count} PDFs")


def bench_pdfs(workdir: Path, count: int, pages: int = 1, office: bool = False) -> dict[str, float]:
    src = workdir / "pdfs"
    t0 = time.perf_counter()
    make = make_office_pdfs if office else make_text_pdfs
    make(src, count, marker="液氨储罐区未设置围堰", every=7, pages=pages)
    gen = time.perf_counter() - t0
    settings = Settings(data_dir=workdir / "var-pdf")
    svc = open_services(settings)
    files = sorted(src.iterdir())
    t0 = time.perf_counter()
    queue = make_queue(svc)  # as `archive ingest` does: processing starts up while originals are stored
    stored_at: list[float] = []

    def stored() -> Iterator[int]:  # as `archive ingest` does: each original stored as the queue asks
        for f in files:
            outcome = ingest_file(svc, f, RecordMeta())
            if outcome.record_id:
                yield outcome.record_id
        stored_at.append(time.perf_counter())

    done_at: list[float] = []
    results = queue.run(stored(), on_done=lambda _o: done_at.append(time.perf_counter()))
    stored_s = stored_at[0] - t0
    total = time.perf_counter() - t0
    failed = sum(1 for r in results if r.error)
    # After the first indexed batch: the rate a long migration runs at, start-up (imports, models,
    # dictionaries: a few seconds once per command) left out.
    from pipelines.queue import BATCH

    first = done_at[BATCH - 1] if len(done_at) > BATCH else t0
    after = len(done_at) - BATCH
    steady = after / (done_at[-1] - first) if after > 0 else 0.0
    print(
        f"text PDFs ({'LibreOffice' if office else 'reportlab'}): {count} files of {pages} page(s) "
        f"({gen:.1f} s to generate); all stored after {stored_s:.2f} s, "
        f"store+parse+index {total:.2f} s → {count / total:.1f} files/s end to end ({failed} failed), "
        f"{steady:.1f} files/s after the first batch ({first - t0:.1f} s), "
        f"{settings.queue.workers or os.cpu_count()} parser processes",
        file=sys.stderr,
    )
    return {
        "pdf_source": "libreoffice" if office else "reportlab",
        "pdf_files_per_s_after_first_batch": round(steady, 2),
        "pdf_first_batch_s": round(first - t0, 3),
        "pdf_files": count,
        "pdf_pages_each": pages,
        "pdf_pages_per_s": round(count * pages / total, 1),
        "pdf_seconds": round(total, 3),
        "pdf_files_per_s": round(count / total, 2),
        "pdf_store_seconds": round(stored_s, 3),
        "pdf_failed": failed,
    }


def child(backend: str, path: str, data_dir: str, endpoint: str, key: str, secret: str) -> None:
    """Runs in its own process so that its peak RSS is this measurement's alone."""
    cfg: dict[str, object] = {"data_dir": data_dir}
    if backend == "s3":
        cfg["storage"] = {
            "backend": "s3",
            "s3_endpoint": endpoint,
            "s3_access_key": key,
            "s3_secret_key": secret,
            "s3_bucket": "bench-originals",
            "retention_days": 1,
        }
    svc = open_services(Settings.model_validate(cfg))
    svc.store  # noqa: B018 - connect/create the bucket before timing
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    outcome = ingest_file(svc, Path(path), RecordMeta(title="执法记录仪录像"))
    seconds = time.perf_counter() - t0
    assert outcome.status == "ingested", outcome
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_kb / 1024, "base_rss_mb": base_kb / 1024}))


def run_child(backend: str, big: Path, data_dir: Path, server: object | None) -> dict[str, float]:
    args = [sys.executable, __file__, "--child", backend, str(big), str(data_dir)]
    if server is not None:
        args += [server.endpoint, server.access_key, server.secret_key]  # type: ignore[attr-defined]
    else:
        args += ["", "", ""]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:8])
        return
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--size-mb", type=int, default=2048)
    ap.add_argument("--pages", type=int, default=1, help="pages per text PDF")
    ap.add_argument("--pdfs-only", action="store_true", help="only the text PDFs, not the 2 GB file")
    ap.add_argument("--office", action="store_true", help="PDFs exported by LibreOffice (embedded fonts)")
    args = ap.parse_args()
    figures: dict[str, object] = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-", dir=os.environ.get("BENCH_TMP")) as tmp:
        work = Path(tmp)
        figures.update(bench_pdfs(work, args.files, args.pages, args.office))
        if args.pdfs_only:
            print(json.dumps(figures))
            return

        big = work / "执法记录仪_2GB.mp4"
        t0 = time.perf_counter()
        make_big_file(big, args.size_mb)
        print(f"big file: {args.size_mb} MiB written in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        # Hashing alone, for reference: the floor of any ingest.
        t0 = time.perf_counter()
        from archive.storage import hash_file

        hash_file(big)
        hash_s = time.perf_counter() - t0
        figures["hash_only_mb_per_s"] = round(args.size_mb / hash_s, 1)
        print(f"sha256 only: {args.size_mb / hash_s:.0f} MB/s", file=sys.stderr)

        local = run_child("local", big, work / "var-local", None)
        figures["local_mb_per_s"] = round(args.size_mb / local["seconds"], 1)
        figures["local_peak_rss_mb"] = round(local["peak_rss_mb"], 1)
        print(
            f"local store: hash + store {args.size_mb} MiB in {local['seconds']:.1f} s → "
            f"{figures['local_mb_per_s']} MB/s, peak RSS {figures['local_peak_rss_mb']} MB "
            f"({local['base_rss_mb']:.0f} MB before the file)",
            file=sys.stderr,
        )
        shutil.rmtree(work / "var-local", ignore_errors=True)

        from tests.support.seaweed import seaweed_s3

        with seaweed_s3(work / "seaweed") as server:
            s3 = run_child("s3", big, work / "var-s3", server)
        figures["s3_mb_per_s"] = round(args.size_mb / s3["seconds"], 1)
        figures["s3_peak_rss_mb"] = round(s3["peak_rss_mb"], 1)
        print(
            f"SeaweedFS S3: hash + store {args.size_mb} MiB in {s3['seconds']:.1f} s → "
            f"{figures['s3_mb_per_s']} MB/s, peak RSS {figures['s3_peak_rss_mb']} MB "
            f"({s3['base_rss_mb']:.0f} MB before the file)",
            file=sys.stderr,
        )
        figures["size_mb"] = args.size_mb
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
