"""The named steps of processing one record, in order, each recorded in its job's ``steps``.

``store`` (the original, at ingest) → ``parse`` → ``derive`` (derived files and metadata) →
``index`` → ``spans`` (what a party's rendition must hide, 第二十八条) → ``rules`` (the case's
findings). Every step is idempotent. A job is DONE only after the last step; a step that fails
marks the job FAILED at that step, and a retry starts again at the first step not done. A
parse's result is only kept as its derived files, so a job that failed before ``derive`` was
done parses again.

``parse`` and ``derive`` run in the parser process (`pipelines.process.process_record`); the
rest run in `finish`, in batches, in the process that indexes. Both task queues (in-process
and Redis workers) run this same list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.db import session_scope
from archive.models import Job, JobStatus, ProcessingStatus, Record, utcnow
from indexer.documents import IndexDoc
from pipelines.compliance import refresh_records
from pipelines.context import Services
from pipelines.documents import stored_document
from pipelines.sensitive import Prepared, detect_spans

log = logging.getLogger(__name__)


class Step(StrEnum):
    """One step of a processing job, in the order they run."""

    STORE = "store"
    PARSE = "parse"
    DERIVE = "derive"
    INDEX = "index"
    SPANS = "spans"
    RULES = "rules"


STEPS: tuple[Step, ...] = tuple(Step)
DONE, FAILED = "done", "failed"

STEP_LABELS: dict[Step, str] = {
    Step.STORE: "保存原件",
    Step.PARSE: "解析",
    Step.DERIVE: "保存派生文件",
    Step.INDEX: "编入检索索引",
    Step.SPANS: "识别敏感信息",
    Step.RULES: "合规检查",
}


@dataclass(frozen=True)
class ProcessOutcome:
    """What the parser process hands back: the document to index and the sensitive spans found
    in it (None when an earlier attempt already derived the files), or the step that failed and why."""

    record_id: int
    doc: IndexDoc | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    step: Step | None = None
    spans: Prepared | None = None


def first_undone(steps: Mapping[str, str]) -> Step | None:
    """The step a job (re)starts at: the first one not done; None when all are."""
    return next((step for step in STEPS if steps.get(step) != DONE), None)


def done_through(last: Step) -> dict[str, str]:
    """The ``steps`` of a job whose steps up to and including ``last`` are done."""
    return {step.value: DONE for step in STEPS[: STEPS.index(last) + 1]}


def _marked(steps: Mapping[str, str] | None, step: Step, state: str) -> dict[str, str]:
    out = dict(steps or {})
    out[step.value] = state
    return out


def _jobs(s: Session, ids: Iterable[int]) -> dict[int, Job]:
    """The processing jobs of ``ids`` by record id, in one query."""
    jobs = s.scalars(select(Job).where(Job.record_id.in_(list(ids)), Job.kind == "process"))
    return {job.record_id: job for job in jobs}


def _records(s: Session, ids: Iterable[int]) -> dict[int, Record]:
    """The records of ``ids`` by id, in one query."""
    return {r.id: r for r in s.scalars(select(Record).where(Record.id.in_(list(ids))))}


def _steps_of(svc: Services, ids: Iterable[int]) -> dict[int, dict[str, str]]:
    with session_scope(svc.engine) as s:
        rows = s.execute(
            select(Job.record_id, Job.steps).where(Job.record_id.in_(list(ids)), Job.kind == "process")
        )
        return {rid: dict(steps or {}) for rid, steps in rows}


def _failure(step: Step, exc: Exception) -> str:
    log.exception("step %s failed", step.value)
    return (
        f"{STEP_LABELS[step]}失败（{type(exc).__name__}: {exc}）；"
        "原件和派生文件已保存，重新处理将从这一步继续"
    )


def _documents(svc: Services, ids: Sequence[int]) -> dict[int, IndexDoc | None]:
    """Search documents of records whose parse was done by an earlier attempt, from their files."""
    with session_scope(svc.engine) as s:
        records = s.scalars(
            select(Record)
            .where(Record.id.in_(list(ids)))
            .options(selectinload(Record.files), selectinload(Record.case))
        ).all()
        out: dict[int, IndexDoc | None] = {}
        for record in records:
            out[record.id] = stored_document(svc.store, record)  # analysed by the index
        return out


def finish(svc: Services, outcomes: Sequence[ProcessOutcome]) -> list[ProcessOutcome]:
    """Run the steps after ``derive`` for a batch of parse outcomes, then close every job;
    returns the outcomes of the whole jobs (a later step's failure in place of the parse's success).

    Indexing is one call for the batch; a step that fails for a record fails that record's job
    at that step and the others go on.
    """
    failed: dict[int, tuple[Step, str]] = {
        o.record_id: (o.step or Step.PARSE, o.error) for o in outcomes if o.error is not None
    }
    live = [o for o in outcomes if o.error is None]
    steps = _steps_of(svc, [o.record_id for o in live])
    live = [o for o in live if o.record_id in steps]  # a record deleted meanwhile
    _index(svc, live, steps, failed)
    prepared = {o.record_id: o.spans for o in live}
    for step, run in ((Step.SPANS, partial(_spans, prepared=prepared)), (Step.RULES, _rules)):
        todo = [
            o.record_id for o in live if o.record_id not in failed and steps[o.record_id].get(step) != DONE
        ]
        for rid, reason in run(svc, todo).items():
            failed[rid] = (step, reason)
    _close(svc, outcomes, failed)
    return [
        ProcessOutcome(
            o.record_id, error=failed[o.record_id][1], warnings=o.warnings, step=failed[o.record_id][0]
        )
        if o.record_id in failed
        else o
        for o in outcomes
    ]


def _index(
    svc: Services,
    live: list[ProcessOutcome],
    steps: dict[int, dict[str, str]],
    failed: dict[int, tuple[Step, str]],
) -> None:
    """The ``index`` step: upsert the batch's documents; the records become PROCESSED."""
    todo = [o for o in live if steps[o.record_id].get(Step.INDEX) != DONE]
    docs: dict[int, IndexDoc | None] = {o.record_id: o.doc for o in todo if o.doc is not None}
    resumed = [o.record_id for o in todo if o.doc is None]
    if resumed:
        try:
            docs.update(_documents(svc, resumed))
        except Exception as exc:
            failed.update({rid: (Step.INDEX, _failure(Step.INDEX, exc)) for rid in resumed})
    for rid in resumed:
        if docs.get(rid) is None and rid not in failed:
            failed[rid] = (Step.INDEX, "派生文本缺失，无法编入检索索引；请重新处理该记录")
    ready = [d for rid, d in docs.items() if d is not None and rid not in failed]
    try:
        if ready:
            svc.index.upsert(ready)
    except Exception as exc:
        reason = _failure(Step.INDEX, exc)
        failed.update({d.record_id: (Step.INDEX, reason) for d in ready})
        ready = []
    indexed = {d.record_id for d in ready} | ({o.record_id for o in live} - {o.record_id for o in todo})
    if not indexed:
        return
    with session_scope(svc.engine) as s:
        records, jobs = _records(s, indexed), _jobs(s, indexed)
        for rid in indexed:
            record, job = records.get(rid), jobs.get(rid)
            if record is None or job is None:
                continue
            record.status, record.error = ProcessingStatus.PROCESSED, None
            job.steps = _marked(job.steps, Step.INDEX, DONE)


