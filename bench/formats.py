"""Ingest a mixed folder of every kind of file a bureau keeps and report, per format, how many were
read and why the others were not.

The folder is made here: PDFs (text, scanned, random bytes), DOCX/XLSX/DOC/XLS, OpenDocument
text/spreadsheet/presentation, PPTX/PPT, Kingsoft WPS (.wps/.et/.dps), OFD, text in seven
encodings, HTML in three, an EPUB (a zip no check knows, for Tika), photos, speech as WAV and as
.m4a with cover art, a metadata-only .mp4, an encrypted .m4a, and broken files (empty,
truncated, mislabelled, unknown bytes). It runs `archive ingest --json` as a user would, then
reads each record's status from the database. "internal_errors" counts failures that are a
program's exception rather than a reason about the file; it must be 0.

Usage: .venv/bin/python bench/formats.py
The last line is JSON: {"files", "parsed", "failed", "internal_errors", "by_format": {...}}.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.models import ProcessingStatus  # noqa: E402
from tests.support import documents as d  # noqa: E402
from tests.support import media as m  # noqa: E402
from tests.support.records import stored_records  # noqa: E402
from tests.support.redaction_data import image_only_pdf  # noqa: E402

INTERNAL = ("处理程序出错", "解析程序未能读取", "内部错误", "Traceback")
FIRE = "现场检查发现可燃气体报警装置缺失，责令限期整改"


def make_folder(src: Path, work: Path) -> None:
    """Every kind of file, named by what it is."""
    docx = d.docx_with_table(work / "询问笔录.docx")
    xlsx = d.xlsx_register(work / "邮寄登记.xlsx")
    deck = d.presentation(work / "部署会.fodp")
    for path in (docx, xlsx):
        shutil.copy(path, src)
    for source, fmt in [(docx, "doc"), (xlsx, "xls"), (docx, "odt"), (xlsx, "ods"), (deck, "odp")]:
        shutil.copy(d.convert(source, fmt, work), src)
    for fmt in ("pptx", "ppt"):
        shutil.copy(d.convert(deck, fmt, work), src)
    shutil.copy(src / "询问笔录.doc", src / "询问笔录.wps")
    shutil.copy(src / "邮寄登记.xls", src / "邮寄登记.et")
    shutil.copy(src / "部署会.ppt", src / "部署会.dps")
    d.write_text_pdf(src / "立案审批表.pdf", ["立案审批表：同意立案调查", "第二页：案件来源"])
    image_only_pdf(src / "送达回证扫描.pdf", [d.render_text_image(["送达回证", "受送达人签收：张建国"])])
    d.ofd(src / "处罚决定书.ofd", [["罚款人民币伍万元"]])
    d.photo_with_exif(src / "现场照片.jpg")
    d.render_text_image(["现场检查记录", "责令限期整改"]).save(src / "检查记录.png")
    d.epub(src / "法规汇编.epub", "第二十五条 音像记录应当在二个工作日内上传")
    for name, text, enc in [
        ("utf8.txt", FIRE, "utf-8"),
        ("gb18030.txt", FIRE, "gb18030"),
        ("big5.txt", "詢問筆錄：現場檢查發現可燃氣體報警裝置缺失", "big5"),
        ("utf16.txt", FIRE, "utf-16"),
        ("cp1252.txt", "Inspection – café Müller: extinguishers missing, fine €500", "cp1252"),
        ("cp866.txt", "Акт проверки: огнетушители отсутствуют на складе номер три", "cp866"),
        ("ebcdic.txt", "INSPECTION REPORT: EXTINGUISHERS MISSING AT WAREHOUSE THREE", "cp500"),
    ]:
        (src / name).write_bytes(((text + "\n") * 3).encode(enc))
    page = f"<html><head><title>记录</title></head><body><p>{FIRE}</p></body></html>"
    (src / "utf16le.html").write_bytes(page.encode("utf-16le"))
    (src / "错误标注.html").write_bytes(
        page.replace("<head>", '<head><meta charset="iso-8859-1">').encode("gb18030")
    )
    (src / "cp1252.html").write_bytes("<html><body><p>Café Müller – €500</p></body></html>".encode("cp1252"))
    wav = src / "询问录音.wav"
    m.speech_wav(wav, "yi1 er4 san1 si4 wu3 liu4 qi1 ba1, xie4 xie4")
    cover = work / "封面.jpg"
    m.still_image(cover)
    m.m4a_with_covers(src / "带封面录音.m4a", wav, [cover])
    m.metadata_only_mp4(src / "只有元数据.mp4", "现场勘验记录", "2024-03-05T08:30:00Z", "执法仪导出")
    m.cenc_m4a(src / "加密录音.m4a", wav)
    (src / "空文件.pdf").write_bytes(b"")
    (src / "乱码.pdf").write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))
    (src / "截断.docx").write_bytes(docx.read_bytes()[:2000])
    (src / "录音改名.docx").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 200)
    (src / "未知.bin").write_bytes(bytes((i * 131 + 17) % 256 for i in range(8192)))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="formats-") as tmp:
        src, work, data = Path(tmp) / "混合文件夹", Path(tmp) / "work", Path(tmp) / "var"
        src.mkdir()
        work.mkdir()
        made = time.perf_counter()
        make_folder(src, work)
        made = time.perf_counter() - made
        env = {**os.environ, "ARCHIVE_DATA_DIR": str(data)}
        started = time.perf_counter()
        run = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "archive"), "ingest", str(src), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            cwd=ROOT,
        )
        took = time.perf_counter() - started
        report = json.loads(run.stdout)
        reasons = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
        for r in stored_records(data).values():
            if r.status is ProcessingStatus.FAILED:
                reasons[r.original_name] = r.error or ""
        files = sorted(p.name for p in src.iterdir())
        by_format: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "parsed": 0, "failed": 0})
        print(f"{'file':24} {'result':8} reason")
        for name in files:
            fmt = Path(name).suffix.lower().lstrip(".") or "?"
            row = by_format[fmt]
            row["files"] += 1
            failed = name in reasons
            row["failed" if failed else "parsed"] += 1
            print(f"{name:24} {'failed' if failed else 'parsed':8} {reasons.get(name, '')[:120]}")
        internal = sorted(n for n, why in reasons.items() if any(k in why for k in INTERNAL))
        print(f"\n{'format':8} {'files':>5} {'parsed':>6} {'failed':>6}")
        for fmt, row in sorted(by_format.items()):
            print(f"{fmt:8} {row['files']:5d} {row['parsed']:6d} {row['failed']:6d}")
        figures = {
            "files": len(files),
            "parsed": len(files) - len(reasons),
            "failed": len(reasons),
            "internal_errors": len(internal),
            "internal_error_files": internal,
            "make_s": round(made, 1),
            "ingest_s": round(took, 1),
            "by_format": dict(sorted(by_format.items())),
        }
        print(
            f"\n{figures['files']} files: {figures['parsed']} parsed, {figures['failed']} failed with a "
            f"reason, {figures['internal_errors']} internal errors; ingest {took:.1f} s"
        )
        print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
