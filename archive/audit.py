"""审计日志: an append-only, hash-chained log of who saw, searched, downloaded, changed,
approved and exported what, and when (DA/T 46: a record of every management action).

Each event's ``hash`` is SHA-256 over its canonical JSON, which includes the previous event's
hash; ``audit_head`` holds the last sequence number and hash. The database refuses UPDATE and
DELETE on ``audit_events`` (triggers, migration 0006), and :func:`verify` names the first event
where a change, a deletion (a gap, or a tail shorter than the head) or an insertion breaks the
chain. Someone able to drop the triggers *and* rewrite every later hash and the head could
forge a consistent chain; export the head (``archive audit verify --json``) somewhere they
cannot write to catch even that.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Select, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from archive.actor import Actor
from archive.models import AuditEvent, AuditHead
from archive.timeutil import as_utc, to_local

GENESIS = "0" * 64
HEAD_ID = 1
OUTCOMES = ("ok", "denied", "failed")

# Event types, with the label the audit view shows.
EVENT_TYPES: dict[str, str] = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_throttled": "登录受限（失败次数过多）",
    "logout": "退出",
    "token_created": "创建 API 令牌",
    "search": "检索",
    "view": "查看",
    "download": "下载",
    "upload": "上传",
    "edit": "修改",
    "delete": "删除",
    "transcript_correct": "校对转写",
    "spans_edit": "修改脱敏范围",
    "assign": "指派承办",
    "party_link": "关联当事人账号",
    "access_request": "查阅申请",
    "access_review": "查阅审查",
    "access_approve": "查阅批准",
    "access_deny": "查阅驳回",
    "access_withdraw": "查阅撤回",
    "access_revoke": "撤销授权",
    "dossier_file": "归档",
    "dossier_import": "导入纸质卷宗",
    "export": "导出",
    "audit_view": "查看审计日志",
    "audit_export": "导出审计日志",
    "user_admin": "用户管理",
    "fixity": "固定性校验",
    "retry": "重新处理",
    "rederive": "重建派生文件",
    "event_add": "记录执法活动",
    "access_preview": "预览脱敏件",
    "release_mode": "设定提供方式",
    "release_blocked": "发布检查拦截",
    "backup": "备份",
    "restore": "从备份恢复",
}


SYSTEM = Actor("system", "系统")


def _at(value: datetime) -> str:
    """The time as hashed into the chain: UTC to the microsecond (a naive value is UTC, never the
    machine's own zone, so the chain verifies the same on every host)."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(
    *,
    seq: int,
    at: datetime,
    event_type: str,
    actor: str,
    actor_role: str,
    object: str,
    outcome: str,
    ip: str,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 of the event's canonical JSON (keys sorted, UTC microseconds, UTF-8)."""
    body = {
        "seq": seq,
        "at": _at(at),
        "type": event_type,
        "actor": actor,
        "role": actor_role,
        "object": object,
        "outcome": outcome,
        "ip": ip,
        "detail": detail,
        "prev": prev_hash,
    }
    data = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _row_hash(e: AuditEvent) -> str:
    return event_hash(
        seq=e.seq,
        at=e.at,
        event_type=e.event_type,
        actor=e.actor,
        actor_role=e.actor_role,
        object=e.object,
        outcome=e.outcome,
        ip=e.ip,
        detail=e.detail or {},
        prev_hash=e.prev_hash,
    )


def record(
    engine: Engine,
    event_type: str,
    actor: Actor,
    object: str = "",
    outcome: str = "ok",
    **detail: Any,
) -> int:
    """Append one event in its own transaction; returns its sequence number.

    Writers are serialised by the head row (locked FOR UPDATE on PostgreSQL; SQLite has one
    writer at a time). Two first events racing for the head, or any other collision on the
    unique ``seq``, retry on the new head.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown audit event type: {event_type}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome: {outcome}")
    # JSON round trip first, so the hash covers exactly what the database will return.
    clean = json.loads(json.dumps(detail, ensure_ascii=False, default=str))
    for attempt in range(50):
        try:
            with Session(engine) as s, s.begin():
                # Write first: on SQLite this takes the write lock before anything is read (a read
                # transaction upgraded to a write fails at once when another writer got there first);
                # on PostgreSQL it locks the head row like SELECT … FOR UPDATE.
                s.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq))
                head = s.scalar(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update())
                seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
                at = datetime.now(UTC)
                fields = {
                    "seq": seq,
                    "at": at,
                    "event_type": event_type,
                    "actor": actor.name[:64],
                    "actor_role": actor.role[:32],
                    "object": object[:255],
                    "outcome": outcome,
                    "ip": actor.ip[:64],
                    "detail": clean,
                }
                digest = event_hash(**fields, prev_hash=prev)
                s.add(AuditEvent(**fields, prev_hash=prev, hash=digest))
                if head is None:
                    s.add(AuditHead(id=HEAD_ID, seq=seq, hash=digest))
                else:
                    head.seq, head.hash = seq, digest
            return seq
        except IntegrityError:
            continue  # two first events raced for the head: the loser retries on the new head
        except OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError("审计日志写入冲突过多，请稍后重试")


@dataclass(frozen=True)
class Verification:
    """The result of checking the chain: ``ok``, how many events, and the first broken link."""

    ok: bool
    events: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "broken_seq": self.broken_seq,
            "reason": self.reason,
        }


def verify(engine: Engine, batch: int = 5000) -> Verification:
    """Walk the whole chain and name the first event that does not fit."""
    expected_seq, prev, count = 1, GENESIS, 0
    with Session(engine) as s:
        head = s.get(AuditHead, HEAD_ID)
        last_seq: int | None = None  # from the lowest seq there is: an event slipped in before #1 counts
        while True:
            page = select(AuditEvent).order_by(AuditEvent.seq).limit(batch)
            if last_seq is not None:
                page = page.where(AuditEvent.seq > last_seq)
            rows = list(s.scalars(page))
            if not rows:
                break
            for e in rows:
                last_seq = e.seq
                count += 1
                if e.seq != expected_seq:
                    what = "缺失（被删除）" if e.seq > expected_seq else "重复或被插入"
                    return _broken(count - 1, head, expected_seq, f"第 {expected_seq} 号事件{what}")
                if e.prev_hash != prev:
                    reason = f"第 {e.seq} 号事件的前序哈希与上一事件不符（插入或改动）"
                    return _broken(count - 1, head, e.seq, reason)
                if _row_hash(e) != e.hash:
                    return _broken(count - 1, head, e.seq, f"第 {e.seq} 号事件内容与其哈希不符（被改动）")
                prev, expected_seq = e.hash, e.seq + 1
            s.expunge_all()
            if len(rows) < batch:
                break
    last_seq = expected_seq - 1
    if head is None:
        if count:
            return _broken(count, None, last_seq, "缺少链头记录（audit_head 被删除）")
        return Verification(True, 0, 0, GENESIS)
    if head.seq != last_seq or head.hash != prev:
        if head.seq > last_seq:
            reason = f"链尾缺失：链头记录到第 {head.seq} 号，日志只到第 {last_seq} 号（末尾事件被删除）"
            return _broken(count, head, last_seq + 1, reason)
        return _broken(count, head, head.seq, "链头与最后一个事件不符（被改动）")
    return Verification(True, count, head.seq, head.hash)


def _broken(events: int, head: AuditHead | None, seq: int, reason: str) -> Verification:
    return Verification(
        False, events, head.seq if head else 0, head.hash if head else GENESIS, broken_seq=seq, reason=reason
    )


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the audit view and export (all optional)."""

    event_type: str | None = None
    actor: str | None = None
    object: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _select(q: AuditQuery) -> Select[AuditEvent]:
    stmt = select(AuditEvent)
    if q.event_type:
        stmt = stmt.where(AuditEvent.event_type == q.event_type)
    if q.actor:
        stmt = stmt.where(AuditEvent.actor == q.actor)
    if q.object:
        stmt = stmt.where(AuditEvent.object.contains(q.object, autoescape=True))
    if q.outcome:
        stmt = stmt.where(AuditEvent.outcome == q.outcome)
    if q.since:
        stmt = stmt.where(AuditEvent.at >= q.since)
    if q.until:
        stmt = stmt.where(AuditEvent.at < q.until)
    return stmt


def query(
    engine: Engine, q: AuditQuery, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[AuditEvent]]:
    """The total matching and one page of events, newest first."""
    with Session(engine) as s:
        stmt = _select(q)
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = list(s.scalars(stmt.order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)))
        s.expunge_all()
    return total, rows


