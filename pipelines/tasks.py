"""Processing jobs as tasks on a Redis queue (Huey), for many workers on many machines.

One task, :func:`process_task`, does a record's whole job: take it, parse, derive, index, mark
it done or failed. Delivery is at least once — a task may run twice, or its message may be lost
with a killed worker — and the job row makes it once in effect:

- *taking* a job is one conditional update: only a pending job, or one whose worker died (same
  host: its process is gone) or went silent (``stale_after_s``), can be taken; a second delivery
  of a task finds the job running or done and does nothing;
- every step is idempotent (content-addressed objects, derived files upserted by kind, index
  documents replaced by record id);
- :class:`RedisQueue` — what `archive ingest` uses with ``ARCHIVE_QUEUE__BACKEND=redis`` — enqueues
  the jobs and waits for them; while it waits it gives a dead worker's job back to the queue,
  and re-enqueues pending jobs whose message was lost (the queue is empty but jobs still wait).

Infrastructure failures (database or store unreachable) raise and are retried by Huey with
exponential backoff; bad input never raises: the job ends failed with its reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from huey import RedisHuey
from huey.api import TaskWrapper
from huey.signals import SIGNAL_RETRYING
from sqlalchemy import CursorResult, select, update

from archive.db import session_scope
from archive.models import Job, JobStatus, Record, utcnow
from archive.settings import Settings, get_settings
from pipelines.context import Services, open_services
from pipelines.process import process_record, worker_id
from pipelines.queue import OnDone, job_is_due
from pipelines.steps import ProcessOutcome, finish

log = logging.getLogger(__name__)
POLL_S = 0.5
LOST_AFTER_S = 10.0  # a pending job with an empty queue for this long lost its message


@cache
def huey_for(name: str, url: str) -> RedisHuey:
    """The Huey instance of a queue (one per process and queue)."""
    return RedisHuey(name=name, url=url, results=False, utc=True)


def _settings() -> Settings:
    return get_settings()


def get_huey(settings: Settings | None = None) -> RedisHuey:
    """The configured queue."""
    q = (settings or _settings()).queue
    return huey_for(q.name, q.redis_url)


@cache
def _worker_services() -> Services:
    return open_services(_settings(), init=False)


def take(svc: Services, record_id: int) -> bool:
    """Take the record's job for this worker if it is due: pending, or running in a worker that
    is gone. False if another worker has it or it is finished (a repeated delivery)."""
    with session_scope(svc.engine) as s:
        job = s.scalar(select(Job).where(Job.record_id == record_id, Job.kind == "process"))
        if job is None or not job_is_due(job, svc.settings.queue.stale_after_s):
            return False
        previous, was = job.worker, job.status
        # the conditional update is the lock: two workers racing for the job, one wins
        taken: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(Job)
            .where(
                Job.id == job.id,
                Job.status == was,
                (Job.worker == previous) if previous is not None else Job.worker.is_(None),
            )
            .values(status=JobStatus.RUNNING, worker=worker_id(), updated_at=utcnow())
        )
        if taken.rowcount and was is JobStatus.RUNNING:
            log.warning("job of record %s taken over from %s (gone, or silent)", record_id, previous)
        return bool(taken.rowcount)


def run_job(svc: Services, record_id: int) -> ProcessOutcome | None:
    """The whole job of one record, if this worker takes it; None when there is nothing to do."""
    if not take(svc, record_id):
        return None
    [outcome] = finish(svc, [process_record(svc, record_id)])
    return outcome


def _process(record_id: int) -> None:
    """The body of the ``process`` task in a worker process."""
    run_job(_worker_services(), record_id)


@cache
def process_task(huey: RedisHuey) -> TaskWrapper:
    """The ``process`` task registered on a queue (once per process and queue)."""
    q = _settings().queue
    task = huey.task(retries=q.retries, retry_delay=q.retry_delay_s, retry_backoff=2, name="process")

    @huey.signal(SIGNAL_RETRYING)
    def _retrying(_signal: str, t: Any, *_args: Any) -> None:
        log.warning("任务 %s（记录 %s）将重试，还剩 %s 次", t.id, t.args[0] if t.args else "?", t.retries)

    return task(_process)


def enqueue(settings: Settings, record_ids: Sequence[int]) -> None:
    """Put the records' jobs on the queue."""
    task = process_task(get_huey(settings))
    for rid in record_ids:
        task(rid)


