"""Running processing jobs: the task-queue contract and the in-process worker pool."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import forkserver
from pathlib import Path
from typing import Protocol

from sqlalchemy import or_, select

from archive import audit
from archive.actor import Actor
from archive.db import session_scope
from archive.models import Job, JobStatus, ProcessingStatus, Record, utcnow
from archive.settings import Settings
from pipelines.context import Services, open_services
from pipelines.process import process_record
from pipelines.steps import FAILED, ProcessOutcome, finish, first_undone

log = logging.getLogger(__name__)
OnDone = Callable[[ProcessOutcome], None]
BATCH = 64  # outcomes indexed per commit


class TaskQueue(Protocol):
    """Runs processing jobs for records and reports each outcome."""

    def run(self, record_ids: Iterable[int], on_done: OnDone | None = None) -> list[ProcessOutcome]:
        """Process every record; returns when all are finished (done or failed). ``record_ids``
        may be produced as the queue runs (e.g. while originals are being stored): processing
        starts with the first ones."""
        ...


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A killed worker whose parent died stays a zombie until init reaps it: not alive.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] not in {"Z", "X"}
    except (OSError, IndexError):
        return True


def job_is_due(job: Job, stale_after_s: int) -> bool:
    """Whether a job should run (again): pending, or running in a worker that died (same host)
    or went silent for ``stale_after_s``."""
    if job.status is JobStatus.PENDING:
        return True
    if job.status is not JobStatus.RUNNING:
        return False
    stale = utcnow() - timedelta(seconds=stale_after_s)
    owner_host, _, pid = (job.worker or "").rpartition(":")
    updated = job.updated_at
    dead = owner_host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid))
    return dead or not job.worker or updated < stale


def resumable_record_ids(svc: Services) -> list[int]:
    """Jobs left pending, or running in a worker that died (same host) or went silent."""
    with session_scope(svc.engine) as s:
        jobs = s.scalars(
            select(Job).where(
                Job.kind == "process",
                or_(Job.status == JobStatus.PENDING, Job.status == JobStatus.RUNNING),
            )
        ).all()
        due = [job.record_id for job in jobs if job_is_due(job, svc.settings.queue.stale_after_s)]
    return sorted(due)


def reset_failed(svc: Services, record_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """Make failed processing jobs pending again; returns (reset, not failed) record ids.

    The job keeps its ``steps``: a retry starts again at the step that failed (`pipelines.steps`).
    """
    reset: list[int] = []
    skipped: list[int] = []
    with session_scope(svc.engine) as s:
        for rid in record_ids:
            job = s.scalar(select(Job).where(Job.record_id == rid, Job.kind == "process"))
            if job is None or job.status is not JobStatus.FAILED:
                skipped.append(rid)
                continue
            job.status, job.error, job.worker = JobStatus.PENDING, None, None
            record = s.get(Record, rid)
            if record is not None:
                record.status, record.error = ProcessingStatus.PENDING, None
            reset.append(rid)
    return reset, skipped


_child: Services | None = None
# Parser processes are forked from a fork server started once per process with the pipeline's
# modules and the segmenter already loaded: a fresh process with one thread, so forking it is safe
# (unlike forking the web server), and a pool starts in milliseconds instead of loading everything
# again in every worker (~3.5 s per worker with spawn).
PRELOAD = ["pipelines.pool_preload"]


def _pool_context() -> mp.context.BaseContext:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _child_init(settings: Settings) -> None:
    global _child
    _child = open_services(settings, init=False)


def _child_process(record_id: int) -> ProcessOutcome:
    assert _child is not None
    return process_record(_child, record_id)


def _each_once(ids: Iterable[int]) -> Iterator[int]:
    seen: set[int] = set()
    for rid in ids:
        if rid not in seen:
            seen.add(rid)
            yield rid


class InProcessQueue:
    """The embedded default: a pool of parser processes on this machine, no servers."""

    def __init__(self, svc: Services, workers: int = 0) -> None:
        """Starts loading what processing needs (the fork server's imports, segmenter and name
        tagger) in the background, so that it overlaps with storing originals: make the queue
        before storing a batch of files."""
        self.svc = svc
        self.workers = workers or svc.settings.queue.workers or (os.cpu_count() or 1)
        self._ctx = _pool_context()
        forkserver.ensure_running()  # returns at once; the server loads PRELOAD on its own

    def run(self, record_ids: Iterable[int], on_done: OnDone | None = None) -> list[ProcessOutcome]:
        """Parse in worker processes; index and mark jobs in this process, in batches. Ids are
        taken from ``record_ids`` only as the workers need more."""
        source = _each_once(record_ids)
        results: list[ProcessOutcome] = []
        pending_batch: list[ProcessOutcome] = []

        def flush() -> None:
            if pending_batch:
                finished = finish(self.svc, pending_batch)
                for o in finished:
                    if on_done:
                        on_done(o)
                results.extend(finished)
                pending_batch.clear()

        first = next(source, None)
        if first is None:
            return results
        ahead = [first]  # taken from the source, not yet sent
        # Enough in flight that the workers keep parsing while this process indexes a batch
        # (finish() takes a while and nothing is submitted meanwhile).
        depth = self.workers * 2 + BATCH
        while True:
            with ProcessPoolExecutor(
                self.workers, mp_context=self._ctx, initializer=_child_init, initargs=(self.svc.settings,)
            ) as pool:
                futures: dict[Future[ProcessOutcome], int] = {}
                crashed: list[int] = []
                while True:
                    while len(futures) < depth:
                        rid = ahead.pop(0) if ahead else next(source, None)
                        if rid is None:
                            break
                        futures[pool.submit(_child_process, rid)] = rid
                    if not futures:
                        break
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in done:
                        rid = futures.pop(fut)
                        try:
                            pending_batch.append(fut.result())
                        except BrokenProcessPool:
                            crashed.append(rid)
                    if crashed:
                        crashed.extend(futures.values())
                        break
                    if len(pending_batch) >= BATCH:
                        flush()
            flush()
            if not crashed:
                return results
            # Those in flight when a parser process died run one by one; then a new pool goes on.
            self._isolate_crash(crashed, pending_batch)
            flush()

    def _isolate_crash(self, ids: list[int], batch: list[ProcessOutcome]) -> None:
        """A parser process died (e.g. a native library crashed): run those that were in flight one
        by one, so that the file that kills a process fails alone."""
        ctx = self._ctx
        for rid in ids:
            with ProcessPoolExecutor(
                1, mp_context=ctx, initializer=_child_init, initargs=(self.svc.settings,)
            ) as pool:
                try:
                    batch.append(pool.submit(_child_process, rid).result())
                except BrokenProcessPool:
                    batch.append(ProcessOutcome(rid, error="解析进程异常退出（文件可能已损坏），原件已保存"))


@dataclass(frozen=True)
class JobRow:
    """A processing job as an operator sees it: where it is, who has it, for how long."""

    record_id: int
    title: str
    status: str  # pending | running | failed | done
    step: str | None  # the step it failed at, or the first step not done
    worker: str | None
    age_s: float  # since the job last changed
    attempts: int
    error: str | None
    stuck: bool  # pending with nobody on it, or running in a worker that died or went silent


def job_rows(svc: Services, *, done: bool = False) -> list[JobRow]:
    """Every job that is not done (and, with ``done``, the finished ones too), oldest first."""
    now = utcnow()
    stale_after_s = svc.settings.queue.stale_after_s
    with session_scope(svc.engine) as s:
        stmt = select(Job, Record.title).join(Record, Record.id == Job.record_id).where(Job.kind == "process")
        if not done:  # IN, not !=: the status index finds the few unfinished jobs among a million
            stmt = stmt.where(Job.status.in_([s for s in JobStatus if s is not JobStatus.DONE]))
        rows = []
        for job, title in s.execute(stmt.order_by(Job.updated_at, Job.record_id)):
            steps = dict(job.steps or {})
            failed_at = next((k for k, v in steps.items() if v == FAILED), None)
            age = (now - job.updated_at).total_seconds()
            waiting_too_long = job.status is JobStatus.RUNNING or age > stale_after_s
            stuck = job_is_due(job, stale_after_s) and waiting_too_long
            rows.append(
                JobRow(
                    job.record_id,
                    title,
                    job.status.value,
                    failed_at or _next_step(steps, job.status),
                    job.worker,
                    round(age, 1),
                    job.attempts,
                    job.error,
                    stuck,
                )
            )
    return rows


def _next_step(steps: dict[str, str], status: JobStatus) -> str | None:
    if status is JobStatus.DONE:
        return None
    step = first_undone(steps)
    return step.value if step else None


def stuck_record_ids(svc: Services) -> list[int]:
    """Jobs nobody is working on although they should run: pending for longer than
    ``stale_after_s`` (their queue message is gone), or running in a dead or silent worker."""
    return [r.record_id for r in job_rows(svc) if r.stuck]


def failed_jobs(svc: Services) -> list[tuple[int, str, int, str]]:
    """(record id, title, attempts, reason) of every failed job."""
    with session_scope(svc.engine) as s:
        rows = s.execute(
            select(Job.record_id, Record.title, Job.attempts, Job.error)
            .join(Record, Record.id == Job.record_id)
            .where(Job.status == JobStatus.FAILED, Job.kind == "process")
            .order_by(Job.record_id)
        ).all()
    return [(rid, title, attempts, error or "") for rid, title, attempts, error in rows]


def make_queue(svc: Services) -> TaskQueue:
    """The configured task queue: in this process (default) or on Redis for `archive worker`s."""
    if svc.settings.queue.backend == "redis":
        from pipelines.tasks import RedisQueue

        return RedisQueue(svc)
    return InProcessQueue(svc)


def retry_processing(svc: Services, record_ids: Sequence[int], actor: Actor) -> tuple[list[int], list[int]]:
    """Make the failed processing jobs of ``record_ids`` pending again, one audited ``retry`` per
    record; returns (reset, skipped: missing or not failed). The caller runs the reset jobs
    (the web's background thread, or the CLI's queue)."""
    reset, skipped = reset_failed(svc, record_ids)
    for record_id in reset:
        audit.record(svc.engine, "retry", actor, f"record:{record_id}")
    return reset, skipped


def resend_stuck(svc: Services, record_ids: Sequence[int], actor: Actor) -> list[int]:
    """Those of ``record_ids`` whose job is stuck (pending with its message gone, or left by a dead
    or silent worker), one audited ``retry`` each; the caller sends them to the queue again."""
    stuck = set(stuck_record_ids(svc))
    resent = [rid for rid in dict.fromkeys(record_ids) if rid in stuck]
    for rid in resent:
        audit.record(svc.engine, "retry", actor, f"record:{rid}", stuck=True)
    return resent
