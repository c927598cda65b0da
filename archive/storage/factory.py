"""Pick the object-store implementation from settings."""

from __future__ import annotations

from archive.settings import Settings
from archive.storage.base import ObjectStore


def make_store(settings: Settings) -> ObjectStore:
    """The configured object store."""
    if settings.storage.backend == "s3":
        from archive.storage.s3 import S3Store

        return S3Store.from_settings(settings.storage)
    from archive.storage.local import LocalStore

    return LocalStore(settings.objects_dir)
