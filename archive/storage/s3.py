"""S3 / MinIO object store through the ``minio`` client: versioned bucket, optional object lock."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from minio import Minio
from minio.commonconfig import ENABLED, GOVERNANCE
from minio.error import S3Error
from minio.retention import COMPLIANCE, Retention
from minio.versioningconfig import VersioningConfig

from archive.models import utcnow
from archive.settings import StorageSettings
from archive.storage.base import (
    CHUNK,
    HashingReader,
    HashMismatchError,
    ObjectInfo,
    ObjectNotFoundError,
    object_key,
    verify_by_streaming,
)

PART_SIZE = 16 * 1024 * 1024  # multipart upload: memory bounded by part size x parallel parts
_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchVersion"}


class S3Store:
    """Objects under ``sha256/ab/cd/<hex>`` in one bucket, with versioning and object lock."""

    name = "s3"

    def __init__(self, client: Minio, bucket: str, *, retention_days: int = 0) -> None:
        self.client = client
        self.bucket = bucket
        self.retention_days = retention_days
        self._ensure_bucket()
        self.object_lock = self._has_object_lock()

    @classmethod
    def from_settings(cls, cfg: StorageSettings) -> S3Store:
        """Build from the storage settings section."""
        secret = cfg.s3_secret_key.get_secret_value() if cfg.s3_secret_key else None
        client = Minio(
            cfg.s3_endpoint,
            access_key=cfg.s3_access_key,
            secret_key=secret,
            secure=cfg.s3_secure,
            region=cfg.s3_region,
        )
        return cls(client, cfg.s3_bucket, retention_days=cfg.retention_days)

    def _ensure_bucket(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            try:
                # Object lock can only be switched on when a bucket is created.
                self.client.make_bucket(self.bucket, object_lock=True)
            except S3Error as exc:
                if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
        self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))

    def _has_object_lock(self) -> bool:
        try:
            return self.client.get_object_lock_config(self.bucket) is not None
        except S3Error:
            return False

    def put_file(self, path: Path, sha256: str, *, mime: str, lock: bool = False) -> ObjectInfo:
        """Upload ``path`` (multipart, streamed), verify its hash, then apply retention."""
        if self.exists(sha256):
            return self.stat(sha256)
        size = Path(path).stat().st_size
        with Path(path).open("rb") as f:
            return self._put(f, size, sha256, mime=mime, lock=lock)

    def _put(self, stream, size: int, sha256: str, *, mime: str, lock: bool) -> ObjectInfo:  # type: ignore[no-untyped-def]
        key = object_key(sha256)
        reader = HashingReader(stream)
        result = self.client.put_object(
            self.bucket,
            key,
            reader,  # type: ignore[arg-type]
            size,
            content_type=mime,
            metadata={"sha256": sha256},
            part_size=PART_SIZE,
            num_parallel_uploads=1,
        )
        if reader.sha.hexdigest() != sha256:
            # Not locked yet (retention comes after this check), so the bad version can go.
            self.client.remove_object(self.bucket, key, version_id=result.version_id)
            raise HashMismatchError(f"expected {sha256}, uploaded bytes hash to {reader.sha.hexdigest()}")
        locked_until = None
        if lock and self.object_lock and self.retention_days > 0:
            until = utcnow().replace(microsecond=0) + timedelta(days=self.retention_days)
            self.client.set_object_retention(
                self.bucket, key, Retention(COMPLIANCE, until), version_id=result.version_id
            )
            locked_until = until.date().isoformat()
        return ObjectInfo(sha256=sha256, size=size, locked_until=locked_until)

    def put_bytes(self, data: bytes, *, mime: str) -> ObjectInfo:
        """Upload a small artifact under its SHA-256."""
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        if self.exists(digest):
            return self.stat(digest)
        return self._put(io.BytesIO(data), len(data), digest, mime=mime, lock=False)

    def exists(self, sha256: str) -> bool:
        """HEAD the object."""
        try:
            self.client.stat_object(self.bucket, object_key(sha256))
        except S3Error as exc:
            if exc.code in _MISSING:
                return False
            raise
        return True

    def stat(self, sha256: str) -> ObjectInfo:
        """Size and retention of the current version."""
        try:
            st = self.client.stat_object(self.bucket, object_key(sha256))
        except S3Error as exc:
            if exc.code in _MISSING:
                raise ObjectNotFoundError(sha256) from exc
            raise
        until = None
        if self.object_lock:
            try:
                ret = self.client.get_object_retention(self.bucket, object_key(sha256))
            except S3Error:
                ret = None
            if ret is not None and ret.mode in (COMPLIANCE, GOVERNANCE) and ret.retain_until_date:
                until = ret.retain_until_date.date().isoformat()
        return ObjectInfo(sha256=sha256, size=st.size or 0, locked_until=until)

    def iter_bytes(self, sha256: str) -> Iterator[bytes]:
        """Stream the object's bytes."""
        return self._stream(sha256, 0, 0)

    def iter_range(self, sha256: str, start: int, length: int) -> Iterator[bytes]:
        """Stream ``length`` bytes of the object from ``start`` (a ranged GET)."""
        return self._stream(sha256, start, length)

    def _stream(self, sha256: str, offset: int, length: int) -> Iterator[bytes]:
        try:
            resp = self.client.get_object(self.bucket, object_key(sha256), offset=offset, length=length)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise ObjectNotFoundError(sha256) from exc
            raise
        try:
            yield from resp.stream(CHUNK)
        finally:
            resp.close()
            resp.release_conn()

    def verify(self, sha256: str) -> bool:
        """Download and re-hash."""
        return verify_by_streaming(self, sha256)

    def retain(self, sha256: str, until: date) -> str | None:
        """COMPLIANCE retention on the current version until ``until`` (extended, never shortened)."""
        if not self.object_lock:
            return None
        current = self.stat(sha256).locked_until
        if current is not None and current >= until.isoformat():
            return current
        moment = datetime(until.year, until.month, until.day, tzinfo=UTC)
        self.client.set_object_retention(self.bucket, object_key(sha256), Retention(COMPLIANCE, moment))
        return until.isoformat()
