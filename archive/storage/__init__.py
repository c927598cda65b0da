"""Object store for originals and derived files, content-addressed by SHA-256."""

from archive.storage.base import (
    CHUNK,
    HashMismatchError,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    hash_file,
    object_key,
)
from archive.storage.factory import make_store

__all__ = [
    "CHUNK",
    "HashMismatchError",
    "ObjectInfo",
    "ObjectNotFoundError",
    "ObjectStore",
    "hash_file",
    "make_store",
    "object_key",
]
