"""The services a pipeline step needs, built once per process from settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine

from archive.db import get_engine, migrate
from archive.settings import Settings
from archive.storage import ObjectStore, make_store
from indexer.backend import SearchIndex, make_index


@dataclass
class Services:
    """Database engine, object store and search index for one process."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        """The metadata database."""
        return get_engine(self.settings.db_url, self.settings.db.echo)

    @cached_property
    def store(self) -> ObjectStore:
        """The object store."""
        return make_store(self.settings)

    @cached_property
    def index(self) -> SearchIndex:
        """The search index (opened on first use: parser processes never open it)."""
        return make_index(self.settings)


def open_services(settings: Settings, *, init: bool = True) -> Services:
    """Services for this process; ``init`` creates the data dir and migrates the database."""
    if init:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.db_url)
    return Services(settings)
