"""A case from 立案 to a filed, exported and verified dossier, through the CLI as an archivist
would run it; the bag validated by the bagit library, tampering detected, fixity checked."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import bagit
import pypdfium2
import pytest
from PIL import Image

from archive.models import CaseStatus
from archive.settings import Settings
from archive.storage.base import object_key
from pipelines.context import open_services
from pipelines.records import RecordFrozenError, update_record
from pipelines.samples import write_pdf
from tests.conftest import run_cli

CASE = "农应急罚〔2026〕20号"


def _ok(data: Path, *args: str) -> str:
    res = run_cli(list(args), data)
    assert res.returncode == 0, (args, res.stderr)
    return res.stdout.strip()


def _ingest(data: Path, path: Path, kind: str, stage: str, made_at: str, event: str | None = None) -> None:
    args = ["ingest", str(path), "--case", CASE, "--kind", kind, "--stage", stage, "--made-at", made_at,
            "--made-by", "孙立军", "--method", "计算机制作", "--proves", kind]  # fmt: skip
    _ok(data, *args, *(["--event", event] if event else []))


@pytest.fixture(scope="module")
def filed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("dossier")
    data, files = work / "var", work / "files"
    files.mkdir()

    def pdf(name: str, text: str) -> Path:
        return write_pdf(files / f"{name}.pdf", [f"{name}\n{CASE}\n{text}"], title=name)

    _ok(data, "init")
    _ok(data, "case", "add", CASE, "--name", "某加油站未按规定开展应急演练案", "--kind", "行政处罚",
        "--origin", "依职权", "--opened", "2026-02-10T09:00", "--officer", "孙立军",
        "--party-org", "农安县某加油站")  # fmt: skip
    _ingest(data, pdf("立案审批表", "启动原因：日常检查"), "立案审批表", "程序启动", "2026-02-10T09:00")
    check = _ok(data, "event", "add", CASE, "--kind", "现场检查", "--at", "2026-02-13T10:00")
    _ingest(
        data, pdf("现场检查记录", "未开展应急演练"), "现场检查记录", "调查取证", "2026-02-13T10:30", check
    )
    photo = files / "现场照片.jpg"
    Image.new("RGB", (320, 240), "gray").save(photo)
    _ingest(data, photo, "现场照片", "调查取证", "2026-02-13T10:10", check)
    notify = _ok(data, "event", "add", CASE, "--kind", "告知陈述申辩", "--at", "2026-02-26T09:00")
    _ingest(data, pdf("行政处罚告知书", "拟罚款"), "行政处罚告知书", "审查决定", "2026-02-26T09:00", notify)
    _ingest(data, pdf("案件审批表", "同意处罚"), "案件审批表", "审查决定", "2026-02-27T09:00")
    decide = _ok(data, "event", "add", CASE, "--kind", "作出决定", "--at", "2026-03-02T09:00")
    _ingest(
        data, pdf("行政处罚决定书", "罚款贰万元"), "行政处罚决定书", "审查决定", "2026-03-02T09:00", decide
    )
    serve = _ok(data, "event", "add", CASE, "--kind", "直接送达", "--at", "2026-03-03T10:00")
    _ingest(data, pdf("送达回证", "直接送达"), "送达回证", "送达执行", "2026-03-03T10:00", serve)

    res = run_cli(["dossier", "file", CASE, "--retention", "30年", "--archivist", "李档案"], data)
    assert res.returncode == 2 and "尚未执行终结" in res.stderr  # not before enforcement ends
    _ok(data, "event", "add", CASE, "--kind", "执行终结", "--at", "2026-03-20T09:00")
    _ok(data, "dossier", "file", CASE, "--retention", "30年", "--archivist", "李档案", "--by", "李档案")
    bag = work / "bag"
    _ok(data, "dossier", "export", CASE, str(bag))
    return data, bag


def test_the_filed_case_breaks_only_the_late_photo_rule(filed: tuple[Path, Path]) -> None:
    data, _ = filed
    res = run_cli(["check", "--case", CASE, "--json"], data)
    (case,) = json.loads(res.stdout)
    assert case["status"] == "已归档"
    # everything was uploaded today, long after it was made: only photos and recordings must
    # reach storage within 2 working days (第二十五条)
    assert {f["rule_id"] for f in case["findings"]} == {"art25.av_upload_deadline"}


def test_the_bag_is_valid_and_complete(filed: tuple[Path, Path]) -> None:
    _, bag = filed
    b = bagit.Bag(str(bag))
    assert b.is_valid() and "sha256" in b.algorithms
    assert b.info["External-Identifier"] == CASE and b.info["Retention-Period"] == "30年"
    payload = {Path(p).as_posix() for p in b.payload_files()}
    assert "data/卷内目录.pdf" in payload and "data/case.json" in payload
    originals = sorted(p for p in payload if p.startswith("data/originals/"))
    assert [Path(p).name.split("-", 1)[0] for p in originals] == [f"{n:03d}" for n in range(1, 8)]
    # 件号 follow the stages and dates: 立案审批表 first, the 送达回证 last
    assert originals[0].endswith("001-立案审批表.pdf") and originals[-1].endswith("007-送达回证.pdf")
    meta = json.loads((bag / "data" / "metadata" / "003.json").read_text(encoding="utf-8"))
    assert meta["件号"] == 3 and meta["title"] == "现场检查记录" and len(meta["sha256"]) == 64
    assert (
        (bag / "data" / "derived" / "003" / "text.txt").read_text(encoding="utf-8").startswith("现场检查记录")
    )
    case = json.loads((bag / "data" / "case.json").read_text(encoding="utf-8"))
    assert [e["kind"] for e in case["events"]][:2] == ["立案", "现场检查"] and case["events"][-1][
        "kind"
    ] == "归档"
    # the management trail from the audit log: every upload and the filing itself (DA/T 46)
    trail = json.loads((bag / "data" / "audit.json").read_text(encoding="utf-8"))
    kinds = [e["type"] for e in trail]
    assert kinds.count("upload") == 7 and kinds[-1] == "dossier_file"
    assert trail[-1]["detail"]["retention"] == "30年" and len(trail[-1]["hash"]) == 64
    pdf = pypdfium2.PdfDocument(str(bag / "data" / "卷内目录.pdf"))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert CASE in text and "卷内目录" in text and "行政处罚决定书" in text and "30年" in text
    res = run_cli(["dossier", "verify", str(bag)], filed[0])
    assert res.returncode == 0 and "校验通过" in res.stderr


@pytest.mark.parametrize("tamper", ["change", "delete", "add"])
def test_tampering_with_the_bag_is_detected(filed: tuple[Path, Path], tmp_path: Path, tamper: str) -> None:
    data, bag = filed
    copy = tmp_path / "bag"
    shutil.copytree(bag, copy)
    target = next((copy / "data" / "originals").glob("005-*"))
    if tamper == "change":
        raw = bytearray(target.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        target.write_bytes(bytes(raw))
    elif tamper == "delete":
        target.unlink()
    else:
        (copy / "data" / "originals" / "008-补充.pdf").write_bytes(b"%PDF-1.4 forged")
    assert not bagit.Bag(str(copy)).is_valid()
    res = run_cli(["dossier", "verify", str(copy)], data)
    assert res.returncode == 1 and "校验失败" in res.stderr
    named = "008-补充.pdf" if tamper == "add" else target.name
    assert named in res.stderr


def test_a_filed_case_is_frozen(filed: tuple[Path, Path], tmp_path: Path) -> None:
    data, _ = filed
    extra = write_pdf(tmp_path / "补充材料.pdf", ["补充材料"], title="补充材料")
    res = run_cli(["ingest", str(extra), "--case", CASE, "--json"], data)
    assert res.returncode == 1 and "已归档" in res.stdout
    res = run_cli(["event", "add", CASE, "--kind", "听证", "--at", "2026-03-21T09:00"], data)
    assert res.returncode == 2 and "已归档" in res.stderr
    res = run_cli(["dossier", "file", CASE, "--retention", "永久", "--archivist", "李档案"], data)
    assert res.returncode == 2 and "已归档" in res.stderr
    svc = open_services(Settings(data_dir=data))
    with pytest.raises(RecordFrozenError):
        update_record(svc, 1, {"made_by": "他人"})
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from archive.models import Case

    with Session(svc.engine) as s:
        case = s.scalar(select(Case).where(Case.case_no == CASE))
        assert case is not None and case.status is CaseStatus.ARCHIVED and case.archivist == "李档案"
        shas = [r.sha256 for r in case.records]
    # filing retained every original (locally: read-only files; on S3: object lock, test_storage)
    assert all((data / "objects" / object_key(sha)).stat().st_mode & 0o222 == 0 for sha in shas)


def test_fixity_finds_a_changed_original(filed: tuple[Path, Path], tmp_path: Path) -> None:
    data, _ = filed
    res = run_cli(["fixity", "--json"], data)
    report = json.loads(res.stdout)
    assert res.returncode == 0 and report["mismatches"] == []
    assert report["originals"] == 7 and report["derived"] >= 14  # text and pages of each, at least
    assert report["checked"] == report["originals"] + report["derived"]
    # one original changed behind the archive's back (copy the data dir: the fixture is shared)
    copy = tmp_path / "var"
    shutil.copytree(data, copy)
    svc = open_services(Settings(data_dir=copy))
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from archive.models import Record

    with Session(svc.engine) as s:
        rid, sha = s.execute(select(Record.id, Record.sha256).where(Record.title == "送达回证")).one()
    obj = copy / "objects" / object_key(sha)
    os.chmod(obj, 0o644)
    obj.write_bytes(obj.read_bytes() + b"\n")
    res = run_cli(["fixity", "--json"], copy)
    assert res.returncode == 1
    (bad,) = json.loads(res.stdout)["mismatches"]
    assert bad["record_id"] == rid and bad["sha256"] == sha and "送达回证" in res.stderr