def _spans(svc: Services, ids: Sequence[int], prepared: Mapping[int, Prepared | None]) -> dict[int, str]:
    """The ``spans`` step, per record (with what the worker detected, where it did)."""
    failed = {}
    for rid in ids:
        try:
            detect_spans(svc, rid, prepared.get(rid))
        except Exception as exc:
            failed[rid] = _failure(Step.SPANS, exc)
    _mark(svc, [rid for rid in ids if rid not in failed], Step.SPANS)
    return failed


def _rules(svc: Services, ids: Sequence[int]) -> dict[int, str]:
    """The ``rules`` step: the findings of the records' cases (e.g. a transcript now exists, 第二十六条)."""
    try:
        refresh_records(svc, ids)
    except Exception as exc:
        return dict.fromkeys(ids, _failure(Step.RULES, exc))
    _mark(svc, ids, Step.RULES)
    return {}


def _mark(svc: Services, ids: Sequence[int], step: Step) -> None:
    if not ids:
        return
    with session_scope(svc.engine) as s:
        for job in _jobs(s, ids).values():
            job.steps = _marked(job.steps, step, DONE)


def _close(svc: Services, outcomes: Sequence[ProcessOutcome], failed: dict[int, tuple[Step, str]]) -> None:
    """Every job DONE (all steps done) or FAILED at its step, in one transaction."""
    now = utcnow()
    ids = [o.record_id for o in outcomes]
    if not ids:
        return
    with session_scope(svc.engine) as s:
        records, jobs = _records(s, ids), _jobs(s, ids)
        for o in outcomes:
            record, job = records.get(o.record_id), jobs.get(o.record_id)
            if record is None or job is None:
                continue
            job.finished_at, job.worker, job.progress = now, None, 1.0
            if o.record_id in failed:
                step, reason = failed[o.record_id]
                record.status, record.error = ProcessingStatus.FAILED, reason
                job.status, job.error = JobStatus.FAILED, reason
                job.steps = _marked(job.steps, step, FAILED)
            elif first_undone(job.steps or {}) is None:
                record.status, record.error = ProcessingStatus.PROCESSED, None
                job.status, job.error = JobStatus.DONE, None
            else:  # cannot happen unless a step above forgot to mark itself: say so, never DONE
                reason = f"处理步骤未完成：{first_undone(job.steps or {})}"
                record.status, record.error = ProcessingStatus.FAILED, reason
                job.status, job.error = JobStatus.FAILED, reason
