"""Every stored file verifiable, originals and derived files alike: fixity over all of them, and
derived files made again from the original when one is missing or damaged.

A derived file (text, pages, OCR boxes, thumbnails, transcript, a party's rendition) is the
archive's own work: losing one loses no evidence, but search, renditions and the release gate
read them, so fixity checks them too and `rederive` rebuilds them by running the record's
processing again from its original. An officer's corrected transcript is not derived from the
original: if it is lost, only a backup has it (fixity names it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import FileRole, Job, JobStatus, ProcessingStatus, Record, StoredFile
from pipelines.context import Services
from pipelines.steps import Step, done_through

MISSING = "存储中找不到该文件"
CHANGED = "SHA-256 与入库时不同"


@dataclass(frozen=True)
class FileCheck:
    """One stored file of a record re-hashed: ``problem`` is None when it matches."""

    record_id: int
    title: str
    kind: str
    role: str  # original | derivative
    sha256: str
    problem: str | None

    @property
    def ok(self) -> bool:
        """The file is there and matches its recorded SHA-256."""
        return self.problem is None


def object_problem(svc: Services, sha256: str) -> str | None:
    """Re-hash one stored object: None if it matches its SHA-256, else what is wrong."""
    try:
        return None if svc.store.verify(sha256) else CHANGED
    except (KeyError, OSError):
        return MISSING


def fixity(svc: Services, *, derived: bool = True) -> list[FileCheck]:
    """Re-hash every stored original (and, with ``derived``, every derived file) against the
    SHA-256 recorded when it was stored; an object shared by several records is read once."""
    with Session(svc.engine) as s:
        stmt = (
            select(Record.id, Record.title, StoredFile.kind, StoredFile.role, StoredFile.sha256)
            .join(StoredFile, StoredFile.record_id == Record.id)
            .order_by(Record.id, StoredFile.role, StoredFile.kind)
        )
        if not derived:
            stmt = stmt.where(StoredFile.role == FileRole.ORIGINAL)
        rows = list(s.execute(stmt))
    problems = {sha: object_problem(svc, sha) for sha in dict.fromkeys(row.sha256 for row in rows)}
    return [
        FileCheck(rid, title, kind, role.value, sha, problems[sha]) for rid, title, kind, role, sha in rows
    ]


def damaged_derived(checks: Sequence[FileCheck]) -> list[int]:
    """Records with a missing or changed derived file (theirs to make again)."""
    return sorted({c.record_id for c in checks if not c.ok and c.role == FileRole.DERIVATIVE.value})


def reset_for_rederive(svc: Services, record_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """Make the records' processing jobs start again at ``parse`` (their original is stored);
    returns (reset, skipped: no such record, its original damaged, or its job running now)."""
    reset: list[int] = []
    skipped: list[int] = []
    with Session(svc.engine) as s, s.begin():
        for rid in dict.fromkeys(record_ids):
            record = s.get(Record, rid)
            job = s.scalar(select(Job).where(Job.record_id == rid, Job.kind == "process"))
            if record is None or job is None or job.status is JobStatus.RUNNING:
                skipped.append(rid)
                continue
            if object_problem(svc, record.sha256) is not None:
                skipped.append(rid)  # nothing to derive from: only a backup can help
                continue
            job.status, job.error, job.worker = JobStatus.PENDING, None, None
            job.steps = done_through(Step.STORE)
            record.status, record.error = ProcessingStatus.PENDING, None
            reset.append(rid)
    return reset, skipped
