"""Processing as named steps: a job is DONE only after the last, and a retry resumes at the failed one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.actor import Actor
from archive.db import session_scope
from archive.models import AuditEvent, Job, JobStatus, ProcessingStatus, Record, SensitiveSpan
from pipelines import process, sensitive, steps
from pipelines.context import Services
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.queue import make_queue, retry_processing
from pipelines.steps import DONE, FAILED, STEPS, Step
from pipelines.tasks import run_job

TEXT = "现场检查笔录：当事人张三，联系电话13812345678，消防报警装置未保持完好有效。\n"
ACTOR = Actor("archivist", "档案管理员")


def _record(svc: Services, tmp_path: Path) -> int:
    path = tmp_path / "笔录.txt"
    path.write_text(TEXT, encoding="utf-8")
    outcome = ingest_file(svc, path, RecordMeta(title="现场检查笔录"))
    assert outcome.record_id is not None
    return outcome.record_id


def _job(svc: Services, rid: int) -> tuple[JobStatus, dict[str, str], ProcessingStatus, str | None]:
    with session_scope(svc.engine) as s:
        job = s.scalar(select(Job).where(Job.record_id == rid))
        record = s.get(Record, rid)
        assert job is not None and record is not None
        return job.status, dict(job.steps), record.status, record.error


def _spans(svc: Services, rid: int) -> int:
    with session_scope(svc.engine) as s:
        count = select(func.count()).select_from(SensitiveSpan).where(SensitiveSpan.record_id == rid)
        return s.scalar(count) or 0


def _broken(*_args: object, **_kw: object) -> None:
    raise RuntimeError("磁盘已满")


def test_a_new_job_has_its_original_stored_and_nothing_else(svc: Services, tmp_path: Path) -> None:
    rid = _record(svc, tmp_path)
    status, done, _, _ = _job(svc, rid)
    assert status is JobStatus.PENDING
    assert done == {"store": DONE}
    assert steps.first_undone(done) is Step.PARSE


def test_a_step_failing_after_indexing_leaves_the_job_failed_and_a_retry_resumes_there(
    svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _record(svc, tmp_path)
    monkeypatch.setattr(steps, "detect_spans", _broken)
    run_job(svc, rid)  # what an `archive worker` runs for one queue message

    status, done, record_status, error = _job(svc, rid)
    assert status is JobStatus.FAILED  # not DONE: the spans a party's copy must hide are unknown
    assert done == {"store": DONE, "parse": DONE, "derive": DONE, "index": DONE, "spans": FAILED}
    assert record_status is ProcessingStatus.FAILED
    assert error is not None and "识别敏感信息失败" in error and "磁盘已满" in error
    assert svc.index.count() == 1  # the index step did happen
    assert _spans(svc, rid) == 0

    monkeypatch.undo()
    reset, skipped = retry_processing(svc, [rid], ACTOR)
    assert (reset, skipped) == ([rid], [])
    monkeypatch.setattr(process, "worker_for_thread", _broken)  # the parse must not run again
    run_job(svc, rid)

    status, done, record_status, error = _job(svc, rid)
    assert status is JobStatus.DONE
    assert done == {step.value: DONE for step in STEPS}
    assert (record_status, error) == (ProcessingStatus.PROCESSED, None)
    assert _spans(svc, rid) >= 1  # the phone number
    with session_scope(svc.engine) as s:
        kinds = list(s.scalars(select(AuditEvent.event_type).where(AuditEvent.object == f"record:{rid}")))
    assert kinds.count("retry") == 1


def test_the_in_process_queue_runs_the_same_steps(
    svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _record(svc, tmp_path)
    monkeypatch.setattr(steps, "refresh_records", _broken)  # the last step, in this process
    [outcome] = make_queue(svc).run([rid])
    assert outcome.error is not None and outcome.step is Step.RULES  # what `archive ingest` reports
    status, done, _, error = _job(svc, rid)
    assert status is JobStatus.FAILED
    assert done["spans"] == DONE and done["rules"] == FAILED
    assert error is not None and "合规检查失败" in error
    assert _spans(svc, rid) >= 1

    monkeypatch.undo()
    retry_processing(svc, [rid], ACTOR)
    make_queue(svc).run([rid])
    status, done, record_status, _ = _job(svc, rid)
    assert status is JobStatus.DONE and record_status is ProcessingStatus.PROCESSED
    assert steps.first_undone(done) is None


def test_a_failed_parse_names_its_step_and_a_retry_parses_again(svc: Services, tmp_path: Path) -> None:
    path = tmp_path / "损坏.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    rid = ingest_file(svc, path, RecordMeta(title="损坏的文件")).record_id
    assert rid is not None
    make_queue(svc).run([rid])
    status, done, _, _ = _job(svc, rid)
    assert status is JobStatus.FAILED
    assert done == {"store": DONE, "parse": FAILED}


def test_the_in_process_queue_starts_on_the_first_ids_before_the_last_is_given(
    svc: Services, tmp_path: Path
) -> None:
    """`archive ingest` stores each original as the queue asks for the next one: the parsing of the
    first file must not wait for the last to be stored (nor an id given twice run twice)."""
    started_before_second: list[bool] = []

    def given() -> Iterator[int]:
        (tmp_path / "a").mkdir()
        first = _record(svc, tmp_path / "a")
        yield first
        deadline = time.monotonic() + 60
        while _job(svc, first)[0] is JobStatus.PENDING and time.monotonic() < deadline:
            time.sleep(0.05)
        started_before_second.append(_job(svc, first)[0] is not JobStatus.PENDING)
        (tmp_path / "b").mkdir()
        path = tmp_path / "b" / "询问笔录.txt"
        path.write_text("询问笔录：被询问人李四称仓库未设置安全警示标志。\n", encoding="utf-8")
        second = ingest_file(svc, path, RecordMeta(title="询问笔录")).record_id
        assert second is not None
        yield second
        yield first

    outcomes = make_queue(svc).run(given())
    assert started_before_second == [True]
    assert sorted(o.record_id for o in outcomes) == sorted({o.record_id for o in outcomes})
    assert len(outcomes) == 2 and all(o.error is None for o in outcomes)


def _span_rows(svc: Services, rid: int) -> list[tuple[str, int, int, str]]:
    with session_scope(svc.engine) as s:
        rows = s.scalars(select(SensitiveSpan).where(SensitiveSpan.record_id == rid)).all()
        return sorted((r.kind.value, r.start, r.end, r.text) for r in rows)


def test_spans_found_in_the_worker_are_stored_as_found_and_found_again_if_the_text_changed(
    svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _record(svc, tmp_path)
    outcome = process.process_record(svc, rid)  # what a pool worker runs: parse, derive, detect
    assert outcome.spans is not None and len(outcome.spans.found) >= 2  # 张三, the phone number
    detected: list[str] = []
    real_detect = sensitive.detect

    def counted(text: str, **kw: object) -> object:
        detected.append(text)
        return real_detect(text, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(sensitive, "detect", counted)
    steps.finish(svc, [outcome])  # what the queue's own process runs for the batch
    assert detected == []  # not detected a second time
    stored = _span_rows(svc, rid)
    assert ("手机号", TEXT.index("138"), TEXT.index("138") + 11, "13812345678") in stored

    # Found in another text (the record was re-processed meanwhile): detected again, in the stored text.
    stale = replace(outcome.spans, text_sha256="0" * 64, found=outcome.spans.found[:1])
    sensitive.detect_spans(svc, rid, stale)
    assert detected == [TEXT]
    assert _span_rows(svc, rid) == stored
