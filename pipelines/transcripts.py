"""Transcript versions: the machine transcript and officers' corrections of it (第二十六条).

A correction arrives as SubRip or WebVTT (the machine's own subtitle file, edited), as our
transcript JSON, or as plain text with one line per machine segment (what the record page's
form sends). It becomes the current transcript: its text, subtitles and JSON replace the
record's derived files, the search index is updated, and the machine transcript — like every
earlier version — stays in the store as a prior version.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db import session_scope
from archive.models import (
    ProcessingStatus,
    Record,
    TranscriptVersion,
)
from archive.storage import ObjectStore
from pipelines.context import Services
from pipelines.derived import DerivedKind, derived_file, link_derived
from pipelines.documents import documents_for
from pipelines.media.transcript import Segment, Transcript
from pipelines.records import load_for_change
from pipelines.sensitive import detect_spans

MAX_CORRECTION_BYTES = 5_000_000
MACHINE, OFFICER = "machine", "officer"
TRANSCRIPT_KINDS = frozenset(
    {
        DerivedKind.TEXT,
        DerivedKind.PAGES,
        DerivedKind.TRANSCRIPT,
        DerivedKind.TRANSCRIPT_SRT,
        DerivedKind.TRANSCRIPT_VTT,
    }
)
_CUE_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})")


class CorrectionError(ValueError):
    """The correction cannot be accepted; the message says why (Chinese)."""


def _seconds(stamp: str) -> float:
    m = _CUE_TIME.fullmatch(stamp.strip().split(" ")[0])
    if m is None:
        raise CorrectionError(f"时间格式无法识别：{stamp.strip()}")
    h, mnt, sec, ms = m.groups()
    if int(mnt) >= 60 or int(sec) >= 60:
        raise CorrectionError(f"时间格式无法识别：{stamp.strip()}")
    return int(h or 0) * 3600 + int(mnt) * 60 + int(sec) + int(ms.ljust(3, "0")) / 1000


def _cues(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of each cue of an SRT or WebVTT file."""
    out = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        timing = next((i for i, ln in enumerate(lines) if "-->" in ln), None)
        if timing is None:
            continue  # the WEBVTT header, a NOTE or STYLE block
        start, end = lines[timing].split("-->", 1)
        body = " ".join(ln.strip() for ln in lines[timing + 1 :])
        s, e = _seconds(start), _seconds(end)
        if e < s:
            raise CorrectionError(f"字幕时间倒置：{lines[timing].strip()}")
        if body:
            out.append((s, e, body))
    return out


def _keep_words(machine: Transcript, seg: Segment) -> Segment:
    """Word timings stay only where the officer left a segment's text as the machine had it."""
    same = next((m for m in machine.segments if m.text == seg.text and abs(m.start - seg.start) < 0.5), None)
    return replace(seg, words=list(same.words) if same else [])


def parse_correction(
    data: bytes, filename: str, current: Transcript, machine: Transcript | None = None
) -> Transcript:
    """An officer's corrected transcript, checked against the current one it corrects.

    Plain-text lines map onto ``current``'s segments; word timings are kept from ``machine``
    (default: ``current``) wherever a segment's text is unchanged.
    """
    machine = machine or current
    if len(data) > MAX_CORRECTION_BYTES:
        raise CorrectionError("校对稿过大（超过 5 MB）")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorrectionError("校对稿须为 UTF-8 编码的文本（SRT、WebVTT、JSON 或纯文本）") from None
    if not text.strip():
        raise CorrectionError("校对稿为空")
    name = filename.lower()
    duration = current.duration
    if name.endswith(".json"):
        try:
            given = Transcript.from_json(text)
        except (ValueError, TypeError, KeyError) as exc:
            raise CorrectionError("JSON 校对稿格式不符（应为本系统导出的转写 JSON）") from exc
        segments = [replace(s, words=list(s.words)) for s in given.segments]
    elif name.endswith((".srt", ".vtt")) or "-->" in text:
        segments = [Segment(s, e, body) for s, e, body in _cues(text)]
        if not segments:
            raise CorrectionError("字幕文件中没有任何字幕条目")
        segments = [_keep_words(machine, seg) for seg in segments]
    else:
        lines = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        if len(lines) != len(current.segments):
            raise CorrectionError(
                f"纯文本校对稿须每行对应转写稿的一段：转写稿有 {len(current.segments)} 段，"
                f"校对稿有 {len(lines)} 行；需要调整时间请上传 SRT 或 WebVTT"
            )
        segments = [
            _keep_words(machine, replace(m, text=line, words=[]))
            for m, line in zip(current.segments, lines, strict=True)
            if line
        ]
    for seg in segments:
        if seg.start < 0 or seg.end < seg.start or (duration and seg.start > duration + 1):
            raise CorrectionError(f"字幕时间 {seg.start:.1f} 秒超出录音时长 {duration:.0f} 秒")
    segments.sort(key=lambda s: s.start)
    return Transcript(segments, current.engine, current.model, current.language, duration, source=OFFICER)


def read_transcript(store: ObjectStore, sha256: str) -> Transcript:
    """A stored transcript JSON."""
    return Transcript.from_json(b"".join(store.iter_bytes(sha256)))


