"""A "leak corpus": files a county bureau holds, each with (or, for controls, without) personal data
of people other than the requesting party. Redaction tests upload them, release redacted versions
and check that no ``hidden`` value reaches the party while his own ``visible`` values stay."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import wave
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import XMP
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from pipelines import pii
from pipelines.samples import FONT, _font
from tests.support import redaction_data as rd
from tests.support.documents import DENSE, render_text_image, wrap


def _luhn_complete(first: str) -> str:
    """``first`` and the Luhn check digit that makes it valid."""
    return next(first + d for d in "0123456789" if pii.luhn_valid(first + d))


THIRD_ID = "43010319900101123" + pii.id_card_check_char("43010319900101123")
BANK_CARD = _luhn_complete("622202100112345678")
CREDIT_CODE = "91430104MA4L12345" + pii.credit_code_check_char("91430104MA4L12345")
WITNESS_ID = "22012219780611003" + pii.id_card_check_char("22012219780611003")  # only in the XLSX list
WITNESS_MOBILE = "13504417752"
assert (
    pii.id_card_valid(THIRD_ID) and pii.id_card_valid(WITNESS_ID) and pii.id_card_valid("220122198503154214")
)
assert len(BANK_CARD) == 19 and pii.luhn_valid(BANK_CARD) and pii.credit_code_valid(CREDIT_CODE)


@dataclass(frozen=True)
class People:
    requester: str = "张建国"  # the party who requests; his name and ID stay visible to him
    requester_id: str = "220122198503154214"
    witness: str = "李明"
    third: str = "王秀英"  # another person named in the case (a 当事人 too, not the requester)
    third_id: str = THIRD_ID
    third_mobile: str = "13904318866"
    third_landline: str = "0431-88886666"
    bank_card: str = BANK_CARD
    credit_code: str = CREDIT_CODE
    address: str = "吉林省长春市农安县黄龙路18号3栋2单元"


@dataclass(frozen=True)
class LeakFile:
    name: str  # file name to upload, e.g. "01-id-line-wrap.pdf"
    path: Path
    hidden: tuple[str, ...]  # values that must never reach the party, written canonically
    visible: tuple[str, ...]  # values of the requester that must stay visible to him
    why: str  # one line: what this file tests
    kind: str  # "pdf" | "image" | "office" | "text" | "audio"
    pages: int  # pages/frames (1 for audio/text)
    spoken: tuple[float, float] | None = None  # audio only: seconds where the hidden value is spoken


Builder = Callable[[Path, People], LeakFile]
CASE = "案号：农应急罚〔2026〕37号"
QA = """问：我们是农安县应急管理局执法人员，这是我们的执法证件，你看清楚了吗？
答：看清楚了。
问：仓库里的可燃气体报警装置为什么没有设置？
答：去年报警器坏了，一直没修。
问：安全出口被货物堵塞的情况你知道吗？
答：知道，是临时放的。"""
PROSE = "\n".join(wrap(DENSE, 38))
PINYIN_DIGITS = ["ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"]
FAKE_DIGITS = "QWERTYUPAS"  # what file 6's broken ToUnicode CMap claims the digits 0-9 are
ZIP_TIME = (2026, 10, 9, 10, 21, 33)


def digits(s: str) -> str:
    """The canonical form of a number: its digits (and letters) only."""
    return re.sub(r"[^0-9A-Za-z]", "", s)


def fullwidth(s: str) -> str:
    """ASCII digits and letters as full-width characters (０-９, Ａ-Ｚ)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in s)


def chinese_numerals(s: str) -> str:
    """Digits written as Chinese numerals (一三九零…)."""
    return "".join("零一二三四五六七八九"[int(c)] for c in s)


def grouped(s: str, *sizes: int) -> str:
    """``s`` cut into groups of ``sizes`` (the last size repeats) joined by spaces."""
    out, i, n = [], 0, 0
    while i < len(s):
        size = sizes[min(n, len(sizes) - 1)]
        out.append(s[i : i + size])
        i, n = i + size, n + 1
    return " ".join(out)