def _finished(svc: Services, ids: Sequence[int]) -> dict[int, ProcessOutcome]:
    with session_scope(svc.engine) as s:
        rows = s.execute(
            select(Job.record_id, Job.status, Job.error, Record.warnings)
            .join(Record, Record.id == Job.record_id)
            .where(Job.record_id.in_(list(ids)), Job.kind == "process")
        ).all()
    out = {}
    for rid, status, error, warnings in rows:
        if status is JobStatus.DONE:
            out[rid] = ProcessOutcome(rid, warnings=tuple(warnings or ()))
        elif status is JobStatus.FAILED:
            out[rid] = ProcessOutcome(rid, error=error or "处理失败")
    return out


class RedisQueue:
    """Jobs go to Redis; `archive worker` processes (here or on other machines) run them."""

    def __init__(self, svc: Services, timeout_s: float | None = None) -> None:
        self.svc = svc
        self.timeout_s = timeout_s

    def run(self, record_ids: Iterable[int], on_done: OnDone | None = None) -> list[ProcessOutcome]:
        """Enqueue the jobs and wait until every one is done or failed."""
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            return []
        enqueue(self.svc.settings, ids)
        huey = get_huey(self.svc.settings)
        results: dict[int, ProcessOutcome] = {}
        given_back: set[tuple[int, str]] = set()
        quiet_since = time.monotonic()
        started = time.monotonic()
        while len(results) < len(ids):
            for rid, outcome in _finished(self.svc, [i for i in ids if i not in results]).items():
                results[rid] = outcome
                if on_done:
                    on_done(outcome)
            if len(results) == len(ids):
                break
            self._recover(ids, results, given_back, huey, quiet_since)
            if huey.pending_count() or time.monotonic() - quiet_since > LOST_AFTER_S:
                quiet_since = time.monotonic()
            if self.timeout_s is not None and time.monotonic() - started > self.timeout_s:
                raise TimeoutError(f"{len(ids) - len(results)} 个任务在 {self.timeout_s} 秒内未完成")
            time.sleep(POLL_S)
        return [results[i] for i in ids]

    def _recover(
        self,
        ids: list[int],
        results: dict[int, ProcessOutcome],
        given_back: set[tuple[int, str]],
        huey: RedisHuey,
        quiet_since: float,
    ) -> None:
        """Give jobs of dead workers back to the queue; re-send pending jobs whose message was lost."""
        waiting = [i for i in ids if i not in results]
        lost = not huey.pending_count() and time.monotonic() - quiet_since > LOST_AFTER_S
        stale_after_s = self.svc.settings.queue.stale_after_s
        again = []
        with session_scope(self.svc.engine) as s:
            for job in s.scalars(select(Job).where(Job.record_id.in_(waiting), Job.kind == "process")):
                if not job_is_due(job, stale_after_s):
                    continue
                if job.status is JobStatus.RUNNING and (job.record_id, job.worker or "") not in given_back:
                    given_back.add((job.record_id, job.worker or ""))
                    again.append(job.record_id)
                elif job.status is JobStatus.PENDING and lost:
                    again.append(job.record_id)
        if again:
            log.warning("re-enqueueing %d job(s) of gone workers or lost messages: %s", len(again), again)
            enqueue(self.svc.settings, again)


def run_worker(settings: Settings, workers: int) -> None:
    """Consume the queue until stopped (`archive worker`): ``workers`` threads; parsing runs in
    child processes, so threads are enough to keep every core busy."""
    from huey.consumer import Consumer

    huey = get_huey(settings)
    process_task(huey)
    # No migration here: `archive init` migrates once per deployment (many workers start at once,
    # and a worker that cannot reach the database yet retries its tasks instead of exiting).
    Consumer(huey, workers=workers, worker_type="thread", periodic=False, check_worker_health=True).run()
