"""Redacted renditions (脱敏件): what a party is shown of a record (第二十八条).

A rendition is made from the record's original and its active sensitive spans, minus the
viewer's own name and ID number: the text with ■ in place of every span, and a file — PDF/scan
pages as images with black boxes burned in, photos likewise without metadata, audio (and the
sound of video) with the spans bleeped, other formats (and a recording released as its
transcript only) as the redacted text laid out as pages. A PDF page whose text layer does not
cover what it shows is read by OCR and the spans found in what was read are hidden.

Every rendition then passes the release gate (:mod:`pipelines.release_gate`): its pages are
OCR'd and its sound re-transcribed, and a hidden value or another person's number found there
blocks it; a recording whose transcript is too unsure to trust detection is blocked until the
archivist marks spans by hand or releases the transcript only. Rendition and verdict are stored
under the rendition's tag (archive.release), so they are made once and reused until something
they depend on changes. The viewer's name and the time are stamped on PDF/image renditions at
download (:func:`watermarked`), never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive import audit
from archive.db import session_scope
from archive.models import (
    AccessRequest,
    ProcessingStatus,
    Record,
    ReleaseCheck,
    RequestStatus,
    StoredFile,
    utcnow,
)
from archive.release import (
    TRANSCRIPT_ONLY,
    ReleaseBasis,
    check_of,
    release_basis,
    request_keep,
    request_mode,
)
from archive.timeutil import to_local
from pipelines.context import Services
from pipelines.derived import DerivedKind, derived_file, link_derived, read_derived
from pipelines.detect import family_of
from pipelines.redaction import watermark
from pipelines.release import make, output_of, stored_bytes

PREFIX = "redacted-"
MASK = "■"


class RenditionError(RuntimeError):
    """A rendition cannot be made (the record is not processed, or the redaction failed)."""


class RenditionPendingError(RenditionError):
    """The rendition is not made yet and the caller asked not to make it now."""


@dataclass(frozen=True)
class Rendition:
    """A record as a party may see it, and the release gate's verdict on it."""

    record_id: int
    title: str
    text: str
    file_sha256: str
    file_mime: str
    file_name: str
    spans: int  # how many spans were covered
    tag: str = ""  # names the rendition (archive.release.release_basis)
    passed: bool = False  # the release gate found nothing a person could see or hear
    reason: str | None = None  # why the gate blocked it (for the archivist: values and places)
    findings: tuple[dict[str, str], ...] = ()


def redact_title(title: str, values: Iterable[str]) -> str:
    """The title with every hidden value in it masked (titles often name the people involved)."""
    for text in sorted(set(values), key=len, reverse=True):
        if len(text) >= 2:
            title = title.replace(text, MASK * len(text))
    return title


# The suffix of a stored rendition file, by the MIME type its redactor gave it.
SUFFIXES = {"application/pdf": ".pdf", "image/png": ".png", "audio/ogg": ".ogg", "audio/wav": ".wav"}


def _rendition(
    record_id: int,
    title: str,
    text: str,
    file: StoredFile,
    suffix: str,
    basis: ReleaseBasis,
    check: ReleaseCheck,
) -> Rendition:
    return Rendition(
        record_id,
        title,
        text,
        file.sha256,
        file.mime,
        title + suffix,
        len(basis.spans),
        basis.tag,
        check.passed,
        check.reason,
        tuple(check.findings or ()),
    )


def prepare(
    svc: Services,
    record_id: int,
    keep: frozenset[str] = frozenset(),
    mode: str = "full",
    *,
    make_now: bool = True,
) -> Rendition:
    """The record's rendition for a viewer who keeps ``keep`` (their own names and ID numbers),
    made and checked by the release gate once, then reused while nothing it depends on changes.

    ``make_now=False``: only a rendition already made is returned (RenditionPendingError if none),
    for callers that must not spend seconds per page (a search over many records)."""
    with Session(svc.engine) as s:
        record = s.scalar(select(Record).where(Record.id == record_id).options(selectinload(Record.files)))
        if record is None or record.status is not ProcessingStatus.PROCESSED:
            raise RenditionError("该记录尚未处理完成，暂不能提供脱敏件")
        basis = release_basis(s, record, keep, mode)
        title = redact_title(record.title, basis.hidden)
        text_kind, file_kind = f"{PREFIX}text-{basis.tag}", f"{PREFIX}file-{basis.tag}"
        made_text, made_file = derived_file(record, text_kind), derived_file(record, file_kind)
        check = check_of(s, record_id, basis.tag)
        # A file stored under another type than its redactor makes now is made again.
        fresh = made_file is not None and made_file.mime == output_of(record, basis)[0]
        if made_text is not None and made_file is not None and check is not None and fresh:
            text = stored_bytes(svc, made_text.sha256).decode("utf-8")
            return _rendition(record_id, title, text, made_file, SUFFIXES[made_file.mime], basis, check)
        if not make_now:
            raise RenditionPendingError("该记录的脱敏件正在准备")
        raw = (read_derived(svc.store, record, DerivedKind.TEXT) or b"").decode("utf-8")
        s.expunge_all()
    try:
        made = make(svc, record, basis, raw, title)
    except Exception as exc:  # any failure must stop the release, never fall back to the original
        raise RenditionError(f"脱敏件生成失败：{exc}") from exc
    text_info = svc.store.put_bytes(made.text.encode("utf-8"), mime="text/plain; charset=utf-8")
    mime, suffix = made.output
    file_info = svc.store.put_bytes(made.data, mime=mime)
    report = made.gate
    with session_scope(svc.engine) as s:
        # Renditions of older span versions stay linked but unused (their tag no longer matches).
        rows = {f.kind: f for f in s.scalars(select(StoredFile).where(StoredFile.record_id == record_id))}
        link_derived(s, record_id, rows, text_kind, text_info, "text/plain; charset=utf-8")
        link_derived(s, record_id, rows, file_kind, file_info, mime)
        check = check_of(s, record_id, basis.tag) or ReleaseCheck(record_id=record_id, tag=basis.tag)
        check.passed, check.reason = report.passed, report.reason()
        check.findings = [f.to_json() for f in report.findings]
        check.pages, check.audio_s, check.seconds = report.pages, report.audio_s, report.seconds
        check.checked_at = utcnow()
        s.add(check)
        s.flush()
        s.expunge(check)
    file = StoredFile(sha256=file_info.sha256, mime=mime)
    return _rendition(record_id, title, made.text, file, suffix, basis, check)


