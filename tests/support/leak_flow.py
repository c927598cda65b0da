"""The leak corpus driven through the real 查阅 flow over HTTP, and every released byte checked
as a person would see or hear it. Shared by tests/test_release_gate.py and bench/redaction.py."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from archive.access import link_party
from archive.db import session_scope
from archive.models import CaseOrigin, EnforcementKind, Party, PartyType, Stage, Witness
from archive.settings import Settings
from archive.timeutil import CST
from pipelines.compliance import create_case
from pipelines.context import Services, open_services
from pipelines.demo import ensure_demo_user
from pipelines.folding import fold_for_match
from pipelines.ingest import RecordMeta, ingest_file
from pipelines.media.decode import audio_chunks
from pipelines.ocr import get_ocr
from pipelines.queue import make_queue
from pipelines.redaction import native_scale, open_image, upright_frames
from pipelines.transcripts import save_correction
from tests.support.leak_corpus import LeakFile, People, build
from tests.support.redaction_data import SR
from ui.web import create_app

CASE_NO = "农应急罚〔2026〕37号"
PEOPLE = People()
SPOKEN_ID = "16-spoken-id.wav"  # its transcript is corrected by an officer before the request
MISTAKEN = "12-people-list.xlsx"  # the archivist wrongly dismisses the third person's ID here


@dataclass
class World:
    """The archive, the corpus and the record id of each file."""

    app: FastAPI
    svc: Services
    files: list[LeakFile]
    ids: dict[str, int]
    ingest_s: float


def make_world(tmp: Path) -> World:
    """A case whose parties are the requester 张建国 and 王秀英, witness 李明, the party account
    linked to 张建国 after an ID check, and every corpus file ingested into it."""
    settings = Settings(data_dir=tmp / "var")
    svc = open_services(settings)
    ensure_demo_user(svc)
    create_case(
        svc,
        CASE_NO,
        "农安县某仓储点危险化学品储存违法案",
        EnforcementKind.PENALTY,
        CaseOrigin.EX_OFFICIO,
        datetime(2026, 11, 2, 9, 0, tzinfo=CST),
        officer="孙立军",
        parties=[(PEOPLE.requester, PartyType.PERSON), (PEOPLE.third, PartyType.PERSON)],
    )
    with session_scope(svc.engine) as s:
        ids = {PEOPLE.requester: PEOPLE.requester_id, PEOPLE.third: PEOPLE.third_id}
        for party in s.scalars(select(Party)):
            party.id_number = ids.get(party.name)
        case_id = s.scalars(select(Party.case_id)).first()
        s.add(Witness(case_id=case_id, name=PEOPLE.witness, relation="证人"))
        s.flush()
        link_party(
            session=s,
            username="party",
            case_no=CASE_NO,
            party_name=PEOPLE.requester,
            id_checked="身份证原件核验",
            by="孙立军",
        )
    files = build(tmp / "corpus")
    started = time.monotonic()
    record_ids: dict[str, int] = {}
    for f in files:
        meta = RecordMeta(case_no=CASE_NO, stage=Stage.INVESTIGATION, made_by="孙立军", title=f.path.stem)
        out = ingest_file(svc, f.path, meta)
        assert out.record_id is not None, f.name
        record_ids[f.name] = out.record_id
    make_queue(svc).run(list(record_ids.values()))
    # An officer listened to the ID recording and wrote the number into its transcript (the
    # machine heard homophones): the corrected line is detected and its stretch bleeped.
    srt = f"1\n00:00:02,000 --> 00:00:11,000\n他的身份证号码是{PEOPLE.third_id}，请核对。\n"
    save_correction(
        svc, record_ids[SPOKEN_ID], srt.encode(), "校对.srt", author_id=None, author_name="孙立军"
    )
    return World(create_app(settings), svc, files, record_ids, time.monotonic() - started)


@dataclass
class Outcome:
    """One corpus file after the flow: the gate's verdict and what the party received."""

    file: LeakFile
    record_id: int
    verdict: dict[str, Any]  # the archivist's preview (passed, reason, findings …)
    first: dict[str, Any] = field(default_factory=dict)  # the verdict before a switch to transcript
    transcript_only: bool = False
    released: bool = False
    text: str = ""
    title: str = ""
    data: bytes = b""
    mime: str = ""
    party_status: int = 0  # what the party got asking for the record


@dataclass
class FlowResult:
    """Every outcome, the request, and the time the gate took."""

    request_id: int
    outcomes: list[Outcome] = field(default_factory=list)
    gate_s: float = 0.0
    gate_pages: int = 0
    gate_audio_s: float = 0.0