def trail(engine: Engine, objects: Sequence[str]) -> list[dict[str, Any]]:
    """Every event about these objects, oldest first, as plain data with its hashes."""
    with Session(engine) as s:
        rows = s.scalars(
            select(AuditEvent).where(AuditEvent.object.in_(list(objects))).order_by(AuditEvent.seq)
        )
        return [
            {
                "seq": e.seq,
                "at": _at(e.at),
                "type": e.event_type,
                "actor": e.actor,
                "role": e.actor_role,
                "object": e.object,
                "outcome": e.outcome,
                "detail": e.detail or {},
                "hash": e.hash,
            }
            for e in rows
        ]


CSV_COLUMNS = ("序号", "时间", "类型", "操作人", "角色", "对象", "结果", "IP", "详情", "前序哈希", "哈希")


def csv_rows(engine: Engine, q: AuditQuery) -> Iterator[str]:
    """The matching events as CSV lines (UTF-8 with BOM so spreadsheet programs read Chinese)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    yield _drain(buf)
    with Session(engine) as s:
        for e in s.scalars(_select(q).order_by(AuditEvent.seq).execution_options(yield_per=1000)):
            writer.writerow(_csv_row(e))
            yield _drain(buf)


def _csv_row(e: AuditEvent) -> Sequence[str]:
    at = to_local(e.at).strftime("%Y-%m-%d %H:%M:%S")
    detail = json.dumps(e.detail or {}, ensure_ascii=False, sort_keys=True)
    values = [str(e.seq), at, EVENT_TYPES.get(e.event_type, e.event_type), e.actor, e.actor_role]
    values += [e.object, e.outcome, e.ip, detail, e.prev_hash, e.hash]
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return [("'" + v) if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v for v in values]


def _drain(buf: io.StringIO) -> str:
    out = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return out
