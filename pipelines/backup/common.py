"""What backup, verify and restore share: the names in a backup directory, the progress callback,
the errors and the results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

FORMAT = 1
MANIFEST = "manifest.json"
MANIFEST_SHA = "manifest.json.sha256"
OBJECTS = "objects"
SNAPSHOTS = "snapshots"
QUARANTINE = "quarantine"
DB_FILES = {"sqlite": "archive.db", "postgresql": "archive.dump"}
ENV_FILE = "archive.env"

# on_progress(phase, done, total): phase is the Chinese label a progress bar shows.
ProgressFn = Callable[[str, int, int | None], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message tells the operator why (Chinese)."""


class RestoreRefusedError(BackupError):
    """The restore target was refused before anything was written (wrong or shared target)."""


@dataclass(frozen=True)
class BackedUpObject:
    """One object of a snapshot, as the manifest lists it."""

    sha256: str
    size: int
    mime: str
    original: bool


@dataclass(frozen=True)
class Unavailable:
    """An object the snapshot names that could not be copied from the live store."""

    sha256: str
    reason: str


class _Outcome:
    """What the results below share: ``ok`` when nothing is listed as wrong, and JSON output."""

    def wrong(self) -> list[Any]:
        """What went wrong (none: ok)."""
        raise NotImplementedError

    @property
    def ok(self) -> bool:
        """Nothing went wrong."""
        return not self.wrong()

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"ok": self.ok, **asdict(cast(Any, self))}


@dataclass(frozen=True)
class BackupResult(_Outcome):
    """What one ``archive backup`` run did; not ok when an object could not be copied."""

    dest: str
    snapshot: str
    created_at: str
    database: str
    database_sha256: str
    manifest_sha256: str
    objects: int
    copied: int
    present: int
    repaired: int
    bytes_copied: int
    audit_seq: int
    audit_hash: str
    counts: dict[str, int]
    seconds: float
    unavailable: list[Unavailable] = field(default_factory=list)

    def wrong(self) -> list[Any]:
        """The objects of the snapshot not in the backup."""
        return list(self.unavailable)


@dataclass(frozen=True)
class BackupProblem:
    """One thing wrong with a backup: ``kind`` is manifest, database or object."""

    kind: str
    message: str
    sha256: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class VerifyResult(_Outcome):
    """What ``archive backup verify`` found; ok when the manifest, the database file and every
    object are as recorded."""

    dest: str
    snapshot: str | None
    objects: int
    bytes_checked: int
    problems: list[BackupProblem]

    def wrong(self) -> list[Any]:
        """Each problem found."""
        return list(self.problems)


@dataclass(frozen=True)
class RestoreTarget:
    """Where a restore goes: a new data directory (``to``: SQLite database, objects, index), or a
    PostgreSQL database (``db_url``) and/or an S3 bucket (``bucket``); and the names the restored
    copy must use so that it shares nothing with the live system."""

    to: Path | None = None
    db_url: str | None = None
    bucket: str | None = None
    es_alias: str | None = None
    queue_name: str | None = None


@dataclass(frozen=True)
class RestoreResult(_Outcome):
    """What ``archive restore`` did, and the settings the restored copy runs with; ok when every
    object was restored and the chain's head is the manifest's."""

    snapshot: str
    database: str
    objects: int
    bytes_restored: int
    audit_seq: int
    audit_hash: str
    restore_event: int
    env: dict[str, str]
    seconds: float
    problems: list[BackupProblem] = field(default_factory=list)

    def wrong(self) -> list[Any]:
        """Each problem met."""
        return list(self.problems)


def _notify(on_progress: ProgressFn | None, phase: str, done: int, total: int | None) -> None:
    if on_progress is not None:
        on_progress(phase, done, total)
