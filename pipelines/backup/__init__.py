"""Online backup, its verification, and restore (docs/operations.md, "Backup and restore").

A backup directory (``DEST``) holds:

- ``objects/`` — every stored object a snapshot refers to, content-addressed with the layout of
  :class:`archive.storage.local.LocalStore` (written by it). Snapshots share it, so each run copies
  only the objects not already there.
- ``snapshots/<stamp>/`` — one directory per run: the database (``archive.db``, an SQLite
  online-backup copy, or ``archive.dump``, ``pg_dump -Fc``) and that run's ``manifest.json`` with
  ``manifest.json.sha256``. A run works in ``snapshots/.partial-<stamp>/`` and renames it at the
  end, so a crashed backup never looks complete.
- ``manifest.json`` and ``manifest.json.sha256`` — a copy of the latest run's manifest.

The database is snapshotted first (SQLite: one step of the online backup API; PostgreSQL: an
exported snapshot that ``pg_dump --snapshot`` and our own reads share); the objects to copy are
read from that snapshot, never from the live database. Objects are written to the store before
the row that names them is committed and are never deleted, so every object the snapshot names
can be copied while the system goes on writing.

One module per job: ``common`` (the directory's names, the errors, the results), ``objects``
(the objects a snapshot names, copied one by one through the object-store interface),
``database`` (SQLite online backup, PostgreSQL ``pg_dump``/``pg_restore``), ``manifest`` (the
manifest and the backup directory's files, ``archive backup verify``), ``run`` (one ``archive
backup`` run) and ``restore`` (``archive restore`` and the targets it refuses). Every public
name is importable from here.
"""

import shutil as shutil  # the tests stub shutil.which (no pg_dump) through it

from pipelines.backup.common import (
    DB_FILES,
    ENV_FILE,
    FORMAT,
    MANIFEST,
    MANIFEST_SHA,
    OBJECTS,
    QUARANTINE,
    SNAPSHOTS,
    BackedUpObject,
    BackupError,
    BackupProblem,
    BackupResult,
    ProgressFn,
    RestoreRefusedError,
    RestoreResult,
    RestoreTarget,
    Unavailable,
    VerifyResult,
)
from pipelines.backup.database import database_kind
from pipelines.backup.manifest import load_manifest, verify_backup
from pipelines.backup.objects import COUNTED, object_path
from pipelines.backup.restore import restore, restored_env, restored_settings, shared_with_live
from pipelines.backup.run import backup

__all__ = [
    "COUNTED",
    "DB_FILES",
    "ENV_FILE",
    "FORMAT",
    "MANIFEST",
    "MANIFEST_SHA",
    "OBJECTS",
    "QUARANTINE",
    "SNAPSHOTS",
    "BackedUpObject",
    "BackupError",
    "BackupProblem",
    "BackupResult",
    "ProgressFn",
    "RestoreRefusedError",
    "RestoreResult",
    "RestoreTarget",
    "Unavailable",
    "VerifyResult",
    "backup",
    "database_kind",
    "load_manifest",
    "object_path",
    "restore",
    "restored_env",
    "restored_settings",
    "shared_with_live",
    "verify_backup",
]