Values = tuple[str, ...]


def _leak(path: Path, hidden: Values, why: str, kind: str, visible: Values = (), pages: int = 1) -> LeakFile:
    return LeakFile(path.name, path, hidden, visible, why, kind, pages)


def _pdf(path: Path, text: str, hidden: Values, why: str, visible: Values = ()) -> LeakFile:
    """A one-page text-layer PDF (STSong 12 pt), one line of ``text`` per PDF line."""
    return _leak(rd.text_pdf(path, [text.split("\n")]), hidden, why, "pdf", visible)


def _png(path: Path, text: str, hidden: Values, why: str) -> LeakFile:
    """A straight greyscale 200 dpi scan of ``text`` as PNG."""
    rd.scan(text.split("\n")).image.convert("L").save(path, "PNG", optimize=True)
    return _leak(path, hidden, why, "image")


def _canvas(path: Path | io.BytesIO, **kw: int) -> canvas.Canvas:
    _font()
    c = canvas.Canvas(path if isinstance(path, io.BytesIO) else str(path), pagesize=A4, invariant=True, **kw)
    c.setFont(FONT, rd.SIZE_PT)
    return c


def _lines(c: canvas.Canvas, text: str) -> None:
    for n, line in enumerate(text.split("\n")):
        c.drawString(rd.LEFT_PT, rd.baseline_pt(n), line)


def _freeze_zip(path: Path) -> None:
    """Rewrite an Office zip with fixed entry times and document dates (same input → same bytes)."""
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2026-10-09T10:21:33Z", data
                )
            z.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, zipfile.ZIP_DEFLATED)


def _receipt(p: People) -> str:
    return f"""送达回证
{CASE}
送达文书：行政处罚决定书
受送达人：{p.third}
身份证号：{p.third_id}
联系电话：{p.third_mobile}
送达地点：{p.address}
送达方式：留置送达
见证人：{p.witness}（村委会工作人员）
送达人：孙立军、周晓梅"""


# --- text-layer PDFs ------------------------------------------------------------------------------


def id_line_wrap(folder: Path, p: People) -> LeakFile:
    """The third person's ID split by a line wrap: 6 digits end one line, 12 start the next."""
    text = f"""询问笔录
{CASE}
询问时间：2026年10月9日9时30分至10时15分
询问地点：农安县应急管理局三楼询问室
被询问人：{p.third}　性别：女　民族：汉　身份证号{p.third_id[:6]}
{p.third_id[6:]}　工作单位：农安县宏达化工有限公司
询问人：孙立军、周晓梅　记录人：吴国庆
{QA}"""
    return _pdf(folder / "01-id-line-wrap.pdf", text, (p.third, p.third_id), "ID split 6/12 by a line wrap")


def mobile_line_wrap(folder: Path, p: People) -> LeakFile:
    """The third person's mobile split by a line wrap (1390431 / 8866)."""
    text = f"""现场检查记录
{CASE}
被检查单位：农安县宏达化工有限公司
检查时间：2026年10月9日10时00分
现场负责人：{p.third}（仓库主管），联系电话{p.third_mobile[:7]}
{p.third_mobile[7:]}，当场确认以下检查情况。
{PROSE}"""
    why = "mobile split 7/4 by a line wrap"
    return _pdf(folder / "02-mobile-line-wrap.pdf", text, (p.third, p.third_mobile), why)


