"""Every format an enforcement case produces, parsed from files the tests make themselves."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from pipelines.detect import detect_mime
from pipelines.isolation import LimitExceededError, run_limited
from pipelines.parsers import ParseContext, ParseError, ParseResult, parse_file
from pipelines.parsers.base import EncryptedError
from tests.conftest import IN_CI
from tests.support import documents as d
from tests.support.metrics import cer, squash
from tests.support.redaction_data import image_only_pdf, mixed_pdf

LINES = ["行政处罚决定书", "当事人：农安县宏达化工有限公司", "危险化学品仓库未设置可燃气体报警装置"]


def parse(path: Path, **limits: int) -> ParseResult:
    return run_limited(
        parse_file,
        path,
        ParseContext(mime=detect_mime(path)),
        timeout_s=300,
        memory_mb=limits.get("memory_mb", 4096),
    )


def test_text_pdf_pages_and_thumbnails(tmp_path: Path) -> None:
    r = parse(d.write_text_pdf(tmp_path / "a.pdf", ["第一页：立案审批表", "第二页：现场检查记录"]))
    assert [squash(p) for p in r.pages] == ["第一页：立案审批表", "第二页：现场检查记录"]
    assert not r.ocr and len(r.thumbnails) == 2
    assert Image.open(io.BytesIO(r.thumbnails[0])).format == "JPEG"


@pytest.mark.slow
def test_image_only_pdf_is_ocrd_with_boxes(tmp_path: Path) -> None:
    r = parse(image_only_pdf(tmp_path / "scan.pdf", [d.render_text_image(LINES)]))
    assert cer("".join(LINES), r.text) <= 0.02
    page = r.ocr[0]
    assert page["rotation"] == 0 and page["lines"]
    first = page["lines"][0]
    assert first["text"] == "行政处罚决定书" and len(first["box"]) == 4
    assert [w["text"] for w in first["words"]][:2] == ["行", "政"]  # per-character boxes for redaction
    assert r.warnings == ["第 1 页没有文字层，已 OCR 识别"]


@pytest.mark.slow
def test_mixed_pdf_gets_text_for_every_page(tmp_path: Path) -> None:
    scan = d.render_text_image(["送达回证", "受送达人：农安县宏达化工有限公司"])
    r = parse(mixed_pdf(tmp_path / "mixed.pdf", ["询问笔录", "被询问人：张建国"], scan))
    assert len(r.pages) == 2
    assert squash(r.pages[0]) == "询问笔录被询问人：张建国"
    assert cer("送达回证受送达人：农安县宏达化工有限公司", r.pages[1]) <= 0.05
    assert list(r.ocr) == [1]


@pytest.mark.slow
@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotated_scans_come_out_upright(tmp_path: Path, angle: int) -> None:
    image = d.render_text_image(LINES).rotate(angle, expand=True)
    path = tmp_path / f"rotated{angle}.png"
    image.save(path)
    r = parse(path)
    assert cer("".join(LINES), r.text) <= 0.05, r.text
    assert r.ocr[0]["rotation"] in {(360 - angle) % 360}
    assert r.text.splitlines()[0].startswith("行政处罚")  # reading order restored


@pytest.mark.slow
def test_noisy_jpeg_scan(tmp_path: Path) -> None:
    lines = d.wrap(d.DENSE)
    path = tmp_path / "noisy.jpg"
    d.noisy(d.render_text_image(lines)).save(path, "JPEG", quality=35)
    r = parse(path)
    assert cer(d.DENSE, r.text) <= 0.03, r.text


@pytest.mark.slow
def test_multipage_tiff_and_heic(tmp_path: Path) -> None:
    pages = [
        d.render_text_image(["第一页：责令限期整改指令书"]),
        d.render_text_image(["第二页：整改复查意见书"]),
    ]
    tiff = tmp_path / "scan.tif"
    pages[0].save(tiff, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    r = parse(tiff)
    assert r.metadata["frames"] == 2 and len(r.pages) == 2
    assert "责令限期整改" in squash(r.pages[0]) and "整改复查" in squash(r.pages[1])

    import pillow_heif

    pillow_heif.register_heif_opener()
    heic = tmp_path / "photo.heic"
    pages[0].save(heic, quality=90)
    assert detect_mime(heic) == "image/heic"
    assert "责令限期整改" in squash(parse(heic).text)


@pytest.mark.slow
def test_photo_exif_capture_time_device_gps(tmp_path: Path) -> None:
    r = parse(d.photo_with_exif(tmp_path / "现场照片.jpg"))
    assert r.metadata["captured_at"] == "2026-10-09T10:21:33"
    assert (r.metadata["make"], r.metadata["model"]) == ("DSJ", "DSJ-V9")
    assert r.metadata["gps"] == {
        "lat": pytest.approx(44.43, abs=1e-3),
        "lon": pytest.approx(125.17, abs=1e-3),
    }
    assert "安全出口" in squash(r.text)


def test_docx_with_table(tmp_path: Path) -> None:
    path = d.docx_with_table(tmp_path / "询问笔录.docx")
    assert detect_mime(path) == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    r = parse(path)
    assert "没有设置" in r.text and "可燃气体报警装置\t未设置" in r.text
    assert r.metadata["author"] == "周晓梅" and r.parser == "tika"


def test_xlsx(tmp_path: Path) -> None:
    path = d.xlsx_register(tmp_path / "邮寄登记.xlsx")
    assert detect_mime(path) == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = parse(path)
    assert "XA202610290001" in r.text and "农应急罚〔2026〕12号" in r.text


@pytest.fixture(scope="module")
def legacy_office(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if d.soffice() is None:
        if IN_CI:
            pytest.fail("LibreOffice is required in CI to make DOC/XLS files (.ci/run installs it)")
        pytest.skip("LibreOffice not installed")
    out = tmp_path_factory.mktemp("legacy")
    return {
        "doc": d.convert(d.docx_with_table(out / "询问笔录.docx"), "doc", out),
        "xls": d.convert(d.xlsx_register(out / "邮寄登记.xlsx"), "xls", out),
    }


def test_doc_and_xls_through_tika(legacy_office: dict[str, Path]) -> None:
    assert detect_mime(legacy_office["doc"]) == "application/x-tika-msoffice"
    assert "没有设置" in parse(legacy_office["doc"]).text
    assert "XA202610290001" in parse(legacy_office["xls"]).text


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_gbk_and_utf8_text(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "笔录.txt"
    path.write_bytes("询问笔录：当事人陈述属实。".encode(encoding))
    assert parse(path).text == "询问笔录：当事人陈述属实。"


def test_html_rtf_and_eml(tmp_path: Path) -> None:
    html = tmp_path / "公告.html"
    html.write_text("<!DOCTYPE html><html><body><h1>公告送达</h1><p>限期十日内领取决定书</p></body></html>")
    assert detect_mime(html) == "text/html" and "限期十日内领取决定书" in parse(html).text
    rtf = tmp_path / "通知.rtf"
    rtf.write_text(r"{\rtf1\ansi\ansicpg936 {\fonttbl\f0\fnil SimSun;}\f0 \u36131?\u20196?\u25913?\u27491?}")
    assert "责令改正" in parse(rtf).text
    eml = tmp_path / "邮件.eml"
    eml.write_bytes(
        "From: fazhi@nongan.gov.cn\nTo: zhangjg@example.com\nSubject: =?UTF-8?B?6ZmI6L+w55Sz6L6p?=\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        "请于五日内提交陈述申辩材料。\n".encode()
    )
    assert detect_mime(eml) == "message/rfc822"
    assert "陈述申辩材料" in parse(eml).text


def test_ofd(tmp_path: Path) -> None:
    path = d.ofd(tmp_path / "决定书.ofd", [["行政处罚决定书", "农应急罚〔2026〕12号"], ["罚款人民币伍万元"]])
    assert detect_mime(path) == "application/ofd"
    r = parse(path)
    assert r.pages == ["行政处罚决定书\n农应急罚〔2026〕12号", "罚款人民币伍万元"]
    assert r.metadata["title"] == "行政处罚决定书" and r.metadata["author"] == "农安县应急管理局"


# --- bad input: a clear reason, never a crash -----------------------------------------------


def test_zero_byte_truncated_corrupt_and_encrypted_pdfs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(ParseError, match="文件为空"):
        parse(empty)
    good = d.write_text_pdf(tmp_path / "good.pdf", ["行政处罚决定书"]).read_bytes()
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(good[: len(good) // 3])
    with pytest.raises(ParseError, match="PDF 文件已损坏"):
        parse(truncated)
    from reportlab.pdfgen import canvas

    enc = tmp_path / "encrypted.pdf"
    c = canvas.Canvas(str(enc), encrypt="secret-password")
    c.drawString(100, 700, "confidential")
    c.save()
    with pytest.raises(EncryptedError, match="PDF 已加密"):
        parse(enc)


def test_random_bytes_named_pdf_and_mp3_named_docx(tmp_path: Path) -> None:
    rnd = tmp_path / "决定书.pdf"
    rnd.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(4096)))
    with pytest.raises(ParseError, match="无法识别的文件格式"):
        parse(rnd)
    mp3 = tmp_path / "笔录.docx"
    mp3.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 500)
    assert detect_mime(mp3) == "audio/mpeg"
    with pytest.raises(ParseError, match="不是可识别的音视频格式"):  # an MP3 header with no audio in it
        parse(mp3)


def test_decompression_bomb_png(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="疑似解压炸弹"):
        parse(d.png_bomb(tmp_path / "bomb.png"))


@pytest.mark.slow
def test_zip_bomb_docx_is_stopped_by_the_memory_limit(tmp_path: Path) -> None:
    with pytest.raises(LimitExceededError, match="内存超过上限"):
        parse(d.docx_bomb(tmp_path / "bomb.docx", megabytes=1000), memory_mb=1024)


def test_time_limit_kills_a_stuck_parse() -> None:
    import time

    with pytest.raises(LimitExceededError, match="解析超时"):
        run_limited(time.sleep, 30, timeout_s=1, memory_mb=0)


TIKA_URL = __import__("os").environ.get("ARCHIVE_TEST_TIKA_URL")


@pytest.mark.skipif(
    not TIKA_URL, reason="needs a real Tika server: set ARCHIVE_TEST_TIKA_URL (none runs here)"
)
def test_docx_through_a_tika_server(tmp_path: Path) -> None:
    path = d.docx_with_table(tmp_path / "询问笔录.docx")
    ctx = ParseContext(mime=detect_mime(path), tika_url=TIKA_URL)
    r = run_limited(parse_file, path, ctx, timeout_s=120, memory_mb=0)
    assert "没有设置" in r.text and r.parser == "tika"
