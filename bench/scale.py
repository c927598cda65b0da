"""A province's decade in one archive: fills a fresh data directory directly (database rows in
bulk, the store, optionally the index) with ``--cases`` cases of ``--records`` records each —
realistic stages, activities, parties, officers' assignments, 查阅 requests, some cases open,
most ended or filed — then times `archive check` over every case. Measure the pages on it with
``bench/pages.py --data DIR``.

    .venv/bin/python bench/scale.py [--cases 10000] [--records 100] [--data DIR] [--index]
        [--db-url postgresql+psycopg://USER@HOST/EMPTY_DB]   # the same on PostgreSQL

Records share a pool of stored objects (a record's bytes are unique within its case, as the
archive requires, not across the province), each with its extracted text, so `archive reindex`
(``--index``) indexes every record as the pipeline would. The last line is one JSON object
{"cases", "records", "generate_s", "check_s", "index_s", "db_mb", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, literal, select  # noqa: E402

from archive.db import session_scope  # noqa: E402
from archive.enums import (  # noqa: E402
    CaseOrigin,
    CaseStatus,
    EnforcementKind,
    EventKind,
    FileRole,
    JobStatus,
    PartyType,
    ProcessingStatus,
    RecordForm,
    RequestStatus,
    Stage,
)
from archive.models import (  # noqa: E402
    AccessRequest,
    Base,
    Case,
    CaseAssignment,
    CaseEvent,
    Dossier,
    Job,
    Party,
    Record,
    StoredFile,
    User,
)
from archive.settings import Settings  # noqa: E402
from pipelines.context import open_services  # noqa: E402
from pipelines.demo import DEMO_USER, ensure_demo_user  # noqa: E402
from pipelines.samples import FINDINGS  # noqa: E402
from pipelines.steps import Step, done_through  # noqa: E402

POOL = 300  # distinct stored objects the records draw from
CHUNK = 5_000  # rows per INSERT
DOCS = [  # (文书类型, 环节, 执法活动 it documents)
    ("立案审批表", Stage.START, EventKind.STARTED),
    ("现场检查记录", Stage.INVESTIGATION, EventKind.INSPECTION),
    ("询问笔录", Stage.INVESTIGATION, EventKind.QUESTION_PARTY),
    ("现场照片", Stage.INVESTIGATION, EventKind.INSPECTION),
    ("现场检查录像", Stage.INVESTIGATION, EventKind.INSPECTION),
    ("行政处罚告知书", Stage.DECISION, EventKind.NOTIFY_RIGHTS),
    ("行政处罚决定书", Stage.DECISION, EventKind.DECISION),
    ("送达回证", Stage.SERVICE, EventKind.SERVE_DIRECT),
    ("结案审批表", Stage.SERVICE, EventKind.ENFORCEMENT_ENDED),
]
COMPANIES = ["宏达化工", "恒泰建筑", "万家福超市", "金鑫矿业", "顺发物流", "华丰食品", "远东机械", "利民燃气"]
PLACES = ["农安县", "榆树市", "德惠市", "九台区", "双阳区", "公主岭市"]
OFFICERS = ["孙立军", "周晓梅", "郑海波", "王志刚", "李明华", "陈丽", "赵刚", "刘洋"]


def _pool(svc: Any, work: Path, rng: random.Random) -> list[tuple[str, int, str, int]]:
    """POOL small text originals, each with its extracted text: (sha, size, text sha, text size)."""
    out = []
    for n in range(POOL):
        lines = rng.sample(FINDINGS, 3)
        text = f"第{n}号文书\n" + "\n".join(lines) + f"\n{rng.choice(COMPANIES)}{rng.randint(1, 999)}号\n"
        path = work / f"pool-{n}.txt"
        path.write_text(text, encoding="utf-8")
        from archive.storage import hash_file

        sha, size = hash_file(path)
        svc.store.put_file(path, sha, mime="text/plain; charset=utf-8", lock=False)
        derived = svc.store.put_bytes(text.encode(), mime="text/plain; charset=utf-8")
        out.append((sha, size, derived.sha256, derived.size))
    return out


def _insert(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for at in range(0, len(rows), CHUNK):
        conn.execute(insert(model), rows[at : at + CHUNK])


def generate(data: Path, cases: int, per_case: int, seed: int = 2026) -> dict[str, float]:
    """Fill ``data`` (a fresh data directory, and the database ARCHIVE_DB__URL names if set);
    returns timings."""
    os.environ["ARCHIVE_DATA_DIR"] = str(data)
    svc = open_services(Settings())
    ensure_demo_user(svc)
    rng = random.Random(seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        pool = _pool(svc, Path(tmp), rng)
    with session_scope(svc.engine) as s:
        users = {u.username: u.id for u in s.scalars(select(User))}
    now = datetime.now(UTC)
    record_id = event_id = 0
    with svc.engine.begin() as conn:
        for first in range(0, cases, 1_000):  # a thousand cases per transaction
            case_rows, party_rows, event_rows, record_rows, file_rows, job_rows = [], [], [], [], [], []
            assign_rows, request_rows = [], []
            for case_id in range(first + 1, min(cases, first + 1_000) + 1):
                year = 2016 + case_id % 10
                opened = datetime(year, 1 + case_id % 12, 1 + case_id % 27, 9, tzinfo=UTC)
                state = rng.random()
                status = (
                    CaseStatus.OPEN
                    if state < 0.1
                    else (CaseStatus.ENDED if state < 0.2 else CaseStatus.ARCHIVED)
                )
                ended = (
                    opened + timedelta(days=rng.randint(20, 120)) if status is not CaseStatus.OPEN else None
                )
                company = f"{rng.choice(PLACES)}{rng.choice(COMPANIES)}有限公司"
                case_rows.append(
                    {
                        "id": case_id,
                        "case_no": f"规模应急罚〔{year}〕{case_id}号",
                        "name": f"{company}{rng.choice(FINDINGS)[:16]}案",
                        "enforcement_kind": EnforcementKind.PENALTY.value,
                        "origin": CaseOrigin.EX_OFFICIO.value,
                        "case_officer": rng.choice(OFFICERS),
                        "status": status.value,
                        "opened_at": opened,
                        "enforcement_ended_at": ended,
                        "archived_at": ended + timedelta(days=10)
                        if status is CaseStatus.ARCHIVED and ended
                        else None,
                        "archivist": "刘淑芬" if status is not CaseStatus.OPEN else None,
                        "legacy": False,
                        "created_at": now,
                    }
                )
                party_rows.append(
                    {
                        "case_id": case_id,
                        "name": company,
                        "party_type": PartyType.ORGANISATION.value,
                        "id_number": None,
                    }
                )
                events: dict[EventKind, int] = {}
                for kind in (
                    EventKind.STARTED,
                    EventKind.INSPECTION,
                    EventKind.QUESTION_PARTY,
                    EventKind.NOTIFY_RIGHTS,
                    EventKind.DECISION,
                    EventKind.SERVE_DIRECT,
                ):
                    event_id += 1
                    events[kind] = event_id
                    event_rows.append(
                        {
                            "id": event_id,
                            "case_id": case_id,
                            "kind": kind.value,
                            "occurred_at": opened + timedelta(days=len(events) * 3),
                            "av_exempt": False,
                            "created_at": now,
                        }
                    )
                if ended is not None:
                    event_id += 1
                    events[EventKind.ENFORCEMENT_ENDED] = event_id
                    event_rows.append(
                        {
                            "id": event_id,
                            "case_id": case_id,
                            "kind": EventKind.ENFORCEMENT_ENDED.value,
                            "occurred_at": ended,
                            "av_exempt": False,
                            "created_at": now,
                        }
                    )
                for n, (sha, size, text_sha, text_size) in enumerate(
                    rng.sample(pool, min(per_case, POOL)), start=1
                ):
                    record_id += 1
                    doc, stage, kind = DOCS[n % len(DOCS)]
                    made = opened + timedelta(days=n % 40)
                    record_rows.append(
                        {
                            "id": record_id,
                            "case_id": case_id,
                            "event_id": events.get(kind),
                            "piece_no": n if status is CaseStatus.ARCHIVED else None,
                            "sha256": sha,
                            "stage": stage.value,
                            "form": RecordForm.TEXT.value,
                            "document_type": doc,
                            "title": f"{company}{doc}（{n}）",
                            "doc_no": None,
                            "made_how": "扫描" if n % 7 else None,  # some miss 第二十六条 fields
                            "made_at": made,
                            "made_by": rng.choice(OFFICERS),
                            "proves": "违法事实" if n % 5 else None,
                            "stored_at": made + timedelta(days=rng.choice((0, 1, 1, 2, 5))),
                            "classification": "内部",
                            "original_name": f"{doc}-{n}.txt",
                            "mime": "text/plain; charset=utf-8",
                            "size": size,
                            "page_count": 1,
                            "status": ProcessingStatus.PROCESSED.value,
                            "updated_at": now,
                        }
                    )
                    file_rows.append(
                        {
                            "record_id": record_id,
                            "role": FileRole.ORIGINAL.value,
                            "kind": "original",
                            "sha256": sha,
                            "size": size,
                            "mime": "text/plain; charset=utf-8",
                            "storage_key": sha,
                            "created_at": now,
                        }
                    )
                    file_rows.append(
                        {
                            "record_id": record_id,
                            "role": FileRole.DERIVATIVE.value,
                            "kind": "text",
                            "sha256": text_sha,
                            "size": text_size,
                            "mime": "text/plain; charset=utf-8",
                            "storage_key": text_sha,
                            "created_at": now,
                        }
                    )
                    job_rows.append(
                        {
                            "record_id": record_id,
                            "kind": "process",
                            "status": JobStatus.DONE.value,
                            "attempts": 1,
                            "progress": 1.0,
                            "steps": done_through(Step.RULES),
                            "created_at": now,
                            "updated_at": now,
                            "finished_at": now,
                        }
                    )
                if case_id % 200 == 1:  # the demo officer works on some cases
                    assign_rows.append(
                        {
                            "case_id": case_id,
                            "user_id": users[DEMO_USER],
                            "assigned_by": "规模测试",
                            "assigned_at": now,
                        }
                    )
                if case_id % 100 == 7:  # some 查阅 requests by the party
                    request_rows.append(
                        {
                            "requester_id": users["party"],
                            "case_id": case_id,
                            "reason": "核对处罚事实",
                            "status": RequestStatus.SUBMITTED.value,
                            "days": 30,
                            "created_at": now,
                        }
                    )
            _insert(conn, Case, case_rows)
            _insert(conn, Party, party_rows)
            _insert(conn, CaseEvent, event_rows)
            _insert(conn, Record, record_rows)
            _insert(conn, StoredFile, file_rows)
            _insert(conn, Job, job_rows)
            if assign_rows:
                _insert(conn, CaseAssignment, assign_rows)
            if request_rows:
                _insert(conn, AccessRequest, request_rows)
            print(f"  {min(cases, first + 1_000):,} cases, {record_id:,} records", file=sys.stderr)
        file_dossiers(conn, per_case, pool[0][0])
        if conn.dialect.name == "postgresql":  # rows went in with their ids: move the sequences on
            from sqlalchemy import text

            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement in (True, "auto") and table.c.id.primary_key:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                        )
                    )
    return {"generate_s": round(time.perf_counter() - started, 1), "records": record_id}


def file_dossiers(conn: Any, pieces: int, catalog_sha256: str) -> None:
    """A dossier row for every filed (已归档) case, as filing writes it."""
    conn.execute(
        insert(Dossier).from_select(
            ["case_id", "retention", "archivist", "filed_by", "filed_at", "pieces", "catalog_sha256"],
            select(
                Case.id,
                literal("30年"),
                literal("刘淑芬"),
                literal("刘淑芬"),
                Case.archived_at,
                literal(pieces),
                literal(catalog_sha256),
            ).where(Case.status == CaseStatus.ARCHIVED.value),
        )
    )


def _db_mb(data: Path, url: str | None) -> float:
    if not url:
        return round((data / "archive.db").stat().st_size / 2**20, 1)
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as conn:
        return round(int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0) / 2**20, 1)


def _timed(args: list[str], data: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")} | {
        "ARCHIVE_DATA_DIR": str(data)
    }
    if os.environ.get("ARCHIVE_DB__URL"):
        env["ARCHIVE_DB__URL"] = os.environ["ARCHIVE_DB__URL"]
    started = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "archive"), *args], env=env, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):  # 1: some case breaks a rule
        raise SystemExit(f"archive {' '.join(args)} failed: {done.stderr[-500:]}")
    return round(time.perf_counter() - started, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--records", type=int, default=100, help=f"records per case (at most {POOL})")
    ap.add_argument("--data", type=Path, default=None, help="a new data directory (default: a temporary one)")
    ap.add_argument("--index", action="store_true", help="also index every record (archive reindex)")
    ap.add_argument("--db-url", help="an empty PostgreSQL database to fill instead of SQLite")
    args = ap.parse_args()
    if args.db_url:
        os.environ["ARCHIVE_DB__URL"] = args.db_url
    data = args.data or Path(tempfile.mkdtemp(prefix="bench-scale-")) / "var"
    if data.exists() and any(data.iterdir()):
        raise SystemExit(f"{data} is not empty: the generator fills a new data directory")
    print(f"filling {data} with {args.cases:,} cases × {args.records} records", file=sys.stderr)
    figures: dict[str, Any] = {"cases": args.cases, "data": str(data)}
    figures |= generate(data, args.cases, args.records)
    print(f"generated in {figures['generate_s']} s; archive check over every case …", file=sys.stderr)
    figures["check_s"] = _timed(["check", "--json"], data)
    figures["check_again_s"] = _timed(["check", "--json"], data)
    figures["index_s"] = _timed(["reindex"], data) if args.index else None
    figures["database"] = "postgresql" if args.db_url else "sqlite"
    figures["db_mb"] = _db_mb(data, args.db_url)
    print(
        f"{figures['cases']:,} cases, {figures['records']:,} records: generated {figures['generate_s']} s, "
        f"archive check {figures['check_s']} s (again {figures['check_again_s']} s), "
        f"index {figures['index_s']} s, database {figures['db_mb']} MB",
        file=sys.stderr,
    )
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
