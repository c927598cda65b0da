"""Realistic enforcement documents in every format the parsers handle, made by the tests."""

from __future__ import annotations

import io
import random
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from pipelines.samples import FONT, _font, write_pdf

DENSE = (
    "经查，农安县宏达化工有限公司危险化学品仓库未设置可燃气体报警装置，安全出口被货物堵塞，"
    "特种作业人员未持证上岗。上述行为违反了《中华人民共和国安全生产法》第三十六条的规定，"
    "依据第九十九条，责令限期整改，并处罚款人民币伍万元。当事人对违法事实无异议。"
)


def render_text_image(lines: list[str], scale: float = 200 / 72, size: float = 14) -> Image.Image:
    """A scan-like page image of ``lines`` (drawn with a PDF font, rendered by pdfium)."""
    buf = io.BytesIO()
    write_pdf_to(buf, lines, size)
    pdf = pdfium.PdfDocument(buf.getvalue())
    try:
        return pdf[0].render(scale=scale).to_pil().convert("RGB")
    finally:
        pdf.close()


def write_pdf_to(target: io.BytesIO | str, lines: list[str], size: float = 14) -> None:
    """One A4 page with ``lines`` in STSong of ``size`` points."""
    _font()
    c = canvas.Canvas(target, pagesize=A4, invariant=True)
    _, height = A4
    c.setFont(FONT, size)
    y = height - 72
    for line in lines:
        if y < 50:
            raise ValueError("too many lines for one A4 page")
        c.drawString(60, y, line)
        y -= size * 1.6
    c.showPage()
    c.save()


def wrap(text: str, width: int = 30) -> list[str]:
    """Cut text into lines of ``width`` characters."""
    return [text[i : i + width] for i in range(0, len(text), width)]


def noisy(image: Image.Image, seed: int = 1) -> Image.Image:
    """Blur, a slight skew and speckles, as a poor office scanner makes."""
    rng = random.Random(seed)
    im = image.rotate(1.5, expand=True, fillcolor="white").filter(ImageFilter.GaussianBlur(0.8))
    px = im.load()
    assert px is not None
    for _ in range(im.width * im.height // 400):
        px[rng.randrange(im.width), rng.randrange(im.height)] = (90, 90, 90)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=35)  # JPEG artefacts
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def docx_with_table(path: Path) -> Path:
    """An 询问笔录 with a table of inspection items."""
    import docx

    d = docx.Document()
    d.core_properties.author = "周晓梅"
    d.add_heading("询问笔录", 0)
    d.add_paragraph("问：你公司危险化学品仓库是否设置了可燃气体报警装置？")
    d.add_paragraph("答：没有设置，原来的报警器去年坏了。")
    table = d.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate(
        [("检查项目", "检查结论"), ("可燃气体报警装置", "未设置"), ("安全出口", "堵塞")]
    ):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    d.save(str(path))
    return path


