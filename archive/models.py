"""Domain model (SQLAlchemy 2) drawn from the record-keeping rules (docs/rules.md)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from archive.enums import (
    CaseOrigin as CaseOrigin,
)
from archive.enums import (
    CaseStatus as CaseStatus,
)
from archive.enums import (
    Classification as Classification,
)
from archive.enums import (
    EnforcementKind as EnforcementKind,
)
from archive.enums import (
    EventKind as EventKind,
)
from archive.enums import (
    FileRole as FileRole,
)
from archive.enums import (
    JobStatus as JobStatus,
)
from archive.enums import (
    PartyType as PartyType,
)
from archive.enums import (
    ProcessingStatus as ProcessingStatus,
)
from archive.enums import (
    RecordForm as RecordForm,
)
from archive.enums import (
    RequestStatus as RequestStatus,
)
from archive.enums import (
    Retention as Retention,
)
from archive.enums import (
    Role as Role,
)
from archive.enums import (
    Severity as Severity,
)
from archive.enums import (
    SpanKind as SpanKind,
)
from archive.enums import (
    Stage as Stage,
)
from archive.enums import (
    stage_of as stage_of,
)
from archive.timeutil import as_utc


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time, stored in UTC and always read back as an aware UTC datetime: SQLite keeps
    no zone (it would store an aware Beijing time's wall clock), PostgreSQL does."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        # A naive value in this code is already UTC; times people enter go through to_utc first.
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    """Declarative base for all tables."""


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Values (Chinese labels) are stored as VARCHAR + CHECK so SQLite and PostgreSQL agree.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class User(Base):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UserSession(Base):
    """A signed-in browser session or an API bearer token; only the token's SHA-256 is stored.

    Server-side, so that signing out, a password change or a lockout ends it at once, and a
    session id planted before sign-in is never the one used after it (session fixation).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # cookie | token
    name: Mapped[str] = mapped_column(String(64), default="")  # an API token's label
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseAssignment(Base):
    """An officer assigned to a case: officers see the cases they are assigned to."""

    __tablename__ = "case_assignments"
    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_case_assignments_case_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_by: Mapped[str] = mapped_column(String(64), default="")
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PartyLink(Base):
    """A party account linked to the 当事人 of a case, by an officer who checked their ID."""

    __tablename__ = "party_links"
    __table_args__ = (UniqueConstraint("user_id", "party_id", name="uq_party_links_user_party"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    id_checked: Mapped[str] = mapped_column(String(255))  # how the ID was checked (证件类型、核验方式)
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Case(Base):
    """案件: one enforcement case from 程序启动 to 归档管理."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    enforcement_kind: Mapped[EnforcementKind] = mapped_column(_enum(EnforcementKind, "enforcement_kind"))
    origin: Mapped[CaseOrigin] = mapped_column(_enum(CaseOrigin, "case_origin"))
    case_officer: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_status"), default=CaseStatus.OPEN)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enforcement_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archivist: Mapped[str | None] = mapped_column(String(64))  # 第二十七条: who files and keeps it
    # Imported from a closed paper dossier: its compliance findings are history, not to-dos.
    legacy: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The (Beijing) day its findings were last computed: pages recompute only older ones
    findings_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parties: Mapped[list[Party]] = relationship(back_populates="case", cascade="all, delete-orphan")
    records: Mapped[list[Record]] = relationship(back_populates="case")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseEvent.occurred_at"
    )
    findings: Mapped[list[Finding]] = relationship(back_populates="case", cascade="all, delete-orphan")


class CaseEvent(Base):
    """A dated step of a case (立案, 询问, 现场检查, 送达 …) with what it needs recorded."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "event_kind"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    # 第十条: recording was not allowed or not suitable (the reason is the note)
    av_exempt: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")
    records: Mapped[list[Record]] = relationship(back_populates="event")


class Dossier(Base):
    """卷宗: a filed case — its catalog (卷内目录) and cover as a stored PDF, its retention."""

    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    retention: Mapped[Retention] = mapped_column(_enum(Retention, "retention"))
    archivist: Mapped[str] = mapped_column(String(64))
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pieces: Mapped[int] = mapped_column(Integer)
    catalog_sha256: Mapped[str] = mapped_column(String(64))  # the catalog + cover PDF in the store
    # A legacy dossier's scanned original (the whole 卷 as scanned), kept beside its 件
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    source_name: Mapped[str | None] = mapped_column(String(512))


class DossierImport(Base):
    """A scanned paper dossier on its way in: uploaded, its split proposed, reviewed by an
    archivist, then confirmed into a filed legacy case (``pipelines.legacy``)."""

    __tablename__ = "dossier_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # see pipelines.legacy.imports.Status
    source_name: Mapped[str] = mapped_column(String(512))
    source_sha256: Mapped[str] = mapped_column(String(64))  # the upload, kept in the store
    source_mime: Mapped[str] = mapped_column(String(128))
    catalog_name: Mapped[str | None] = mapped_column(String(512))
    catalog_sha256: Mapped[str | None] = mapped_column(String(64))  # a catalog spreadsheet, if given
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[str] = mapped_column(String(128), default="")
    case_no: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Finding(Base):
    """A rule a case breaks now (recomputed whenever the case or its records change)."""

    __tablename__ = "findings"
    # Counting breaches per case, or over every case, reads this index alone (no table rows).
    __table_args__ = (Index("ix_findings_case_severity", "case_id", "severity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    article: Mapped[str] = mapped_column(String(32))
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"), index=True)
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id", ondelete="CASCADE"))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="findings")


class Party(Base):
    """当事人 of a case: a person (身份证号) or an organisation (统一社会信用代码)."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    party_type: Mapped[PartyType] = mapped_column(_enum(PartyType, "party_type"))
    id_number: Mapped[str | None] = mapped_column(String(32))

    case: Mapped[Case] = relationship(back_populates="parties")


class Witness(Base):
    """A person other than the party named in a case (证人、被询问人、见证人): redacted for parties."""

    __tablename__ = "witnesses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str] = mapped_column(String(32), default="证人")
    id_number: Mapped[str | None] = mapped_column(String(32))


class SensitiveSpan(Base):
    """A sensitive stretch of a record's extracted text (offsets into its ``text`` file).

    Detected automatically (source ``auto``) or marked by an archivist (``manual``); an
    archivist may dismiss an automatic one (``active`` False), and re-detection keeps that.
    """

    __tablename__ = "sensitive_spans"
    __table_args__ = (
        UniqueConstraint("record_id", "start", "end", "kind", name="uq_sensitive_spans_record_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SpanKind] = mapped_column(_enum(SpanKind, "span_kind"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="auto")  # auto | manual
    active: Mapped[bool] = mapped_column(default=True)
    changed_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AccessRequest(Base):
    """查阅申请: a party asks to view a case or chosen records, with a reason."""

    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    requested_records: Mapped[list[int] | None] = mapped_column(JSON)  # None: the whole case
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[RequestStatus] = mapped_column(
        _enum(RequestStatus, "request_status"), default=RequestStatus.SUBMITTED
    )
    scope: Mapped[list[int] | None] = mapped_column(JSON)  # records the archivist proposes
    days: Mapped[int] = mapped_column(Integer, default=30)  # how long a grant would last
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # record id (str) → {"tag", "by", "at"}: the rendition the archivist opened in the review
    previews: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # record id (str) → "transcript": a recording released as its redacted transcript only
    release_modes: Mapped[dict[str, str] | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship()
    grant: Mapped[AccessGrant | None] = relationship(back_populates="request")


class ReleaseCheck(Base):
    """The release gate's verdict on one rendition (``tag``) of a record: what a person would see
    or hear in it was re-read (OCR of every page, re-transcription of the sound) and checked for
    hidden values and for ID/phone/card numbers that are not the viewer's own."""

    __tablename__ = "release_checks"
    __table_args__ = (UniqueConstraint("record_id", "tag", name="uq_release_checks_record_tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(32))
    passed: Mapped[bool] = mapped_column(default=False)
    # [{"what": "隐藏值" | 身份证号 …, "value": …, "where": "第 2 页" | "12.4 秒" | "文本"}]
    findings: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)  # why it is blocked, for the archivist
    pages: Mapped[int] = mapped_column(Integer, default=0)  # pages/images re-read by OCR
    audio_s: Mapped[float] = mapped_column(Float, default=0.0)  # seconds of sound re-transcribed
    seconds: Mapped[float] = mapped_column(Float, default=0.0)  # what the check cost
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AccessGrant(Base):
    """查阅授权: what an approved request lets the party see, until it expires or is revoked."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    record_ids: Mapped[list[int]] = mapped_column(JSON)
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    request: Mapped[AccessRequest] = relationship(back_populates="grant")


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit log (审计日志).

    ``hash`` = SHA-256 over the event's canonical JSON and the previous event's hash, so a
    changed, deleted or inserted event breaks the chain at that point (``archive audit verify``).
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    event_type: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    actor_role: Mapped[str] = mapped_column(String(32), default="")
    object: Mapped[str] = mapped_column(String(255), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # ok | denied | failed
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's last sequence number and hash, written with each event: a deleted tail shows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Record(Base):
    """记录: one file-level item of evidence or documentation, with its 第二十六条 metadata."""

    __tablename__ = "records"
    __table_args__ = (
        # The same bytes are one record per case (a file can rightly belong to several cases, and
        # whether it is in a case the uploader cannot see must not decide what they may store) …
        UniqueConstraint("case_id", "sha256", name="uq_records_case_sha256"),
        # … and once among the records not yet in any case (NULLs are distinct to a UNIQUE).
        Index(
            "uq_records_caseless_sha256",
            "sha256",
            unique=True,
            sqlite_where=text("case_id IS NULL"),
            postgresql_where=text("case_id IS NULL"),
        ),
        # A deleted record's id is never given to another (grants and requests name ids).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_events.id", ondelete="SET NULL", name="fk_records_event_id_case_events"), index=True
    )
    piece_no: Mapped[int | None] = mapped_column(Integer)  # 件号 once the case is filed
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[Stage | None] = mapped_column(_enum(Stage, "stage"))
    form: Mapped[RecordForm] = mapped_column(_enum(RecordForm, "record_form"), default=RecordForm.TEXT)
    document_type: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    doc_no: Mapped[str | None] = mapped_column(String(64))
    # 第二十六条: 制作方法, 制作时间, 制作人, 证明对象
    made_how: Mapped[str | None] = mapped_column(String(255))
    made_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    made_by: Mapped[str | None] = mapped_column(String(64))
    proves: Mapped[str | None] = mapped_column(Text)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    classification: Mapped[Classification] = mapped_column(
        _enum(Classification, "classification"), default=Classification.INTERNAL
    )
    original_name: Mapped[str] = mapped_column(String(512))
    mime: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int | None] = mapped_column(Integer)
    # What parsing found in the file itself (EXIF, Tika/PDF metadata), its warnings, and which
    # 第二十六条 fields were pre-filled from it because the uploader left them empty.
    source_meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    prefilled: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[ProcessingStatus] = mapped_column(
        _enum(ProcessingStatus, "processing_status"), default=ProcessingStatus.PENDING, index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    case: Mapped[Case | None] = relationship(back_populates="records")
    event: Mapped[CaseEvent | None] = relationship(back_populates="records")
    files: Mapped[list[StoredFile]] = relationship(back_populates="record", cascade="all, delete-orphan")
    jobs: Mapped[list[Job]] = relationship(back_populates="record", cascade="all, delete-orphan")
    transcript_versions: Mapped[list[TranscriptVersion]] = relationship(
        back_populates="record", cascade="all, delete-orphan", order_by="TranscriptVersion.version"
    )


class StoredFile(Base):
    """An object in the store: a record's original or one of its derived artifacts."""

    __tablename__ = "stored_files"
    __table_args__ = (UniqueConstraint("record_id", "kind", name="uq_stored_files_record_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    role: Mapped[FileRole] = mapped_column(_enum(FileRole, "file_role"))
    kind: Mapped[str] = mapped_column(String(32))  # original, text, pages, …
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(128))
    storage_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    record: Mapped[Record] = relationship(back_populates="files")


class TranscriptVersion(Base):
    """One version of a sound record's transcript (第二十六条 文字记录 of the sound).

    Version 1 is the machine transcript; each officer correction adds the next version and
    becomes current. Every version's JSON stays in the object store: nothing is overwritten.
    """

    __tablename__ = "transcript_versions"
    __table_args__ = (UniqueConstraint("record_id", "version", name="uq_transcript_versions_record_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # machine | officer
    engine: Mapped[str] = mapped_column(String(128), default="")  # engine / model of a machine version
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))  # the version's transcript JSON in the store
    segments: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    record: Mapped[Record] = relationship(back_populates="transcript_versions")


class Job(Base):
    """One pipeline job for a record; (record, kind) is unique so a retry never duplicates work."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("record_id", "kind", name="uq_jobs_record_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="process")
    status: Mapped[JobStatus] = mapped_column(
        _enum(JobStatus, "job_status"), default=JobStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    steps: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))  # "host:pid" of the worker running it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    record: Mapped[Record] = relationship(back_populates="jobs")