def separators(folder: Path, p: People) -> LeakFile:
    """Mobile written with spaces, hyphens and dots; IDs grouped 6-8-4 (the requester's stays visible)."""
    m = p.third_mobile
    text = f"""送达地址确认书
{CASE}
受送达人：{p.requester}　身份证号：{grouped(p.requester_id, 6, 8, 4)}
其他当事人：{p.third}　身份证号：{grouped(p.third_id, 6, 8, 4)}
联系电话：{m[:3]} {m[3:7]} {m[7:]}
备用电话：{m[:3]}-{m[3:7]}-{m[7:]}
短信号码：{m[:3]}.{m[3:7]}.{m[7:]}
受送达人同意以上述方式接收行政执法文书。"""
    why = "mobile as 3-4-4 with space/hyphen/dot; IDs grouped 6-8-4"
    hidden, visible = (p.third, p.third_id, m), (p.requester, p.requester_id)
    return _pdf(folder / "03-number-separators.pdf", text, hidden, why, visible)


def numerals_fullwidth(folder: Path, p: People) -> LeakFile:
    """Mobile in Chinese numerals and in full-width digits; ID in full-width digits."""
    text = f"""询问笔录（续）
{CASE}
被询问人：{p.third}
联系电话：{chinese_numerals(p.third_mobile)}
手机：{fullwidth(p.third_mobile)}
身份证号：{fullwidth(p.third_id)}
{QA}"""
    why = "mobile in Chinese numerals and full-width digits, ID in full-width digits"
    hidden = (p.third, p.third_mobile, p.third_id)
    return _pdf(folder / "04-chinese-fullwidth-digits.pdf", text, hidden, why)


def scan_with_footer(folder: Path, p: People) -> LeakFile:
    """A scanned page (image) whose only text layer is a tiny Latin scanner footer."""
    path = folder / "05-scan-with-footer.pdf"
    c = _canvas(path)
    c.drawImage(ImageReader(rd.scan(_receipt(p).split("\n")).image.convert("L")), 0, 0, *A4)
    c.setFont("Helvetica", 6)
    c.drawString(rd.LEFT_PT, 12, "Scanned by MFP-3000 Page 1 of 1")
    c.showPage()
    c.save()
    hidden = (p.third, p.third_id, p.third_mobile, p.address, p.witness)
    return _leak(path, hidden, "scanned page whose real text layer is only a footer", "pdf")


def broken_tounicode(folder: Path, p: People) -> LeakFile:
    """Digits drawn in embedded DejaVu whose ToUnicode CMap maps 0-9 to letters: the page shows
    the ID and phone, the extracted text does not."""
    if "LeakDejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("LeakDejaVu", str(rd.DEJAVU)))  # ASCII-readable subset: code = byte
    buf = io.BytesIO()
    c = _canvas(buf, pageCompression=0)  # the ToUnicode stream stays plain text
    rows = [("询问笔录（续页）", ""), (CASE, ""), (f"被询问人：{p.third}", ""), ("身份证号：", p.third_id)]
    for n, (label, number) in enumerate([*rows, ("联系电话：", p.third_mobile), ("以上内容核对无误。", "")]):
        c.setFont(FONT, rd.SIZE_PT)
        c.drawString(rd.LEFT_PT, rd.baseline_pt(n), label)
        c.setFont("LeakDejaVu", rd.SIZE_PT)  # the number right after its label, in content order
        c.drawString(rd.LEFT_PT + 5 * rd.SIZE_PT, rd.baseline_pt(n), number)
    c.showPage()
    c.save()
    data = buf.getvalue()
    for d in range(10):  # same-length edits: the stream /Length and the xref offsets stay right
        old = b"<%02X> <%04X>" % (0x30 + d, 0x30 + d)
        assert data.count(old) == 1, old
        data = data.replace(old, b"<%02X> <%04X>" % (0x30 + d, ord(FAKE_DIGITS[d])))
    path = folder / "06-broken-tounicode.pdf"
    path.write_bytes(data)
    pdf = pdfium.PdfDocument(data)
    text = pdf[0].get_textpage().get_text_range()
    pdf.close()
    assert p.third in text and p.third_id not in text and p.third_mobile not in text, text
    why = "text layer lies: ToUnicode maps the drawn digits to letters"
    return _leak(path, (p.third, p.third_id, p.third_mobile), why, "pdf")


