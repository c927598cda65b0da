"""The archive's health at a glance: what an operator must look at, and what needs action.

One report for `archive status`, the administrator's 工作台 and `/api/v1/status`: records by
processing state, stuck and failed jobs, the task queue and Redis, the index against the records,
the last fixity run, the audit chain's head, disk space and the working-day calendar.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.models import AuditEvent, AuditHead, ProcessingStatus, Record, utcnow
from archive.settings import Settings
from archive.timeutil import to_local
from archive.workdays import covered_years
from pipelines.context import Services
from pipelines.queue import job_rows

FIXITY_EVERY_DAYS = 31  # a fixity run older than this is due again
DISK_FREE_AT_LEAST = 0.10  # of the data directory's file system


@dataclass(frozen=True)
class Check:
    """One aspect: ``level`` is ok, warning (needs action soon) or error (needs action now)."""

    name: str
    level: str
    summary: str
    action: str = ""


@dataclass
class StatusReport:
    """Every check and the figures behind them."""

    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_action(self) -> bool:
        """Something is a warning or an error."""
        return any(c.level != "ok" for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "needs_action": self.needs_action,
            "checks": [vars(c) for c in self.checks],
            "figures": self.figures,
        }


def _records(svc: Services, report: StatusReport) -> int:
    # The few records not processed are counted through the status index; processed ones are
    # the rest (a GROUP BY over every status counted a province's million records one by one).
    others = [st for st in ProcessingStatus if st is not ProcessingStatus.PROCESSED]
    with Session(svc.engine) as s:
        total = int(s.scalar(select(func.count()).select_from(Record)) or 0)
        rows = s.execute(
            select(Record.status, func.count()).where(Record.status.in_(others)).group_by(Record.status)
        ).all()
    counts = {status.value: n for status, n in rows}
    if total - sum(counts.values()):
        counts[ProcessingStatus.PROCESSED.value] = total - sum(counts.values())
    report.figures["records"] = counts
    return counts.get(ProcessingStatus.PROCESSED.value, 0)


def _jobs(svc: Services, report: StatusReport) -> None:
    rows = job_rows(svc)
    stuck = [r for r in rows if r.stuck]
    failed = [r for r in rows if r.status == "failed"]
    report.figures["jobs"] = {
        "pending": sum(r.status == "pending" for r in rows),
        "running": sum(r.status == "running" for r in rows),
        "failed": len(failed),
        "stuck": [r.record_id for r in stuck],
    }
    if stuck:
        ids = "、".join(str(r.record_id) for r in stuck[:10])
        report.checks.append(
            Check("jobs", "error", f"{len(stuck)} 个任务无人处理（记录 {ids}）", "archive retry 重新发送")
        )
    elif failed:
        report.checks.append(
            Check(
                "jobs",
                "warning",
                f"{len(failed)} 个任务处理失败",
                "archive jobs 查看原因，archive retry 重试",
            )
        )
    else:
        report.checks.append(Check("jobs", "ok", f"没有失败或停滞的任务（处理中 {len(rows)} 个）"))


@dataclass(frozen=True)
class QueueState:
    """The task queue as seen from here: its backend, Redis reachable, messages waiting."""

    backend: str
    reachable: bool | None = None  # None: no Redis in use
    depth: int | None = None
    problem: str = ""


def queue_state(settings: Settings) -> QueueState:
    """Ping Redis (2 s at most) and count the queue's waiting messages, if Redis is used."""
    q = settings.queue
    if q.backend != "redis":
        return QueueState(q.backend)
    from redis import Redis
    from redis.exceptions import RedisError

    from pipelines.tasks import get_huey

    try:
        Redis.from_url(q.redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
        return QueueState("redis", True, get_huey(settings).pending_count())
    except (RedisError, OSError) as exc:
        return QueueState("redis", False, problem=str(exc))


def _queue(svc: Services, report: StatusReport) -> None:
    state = queue_state(svc.settings)
    report.figures["queue"] = vars(state) | {"name": svc.settings.queue.name}
    if state.reachable is None:
        report.checks.append(Check("queue", "ok", "内置任务进程（无需 Redis）"))
    elif not state.reachable:
        summary = f"无法连接 Redis（{state.problem}）"
        report.checks.append(Check("queue", "error", summary, "检查 Redis 服务和 ARCHIVE_QUEUE__REDIS_URL"))
    else:
        summary = f"Redis 可连接，队列 {svc.settings.queue.name} 待处理消息 {state.depth} 条"
        report.checks.append(Check("queue", "ok", summary))


def _index(svc: Services, report: StatusReport, processed: int) -> None:
    try:
        count = svc.index.count()
    except Exception as exc:  # any backend failure is reported, not raised
        report.checks.append(
            Check("index", "error", f"检索索引不可用（{type(exc).__name__}: {exc}）", "检查索引服务")
        )
        return
    report.figures["index"] = {
        "backend": svc.index.name,
        "records_indexed": count,
        "records_processed": processed,
    }
    if count != processed:
        summary = f"索引中有 {count} 条记录，已处理的记录 {processed} 条"
        report.checks.append(Check("index", "warning", summary, "archive reindex"))
    else:
        report.checks.append(Check("index", "ok", f"索引与记录一致（{count} 条）"))


def _fixity(svc: Services, report: StatusReport) -> None:
    with Session(svc.engine) as s:
        last = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.event_type == "fixity", AuditEvent.object == "archive")
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    if last is None:
        report.figures["fixity"] = None
        report.checks.append(Check("fixity", "warning", "从未做过全库固定性检查", "archive fixity"))
        return
    detail = last.detail or {}
    report.figures["fixity"] = {"at": last.at.isoformat(), "outcome": last.outcome, **detail}
    when = f"{to_local(last.at):%Y-%m-%d %H:%M}"
    if last.outcome != "ok":
        summary = f"{when} 的固定性检查发现 {detail.get('mismatches', '?')} 个文件不符或缺失"
        report.checks.append(
            Check("fixity", "error", summary, "archive fixity 查看；派生文件用 archive rederive --missing")
        )
    elif utcnow() - last.at > timedelta(days=FIXITY_EVERY_DAYS):
        report.checks.append(
            Check(
                "fixity",
                "warning",
                f"上次固定性检查在 {when}，已超过 {FIXITY_EVERY_DAYS} 天",
                "archive fixity",
            )
        )
    else:
        report.checks.append(
            Check("fixity", "ok", f"{when} 检查 {detail.get('checked', '?')} 个文件，全部一致")
        )


