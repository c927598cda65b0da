"""Redacted renditions (第二十八条): text, text-layer and scanned PDFs, photos, watermark, sound."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from pipelines import redaction
from pipelines.media.decode import audio_chunks
from pipelines.media.transcript import Segment, Transcript, Word
from pipelines.parsers.base import ParseContext, join_pages
from pipelines.parsers.pdf import PdfParser
from pipelines.redaction import (
    BLOCK,
    RedactionError,
    bleep_audio,
    bleep_ranges,
    page_spans,
    redact_image,
    redact_pdf,
    redact_text,
    rendition_mime,
    watermark,
)
from tests.support.redaction_data import (
    SR,
    glyph_rect,
    image_only_pdf,
    mixed_pdf,
    peak_hz,
    region,
    scaled,
    scan,
    sound,
    span_rect,
    text_pdf,
    write_video,
    write_wav,
)
from tests.support.watermark import read_mark

DPI = 150
PAGE1 = ["当事人张建国，身份证号110101199003071234，联系电话13800138000", "住址：农安县宏达路18号"]
PAGE2 = ["第二页：经查，当事人于2026年3月5日在仓库内存放危险化学品。", "执法人员：孙立军 执法证号22010012345"]
SCAN_LINES = ["询问笔录（第2页）", "被询问人：李秀兰 联系电话：13912345678", "身份证号：220122198507150023"]
ID_NO = "110101199003071234"
PHONE = "13800138000"


def _render(data: bytes, index: int, dpi: int = DPI) -> Image.Image:
    pdf = pdfium.PdfDocument(data)
    try:
        return pdf[index].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        pdf.close()


def _texts(data: bytes) -> list[str]:
    pdf = pdfium.PdfDocument(data)
    try:
        out = []
        for i in range(len(pdf)):
            textpage = pdf[i].get_textpage()
            out.append(textpage.get_text_range())
            textpage.close()
        return out
    finally:
        pdf.close()


def _layer_text(path: Path, index: int) -> str:
    """A page's text as the PDF parser stores it (text layer, CR LF made LF)."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        textpage = pdf[index].get_textpage()
        return textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
    finally:
        pdf.close()


def _check_xref(data: bytes) -> None:
    """Every cross-reference entry points at its object (pdfium would silently repair a bad table)."""
    start = int(data.rsplit(b"startxref", 1)[1].split()[0])
    rows = data[start:].split(b"\n")
    assert rows[0] == b"xref"
    first, count = (int(v) for v in rows[1].split())
    assert first == 0 and count > 3
    for n in range(1, count):
        offset = int(rows[2 + n][:10])
        assert data[offset:].startswith(b"%d 0 obj" % n)


