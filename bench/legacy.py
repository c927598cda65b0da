"""Splitting scanned paper dossiers by their own 卷内目录: how many 件 boundaries and fields are
right, from the scanned catalog alone and with the catalog spreadsheet, and pages per second.

Dossiers are generated (tests/support/legacy_dossier.py: cover, ruled catalog with wrapped
titles, mixed 页号 forms and one blank 页号, 30–60 typed pages with seals and signatures, skewed,
noisy JPEG scans) with their ground truth.

    .venv/bin/python bench/legacy.py [--dossiers 5] [--seed 100]

Prints figures; the last line is one JSON object
{"dossiers", "boundary_accuracy", "field_accuracy", "pages_per_s", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.legacy.propose import Proposal, propose  # noqa: E402
from tests.support.legacy_dossier import (  # noqa: E402
    DossierTruth,
    LegacyDossier,
    make_dossier,
    write_catalog_xlsx,
)

FIELDS = ("title", "doc_no", "author", "date", "stage")
COVER = (("case_no", "case_no"), ("name", "title"), ("party", "party"), ("opened", "opened"),
         ("closed", "closed"), ("retention", "retention"), ("archivist", "filed_by"))  # fmt: skip


def _boundaries(p: Proposal, t: DossierTruth) -> tuple[int, int]:
    got = {(x.first_index, x.last_index) for x in p.pieces}
    return sum((x.first_page, x.last_page) in got for x in t.pieces), len(t.pieces)


def _fields(p: Proposal, t: DossierTruth, right: dict[str, int], total: dict[str, int]) -> None:
    for got, want in zip(p.pieces, t.pieces, strict=False):
        expected = {
            "title": want.title,
            "doc_no": want.doc_no,
            "author": want.responsible,
            "date": want.day.isoformat(),
            "stage": want.stage,
        }
        for name in FIELDS:
            total[name] = total.get(name, 0) + 1
            right[name] = right.get(name, 0) + (getattr(got, name) == expected[name])
    for ours, theirs in COVER:
        total[f"cover.{ours}"] = total.get(f"cover.{ours}", 0) + 1
        right[f"cover.{ours}"] = right.get(f"cover.{ours}", 0) + (p.cover[ours] == getattr(t.case, theirs))


def _import_end_to_end(dossiers: list[LegacyDossier], work: Path) -> dict[str, float]:
    """Upload, propose, confirm and finish (every 件 OCR'd, indexed, the case filed) in a fresh
    embedded archive; the whole import's pages/s and its share of records processed."""
    if not dossiers:
        return {}
    os.environ["ARCHIVE_DATA_DIR"] = str(work / "var")
    from archive.settings import get_settings
    from pipelines.context import open_services
    from search_api.services import EVERYTHING, legacy
    from ui.cli_common import OPERATOR

    svc = open_services(get_settings())
    pages = 0
    started = time.perf_counter()
    for d in dossiers:
        import_id = legacy.upload(svc, OPERATOR, d.pdf, name=d.pdf.name)
        legacy.propose_now(svc, import_id)
        legacy.confirm(svc, OPERATOR, import_id)
        legacy.finish(svc, OPERATOR, EVERYTHING, import_id)
        pages += d.truth.page_count
    seconds = time.perf_counter() - started
    print(
        f"imported end to end: {len(dossiers)} dossier(s), {pages} pages in {seconds:.1f} s"
        f" ({pages / seconds:.2f} pages/s)"
    )
    return {"import_pages_per_s": round(pages / seconds, 3), "import_seconds": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dossiers", type=int, default=5)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument(
        "--imports", type=int, default=1, help="dossiers also imported end to end (OCR of every page)"
    )
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-legacy-"))
    scan_ok = scan_all = sheet_ok = sheet_all = pages = 0
    seconds = 0.0
    right: dict[str, int] = {}
    total: dict[str, int] = {}
    made = []
    for n in range(args.dossiers):
        d = make_dossier(work, args.seed + n)
        made.append(d)
        t = d.truth
        started = time.perf_counter()
        p = propose(d.pdf)
        seconds += time.perf_counter() - started
        pages += t.page_count
        ok, all_ = _boundaries(p, t)
        scan_ok, scan_all = scan_ok + ok, scan_all + all_
        _fields(p, t, right, total)
        sheet = write_catalog_xlsx(t, work / f"目录-{n}.xlsx").path
        ok2, all2 = _boundaries(propose(d.pdf, sheet), t)
        sheet_ok, sheet_all = sheet_ok + ok2, sheet_all + all2
        print(
            f"dossier {args.seed + n}: {t.page_count} pages, {all_} 件; boundaries right "
            f"{ok}/{all_} from the scan, {ok2}/{all2} with the spreadsheet"
        )
    imported = _import_end_to_end(made[: args.imports], work)
    accuracy = {k: round(right[k] / total[k], 4) for k in sorted(total)}
    for k, v in accuracy.items():
        print(f"  {k:16} {v:.1%}")
    out = {
        "dossiers": args.dossiers,
        "boundary_accuracy": round(scan_ok / scan_all, 4),
        "boundary_accuracy_spreadsheet": round(sheet_ok / sheet_all, 4),
        "field_accuracy": accuracy,
        "pages_per_s": round(pages / seconds, 2),
        "pieces": scan_all,
        "pages": pages,
        **imported,
    }
    print(
        f"boundaries {out['boundary_accuracy']:.1%} from the scan alone, "
        f"{out['boundary_accuracy_spreadsheet']:.1%} with the spreadsheet; {out['pages_per_s']} pages/s"
    )
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