def preview_for_request(
    svc: Services, request_id: int, record_id: int, actor: audit.Actor, *, counts_as_review: bool
) -> Rendition:
    """The rendition the requester of ``request_id`` would get of ``record_id``, made and gated
    now if need be. With ``counts_as_review`` (an archivist opened it) the request remembers the
    opening: the review needs every record of its scope previewed as it will be released. Every
    opening is audited; a blocked verdict too, with where the gate found something. LookupError
    if the record is not the case's; RenditionError if no rendition can be made."""
    obj = f"request:{request_id}"
    with Session(svc.engine) as s:
        req = s.get(AccessRequest, request_id)
        record = s.get(Record, record_id)
        if req is None or record is None or record.case_id != req.case_id:
            raise LookupError(record_id)
        keep, mode = request_keep(s, req), request_mode(req, record_id)
    try:
        rendition = prepare(svc, record_id, keep, mode)
    except RenditionError as exc:
        audit.record(svc.engine, "access_preview", actor, obj, "denied", record=record_id, reason=str(exc))
        raise
    if counts_as_review:
        with session_scope(svc.engine) as s:
            req = s.get(AccessRequest, request_id)
            assert req is not None
            seen = dict(req.previews or {})
            seen[str(record_id)] = {"tag": rendition.tag, "by": actor.name, "at": utcnow().isoformat()}
            req.previews = seen
    audit.record(
        svc.engine, "access_preview", actor, obj, record=record_id, tag=rendition.tag, passed=rendition.passed
    )
    if not rendition.passed:
        where = sorted({f["where"] for f in rendition.findings})
        audit.record(
            svc.engine,
            "release_blocked",
            actor,
            f"record:{record_id}",
            "denied",
            request=request_id,
            where=where,
        )
    return rendition


def set_release_mode(svc: Services, request_id: int, record_id: int, mode: str, actor: audit.Actor) -> None:
    """Release a recording whole (bleeped sound) or as its redacted transcript only (audited).
    LookupError if the record is not the case's; ValueError (Chinese) if the change is refused."""
    with session_scope(svc.engine) as s:
        req = s.get(AccessRequest, request_id)
        record = s.get(Record, record_id)
        if req is None or record is None or record.case_id != req.case_id:
            raise LookupError(record_id)
        if mode not in ("full", TRANSCRIPT_ONLY):
            raise ValueError(f"未知的提供方式：{mode}")
        if mode == TRANSCRIPT_ONLY and not family_of(record.mime).is_sound:
            raise ValueError("只有录音录像可以仅提供转写文本")
        if req.status not in (RequestStatus.SUBMITTED, RequestStatus.REVIEWED):
            raise ValueError(f"申请已{req.status.value}，不能再改提供方式")
        modes = dict(req.release_modes or {})
        if mode == "full":
            modes.pop(str(record_id), None)
        else:
            modes[str(record_id)] = mode
        req.release_modes = modes
    audit.record(svc.engine, "release_mode", actor, f"request:{request_id}", record=record_id, mode=mode)


def watermarked(svc: Services, rendition: Rendition, viewer: str, at: datetime) -> bytes:
    """The rendition's file stamped with the viewer's name and the time (PDF and images)."""
    data = stored_bytes(svc, rendition.file_sha256)
    if family_of(rendition.file_mime).is_sound:  # bleeped sound: named in the audit log instead
        return data
    return watermark(data, f"{viewer} 查阅 {to_local(at):%Y-%m-%d %H:%M}")
