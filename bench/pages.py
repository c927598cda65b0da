"""Server time of every web page on the demo data, as each role sees it.

Loads the demo into a fresh data dir, starts `archive serve`, then requests each page
``--rounds`` times with the role's bearer token. Prints, per page, the server's own time
(``Server-Timing: app``, to the response head) and the client-side wall time, median and max;
the last line is one JSON object. The target is under 300 ms server time per page.

    .venv/bin/python bench/pages.py [--rounds 10] [--data DIR]

``--data DIR`` measures an existing data directory instead (one bench/scale.py filled: 10,000
cases); its pages are the same, with its first case and record standing for the demo's. The
server time is also reported as p95 over the rounds.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, unquote

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.demo import DEMO_CASE_NO, DEMO_USER, ENDED_CASE_NO  # noqa: E402
from tests.support.browser import api_token, demo_server, served  # noqa: E402

PAGES: list[tuple[str, str]] = [
    (DEMO_USER, "/"),
    (DEMO_USER, "/search?q=报警装置"),
    (DEMO_USER, "/search?q=危险化学品 仓库 -复议"),
    (DEMO_USER, "/cases"),
    (DEMO_USER, f"/cases/{quote(DEMO_CASE_NO)}"),
    (DEMO_USER, "record:行政处罚决定书"),
    (DEMO_USER, "record:现场检查录音"),
    (DEMO_USER, "/compliance"),
    ("archivist", "/"),
    ("archivist", "/archiving"),
    ("archivist", f"/cases/{quote(ENDED_CASE_NO)}/dossier"),
    ("archivist", "/requests"),
    ("leader", "/audit"),
    ("admin", "/admin/users"),
    ("party", "/portal"),
]


def _scale_pages(data: Path, db_url: str | None) -> list[tuple[str, str]]:
    """The demo's pages on a generated archive: its first case (assigned to the demo officer)."""
    from sqlalchemy import create_engine, select

    from archive.models import Case, CaseAssignment, Record

    engine = create_engine(db_url or f"sqlite:///{data / 'archive.db'}")
    with engine.connect() as conn:
        case_no = conn.scalar(select(Case.case_no).join(CaseAssignment).order_by(Case.id).limit(1))
        ended = conn.scalar(select(Case.case_no).where(Case.status == "执行终结").order_by(Case.id).limit(1))
        record = conn.scalar(select(Record.id).join(Case).where(Case.case_no == case_no).limit(1))
    assert case_no and ended and record, "not a bench/scale.py archive"
    return [
        (DEMO_USER, "/"),
        (DEMO_USER, "/search?q=危险化学品"),
        (DEMO_USER, "/cases"),
        (DEMO_USER, f"/cases/{quote(case_no)}"),
        (DEMO_USER, f"/records/{record}"),
        (DEMO_USER, "/compliance"),
        ("archivist", "/"),
        ("archivist", "/cases"),
        ("archivist", "/compliance"),
        ("archivist", "/archiving"),
        ("archivist", f"/cases/{quote(ended)}/dossier"),
        ("archivist", "/requests"),
        ("archivist", "/search?q=危险化学品 仓库"),
        ("leader", "/"),
        ("leader", "/audit"),
        ("admin", "/admin/users"),
        ("party", "/portal"),
    ]


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--data", type=Path, default=None, help="an existing data directory to measure")
    parser.add_argument(
        "--db-url", help="with --data: the PostgreSQL database bench/scale.py --db-url filled"
    )
    args = parser.parse_args()
    rows = []
    pages = PAGES if args.data is None else _scale_pages(args.data, args.db_url)
    extra = {"ARCHIVE_DB__URL": args.db_url} if args.db_url else {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        demo_server(Path(tmp) / "var")
        if args.data is None
        else served(args.data, tries=600, **extra) as base,
    ):
        clients = {
            u: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {api_token(base, u)}"})
            for u, _ in pages
        }
        for user, path in pages:
            client = clients[user]
            if path.startswith("record:"):
                title = path.split(":", 1)[1]
                hits = client.get("/api/v1/search", params={"q": title}).json()["hits"]
                path = f"/records/{next(h['record_id'] for h in hits if h['title'] == title)}"
            first = client.get(path)  # the first request of a page: templates compile, caches fill
            m = re.search(r"dur=([\d.]+)", first.headers["server-timing"])
            cold = float(m.group(1)) if m else float("nan")
            server, wall = [], []
            for _ in range(args.rounds):
                start = time.perf_counter()
                r = client.get(path)
                wall.append((time.perf_counter() - start) * 1000)
                r.raise_for_status()
                m = re.search(r"dur=([\d.]+)", r.headers["server-timing"])
                server.append(float(m.group(1)) if m else float("nan"))
            p95 = statistics.quantiles(server, n=20)[-1] if len(server) >= 2 else server[0]
            rows.append(
                (user, path, cold, statistics.median(server), max(server), statistics.median(wall), p95)
            )
    print(f"{'角色':<10} {'页面':<40} {'首次':>8} {'其后中位':>8} {'其后最大':>8} {'往返中位':>8}")
    for user, path, cold, med, top, wall_med, _p95 in rows:
        print(
            f"{user:<10} {unquote(path)[:40]:<40} {cold:>6.1f}ms {med:>6.1f}ms {top:>6.1f}ms",
            f"{wall_med:>6.1f}ms",
        )
    worst = max(rows, key=lambda r: max(r[2], r[4]))
    print(
        f"最慢页面：{unquote(worst[1])}（{worst[0]}），首次 {worst[2]:.1f} ms，其后最大 {worst[4]:.1f} ms"
        "；目标 300 ms 以内"
    )
    figures = {
        "rounds": args.rounds,
        "pages": {
            f"{u} {unquote(p)}": {
                "first_ms": round(c, 1),
                "median_ms": round(m, 1),
                "p95_ms": round(p95, 1),
                "max_ms": round(t, 1),
            }
            for u, p, c, m, t, _, p95 in rows
        },
        "worst_p95_ms": round(max(r[6] for r in rows), 1),
        "worst_ms": round(max(worst[2], worst[4]), 1),
        "under_300ms": all(max(r[2], r[4]) < 300 for r in rows),
    }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
