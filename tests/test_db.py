"""The same migrations and model tests on SQLite and on the PostgreSQL server."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from archive.db import downgrade, get_engine, migrate, session_scope
from archive.models import (
    Base,
    Case,
    CaseOrigin,
    Classification,
    EnforcementKind,
    FileRole,
    Job,
    JobStatus,
    Party,
    PartyType,
    ProcessingStatus,
    Record,
    RecordForm,
    Role,
    Stage,
    StoredFile,
    User,
)

TABLES = {"users", "cases", "parties", "records", "stored_files", "jobs", "alembic_version"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Engine:
    migrate(db_url)
    return get_engine(db_url)


def _case(no: str = "农应急罚〔2026〕12号") -> Case:
    case = Case(
        case_no=no,
        name="农安县宏达化工有限公司危险化学品仓库未设置可燃气体报警装置案",
        enforcement_kind=EnforcementKind.PENALTY,
        origin=CaseOrigin.EX_OFFICIO,
        case_officer="孙立军",
        opened_at=datetime(2026, 10, 9, 1, 30, tzinfo=UTC),
    )
    case.parties.append(
        Party(
            name="农安县宏达化工有限公司", party_type=PartyType.ORGANISATION, id_number="91220122MA0Y3K2X7B"
        )
    )
    case.parties.append(Party(name="张建国", party_type=PartyType.PERSON, id_number="220122198001011234"))
    return case


def _record(case: Case | None, sha: str = "a" * 64) -> Record:
    record = Record(
        case=case,
        sha256=sha,
        stage=Stage.INVESTIGATION,
        form=RecordForm.TEXT,
        document_type="询问笔录",
        title="询问笔录（张建国）",
        doc_no="农应急询〔2026〕3号",
        made_how="计算机制作",
        made_at=datetime(2026, 10, 10, 6, 0, tzinfo=UTC),
        made_by="周晓梅",
        proves="当事人对违法事实的陈述",
        original_name="询问笔录.pdf",
        mime="application/pdf",
        size=1234,
    )
    record.files.append(
        StoredFile(
            role=FileRole.ORIGINAL,
            kind="original",
            sha256=sha,
            size=1234,
            mime="application/pdf",
            storage_key=sha,
        )
    )
    record.jobs.append(Job(kind="process"))
    return record


def test_migrations_create_every_table_and_downgrade_cleanly(db_url: str) -> None:
    migrate(db_url)
    engine = get_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    downgrade(db_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        pool.map(migrate, [db_url] * 3)
    engine = get_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from alembic_version")).scalar() == 1


def test_case_with_parties_records_files_and_jobs_round_trip(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = _case()
        s.add(case)
        s.add(_record(case))
        s.add(User(username="sunlj", display_name="孙立军", role=Role.OFFICER))
    with session_scope(engine) as s:
        case = s.scalars(select(Case)).one()
        assert case.enforcement_kind is EnforcementKind.PENALTY and case.origin is CaseOrigin.EX_OFFICIO
        assert {p.party_type for p in case.parties} == {PartyType.ORGANISATION, PartyType.PERSON}
        record = case.records[0]
        assert record.stage is Stage.INVESTIGATION and record.form is RecordForm.TEXT
        assert record.classification is Classification.INTERNAL
        assert record.status is ProcessingStatus.PENDING
        assert (record.made_how, record.made_by, record.proves) == (
            "计算机制作",
            "周晓梅",
            "当事人对违法事实的陈述",
        )
        assert record.made_at is not None and record.made_at.replace(tzinfo=UTC) == datetime(
            2026, 10, 10, 6, 0, tzinfo=UTC
        )
        assert record.files[0].role is FileRole.ORIGINAL
        assert record.jobs[0].status is JobStatus.PENDING
        # Chinese values are stored as the labels users see
        raw = s.execute(text("select stage, form, classification from records")).one()
        assert tuple(raw) == ("调查取证", "文字", "内部")


def test_same_bytes_make_one_record_per_case(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(_record(None, sha="b" * 64))
        s.add(_record(_case("农应急罚〔2026〕1号"), sha="b" * 64))
        s.add(_record(_case("农应急罚〔2026〕2号"), sha="b" * 64))  # the same file in another case
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(_record(None, sha="b" * 64))  # twice outside any case
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        case = s.scalars(select(Case).where(Case.case_no == "农应急罚〔2026〕1号")).one()
        s.add(_record(case, sha="b" * 64))  # twice in one case


def test_the_migrated_schema_is_the_models_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_one_job_of_a_kind_per_record(engine: Engine) -> None:
    with session_scope(engine) as s:
        record = _record(None, sha="c" * 64)
        s.add(record)
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Job(record_id=record.id, kind="process"))


def test_case_numbers_are_unique(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(_case())
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(_case())


def test_database_rejects_values_outside_the_enumerations(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(_record(None, sha="d" * 64))
    with pytest.raises((IntegrityError, StatementError)), session_scope(engine) as s:
        s.execute(text("update records set stage = '随便写的环节'"))