def _audit(svc: Services, report: StatusReport) -> None:
    with Session(svc.engine) as s:
        head = s.get(AuditHead, 1)
    report.figures["audit_head"] = {"seq": head.seq, "hash": head.hash} if head else None
    summary = f"审计链头 #{head.seq} {head.hash[:16]}…" if head else "审计日志为空"
    report.checks.append(Check("audit", "ok", summary + "（完整性用 archive audit verify 校验）"))


def _disk(svc: Services, report: StatusReport) -> None:
    data_dir = svc.settings.data_dir
    usage = shutil.disk_usage(data_dir if data_dir.exists() else data_dir.parent)
    free = usage.free / usage.total if usage.total else 1.0
    report.figures["disk"] = {"data_dir": str(data_dir), "free_bytes": usage.free, "total_bytes": usage.total}
    text = f"数据目录所在磁盘剩余 {usage.free / 2**30:.1f} GiB（{free:.0%}）"
    level = "ok" if free >= DISK_FREE_AT_LEAST else "warning"
    report.checks.append(Check("disk", level, text, "" if level == "ok" else "清理或扩容磁盘"))


def _calendar(svc: Services, report: StatusReport) -> None:
    years = covered_years(svc.settings.compliance.calendar_years)
    next_year = to_local(utcnow()).year + 1
    report.figures["calendar_years"] = sorted(years)
    if next_year in years:
        report.checks.append(Check("calendar", "ok", f"节假日日历已有 {next_year} 年"))
    else:
        report.checks.append(
            Check(
                "calendar",
                "warning",
                f"节假日日历没有 {next_year} 年：到期计算（第二十五条的 2 个工作日）届时会报错",
                f"在 ARCHIVE_COMPLIANCE__CALENDAR_YEARS 加入 {next_year} 并填写放假与调休日期",
            )
        )


def archive_status(svc: Services) -> StatusReport:
    """Every check, cheapest first; none of them changes anything."""
    report = StatusReport()
    processed = _records(svc, report)
    _jobs(svc, report)
    _queue(svc, report)
    _index(svc, report, processed)
    _fixity(svc, report)
    _audit(svc, report)
    _disk(svc, report)
    _calendar(svc, report)
    return report
