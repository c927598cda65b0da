"""Every file a bureau keeps gets read: OpenDocument, Kingsoft WPS, presentations slide by slide,
text and HTML in any encoding, a second way into an Office file Tika fails on, Tika before
"unsupported", and a parser's bug told as a plain reason. All files are made here."""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.detect import detect_mime
from pipelines.isolation import run_limited
from pipelines.parsers import ParseContext, ParseError, ParseResult, parse_file, registry
from tests.conftest import IN_CI, run_cli
from tests.support import documents as d

pytestmark = pytest.mark.skipif(d.soffice() is None and not IN_CI, reason="LibreOffice makes the files")
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OLE2 = "application/x-tika-msoffice"
FIRE = "现场检查发现可燃气体报警装置缺失"


def parse(path: Path) -> ParseResult:
    return run_limited(parse_file, path, ParseContext(mime=detect_mime(path)), timeout_s=300, memory_mb=4096)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("office")
    docx = d.docx_with_table(out / "询问笔录.docx")
    xlsx = d.xlsx_register(out / "邮寄登记.xlsx")
    deck = d.presentation(out / "部署会.fodp")
    files = {
        "odt": d.convert(docx, "odt", out),
        "ods": d.convert(xlsx, "ods", out),
        "odp": d.convert(deck, "odp", out),
        "pptx": d.convert(deck, "pptx", out),
        "ppt": d.convert(deck, "ppt", out),
        "doc": d.convert(docx, "doc", out),
        "xls": d.convert(xlsx, "xls", out),
    }
    # Kingsoft WPS Office writes its .wps/.et/.dps in the OLE2 (or zip) containers of Word, Excel
    # and PowerPoint; the name never decides how a file is read.
    for source, name in [
        ("doc", "笔录.wps"),
        ("xls", "登记.et"),
        ("ppt", "部署会.dps"),
        ("odt", "笔录2.wps"),
    ]:
        files[name] = shutil.copy(files[source], out / name)
    files["docx"] = docx
    return files


def test_opendocument_files_are_read(made: dict[str, Path]) -> None:
    assert [detect_mime(made[k]) for k in ("odt", "ods", "odp")] == [ODT, ODS, ODP]
    assert "可燃气体报警装置" in parse(made["odt"]).text
    assert "农应急罚〔2026〕12号" in parse(made["ods"]).text


@pytest.mark.parametrize("kind", ["pptx", "ppt", "odp", "部署会.dps"])
def test_presentations_are_read_slide_by_slide(made: dict[str, Path], kind: str) -> None:
    r = parse(made[kind])
    assert r.pages == d.SLIDES  # the slide number is the hit's page
    assert r.metadata["slides"] == 3


def test_kingsoft_wps_files_are_read(made: dict[str, Path]) -> None:
    assert [detect_mime(made[k]) for k in ("笔录.wps", "登记.et", "部署会.dps", "笔录2.wps")] == [
        OLE2
    ] * 3 + [ODT]
    assert "可燃气体报警装置" in parse(made["笔录.wps"]).text
    assert "农应急罚〔2026〕12号" in parse(made["登记.et"]).text
    assert "可燃气体报警装置" in parse(made["笔录2.wps"]).text


ENCODED = [
    ("windows-1252", "Inspection – café Müller: extinguishers missing, fine €500.\n", "cp1252"),
    ("cp866 (DOS Cyrillic)", "Акт проверки: огнетушители отсутствуют на складе номер три.\n", "cp866"),
    ("EBCDIC cp500", "INSPECTION REPORT: EXTINGUISHERS MISSING AT WAREHOUSE THREE.\n", "cp500"),
    ("Big5", "詢問筆錄：現場檢查發現可燃氣體報警裝置缺失，責令限期整改。\n", "big5"),
    ("GB18030", "询问笔录：现场检查发现可燃气体报警装置缺失，责令限期整改。\n", "gb18030"),
    ("UTF-16 without a mark", "询问笔录 Inspection record 2026\n", "utf-16-le"),
]


@pytest.mark.parametrize(("label", "text", "encoding"), ENCODED, ids=[e[0] for e in ENCODED])
def test_text_in_any_encoding_is_read(tmp_path: Path, label: str, text: str, encoding: str) -> None:
    path = tmp_path / "记录.txt"
    path.write_bytes((text * 3).encode(encoding))
    assert detect_mime(path) == "text/plain", label
    r = parse(path)
    assert r.text == text * 3
    assert (text * 3).encode(r.metadata["encoding"]) == path.read_bytes()  # the encoding it names reads it


