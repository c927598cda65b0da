"""One settings object for the whole system, read from ARCHIVE_* environment variables.

Nested sections use a double underscore: ``ARCHIVE_DB__URL``, ``ARCHIVE_STORAGE__BACKEND``.
"""

from __future__ import annotations

import ipaddress
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Only the dev profile may run on these; anything else must be configured.
DEV_SECRET_KEY = "dev-only-insecure-secret-key"
DEV_S3_SECRET = "dev-only-s3-secret"


class DbSettings(BaseModel):
    """Metadata database."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file archive.db under the data dir. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    echo: bool = Field(default=False, description="Log every SQL statement.")


class StorageSettings(BaseModel):
    """Object store for originals and derived files."""

    backend: Literal["local", "s3"] = Field(default="local", description="local directory or S3/MinIO")
    local_dir: Path | None = Field(default=None, description="Default: objects/ under the data dir.")
    s3_endpoint: str = Field(default="127.0.0.1:9000", description="host:port of the S3 server")
    s3_secure: bool = Field(default=False, description="Use HTTPS for S3.")
    s3_access_key: str = Field(default="archive", description="S3 access key")
    s3_secret_key: SecretStr | None = Field(default=None, description="S3 secret key (required for s3)")
    s3_bucket: str = Field(default="archive-originals", description="Bucket for all objects")
    s3_region: str = Field(default="us-east-1", description="S3 region name")
    retention_days: int = Field(
        default=0,
        description="Object-lock COMPLIANCE retention for originals in days (0 = none); "
        "applied only when the bucket has object lock enabled.",
    )


class IndexSettings(BaseModel):
    """Full-text search index."""

    backend: Literal["tantivy", "elasticsearch"] = Field(
        default="tantivy", description="tantivy (embedded) or elasticsearch"
    )
    path: Path | None = Field(default=None, description="Default: index/ under the data dir.")
    writer_heap_mb: int = Field(default=128, description="tantivy writer memory budget (MB)")
    es_url: str = Field(default="http://127.0.0.1:9200", description="Elasticsearch URL(s), comma-separated")
    es_alias: str = Field(
        default="archive-records",
        description="Alias searched and written; each (re)build is a new index named <alias>-<time>",
    )
    es_username: str | None = Field(default=None, description="Elasticsearch user (basic auth)")
    es_password: SecretStr | None = Field(default=None, description="Elasticsearch password")
    es_api_key: SecretStr | None = Field(
        default=None, description="Elasticsearch API key (instead of a password)"
    )
    es_ca_certs: Path | None = Field(default=None, description="CA bundle for an HTTPS Elasticsearch")
    es_timeout_s: float = Field(default=30.0, description="Elasticsearch request timeout (seconds)")
    es_retries: int = Field(
        default=5, description="Retries of a failed request or a rejected bulk item (backoff)"
    )
    es_server_mode: Literal["stack", "serverless"] = Field(
        default="stack",
        description="Client mode; serverless also sends plain JSON media types (needed by the test stand-in)",
    )


class ParsingSettings(BaseModel):
    """Parsing, OCR and their limits."""

    tika_url: str | None = Field(
        default=None, description="Tika server URL (e.g. http://tika:9998); unset = in-process iscc-tika"
    )
    timeout_s: int = Field(default=600, description="Time limit of one file's parse/OCR (seconds)")
    memory_mb: int = Field(default=4096, description="Resident-memory limit of a parse (MB)")
    ocr_dpi: int = Field(default=200, description="Resolution pages are rendered at for OCR")
    ocr_runtime: Literal["onnxruntime", "openvino"] = Field(
        default="onnxruntime",
        description="Runtime of ingest OCR's models: onnxruntime (default) or openvino (the same models "
        "and text, ~20% faster here, ~1.5 GB more resident per parse process; pip install '.[openvino]')",
    )
    max_image_pixels: int = Field(
        default=150_000_000, description="Larger images are refused as decompression bombs (pixels)"
    )
    max_pages: int = Field(default=2000, description="Pages parsed per document at most")
    worker_max_files: int = Field(
        default=200, ge=1, description="A parse process is replaced after this many files (bounds slow leaks)"
    )
    worker_recycle_mb: int = Field(
        default=2048,
        ge=0,
        description="A parse process holding more than this after a file is replaced (MB; 0 = never)",
    )


class TranscriptionSettings(BaseModel):
    """Speech to text for audio and video records (第二十六条)."""

    engine: Literal["faster-whisper", "openai-whisper"] = Field(
        default="faster-whisper",
        description="faster-whisper (CTranslate2 int8, default) or openai-whisper "
        "(the reference engine; make install-openai)",
    )
    model_dir: Path | None = Field(
        default=None,
        description="A local CTranslate2 Whisper model directory; default: Whisper base assembled at install",
    )
    openai_checkpoint: Path | None = Field(
        default=None,
        description="openai-whisper checkpoint (.pt); default: <model_dir>-openai.pt, built from model_dir "
        "on first use or by `archive models build-openai-checkpoint`",
    )
    beam_size: int = Field(default=5, description="Beam search width (1 = greedy, faster, less accurate)")
    repetition_penalty: float = Field(
        default=1.0,
        description="faster-whisper: penalty on repeated tokens (e.g. 1.1) that stops decoding loops "
        "on noisy audio, but can drop repeated speech; 1.0 = none",
    )
    chunk_s: int = Field(default=300, description="Audio decoded and transcribed this many seconds at a time")
    keyframe_every_s: int = Field(default=10, description="A video thumbnail every N seconds (timeline)")
    seconds_per_audio_second: float = Field(
        default=1.0, description="Time limit per second of recording, added to the parsing time limit"
    )


class ComplianceSettings(BaseModel):
    """The record-keeping rules (docs/rules.md): archiving period, working days beyond the built-in years."""

    archive_days: int = Field(
        default=30,
        ge=1,
        description="第二十七条: days from 执行终结 to filing (a law may set another period)",
    )
    calendar_years: list[int] = Field(
        default_factory=list,
        description="Years whose holiday notice is entered below (beyond the built-in calendar)",
    )
    holidays: list[date] = Field(
        default_factory=list, description="Official days off of those years (JSON list of dates)"
    )
    workdays: list[date] = Field(
        default_factory=list, description="Official make-up workdays (调休) of those years (JSON list)"
    )


class RedactionSettings(BaseModel):
    """脱敏 and the release gate: what a party receives is re-read before it is released."""

    min_transcript_confidence: float = Field(
        default=0.55,
        description="A recording whose mean word confidence is lower is not released with automatic "
        "spans only: the archivist marks spans by hand or releases the transcript only",
    )
    public_numbers: list[str] = Field(
        default=[],
        description="The bureau's own published numbers (办公电话, 举报电话 …) that may stay visible in "
        "a party's copy: the release gate does not block them when the archivist leaves them unmasked",
    )
    layer_ink_ratio: float = Field(
        default=0.01,
        description="Share of a PDF page's pixels inked outside its text layer's characters above "
        "which the page is read by OCR at ingest and in a party's copy (a scan with a short text "
        "layer, text drawn as curves)",
    )


class SignInSettings(BaseModel):
    """Failed sign-ins and the client address they are counted against."""

    failures_per_name_address: int = Field(
        default=5,
        description="Wrong passwords for one user name from one address before that name is refused "
        "from that address for the rest of the window (the account itself is never locked)",
    )
    failures_per_address: int = Field(
        default=100, description="Wrong passwords from one address, whatever the names, before it is refused"
    )
    window_minutes: int = Field(default=15, description="How long a failed sign-in is counted")
    backoff_max_s: int = Field(
        default=60,
        description="Longest rest a user name gets after failures from any addresses together (after "
        "failures_per_name_address of them, each further failure doubles the rest: 1, 2, 4 … s)",
    )
    store: Literal["memory", "redis"] = Field(
        default="memory",
        description="memory: counted in each server process; redis: shared by every API process "
        "(the queue's Redis; use it when several processes or hosts serve the API)",
    )
    trusted_proxies: list[str] = Field(
        default=[],
        description="Addresses or networks (CIDR) of the reverse proxies in front of the server. Only "
        "a request from one of them has its X-Forwarded-For read: the client is the right-most address "
        "there that is not a trusted proxy. Empty: the direct peer is the client",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {item!r}") from None
        return [item.strip() for item in value]


class QueueSettings(BaseModel):
    """Pipeline job execution."""

    backend: Literal["inprocess", "redis"] = Field(
        default="inprocess",
        description="inprocess: a worker pool inside the command (no servers); redis: Huey tasks on Redis, "
        "run by `archive worker` processes",
    )
    workers: int = Field(default=0, description="Parser processes (or worker threads); 0 = CPU cores")
    stale_after_s: int = Field(
        default=600, description="A running job not updated for this long is taken up again."
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis of the task queue (redis)")
    name: str = Field(default="archive", description="Queue name on Redis (one per archive)")
    retries: int = Field(default=3, description="Retries of a task that failed for a passing reason (redis)")
    retry_delay_s: int = Field(default=5, description="First retry delay; doubled each retry (redis)")


class Settings(BaseSettings):
    """All configuration. Read once through :func:`get_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="ARCHIVE_", env_nested_delimiter="__", env_file=None, extra="ignore"
    )

    profile: Literal["dev", "prod"] = Field(default="dev", description="dev allows built-in dev secrets")
    data_dir: Path = Field(default=Path("var"), description="Where the embedded default keeps its data")
    secret_key: SecretStr | None = Field(default=None, description="Signs sessions; required in prod")
    host: str = Field(default="127.0.0.1", description="Address `archive serve` binds")
    port: int = Field(default=8000, description="Port `archive serve` binds")
    upload_max_mb: int = Field(default=4096, description="Largest file accepted by a web upload (MB)")
    request_max_kb: int = Field(
        default=1024, description="Largest body of any other request (JSON, forms), refused unread (KB)"
    )
    db: DbSettings = Field(default_factory=DbSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    parsing: ParsingSettings = Field(default_factory=ParsingSettings)
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)
    compliance: ComplianceSettings = Field(default_factory=ComplianceSettings)
    redaction: RedactionSettings = Field(default_factory=RedactionSettings)
    signin: SignInSettings = Field(default_factory=SignInSettings)

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        """Fill dev secrets in the dev profile; refuse missing or dev secrets elsewhere."""
        if self.profile == "dev":
            if self.secret_key is None:
                self.secret_key = SecretStr(DEV_SECRET_KEY)
            if self.storage.s3_secret_key is None:
                self.storage.s3_secret_key = SecretStr(DEV_S3_SECRET)
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if not key or key == DEV_SECRET_KEY or len(key) < 32:
            raise ValueError("ARCHIVE_SECRET_KEY must be set (32+ characters) outside the dev profile")
        if self.storage.backend == "s3":
            s3 = self.storage.s3_secret_key.get_secret_value() if self.storage.s3_secret_key else ""
            if not s3 or s3 == DEV_S3_SECRET:
                raise ValueError("ARCHIVE_STORAGE__S3_SECRET_KEY must be set outside the dev profile")
        return self

    @property
    def db_url(self) -> str:
        """The effective database URL."""
        return self.db.url or f"sqlite:///{(self.data_dir / 'archive.db').resolve()}"

    @property
    def objects_dir(self) -> Path:
        """Directory of the local object store."""
        return self.storage.local_dir or self.data_dir / "objects"

    @property
    def index_dir(self) -> Path:
        """Directory of the tantivy index."""
        return self.index.path or self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()`` after changing env)."""
    return Settings()
