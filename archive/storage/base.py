"""The object-store contract and helpers shared by its implementations."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

CHUNK = 1024 * 1024  # streaming block size: memory stays flat whatever the file size
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


class ObjectNotFoundError(KeyError):
    """No object with this SHA-256 exists in the store."""


class HashMismatchError(ValueError):
    """The bytes written do not hash to the SHA-256 they were stored under."""


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about one object."""

    sha256: str
    size: int
    locked_until: str | None = None  # ISO date of object-lock retention, if any


def object_key(sha256: str) -> str:
    """Key of an object: ``sha256/ab/cd/<hex>`` spreads files over directories/prefixes."""
    if not _SHA_RE.match(sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def hash_file(path: Path) -> tuple[str, int]:
    """SHA-256 hex digest and size of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


class HashingReader:
    """Wraps a binary stream and hashes what is read through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        """Read and hash up to ``n`` bytes."""
        block = self.raw.read(n)
        self.sha.update(block)
        self.size += len(block)
        return block


@runtime_checkable
class ObjectStore(Protocol):
    """Content-addressed, write-once object store (local directory or S3)."""

    name: str

    def put_file(self, path: Path, sha256: str, *, mime: str, lock: bool = False) -> ObjectInfo:
        """Store a file under its (already computed) SHA-256, verifying it while streaming.

        Never overwrites: storing bytes that already exist is a no-op. ``lock`` asks for
        object-lock retention where the backend supports it (originals).
        """
        ...

    def put_bytes(self, data: bytes, *, mime: str) -> ObjectInfo:
        """Store a small derived artifact; returns its info (SHA-256 computed here)."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether an object with this SHA-256 is stored."""
        ...

    def stat(self, sha256: str) -> ObjectInfo:
        """Size and retention of an object (ObjectNotFoundError if absent)."""
        ...

    def iter_bytes(self, sha256: str) -> Iterator[bytes]:
        """Stream an object's bytes in chunks (ObjectNotFoundError if absent)."""
        ...

    def iter_range(self, sha256: str, start: int, length: int) -> Iterator[bytes]:
        """Stream ``length`` bytes of the object from offset ``start``."""
        ...

    def verify(self, sha256: str) -> bool:
        """Re-hash the stored bytes: True when they still match their SHA-256 (fixity)."""
        ...

    def retain(self, sha256: str, until: date) -> str | None:
        """Keep an object undeletable until ``until`` (filing a dossier): COMPLIANCE object-lock
        retention where the backend has it, never shortening one already set. Returns the
        retain-until date in force (ISO), or None where the backend cannot enforce retention."""
        ...


def verify_by_streaming(store: ObjectStore, sha256: str) -> bool:
    """Fixity check shared by the implementations: hash what the store returns."""
    h = hashlib.sha256()
    for block in store.iter_bytes(sha256):
        h.update(block)
    return h.hexdigest() == sha256