def run_flow(world: World, clients: dict[str, TestClient]) -> FlowResult:
    """The party asks for the whole case; the archivist previews every record (a blocked
    recording is switched to its transcript only and previewed again) and releases what the gate
    passed; the 负责人 approves; the party opens and downloads every released record."""
    party, archivist, leader = clients["party"], clients["archivist"], clients["leader"]
    r = party.post("/api/v1/portal/requests", json={"case_no": CASE_NO, "reason": "核对本案证据材料"})
    assert r.status_code == 201, r.text
    result = FlowResult(request_id=r.json()["id"])
    base = f"/api/v1/access/requests/{result.request_id}/records"
    # The archivist's mistake the gate must catch: a detected ID marked "不遮盖".
    mistaken = world.ids[MISTAKEN]
    spans = archivist.get(f"/api/v1/records/{mistaken}/spans").json()
    wrong = [sp["id"] for sp in spans if fold_for_match(sp["text"]) == PEOPLE.third_id]
    assert wrong, spans
    r = archivist.post(f"/api/v1/records/{mistaken}/spans/active", json={"ids": wrong, "active": False})
    assert r.status_code == 200, r.text
    for f in world.files:
        rid = world.ids[f.name]
        r = archivist.get(f"{base}/{rid}/preview")
        assert r.status_code == 200, (f.name, r.text)
        out = Outcome(f, rid, r.json())
        if not out.verdict["passed"] and f.kind == "audio":
            r = archivist.post(f"{base}/{rid}/mode", json={"mode": "transcript"})
            assert r.status_code == 204, r.text
            r = archivist.get(f"{base}/{rid}/preview")
            assert r.status_code == 200, r.text
            out.first, out.verdict, out.transcript_only = out.verdict, r.json(), True
        result.outcomes.append(out)
    scope = [o.record_id for o in result.outcomes if o.verdict["passed"]]
    r = archivist.post(
        f"/api/v1/access/requests/{result.request_id}/review", json={"scope": scope, "days": 7}
    )
    assert r.status_code == 200, r.text
    r = leader.post(
        f"/api/v1/access/requests/{result.request_id}/decision", json={"approve": True, "reason": "同意查阅"}
    )
    assert r.status_code == 200, r.text
    for out in result.outcomes:
        r = party.get(f"/api/v1/portal/records/{out.record_id}")
        out.party_status = r.status_code
        if r.status_code != 200:
            continue
        out.released, out.text, out.title = True, r.json()["text"], r.json()["title"]
        r = party.get(f"/api/v1/portal/records/{out.record_id}/file")
        assert r.status_code == 200, r.text
        out.data, out.mime = r.content, r.headers["content-type"]
    return result


# --- what a person receives ------------------------------------------------------------------


def _ocr_pages(data: bytes) -> list[str]:
    """OCR of every page (PDF, rendered 1:1 with its image) or frame (image) as released."""
    engine = get_ocr()
    if data.startswith(b"%PDF"):
        pdf = pdfium.PdfDocument(data)
        texts = []
        for i in range(len(pdf)):
            page = pdf[i]
            texts.append(engine.recognize(page.render(scale=native_scale(page)).to_pil()).text)
            page.close()
        pdf.close()
        return texts
    return [engine.recognize(frame).text for frame in upright_frames(open_image(data))]


def _pdf_layers(data: bytes) -> str:
    """Every text a PDF reader could copy: text layer, document information, annotations."""
    pdf = pdfium.PdfDocument(data)
    parts = [str(v) for v in pdf.get_metadata_dict(skip_empty=True).values()]
    for i in range(len(pdf)):
        page = pdf[i]
        parts.append(page.get_textpage().get_text_range())
        parts.append(f"annotations:{pdfium.raw.FPDFPage_GetAnnotCount(page.raw)}")
        page.close()
    pdf.close()
    return "\n".join(parts)


def _decode(data: bytes | Path) -> np.ndarray:
    """Sound as float32 mono at 16 kHz (from a file or released bytes)."""
    with tempfile.TemporaryDirectory(prefix="leak-audio-") as tmp:
        path = data if isinstance(data, Path) else Path(tmp) / "released.audio"
        if isinstance(data, bytes):
            path.write_bytes(data)
        return np.concatenate([np.asarray(chunk, dtype=np.float32) for _, chunk in audio_chunks(path)])


def speech_left(original: Path, released: bytes, window: tuple[float, float]) -> list[float]:
    """Seconds (50 ms frames) inside ``window`` where the released sound still carries the
    original speech: the frame had speech and is now neither the 1 kHz tone nor silence."""
    src, out = _decode(original), _decode(released)
    frame = SR // 20
    left = []
    for k in range(int(window[0] * SR) // frame, int(window[1] * SR) // frame):
        a, b = k * frame, (k + 1) * frame
        said, heard = src[a:b], out[a:b]
        if len(heard) < frame or float(np.sqrt(np.mean(said**2))) < 0.01:
            continue
        spectrum = np.abs(np.fft.rfft(heard * np.hanning(len(heard)))) ** 2
        freqs = np.fft.rfftfreq(len(heard), 1 / SR)
        tone = spectrum[(freqs > 900) & (freqs < 1100)].sum() / max(spectrum.sum(), 1e-12)
        if float(np.sqrt(np.mean(heard**2))) > 0.005 and tone < 0.9:
            left.append(round(k * frame / SR, 2))
    return left


def leaks(out: Outcome) -> list[str]:
    """Every hidden value found in what the party received (text, title, PDF layers and metadata,
    raw bytes, OCR of every page and image, the sound in the spoken window)."""
    if not out.released:
        return []
    found: list[str] = []
    places: dict[str, str] = {"文本": out.text, "标题": out.title}
    raw = out.data
    if raw.startswith(b"%PDF"):
        places["PDF 文字层与元数据"] = _pdf_layers(raw)
    if out.mime.startswith(("application/pdf", "image/")):
        for i, text in enumerate(_ocr_pages(raw)):
            places[f"OCR 第 {i + 1} 页"] = text
    for value in out.file.hidden:
        needle = fold_for_match(value)
        for where, text in places.items():
            if needle in fold_for_match(text):
                found.append(f"{out.file.name}: {where} 含 {value}")
        for encoded in {value.encode(), value.encode("utf-16-be")}:
            if len(value) >= 6 and encoded in raw:
                found.append(f"{out.file.name}: 文件字节含 {value}")
    if out.mime.startswith("audio/") and out.file.spoken is not None:
        left = speech_left(out.file.path, raw, out.file.spoken)
        if left:
            found.append(f"{out.file.name}: 录音第 {left[:5]} 秒仍可听到语音")
    return found