def _span(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


@pytest.fixture
def text_layer_pdf(tmp_path: Path) -> tuple[Path, list[str]]:
    path = text_pdf(tmp_path / "notice.pdf", [PAGE1, PAGE2])
    parsed = PdfParser().parse(path, ParseContext(mime="application/pdf"))
    assert not parsed.ocr  # both pages have a text layer
    return path, parsed.pages


# --- text and spans --------------------------------------------------------------------------


def test_redact_text_keeps_length_and_newlines() -> None:
    text = "当事人张建国\n身份证号110101199003071234"
    out = redact_text(text, [(3, 10), (0, 1)])
    assert len(out) == len(text)
    assert out == BLOCK + "事人" + BLOCK * 3 + "\n" + BLOCK * 3 + "号110101199003071234"
    assert redact_text(text, []) == text
    with pytest.raises(RedactionError, match="超出文本"):
        redact_text(text, [(5, len(text) + 1)])


def test_page_spans_split_across_pages_and_skip_the_separator() -> None:
    pages = ["abcd", "ef", "ghij"]  # full text "abcd\n\nef\n\nghij"
    assert join_pages(pages)[5:10] == "\nef\n\n"
    assert page_spans(pages, [(2, 7)]) == {0: [(2, 4)], 1: [(0, 1)]}
    assert page_spans(pages, [(4, 6)]) == {}  # only the blank line between pages
    assert page_spans(pages, [(12, 14), (1, 2), (0, 2), (2, 14)]) == {  # merged, split again
        0: [(0, 4)],
        1: [(0, 2)],
        2: [(0, 4)],
    }
    with pytest.raises(RedactionError):
        page_spans(pages, [(10, 30)])


# --- text-layer PDF --------------------------------------------------------------------------


def test_redact_pdf_text_layer_burns_boxes_and_keeps_no_text(text_layer_pdf: tuple[Path, list[str]]) -> None:
    path, pages = text_layer_pdf
    text = join_pages(pages)
    assert ID_NO in pages[0] and PHONE in pages[0]

    out = redact_pdf(path, pages, [_span(text, ID_NO)], None, dpi=DPI)

    assert rendition_mime(out) == "application/pdf"
    assert _texts(out) == ["", ""]  # no text layer at all, same page count
    assert b"/Font" not in out and ID_NO.encode() not in out
    page = _render(out, 0)
    line = PAGE1[0]
    start = line.index(ID_NO)
    hidden = region(page, glyph_rect(line, 0, start, start + len(ID_NO), DPI))
    assert hidden.mean() < 20
    start = line.index(PHONE)
    shown = region(page, glyph_rect(line, 0, start, start + len(PHONE), DPI))
    assert shown.mean() > 100 and shown.min() < 128  # the phone number is still printed, not black
    second = _render(out, 1)
    digits = PAGE2[1].index("22010012345")
    assert region(second, glyph_rect(PAGE2[1], 1, digits, digits + 11, DPI)).min() < 128


def test_redact_pdf_span_crossing_pages(text_layer_pdf: tuple[Path, list[str]]) -> None:
    path, pages = text_layer_pdf
    text = join_pages(pages)
    start = text.index("18号")
    end = text.index("第二页") + 3
    assert page_spans(pages, [(start, end)]) == {
        0: [(len(pages[0]) - 3, len(pages[0]))],
        1: [(0, 3)],
    }

    out = redact_pdf(path, pages, [(start, end)], None, dpi=DPI)

    first, second = _render(out, 0), _render(out, 1)
    at = PAGE1[1].index("18号")
    assert region(first, glyph_rect(PAGE1[1], 1, at, at + 3, DPI)).mean() < 20
    assert region(second, glyph_rect(PAGE2[0], 0, 0, 3, DPI)).mean() < 20
    phone = PAGE1[0].index(PHONE)
    assert region(first, glyph_rect(PAGE1[0], 0, phone, phone + 11, DPI)).mean() > 100


def test_redact_pdf_without_spans_is_an_image_only_copy(text_layer_pdf: tuple[Path, list[str]]) -> None:
    path, pages = text_layer_pdf
    out = redact_pdf(path, pages, [], None)
    assert _texts(out) == ["", ""]
    _check_xref(out)
    original = pdfium.PdfDocument(str(path))
    copy = pdfium.PdfDocument(out)
    try:
        assert copy[0].get_size() == pytest.approx(original[0].get_size(), abs=0.01)
        assert copy.get_metadata_dict(skip_empty=True) == {}
    finally:
        copy.close()
        original.close()


def test_redact_pdf_rotated_page(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "turned.pdf", [PAGE1], rotate=90)
    pages = [_layer_text(path, 0)]

    out = redact_pdf(path, pages, [_span(pages[0], ID_NO)], None, dpi=DPI)

    page = _render(out, 0)
    assert page.width > page.height  # shown turned, as in the original
    upright = page.rotate(90, expand=True)
    start = PAGE1[0].index(ID_NO)
    assert region(upright, glyph_rect(PAGE1[0], 0, start, start + len(ID_NO), DPI)).mean() < 20
    phone = PAGE1[0].index(PHONE)
    assert region(upright, glyph_rect(PAGE1[0], 0, phone, phone + len(PHONE), DPI)).mean() > 100


def test_redact_pdf_refuses_characters_without_a_box(
    text_layer_pdf: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, pages = text_layer_pdf
    monkeypatch.setattr(redaction.pdfium_c, "FPDFText_GetUnicode", lambda textpage, index: 0)
    with pytest.raises(RedactionError, match=r"第 1 页.*18 个字符没有位置信息"):
        redact_pdf(path, pages, [_span(join_pages(pages), ID_NO)], None)


# --- scanned pages (OCR boxes) ---------------------------------------------------------------


def test_redact_pdf_scanned_page_uses_ocr_word_boxes(tmp_path: Path) -> None:
    page_scan = scan(SCAN_LINES)
    path = mixed_pdf(tmp_path / "record.pdf", PAGE1, page_scan.image)
    pages = [_layer_text(path, 0), page_scan.text]
    phone = "13912345678"
    offset = len(pages[0]) + 2
    local = page_scan.text.split("\n")[1].index(phone)
    line_start = len(SCAN_LINES[0]) + 1
    span = (offset + line_start + local, offset + line_start + local + len(phone))
    assert join_pages(pages)[span[0] : span[1]] == phone

    out = redact_pdf(path, pages, [span], {"1": page_scan.ocr}, dpi=DPI)

    assert _texts(out) == ["", ""]
    page = _render(out, 1)
    factor = DPI / 200
    boxes = page_scan.char_boxes[1]
    assert region(page, scaled(span_rect(boxes, local, local + len(phone)), factor)).mean() < 20
    name = SCAN_LINES[1].index("李秀兰")
    assert region(page, scaled(span_rect(boxes, name, name + 3), factor)).mean() > 100
    id_boxes = page_scan.char_boxes[2]
    id_at = SCAN_LINES[2].index("2201")
    shown = region(page, scaled(span_rect(id_boxes, id_at, len(SCAN_LINES[2])), factor))
    assert shown.mean() > 100 and shown.min() < 128


def test_redact_pdf_ocr_words_not_spelling_the_line_black_out_the_line(tmp_path: Path) -> None:
    page_scan = scan(SCAN_LINES)
    del page_scan.ocr["lines"][1]["words"][3]  # the words no longer spell the line
    path = image_only_pdf(tmp_path / "scan.pdf", [page_scan.image])
    text = page_scan.text
    span = _span(text, "13912345678")

    out = redact_pdf(path, [text], [span], {0: page_scan.ocr}, dpi=DPI)

    page = _render(out, 0)
    factor = DPI / 200
    line = page_scan.char_boxes[1]
    assert region(page, scaled(span_rect(line, 0, len(line)), factor)).mean() < 20  # whole line
    below = page_scan.char_boxes[2]
    assert region(page, scaled(span_rect(below, 0, len(below)), factor)).mean() > 100


def test_redact_pdf_refuses_a_span_it_cannot_locate(text_layer_pdf: tuple[Path, list[str]]) -> None:
    path, pages = text_layer_pdf
    stale = [pages[0].replace("张建国", "张建华"), pages[1]]  # the stored text no longer matches the page
    span = _span(join_pages(stale), "张建华")
    with pytest.raises(RedactionError, match="第 1 页"):
        redact_pdf(path, stale, [span], None)

    out = redact_pdf(path, stale, [span], None, on_unlocated="black_page")
    assert np.asarray(_render(out, 0).convert("L")).mean() < 5  # the whole page hidden
    assert np.asarray(_render(out, 1).convert("L")).mean() > 200  # the other page as it is


def test_redact_pdf_refuses_a_scanned_page_without_ocr_boxes(tmp_path: Path) -> None:
    page_scan = scan(SCAN_LINES)
    path = mixed_pdf(tmp_path / "record.pdf", PAGE1, page_scan.image)
    pages = [_layer_text(path, 0), page_scan.text]
    span = _span(join_pages(pages), "13912345678")
    with pytest.raises(RedactionError, match="第 2 页"):
        redact_pdf(path, pages, [span], None)


def test_redact_pdf_refuses_pages_that_were_never_parsed(text_layer_pdf: tuple[Path, list[str]]) -> None:
    path, pages = text_layer_pdf
    with pytest.raises(RedactionError, match="共 2 页"):
        redact_pdf(path, pages[:1], [], None)


@pytest.mark.slow
def test_redact_pdf_with_the_real_ocr_hides_a_phone_number(tmp_path: Path) -> None:
    from pipelines.ocr import get_ocr

    lines = ["询问笔录", "联系电话：13800138000", "案件编号 2026-0042"]
    page_scan = scan(lines, font_px=44)
    recognised = get_ocr().recognize(page_scan.image)
    text = recognised.text
    assert PHONE in text
    path = image_only_pdf(tmp_path / "scan.pdf", [page_scan.image])

    out = redact_pdf(path, [text], [_span(text, PHONE)], {"0": recognised.to_json()}, dpi=DPI)

    page = _render(out, 0)
    factor = DPI / 200
    at = lines[1].index(PHONE)
    assert region(page, scaled(span_rect(page_scan.char_boxes[1], at, at + len(PHONE)), factor)).mean() < 20
    case = lines[2].index("2026")
    shown = region(page, scaled(span_rect(page_scan.char_boxes[2], case, len(lines[2])), factor))
    assert shown.mean() > 100


# --- photos and scans ------------------------------------------------------------------------


def _exif_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "DSJ"  # Make
    exif[0x0110] = "DSJ-V9"  # Model
    exif[0x0112] = 6  # Orientation: turn 90° clockwise to view
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (44.0, 25.0, 48.0)
    gps[3], gps[4] = "E", (125.0, 10.0, 12.0)
    return exif


def test_redact_image_strips_exif_and_follows_its_orientation(tmp_path: Path) -> None:
    upright = scan(SCAN_LINES, size=(1400, 700), font_px=36)
    stored = upright.image.rotate(90, expand=True)  # as the camera wrote it: on its side, EXIF says turn
    path = tmp_path / "photo.jpg"
    stored.save(path, "JPEG", exif=_exif_gps(), quality=95)
    assert Image.open(path).getexif().get_ifd(0x8825)  # the source does carry GPS

    out = redact_image(path, [_span(upright.text, "13912345678")], upright.ocr, text=upright.text, fmt="jpeg")

    assert rendition_mime(out) == "image/jpeg"
    assert b"Exif" not in out and b"GPS" not in out and b"DSJ" not in out
    image = Image.open(io.BytesIO(out))
    assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
    assert image.size == (1400, 700)  # upright, as the parser OCR'd it
    at = SCAN_LINES[1].index("13912345678")
    assert region(image, scaled(span_rect(upright.char_boxes[1], at, at + 11), 1.0, 3)).mean() < 20
    name = SCAN_LINES[1].index("李秀兰")
    assert region(image, scaled(span_rect(upright.char_boxes[1], name, name + 3), 1.0)).mean() > 100
    png = redact_image(path, [], upright.ocr)  # the default: PNG, equally bare
    assert rendition_mime(png) == "image/png" and b"GPS" not in png and b"eXIf" not in png
    assert not Image.open(io.BytesIO(png)).getexif()


def test_redact_image_honours_the_ocr_rotation(tmp_path: Path) -> None:
    upright = scan(SCAN_LINES, size=(1400, 700), font_px=36)
    path = tmp_path / "scan.png"
    upright.image.rotate(-90, expand=True).save(path)  # scanned on its side; OCR turned it 90° back
    ocr = {**upright.ocr, "rotation": 90}

    out = redact_image(path, [_span(upright.text, "220122198507150023")], ocr)

    assert rendition_mime(out) == "image/png"
    image = Image.open(io.BytesIO(out))
    assert image.size == (700, 1400)  # the stored orientation is kept
    turned = image.rotate(90, expand=True)
    boxes = upright.char_boxes[2]
    at = SCAN_LINES[2].index("2201")
    assert region(turned, scaled(span_rect(boxes, at, len(SCAN_LINES[2])), 1.0)).mean() < 20
    assert region(turned, scaled(span_rect(upright.char_boxes[0], 0, 4), 1.0)).mean() > 100


def test_redact_image_refuses_spans_of_another_text(tmp_path: Path) -> None:
    upright = scan(SCAN_LINES)
    path = tmp_path / "scan.png"
    upright.image.save(path)
    span = _span(upright.text, "李秀兰")
    with pytest.raises(RedactionError, match="不一致"):
        redact_image(path, [span], upright.ocr, text=upright.text.replace("李秀兰", "李秀英"))
    with pytest.raises(RedactionError, match="OCR"):
        redact_image(path, [span], None)


def test_redact_multi_page_tiff_gives_an_image_only_pdf(tmp_path: Path) -> None:
    first, second = scan(SCAN_LINES[:1]), scan(SCAN_LINES[1:])
    path = tmp_path / "scan.tif"
    first.image.save(path, save_all=True, append_images=[second.image], compression="tiff_lzw")
    pages = [first.text, second.text]
    span = _span(join_pages(pages), "13912345678")

    out = redact_image(path, [span], {"0": first.ocr, "1": second.ocr}, text=join_pages(pages))

    assert rendition_mime(out) == "application/pdf"
    assert _texts(out) == ["", ""]
    page = _render(out, 1, dpi=200)
    at = SCAN_LINES[1].index("13912345678")
    assert region(page, scaled(span_rect(second.char_boxes[0], at, at + 11), 1.0, 3)).mean() < 20


# --- watermark -------------------------------------------------------------------------------


def test_watermark_pdf_is_burned_in_and_has_no_text_layer(text_layer_pdf: tuple[Path, list[str]]) -> None:
    path, pages = text_layer_pdf
    redacted = redact_pdf(path, pages, [_span(join_pages(pages), ID_NO)], None, dpi=DPI)

    out = watermark(redacted, "查阅人：张建国 2026-05-01 10:30")

    assert _texts(out) == ["", ""]
    before, after = _render(redacted, 0), _render(out, 0)
    a = np.asarray(before.convert("L"), dtype=np.float64)
    b = np.asarray(after.convert("L"), dtype=np.float64)
    assert a.shape == b.shape
    changed = np.abs(a - b) > 20
    assert changed.mean() > 0.02  # a visible, repeated mark over the page
    assert (b[changed] > 120).mean() > 0.5  # semi-transparent: no black strokes
    said = read_mark(before, after)
    assert "张建国" in said and "2026-05-0110:30" in said  # the viewer and the minute, legible
    line = PAGE1[0]
    start = line.index(ID_NO)
    assert region(after, glyph_rect(line, 0, start, start + len(ID_NO), DPI)).mean() < 80  # still hidden
    assert _texts(watermark(path.read_bytes(), "查阅人：李秀兰")) == ["", ""]  # any PDF comes out image-only


def test_watermark_image_keeps_its_kind_and_drops_metadata(tmp_path: Path) -> None:
    photo = scan(SCAN_LINES, size=(900, 600), font_px=30).image
    buf = io.BytesIO()
    photo.save(buf, "JPEG", exif=_exif_gps(), quality=95)

    out = watermark(buf.getvalue(), "查阅人：张建国\n2026-05-01 10:30")

    assert rendition_mime(out) == "image/jpeg" and b"GPS" not in out
    image = Image.open(io.BytesIO(out))
    assert not image.getexif()
    assert image.size == (600, 900)  # made upright by its EXIF orientation first
    original = np.asarray(photo.rotate(-90, expand=True).convert("L"), dtype=np.float64)
    marked = np.asarray(image.convert("L"), dtype=np.float64)
    assert (np.abs(original - marked) > 20).mean() > 0.02
    said = read_mark(photo.rotate(-90, expand=True), image)
    assert "张建国" in said and "2026-05-0110:30" in said


# --- sound -----------------------------------------------------------------------------------


def _transcript() -> Transcript:
    chars = [("当", 0.5, 0.8), ("事", 0.8, 1.0), ("人", 1.0, 1.2), ("张", 1.3, 1.6), ("建", 1.6, 1.9)]
    return Transcript(
        segments=[
            Segment(0.5, 2.5, "当事人张建国", [Word(a, b, t, 0.9) for t, a, b in [*chars, ("国", 1.9, 2.3)]]),
            Segment(
                3.0,
                7.0,
                "联系电话13800138000。",
                [
                    Word(3.0, 3.5, " 联系", 0.9),
                    Word(3.5, 4.0, "电话", 0.9),
                    Word(4.2, 6.2, "13800138000。", 0.8),
                ],
            ),
            # an officer corrected the text; the words still spell what the machine heard
            Segment(7.5, 9.5, "住址农安县宏达路", [Word(7.5, 9.4, "住址农安县红大路", 0.5)]),
        ],
        engine="test",
        model="none",
        duration=10.0,
    )


def test_bleep_ranges_map_spans_to_words_or_whole_segments() -> None:
    transcript = _transcript()
    text = transcript.text()
    assert bleep_ranges(transcript, [_span(text, "张建国")]) == [(1.15, 2.45)]
    assert bleep_ranges(transcript, [_span(text, PHONE)]) == [(4.05, 6.35)]
    assert bleep_ranges(transcript, [_span(text, "宏达路")]) == [(7.35, 9.65)]  # the whole segment
    assert bleep_ranges(transcript, [_span(text, "。")]) == []  # punctuation is not spoken
    assert bleep_ranges(transcript, [(text.index("国"), text.index("联") + 1)]) == [
        (1.75, 2.45),
        (2.85, 3.65),
    ]
    empty = Transcript(segments=[], engine="test", model="none")
    assert bleep_ranges(empty, []) == []
    with pytest.raises(RedactionError):
        bleep_ranges(empty, [(0, 2)])


def _decode(source: Path, data: bytes | None = None) -> np.ndarray:
    """16 kHz mono samples of ``source`` (written first from ``data`` when given)."""
    if data is not None:
        source.write_bytes(data)
    return np.concatenate([samples for _, samples in audio_chunks(source)])


def _window(samples: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    return samples[int(start_s * SR) : int(end_s * SR)]


def test_bleep_audio_wav_replaces_only_the_words(tmp_path: Path) -> None:
    source = write_wav(tmp_path / "talk.wav", sound(10.0))
    transcript = _transcript()

    out = bleep_audio(source, transcript, [_span(transcript.text(), PHONE)], codec="wav")

    assert rendition_mime(out) == "audio/wav"
    original, bleeped = _decode(source), _decode(tmp_path / "out.wav", out)
    assert len(bleeped) == len(original)
    assert peak_hz(_window(bleeped, 4.1, 6.3)) == pytest.approx(1000, abs=5)
    assert peak_hz(_window(original, 4.1, 6.3)) == pytest.approx(300, abs=5)
    inside = _window(bleeped, 4.1, 6.3)
    assert 0.15 < np.abs(inside).max() <= 0.26  # a moderate tone, the speech muted
    assert abs(np.corrcoef(inside, _window(original, 4.1, 6.3))[0, 1]) < 0.1
    for a, b in ((0.0, 4.0), (6.4, 10.0)):
        np.testing.assert_allclose(_window(bleeped, a, b), _window(original, a, b), atol=2 / 32768)


def test_bleep_audio_opus_default(tmp_path: Path) -> None:
    source = write_wav(tmp_path / "talk.wav", sound(10.0))
    transcript = _transcript()

    out = bleep_audio(source, transcript, [_span(transcript.text(), "张建国")])

    assert rendition_mime(out) == "audio/ogg"
    with av.open(io.BytesIO(out)) as container:
        assert [s.type for s in container.streams] == ["audio"]
        assert container.streams.audio[0].codec_context.name == "opus"
    bleeped = _decode(tmp_path / "out.ogg", out)
    assert len(bleeped) / SR == pytest.approx(10.0, abs=0.05)
    assert peak_hz(_window(bleeped, 1.2, 2.4)) == pytest.approx(1000, abs=5)
    assert peak_hz(_window(bleeped, 3.0, 9.0)) == pytest.approx(300, abs=5)
    assert len(out) < 80_000  # about 32 kbit/s


def test_bleep_audio_of_a_video_gives_its_sound_only(tmp_path: Path) -> None:
    source = write_video(tmp_path / "bodycam.mp4", sound(10.0))
    transcript = _transcript()

    out = bleep_audio(source, transcript, [_span(transcript.text(), PHONE)])

    with av.open(io.BytesIO(out)) as container:
        assert [s.type for s in container.streams] == ["audio"]
    bleeped = _decode(tmp_path / "out.ogg", out)
    assert peak_hz(_window(bleeped, 4.2, 6.2)) == pytest.approx(1000, abs=5)
    assert peak_hz(_window(bleeped, 0.5, 3.8)) == pytest.approx(300, abs=5)
