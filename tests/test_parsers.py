"""Type detection from bytes, and the text and PDF parsers on real generated files."""

from __future__ import annotations

from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from pipelines.detect import detect_mime, sniff
from pipelines.parsers import ParseContext, ParseError, UnsupportedFormatError, parse_file, pick_parser
from pipelines.samples import write_pdf


def test_mime_comes_from_bytes_not_the_name(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "看起来是文本.txt", ["行政处罚决定书"])
    assert detect_mime(pdf) == "application/pdf"
    fake = tmp_path / "决定书.pdf"
    fake.write_text("这其实是纯文本", encoding="utf-8")
    assert detect_mime(fake) == "text/plain"
    assert sniff(b"") == "application/x-empty"
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff(b"\x00\x01\x02\x03binary\x00") == "application/octet-stream"
    assert sniff("询问笔录".encode("gb18030")) == "text/plain"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_text_in_utf8_and_gbk(tmp_path: Path, encoding: str) -> None:
    body = "询问笔录\r\n问：你公司是否设置了可燃气体报警装置？\r\n答：没有。"
    p = tmp_path / "询问笔录.txt"
    p.write_bytes(body.encode(encoding))
    result = parse_file(p, ParseContext(mime=detect_mime(p)))
    assert result.text == body.replace("\r\n", "\n")
    assert result.pages == [result.text]


def test_pdf_text_per_page(tmp_path: Path) -> None:
    p = write_pdf(
        tmp_path / "决定书.pdf", ["第一页：行政处罚决定书", "第二页：责令限期整改", "第三页：送达回证"]
    )
    result = parse_file(p, ParseContext(mime="application/pdf"))
    assert len(result.pages) == 3
    assert "行政处罚决定书" in result.pages[0] and "责令限期整改" in result.pages[1]
    assert "送达回证" in result.pages[2]
    assert not result.warnings


def test_pdf_page_without_text_layer_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "扫描件.pdf"
    c = canvas.Canvas(str(p))
    c.rect(100, 100, 200, 200, fill=1)  # a page with only graphics, like a scan
    c.showPage()
    c.save()
    result = parse_file(p, ParseContext(mime="application/pdf"))
    assert result.warnings == ["第 1 页没有文字层，已 OCR 识别"]


def test_corrupt_pdf_gives_a_clear_reason(tmp_path: Path) -> None:
    p = tmp_path / "损坏.pdf"
    p.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    with pytest.raises(ParseError, match="PDF 文件已损坏"):
        parse_file(p, ParseContext(mime="application/pdf"))


def test_encrypted_pdf_gives_a_clear_reason(tmp_path: Path) -> None:
    p = tmp_path / "加密.pdf"
    c = canvas.Canvas(str(p), encrypt="secret-password")
    c.drawString(100, 700, "confidential")
    c.save()
    with pytest.raises(ParseError, match="PDF 已加密"):
        parse_file(p, ParseContext(mime="application/pdf"))


def test_empty_and_unsupported_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(ParseError, match="文件为空"):
        parse_file(empty, ParseContext(mime=detect_mime(empty)))
    with pytest.raises(UnsupportedFormatError, match="暂不支持"):
        pick_parser("application/x-no-such-type")
    assert pick_parser("application/octet-stream").name == "tika"  # tried before "unsupported"
