"""One contract suite for both object stores: local directory and S3 (real SeaweedFS)."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import date
from pathlib import Path

import pytest
from minio.error import S3Error

from archive.storage import (
    HashMismatchError,
    ObjectNotFoundError,
    ObjectStore,
    hash_file,
    make_store,
    object_key,
)
from archive.storage.local import LocalStore
from archive.storage.s3 import S3Store
from tests.conftest import s3_settings
from tests.support.seaweed import SeaweedS3


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    server: SeaweedS3 = request.getfixturevalue("seaweed")
    return make_store(s3_settings(server, tmp_path, f"contract-{uuid.uuid4().hex[:8]}"))


def _file(tmp_path: Path, data: bytes, name: str = "询问笔录.txt") -> tuple[Path, str]:
    p = tmp_path / name
    p.write_bytes(data)
    return p, hashlib.sha256(data).hexdigest()


def test_store_is_a_protocol_implementation(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


def test_put_then_read_back_identical_bytes(store: ObjectStore, tmp_path: Path) -> None:
    data = "询问笔录：当事人张建国陈述，危险化学品仓库未设置可燃气体报警装置。\n".encode() * 500
    path, sha = _file(tmp_path, data)
    info = store.put_file(path, sha, mime="text/plain")
    assert (info.sha256, info.size) == (sha, len(data))
    assert store.exists(sha)
    assert store.stat(sha).size == len(data)
    assert b"".join(store.iter_bytes(sha)) == data
    assert store.verify(sha)


def test_storing_the_same_bytes_twice_is_a_no_op(store: ObjectStore, tmp_path: Path) -> None:
    path, sha = _file(tmp_path, b"same bytes")
    first = store.put_file(path, sha, mime="text/plain")
    second = store.put_file(path, sha, mime="text/plain")
    assert first.size == second.size == 10
    assert b"".join(store.iter_bytes(sha)) == b"same bytes"


def test_wrong_hash_is_refused_and_nothing_is_stored(store: ObjectStore, tmp_path: Path) -> None:
    path, _ = _file(tmp_path, b"actual content")
    claimed = hashlib.sha256(b"other content").hexdigest()
    with pytest.raises(HashMismatchError):
        store.put_file(path, claimed, mime="text/plain")
    assert not store.exists(claimed)


def test_put_bytes_is_content_addressed(store: ObjectStore) -> None:
    data = "提取文本".encode()
    info = store.put_bytes(data, mime="text/plain; charset=utf-8")
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert store.put_bytes(data, mime="text/plain").sha256 == info.sha256
    assert b"".join(store.iter_bytes(info.sha256)) == data


def test_empty_object(store: ObjectStore, tmp_path: Path) -> None:
    path, sha = _file(tmp_path, b"", "empty.bin")
    assert store.put_file(path, sha, mime="application/octet-stream").size == 0
    assert store.exists(sha) and store.verify(sha)
    assert b"".join(store.iter_bytes(sha)) == b""


def test_missing_object(store: ObjectStore) -> None:
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(ObjectNotFoundError):
        store.stat(missing)
    with pytest.raises(ObjectNotFoundError):
        list(store.iter_bytes(missing))


def test_multi_part_file_streams(store: ObjectStore, tmp_path: Path) -> None:
    # Larger than the S3 part size (16 MiB), so the upload is multipart.
    path = tmp_path / "执法记录仪.mp4"
    with path.open("wb") as f:
        for i in range(40):
            f.write(os.urandom(1024 * 1024) if i % 7 == 0 else bytes([i]) * (1024 * 1024))
    sha, size = hash_file(path)
    assert store.put_file(path, sha, mime="video/mp4").size == size
    assert store.verify(sha)


def test_byte_ranges_read_exactly_the_slice(store: ObjectStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)  # spans several read blocks
    info = store.put_bytes(data, mime="video/mp4")
    for start, length in [(0, 10), (1000, 1024 * 1024 + 5), (len(data) - 17, 17), (5, 1)]:
        assert b"".join(store.iter_range(info.sha256, start, length)) == data[start : start + length]
    with pytest.raises(ObjectNotFoundError):
        b"".join(store.iter_range("0" * 64, 0, 10))


def test_rejects_keys_that_are_not_sha256() -> None:
    with pytest.raises(ValueError):
        object_key("../../etc/passwd")


def test_local_objects_are_read_only_and_tampering_is_detected(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    path, sha = _file(tmp_path, "行政处罚决定书".encode())
    store.put_file(path, sha, mime="text/plain")
    stored = tmp_path / "objects" / object_key(sha)
    assert stored.stat().st_mode & 0o222 == 0
    assert not list((tmp_path / "objects" / "tmp").iterdir())  # no temp file left behind
    os.chmod(stored, 0o644)
    stored.write_bytes("行政处罚决定书（篡改）".encode())
    assert not store.verify(sha)


@pytest.mark.s3
def test_s3_bucket_is_versioned_with_object_lock_retention(seaweed: SeaweedS3, tmp_path: Path) -> None:
    store = make_store(s3_settings(seaweed, tmp_path, f"locked-{uuid.uuid4().hex[:8]}", retention_days=30))
    assert isinstance(store, S3Store) and store.object_lock
    assert store.client.get_bucket_versioning(store.bucket).status == "Enabled"
    path, sha = _file(tmp_path, "送达回证原件".encode())
    info = store.put_file(path, sha, mime="application/pdf", lock=True)
    assert info.locked_until is not None and store.stat(sha).locked_until == info.locked_until
    version = store.client.stat_object(store.bucket, object_key(sha)).version_id
    with pytest.raises(S3Error):  # COMPLIANCE retention: not even the owner may delete it
        store.client.remove_object(store.bucket, object_key(sha), version_id=version)
    assert store.verify(sha)
    meta = store.client.stat_object(store.bucket, object_key(sha)).metadata
    assert meta.get("x-amz-meta-sha256") == sha


@pytest.mark.s3
def test_filing_retains_originals_on_s3(seaweed: SeaweedS3, tmp_path: Path) -> None:
    """A dossier's files get COMPLIANCE retention when the case is filed, extended, never shortened."""
    store = make_store(s3_settings(seaweed, tmp_path, f"filed-{uuid.uuid4().hex[:8]}", retention_days=0))
    path, sha = _file(tmp_path, "卷宗原件".encode())
    assert store.put_file(path, sha, mime="application/pdf", lock=True).locked_until is None
    assert store.retain(sha, date(2056, 3, 20)) == "2056-03-20"
    assert store.stat(sha).locked_until == "2056-03-20"
    assert store.retain(sha, date(2036, 3, 20)) == "2056-03-20"  # a shorter period changes nothing
    assert isinstance(store, S3Store)
    version = store.client.stat_object(store.bucket, object_key(sha)).version_id
    with pytest.raises(S3Error):
        store.client.remove_object(store.bucket, object_key(sha), version_id=version)


def test_filing_makes_local_originals_read_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    path, sha = _file(tmp_path, "卷宗原件".encode())
    store.put_file(path, sha, mime="application/pdf")
    assert store.retain(sha, date(2056, 3, 20)) is None  # a directory cannot enforce retention
    assert (tmp_path / "objects" / object_key(sha)).stat().st_mode & 0o222 == 0