def invisible_over_image(folder: Path, p: People) -> LeakFile:
    """A full-page image with PII under an invisible (render mode 3) harmless text layer."""
    path = folder / "07-invisible-text-over-image.pdf"
    lines = ["现场检查记录附页", CASE, f"现场负责人：{p.third}", f"身份证号：{p.third_id}"]
    lines += [f"联系电话：{p.third_mobile}", f"见证人：{p.witness}"]
    c = _canvas(path)
    c.drawImage(ImageReader(render_text_image(lines, scale=150 / 72).convert("L")), 0, 0, *A4)
    t = c.beginText(rd.LEFT_PT, A4[1] - 72)
    t.setTextRenderMode(3)
    t.setFont(FONT, rd.SIZE_PT)
    t.textLine("现场照片")
    c.drawText(t)
    c.showPage()
    c.save()
    hidden = (p.third, p.third_id, p.third_mobile, p.witness)
    return _leak(path, hidden, "image with PII under an invisible harmless text layer", "pdf")


def _note(lines: list[str]) -> Image.Image:
    """A small yellow note with ``lines``, stuck on slightly askew."""
    im = Image.new("RGB", (900, 90 + 70 * len(lines)), (252, 240, 160))
    draw = ImageDraw.Draw(im)
    for n, line in enumerate(lines):
        draw.text((40, 45 + 70 * n), line, font=rd.draw_font(44), fill=(30, 30, 90))
    return im.rotate(-2, expand=True, fillcolor="white", resample=Image.Resampling.BICUBIC)


def embedded_note(folder: Path, p: People) -> LeakFile:
    """A text-layer page (harmless text) holding a photo of a note with the mobile and ID."""
    path = folder / "08-embedded-note-image.pdf"
    c = _canvas(path)
    _lines(c, f"现场检查记录\n{CASE}\n检查情况：仓库门口张贴有联系人便条，拍照附后。\n{PROSE}")
    note = _note([f"联系人 {p.third}", f"手机 {p.third_mobile}", f"身份证 {p.third_id}"])
    c.drawImage(ImageReader(note), rd.LEFT_PT, 300, width=320, height=320 * note.height / note.width)
    c.showPage()
    c.save()
    why = "PII only inside an image embedded in a text-layer page"
    return _leak(path, (p.third, p.third_mobile, p.third_id), why, "pdf")


def metadata_annotation(folder: Path, p: People) -> LeakFile:
    """PII in the document info, XMP and a text annotation; the page text has only the witness."""
    path = folder / "13-metadata-annotation.pdf"
    c = _canvas(path)
    c.setTitle(f"询问笔录（{p.third}）")
    c.setAuthor("孙立军")
    c.setSubject(f"当事人{p.third}，身份证号{p.third_id}")
    c.setKeywords(f"{p.third},{p.third_id},询问笔录")
    xmp = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
        f"询问笔录 {p.third} {p.third_id}</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF>"
        '</x:xmpmeta><?xpacket end="w"?>'
    ).encode()
    c.setCatalogEntry("Metadata", XMP(creator=lambda _doc: xmp))
    _lines(c, f"询问笔录（见证页）\n{CASE}\n见证人：{p.witness}\n{PROSE}")
    c.textAnnotation(f"核对：{p.third}，身份证号{p.third_id}", Rect=(400, 700, 420, 720))
    c.showPage()
    c.save()
    why = "PII in PDF info, XMP and an annotation, not in the page text"
    return _leak(path, (p.third, p.third_id, p.witness), why, "pdf")