def transcript_of(store: ObjectStore, record: Record) -> Transcript | None:
    """The record's current transcript, if it has one (its files must be loaded)."""
    found = derived_file(record, DerivedKind.TRANSCRIPT)
    return read_transcript(store, found.sha256) if found else None


def current_transcript(store: ObjectStore, record: Record) -> Transcript:
    """The record's current transcript (what a correction corrects)."""
    current = transcript_of(store, record)
    if current is None:
        raise CorrectionError("该记录没有转写稿（不是录音录像，或尚未处理完成）")
    return current


def machine_transcript(s: Session, store: ObjectStore, record: Record) -> Transcript:
    """The machine version (the current one if the record predates versions)."""
    sha = s.scalar(
        select(TranscriptVersion.sha256).where(
            TranscriptVersion.record_id == record.id, TranscriptVersion.source == MACHINE
        )
    )
    return read_transcript(store, sha) if sha else current_transcript(store, record)


def record_machine_version(s: Session, record_id: int, transcript: Transcript, sha256: str) -> None:
    """Version 1, the machine transcript (a re-run replaces it: never a second machine row)."""
    row = s.scalar(
        select(TranscriptVersion).where(
            TranscriptVersion.record_id == record_id, TranscriptVersion.source == MACHINE
        )
    )
    if row is None:
        row = TranscriptVersion(record_id=record_id, version=_next_version(s, record_id), source=MACHINE)
        s.add(row)
    row.engine = f"{transcript.engine} / {transcript.model}"
    row.sha256, row.segments = sha256, len(transcript.segments)


def has_officer_version(s: Session, record_id: int) -> bool:
    """Whether an officer has corrected this record's transcript."""
    return bool(
        s.scalar(
            select(func.count()).where(
                TranscriptVersion.record_id == record_id, TranscriptVersion.source == OFFICER
            )
        )
    )


def _next_version(s: Session, record_id: int) -> int:
    top = s.scalar(
        select(func.max(TranscriptVersion.version)).where(TranscriptVersion.record_id == record_id)
    )
    return int(top or 0) + 1


def transcript_files(t: Transcript) -> list[tuple[str, bytes, str]]:
    """(kind, bytes, MIME) of the derived files that carry a transcript."""
    text = t.text()
    pages = json.dumps({"pages": [text]}, ensure_ascii=False).encode("utf-8")
    return [
        (DerivedKind.TEXT, text.encode("utf-8"), "text/plain; charset=utf-8"),
        (DerivedKind.PAGES, pages, "application/json"),
        (DerivedKind.TRANSCRIPT, t.to_json().encode("utf-8"), "application/json"),
        (DerivedKind.TRANSCRIPT_SRT, t.to_srt().encode("utf-8"), "application/x-subrip; charset=utf-8"),
        (DerivedKind.TRANSCRIPT_VTT, t.to_vtt().encode("utf-8"), "text/vtt; charset=utf-8"),
    ]


def save_correction(
    svc: Services,
    record_id: int,
    data: bytes,
    filename: str,
    *,
    author_id: int | None,
    author_name: str,
    note: str = "",
) -> TranscriptVersion:
    """Store an officer's corrected transcript as the next, current version and re-index.

    CorrectionError if the record has no transcript, is still being processed, or the
    correction does not fit the recording; RecordFrozenError once its case is filed.
    """
    with Session(svc.engine) as s:
        record = _correctable(s, record_id)
        current = current_transcript(svc.store, record)
        machine = machine_transcript(s, svc.store, record)
    corrected = parse_correction(data, filename, current, machine)
    corrected = replace(corrected, author=author_name)
    stored = [
        (kind, svc.store.put_bytes(b, mime=mime), mime) for kind, b, mime in transcript_files(corrected)
    ]
    with session_scope(svc.engine) as s:
        record = _correctable(s, record_id)
        rows = {f.kind: f for f in record.files}
        for kind, info, mime in stored:
            link_derived(s, record_id, rows, kind, info, mime)
        meta = dict(record.source_meta or {})
        meta["transcript_status"] = "已校对"
        meta["transcript_corrected_by"] = author_name
        record.source_meta = meta
        version = TranscriptVersion(
            record_id=record_id,
            version=_next_version(s, record_id),
            source=OFFICER,
            engine="",
            author_id=author_id,
            author_name=author_name,
            note=note.strip() or None,
            sha256=next(info.sha256 for kind, info, _ in stored if kind == DerivedKind.TRANSCRIPT),
            segments=len(corrected.segments),
        )
        s.add(version)
        s.flush()
        docs = documents_for(svc.store, [record])
        s.expunge(version)
    if docs:
        svc.index.upsert(docs)
    detect_spans(svc, record_id)  # the text changed: so did the offsets of what must be hidden
    return version


def _correctable(s: Session, record_id: int) -> Record:
    record = load_for_change(s, record_id)  # RecordMissingError / RecordFrozenError pass through
    if record.status is not ProcessingStatus.PROCESSED:
        raise CorrectionError("记录尚未处理完成，暂不能校对转写稿")
    return record


def versions_of(s: Session, record_id: int) -> list[TranscriptVersion]:
    """All versions, oldest first (the last one is current)."""
    return list(
        s.scalars(
            select(TranscriptVersion)
            .where(TranscriptVersion.record_id == record_id)
            .order_by(TranscriptVersion.version)
        )
    )