def xlsx_register(path: Path) -> Path:
    """A 邮寄送达 register (第十八条) as a spreadsheet."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "邮寄登记"
    ws.append(["文书名称", "文号", "挂号单号", "收件人"])
    ws.append(["行政处罚决定书", "农应急罚〔2026〕12号", "XA202610290001", "农安县宏达化工有限公司"])
    wb.save(str(path))
    return path


def soffice() -> str | None:
    """The LibreOffice binary, if installed (CI installs it)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, fmt: str, outdir: Path) -> Path:
    """Convert with headless LibreOffice (e.g. DOCX → DOC, XLSX → XLS)."""
    binary = soffice()
    assert binary, "LibreOffice is needed to make legacy Office files"
    profile = outdir / "lo-profile"
    subprocess.run(
        [
            binary,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    out = outdir / (source.stem + "." + fmt.split(":")[0])
    assert out.exists(), f"LibreOffice did not write {out}"
    return out


def photo_with_exif(path: Path) -> Path:
    """A scene photo with capture time, camera and GPS (a 执法记录仪 still)."""
    im = render_text_image(["现场照片：仓库安全出口堵塞"], scale=1.0)
    exif = Image.Exif()
    exif[0x010F] = "DSJ"  # Make
    exif[0x0110] = "DSJ-V9"  # Model (EXIF strings are ASCII)
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2026:10:09 10:21:33"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (44.0, 25.0, 48.0)
    gps[3], gps[4] = "E", (125.0, 10.0, 12.0)
    im.save(path, "JPEG", exif=exif, quality=90)
    return path


def ofd(path: Path, pages: list[list[str]]) -> Path:
    """A minimal, valid OFD (GB/T 33190) package with text on each page."""
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    page_refs = "".join(
        f'<ofd:Page ID="{i + 10}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages))
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "OFD.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD">'
            "<ofd:DocBody><ofd:DocInfo><ofd:DocID>a1b2c3</ofd:DocID><ofd:Title>行政处罚决定书</ofd:Title>"
            "<ofd:Author>农安县应急管理局</ofd:Author><ofd:CreationDate>2026-10-28</ofd:CreationDate>"
            "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        )
        z.writestr(
            "Doc_0/Document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}>'
            "<ofd:CommonData><ofd:MaxUnitID>99</ofd:MaxUnitID><ofd:PageArea>"
            "<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData>"
            f"<ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>",
        )
        for i, lines in enumerate(pages):
            objs = "".join(
                f'<ofd:TextObject ID="{100 + n}" Boundary="20 {30 + n * 8} 170 8" Font="1" Size="4">'
                f'<ofd:TextCode X="0" Y="5">{line}</ofd:TextCode></ofd:TextObject>'
                for n, line in enumerate(lines)
            )
            z.writestr(
                f"Doc_0/Pages/Page_{i}/Content.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content>'
                f'<ofd:Layer ID="{50 + i}">{objs}</ofd:Layer></ofd:Content></ofd:Page>',
            )
    return path


def png_bomb(path: Path, side: int = 30000) -> Path:
    """A small PNG that claims ``side``×``side`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def docx_bomb(path: Path, megabytes: int = 2000) -> Path:
    """A DOCX whose document.xml inflates from ~2 MB to gigabytes of text (a zip bomb)."""
    good = io.BytesIO()
    import docx

    docx.Document().save(good)
    with (
        zipfile.ZipFile(io.BytesIO(good.getvalue())) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            if item.filename == "word/document.xml":
                with dst.open("word/document.xml", "w", force_zip64=True) as out:
                    out.write(
                        b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                        b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
                    )
                    block = b"A" * (1024 * 1024)
                    for _ in range(megabytes):
                        out.write(block)
                    out.write(b"</w:t></w:r></w:p></w:body></w:document>")
            else:
                dst.writestr(item, src.read(item))
    return path


def write_text_pdf(path: Path, pages: list[str]) -> Path:
    """A text-layer PDF (one string per page)."""
    return write_pdf(path, pages)


SLIDES = ["第一页 执法检查部署会", "第二页 可燃气体报警装置整改要求", "第三页 复查结论"]


def presentation(path: Path, slides: list[str] = SLIDES) -> Path:
    """A flat OpenDocument presentation (one text frame per slide), for LibreOffice to convert."""
    pages = "".join(
        f'<draw:page draw:name="p{n}"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="22cm" svg:height="3cm">'
        f"<draw:text-box><text:p>{text}</text:p></draw:text-box></draw:frame></draw:page>"
        for n, text in enumerate(slides, 1)
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.3" '
        'office:mimetype="application/vnd.oasis.opendocument.presentation">'
        f"<office:body><office:presentation>{pages}</office:presentation></office:body></office:document>",
        encoding="utf-8",
    )
    return path


def epub(path: Path, paragraph: str) -> Path:
    """A minimal EPUB 3 book of one chapter (a zip no Office or OFD check knows: Tika reads it)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="book.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        z.writestr(
            "book.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<dc:identifier id="id">urn:uuid:1</dc:identifier><dc:title>汇编</dc:title>'
            "<dc:language>zh</dc:language></metadata><manifest>"
            '<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>'
            '<spine><itemref idref="c1"/></spine></package>',
        )
        z.writestr(
            "c1.xhtml",
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>第一章</title></head><body><p>{paragraph}</p></body></html>",
        )
    return path
