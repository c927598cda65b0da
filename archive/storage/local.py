"""Local-directory object store: atomic write + fsync, content-addressed, never overwrites."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from archive.storage.base import (
    CHUNK,
    HashMismatchError,
    ObjectInfo,
    ObjectNotFoundError,
    object_key,
    verify_by_streaming,
)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a file just renamed into it) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStore:
    """Objects under ``root/sha256/ab/cd/<hex>``, written read-only."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._sweep_tmp()

    def _sweep_tmp(self, older_than_s: float = 24 * 3600) -> None:
        """Remove partial writes left by a killed process (old enough not to be in flight)."""
        cutoff = time.time() - older_than_s
        for leftover in self.tmp.glob("put-*"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    def _path(self, sha256: str) -> Path:
        return self.root / object_key(sha256)

    def _write(self, chunks: Iterator[bytes], sha256: str | None) -> ObjectInfo:
        h = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for block in chunks:
                    h.update(block)
                    size += len(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            digest = h.hexdigest()
            if sha256 is not None and digest != sha256:
                raise HashMismatchError(f"expected {sha256}, bytes hash to {digest}")
            final = self._path(digest)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            try:
                # link() fails if the name exists, so an object is never overwritten,
                # even by two writers racing on the same bytes.
                os.link(tmp, final)
                fsync_dir(final.parent)
            except FileExistsError:
                pass
            return ObjectInfo(sha256=digest, size=size)
        finally:
            tmp.unlink(missing_ok=True)

    def put_file(self, path: Path, sha256: str, *, mime: str, lock: bool = False) -> ObjectInfo:
        """Copy ``path`` into the store; a no-op when the object exists."""
        if self.exists(sha256):
            return self.stat(sha256)

        def blocks() -> Iterator[bytes]:
            with Path(path).open("rb") as f:
                while block := f.read(CHUNK):
                    yield block

        return self._write(blocks(), sha256)

    def put_bytes(self, data: bytes, *, mime: str) -> ObjectInfo:
        """Store ``data`` under its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        if self.exists(digest):
            return self.stat(digest)
        return self._write(iter([data]), digest)

    def exists(self, sha256: str) -> bool:
        """Whether the object file exists."""
        return self._path(sha256).is_file()

    def stat(self, sha256: str) -> ObjectInfo:
        """Size of the object."""
        try:
            st = self._path(sha256).stat()
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(sha256) from exc
        return ObjectInfo(sha256=sha256, size=st.st_size)

    def iter_bytes(self, sha256: str) -> Iterator[bytes]:
        """Stream the object's bytes."""
        try:
            f = self._path(sha256).open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(sha256) from exc
        with f:
            while block := f.read(CHUNK):
                yield block

    def iter_range(self, sha256: str, start: int, length: int) -> Iterator[bytes]:
        """Stream ``length`` bytes of the object from ``start`` (a player's Range request)."""
        try:
            f = self._path(sha256).open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFoundError(sha256) from exc
        with f:
            f.seek(start)
            left = length
            while left > 0 and (block := f.read(min(CHUNK, left))):
                left -= len(block)
                yield block

    def verify(self, sha256: str) -> bool:
        """Re-hash the stored file."""
        return verify_by_streaming(self, sha256)

    def retain(self, sha256: str, until: date) -> str | None:
        """A directory cannot enforce retention: the file is made read-only, nothing more."""
        path = self._path(sha256)
        if not path.is_file():
            raise ObjectNotFoundError(sha256)
        path.chmod(0o444)
        return None
