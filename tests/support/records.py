"""Read what an ingest run stored, straight from its database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from archive.db import get_engine, session_scope
from archive.models import Record
from archive.settings import Settings


def stored_records(data: Path) -> dict[str, Record]:
    """The records of the archive in ``data`` by original file name, files and jobs loaded."""
    with session_scope(get_engine(Settings(data_dir=data).db_url)) as s:
        rows = s.scalars(select(Record)).all()
        for r in rows:
            _ = r.files, r.jobs
        return {r.original_name: r for r in rows}