def pii_on_page_five(folder: Path, p: People) -> LeakFile:
    """Six pages of enforcement prose; PII only on page 5."""
    pages = []
    for n in range(1, 7):
        lines = [f"现场检查记录（第{n}页 共6页）", CASE, *wrap(DENSE * 8, 38)[:28]]
        if n == 5:
            lines[10:10] = [f"现场负责人：{p.third}，身份证号{p.third_id}，"]
            lines[11:11] = [f"联系电话{p.third_mobile}，住址{p.address}。"]
        pages.append(lines)
    path = rd.text_pdf(folder / "15-six-pages-pii-p5.pdf", pages)
    hidden = (p.third, p.third_id, p.third_mobile, p.address)
    return _leak(path, hidden, "six pages, PII only on page 5", "pdf", pages=6)


def control_pdf(folder: Path, p: People) -> LeakFile:
    """Control: enforcement prose with no personal data."""
    text = f"行政处罚决定书\n{CASE}\n" + "\n".join(wrap(DENSE * 3, 38))
    return _pdf(folder / "18-control-prose.pdf", text, (), "control: text-layer PDF without personal data")


def requester_own(folder: Path, p: People) -> LeakFile:
    """The requester's own name and ID (stay visible) next to the witness (hidden)."""
    text = f"""送达回证
{CASE}
送达文书：行政处罚告知书
受送达人：{p.requester}
身份证号：{p.requester_id}
送达方式：直接送达
见证人：{p.witness}
送达人：孙立军、周晓梅"""
    why = "the party's own name and ID stay visible; the witness is hidden"
    return _pdf(folder / "21-requester-own.pdf", text, (p.witness,), why, (p.requester, p.requester_id))


def credit_code_card_wrap(folder: Path, p: People) -> LeakFile:
    """A company credit code written in groups of four; a 19-digit bank card split by a line wrap."""
    text = f"""先行登记保存物品处理决定书
{CASE}
第三方单位：农安县鑫源商贸有限公司
统一社会信用代码：{grouped(p.credit_code, 4)}
退还保证金收款人：{p.third}　银行卡号{p.bank_card[:12]}
{p.bank_card[12:]}（中国农业银行农安支行）
{PROSE}"""
    why = "credit code grouped by fours; bank card split 12/7 by a line wrap"
    return _pdf(folder / "22-credit-code-card-wrap.pdf", text, (p.credit_code, p.bank_card, p.third), why)


# --- images ---------------------------------------------------------------------------------------


