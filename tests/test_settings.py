"""Settings: ARCHIVE_ prefix, nested sections, secrets refused outside dev."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from archive.settings import DEV_SECRET_KEY, Settings, get_settings


def test_defaults_are_the_embedded_stack() -> None:
    s = Settings()
    assert s.profile == "dev"
    assert s.data_dir == Path("var")
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("var/archive.db")
    assert s.storage.backend == "local" and s.objects_dir == Path("var/objects")
    assert s.index.backend == "tantivy" and s.index_dir == Path("var/index")
    assert s.queue.backend == "inprocess"


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARCHIVE_DB__URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("ARCHIVE_STORAGE__BACKEND", "s3")
    monkeypatch.setenv("ARCHIVE_STORAGE__S3_BUCKET", "案卷-originals")
    monkeypatch.setenv("ARCHIVE_QUEUE__WORKERS", "3")
    get_settings.cache_clear()
    s = get_settings()
    assert s.data_dir == tmp_path
    assert s.db_url == "postgresql+psycopg://u@h/db"
    assert s.storage.backend == "s3" and s.storage.s3_bucket == "案卷-originals"
    assert s.queue.workers == 3


def test_dev_profile_fills_dev_secrets() -> None:
    s = Settings()
    assert s.secret_key is not None and s.secret_key.get_secret_value() == DEV_SECRET_KEY


@pytest.mark.parametrize("key", [None, DEV_SECRET_KEY, "short"])
def test_prod_refuses_missing_or_dev_secret(key: str | None) -> None:
    with pytest.raises(ValidationError, match="ARCHIVE_SECRET_KEY"):
        Settings(profile="prod", secret_key=key)


def test_prod_with_s3_needs_its_secret() -> None:
    good = "x" * 40
    with pytest.raises(ValidationError, match="S3_SECRET_KEY"):
        Settings.model_validate({"profile": "prod", "secret_key": good, "storage": {"backend": "s3"}})
    s = Settings.model_validate(
        {"profile": "prod", "secret_key": good, "storage": {"backend": "s3", "s3_secret_key": "y" * 20}}
    )
    assert "y" * 20 not in repr(s)  # secrets never show in reprs or logs