HTML = [
    (
        "UTF-16LE",
        f"<html><head><title>记录</title></head><body><p>{FIRE}</p></body></html>".encode("utf-16-le"),
        FIRE,
    ),
    (
        "GB18030 labelled iso-8859-1",
        f'<html><head><meta charset="iso-8859-1"></head><body><p>{FIRE}</p></body></html>'.encode("gb18030"),
        FIRE,
    ),
    (
        "windows-1252",
        "<html><body><p>Café Müller – fine €500</p></body></html>".encode("cp1252"),
        "Café Müller – fine €500",
    ),
]


@pytest.mark.parametrize(("label", "data", "expected"), HTML, ids=[h[0] for h in HTML])
def test_html_in_any_encoding_is_read(tmp_path: Path, label: str, data: bytes, expected: str) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(data)
    assert detect_mime(path) == "text/html", label
    assert expected in parse(path).text


def _rebuilt(source: Path, target: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, change(item.filename, zin.read(item.filename)))
    return target


def test_an_office_file_tika_fails_on_is_read_a_second_way(made: dict[str, Path], tmp_path: Path) -> None:
    broken = _rebuilt(
        made["docx"],
        tmp_path / "笔录.docx",
        lambda name, data: b"<Relationships" if name == "_rels/.rels" else data,
    )
    r = parse(broken)
    assert r.parser == "plaintext" and "可燃气体报警装置" in r.text
    assert (
        len(r.warnings) == 1 and "Apache Tika 未能解析" in r.warnings[0] and "版面可能不完整" in r.warnings[0]
    )


def test_both_reasons_are_kept_when_the_second_way_finds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "坏文档.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088))
    with pytest.raises(ParseError) as exc:
        parse(path)
    reason = str(exc.value)
    assert "文档已损坏或格式不正确" in reason and "以纯文本方式读取也未找到文字" in reason


def test_a_type_nothing_else_knows_is_tried_with_tika_first(tmp_path: Path) -> None:
    book = d.epub(tmp_path / "法规汇编.epub", "第二十五条 音像记录应当在二个工作日内上传")
    assert detect_mime(book) == "application/zip"
    assert "二个工作日内上传" in parse(book).text
    noise = tmp_path / "未知.bin"
    noise.write_bytes(bytes((i * 131 + 17) % 256 for i in range(8192)))
    with pytest.raises(ParseError, match=r"无法识别的文件格式.*Apache Tika 也未能读出内容"):
        parse(noise)


def test_a_truncated_office_file_is_called_incomplete(made: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "截断.docx"
    cut.write_bytes(made["docx"].read_bytes()[:2000])
    with pytest.raises(ParseError, match="已损坏或不完整"):
        parse(cut)


def test_a_parsers_bug_is_a_plain_reason_and_a_logged_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        name = "broken"

        def score(self, mime: str) -> int:
            return 100 if mime == "text/plain" else 0

        def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
            raise AttributeError("'NoneType' object has no attribute 'name'")

    monkeypatch.setattr(registry, "PARSERS", [Broken(), *registry.PARSERS])
    path = tmp_path / "a.txt"
    path.write_text("询问笔录", encoding="utf-8")
    with (
        caplog.at_level(logging.ERROR, logger="pipelines.parsers.registry"),
        pytest.raises(ParseError) as exc,
    ):
        parse_file(path, ParseContext(mime="text/plain"))
    assert str(exc.value).startswith("解析程序未能读取该文件（AttributeError）") and "内部错误" not in str(
        exc.value
    )
    assert [r.exc_info is not None for r in caplog.records] == [True]


@pytest.mark.slow
def test_ingested_office_files_are_found_on_their_slide(made: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "案卷"
    src.mkdir()
    for key in ("odt", "pptx", "笔录.wps"):
        shutil.copy(made[key], src / made[key].name)
    (src / "检查记录.txt").write_bytes("詢問筆錄：現場檢查發現滅火器過期。\n".encode("big5"))
    data = tmp_path / "var"
    res = run_cli(["ingest", str(src), "--json"], data)
    report = json.loads(res.stdout)
    assert (report["ingested"], report["failed"]) == (4, []), res.stderr[-2000:]
    hits = json.loads(run_cli(["search", "整改要求", "--json"], data).stdout)["hits"]
    assert [(h["title"], h["page"]) for h in hits] == [("部署会", 2)]
    found = json.loads(run_cli(["search", "可燃气体报警装置", "--json"], data).stdout)["hits"]
    assert sorted(h["title"] for h in found) == sorted(["询问笔录", "笔录", "部署会"])  # ODT, WPS, slide 2
    assert json.loads(run_cli(["search", "滅火器過期", "--json"], data).stdout)["total"] == 1  # Big5 text