def angled_photo(folder: Path, p: People) -> LeakFile:
    """A JPEG phone photo of the upper part of a page at 10°, blurred and noisy, with EXIF camera,
    time and GPS."""
    page = render_text_image(_receipt(p).split("\n")[:9], scale=150 / 72)
    page = page.crop((0, 0, page.width, page.height * 9 // 20))
    im = page.rotate(10, expand=True, fillcolor=(118, 118, 118), resample=Image.Resampling.BICUBIC)
    im = im.filter(ImageFilter.GaussianBlur(0.9))
    noise = np.random.default_rng(9).normal(0, 4, (im.height, im.width, 1))
    im = Image.fromarray(np.clip(np.asarray(im, np.float64) + noise, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "HUAWEI", "ELS-AN00", "2026:10:09 10:21:33"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (44.0, 25.0, 48.0), "E", (125.0, 10.0, 12.0)
    path = folder / "09-angled-photo.jpg"
    im.save(path, "JPEG", exif=exif, quality=80)
    hidden = (p.third, p.third_id, p.third_mobile, p.address, p.witness)
    return _leak(path, hidden, "photo of a page at 10 degrees with EXIF camera/time/GPS", "image")


def scan_landline_card(folder: Path, p: People) -> LeakFile:
    """A straight PNG scan with the landline, a bank card grouped 4-4-4-4-3 and the address."""
    text = f"""罚没款退还账户确认书
{CASE}
收款人：{p.third}
开户银行：中国农业银行农安支行
银行卡号：{grouped(p.bank_card, 4)}
固定电话：{p.third_landline}
联系地址：{p.address}
确认人签字：
2026年10月9日"""
    hidden = (p.third, digits(p.third_landline), p.bank_card, p.address)
    return _png(
        folder / "10-scan-landline-card.png", text, hidden, "scan: landline, grouped bank card, address"
    )


def numeral_mobile_png(folder: Path, p: People) -> LeakFile:
    """A PNG scan with the mobile in Chinese numerals and the address."""
    text = f"""来电登记
{CASE}
来电人：{p.third}
回拨号码：{chinese_numerals(p.third_mobile)}
住址：{p.address}
登记人：吴国庆"""
    hidden = (p.third, p.third_mobile, p.address)
    return _png(folder / "23-chinese-numeral-mobile.png", text, hidden, "scan: mobile in Chinese numerals")


def control_png(folder: Path, p: People) -> LeakFile:
    """Control: a scan of enforcement prose with no personal data."""
    text = f"责令限期整改指令书\n{CASE}\n" + "\n".join(wrap(DENSE * 2, 32))
    return _png(folder / "20-control-scan.png", text, (), "control: scan without personal data")


# --- office and text ------------------------------------------------------------------------------


def interview_docx(folder: Path, p: People) -> LeakFile:
    """An 询问笔录 DOCX: name in the header, landline in the footer, ID and phone in table cells,
    address in the body."""
    import docx

    d = docx.Document()
    d.core_properties.author = "周晓梅"
    d.sections[0].header.paragraphs[0].text = f"农安县应急管理局　询问笔录　被询问人：{p.third}"
    d.sections[0].footer.paragraphs[0].text = f"被询问人联系电话：{p.third_landline}　第1页 共1页"
    d.add_heading("询问笔录", 0)
    d.add_paragraph(CASE)
    table = d.add_table(rows=4, cols=2)
    table.style = "Table Grid"
    rows = [("被询问人", p.third), ("身份证号", p.third_id), ("联系电话", p.third_mobile)]
    for r, (a, b) in enumerate([*rows, ("见证人", p.witness)]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    for line in [f"住址：{p.address}", *QA.split("\n")]:
        d.add_paragraph(line)
    path = folder / "11-interview.docx"
    d.save(str(path))
    _freeze_zip(path)
    hidden = (p.third, p.third_id, p.third_mobile, digits(p.third_landline), p.address, p.witness)
    return _leak(path, hidden, "DOCX with PII in header, footer, table cells and body", "office")


def people_xlsx(folder: Path, p: People) -> LeakFile:
    """A spreadsheet list of the people in the case: name, ID, mobile, bank card."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "涉案人员名单"
    ws.append(["姓名", "身份", "身份证号", "手机号码", "银行卡号"])
    ws.append([p.requester, "申请人", p.requester_id, "", ""])
    ws.append([p.third, "当事人", p.third_id, p.third_mobile, p.bank_card])
    ws.append([p.witness, "见证人", WITNESS_ID, WITNESS_MOBILE, ""])
    path = folder / "12-people-list.xlsx"
    wb.save(str(path))
    _freeze_zip(path)
    hidden = (p.third, p.third_id, p.third_mobile, p.bank_card, p.witness, WITNESS_ID, WITNESS_MOBILE)
    return _leak(path, hidden, "XLSX list of people", "office", (p.requester, p.requester_id))


def control_docx(folder: Path, p: People) -> LeakFile:
    """Control: a DOCX 责令限期整改指令书 with no personal data."""
    import docx

    d = docx.Document()
    d.add_heading("责令限期整改指令书", 0)
    d.add_paragraph(CASE)
    d.add_paragraph(DENSE)
    table = d.add_table(rows=3, cols=2)
    rows = [("检查项目", "整改期限"), ("可燃气体报警装置", "十五日"), ("安全出口", "立即")]
    for r, (a, b) in enumerate(rows):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    path = folder / "19-control.docx"
    d.save(str(path))
    _freeze_zip(path)
    return _leak(path, (), "control: DOCX without personal data", "office")


def gb18030_txt(folder: Path, p: People) -> LeakFile:
    """A GB18030-encoded 询问笔录 transcript (CRLF line ends)."""
    text = f"""询问笔录
{CASE}
被询问人：{p.third}，身份证号：{p.third_id}，联系电话：{p.third_mobile}
住址：{p.address}
见证人：{p.witness}
{QA}
"""
    path = folder / "14-gb18030.txt"
    path.write_bytes(text.replace("\n", "\r\n").encode("gb18030"))
    hidden = (p.third, p.third_id, p.third_mobile, p.address, p.witness)
    return _leak(path, hidden, "GB18030 text file", "text")


# --- audio ----------------------------------------------------------------------------------------


def _speak(pinyin: str) -> np.ndarray:
    """espeak-ng Mandarin (pinyin input) as 16 kHz mono float32, silence at both ends cut off."""
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "150", "-w", raw, pinyin], check=True)
        # -D: no dither (deterministic); vol 0.7: espeak peaks would clip after resampling
        subprocess.run(
            ["sox", "-D", raw, "-r", str(rd.SR), "-c", "1", "-b", "16", out, "vol", "0.7"], check=True
        )
        with wave.open(str(out)) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0] : loud[-1] + 1]


def _spoken(folder: Path, name: str, lead: str, number: str, tail: str, why: str) -> LeakFile:
    """2 s silence, ``lead``, ``number`` read digit by digit, ``tail``, 1 s silence. The spoken
    window is exact: the parts are made separately and joined here."""
    gap = np.zeros(int(0.15 * rd.SR), np.float32)
    head = np.concatenate([np.zeros(2 * rd.SR, np.float32), _speak(lead), gap])
    said = _speak(" ".join(PINYIN_DIGITS[int(c)] for c in number))
    rd.write_wav(folder / name, np.concatenate([head, said, gap, _speak(tail), np.zeros(rd.SR, np.float32)]))
    window = (round(len(head) / rd.SR, 3), round((len(head) + len(said)) / rd.SR, 3))
    return LeakFile(name, folder / name, (number,), (), why, "audio", 1, window)


def spoken_id(folder: Path, p: People) -> LeakFile:
    """The third person's ID read digit by digit in Mandarin after 2 s of silence."""
    lead = "ta1 de5 shen1 fen4 zheng4 hao4 ma3 shi4"  # 他的身份证号码是 … 请核对
    return _spoken(folder, "16-spoken-id.wav", lead, p.third_id, "qing3 he2 dui4", "ID spoken digit by digit")


def spoken_mobile(folder: Path, p: People) -> LeakFile:
    """The third person's mobile read digit by digit in Mandarin after 2 s of silence."""
    lead = "ta1 de5 shou3 ji1 hao4 ma3 shi4"  # 他的手机号码是 … 谢谢
    why = "mobile spoken digit by digit"
    return _spoken(folder, "17-spoken-mobile.wav", lead, p.third_mobile, "xie4 xie4", why)


# fmt: off
BUILDERS: tuple[Builder, ...] = (  # in file-name order
    id_line_wrap, mobile_line_wrap, separators, numerals_fullwidth, scan_with_footer, broken_tounicode,
    invisible_over_image, embedded_note, angled_photo, scan_landline_card, interview_docx, people_xlsx,
    metadata_annotation, gb18030_txt, pii_on_page_five, spoken_id, spoken_mobile, control_pdf, control_docx,
    control_png, requester_own, credit_code_card_wrap, numeral_mobile_png,
)
# fmt: on


def build(folder: Path, people: People = People()) -> list[LeakFile]:
    """Write every corpus file into ``folder`` (made if missing); returned in file-name order."""
    folder.mkdir(parents=True, exist_ok=True)
    return [make(folder, people) for make in BUILDERS]
