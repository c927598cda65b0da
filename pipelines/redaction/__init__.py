"""Redacted renditions a party may see (第二十八条): text, PDF pages, photos and sound.

Pure functions, no database. Sensitive spans are ``(start, end)`` offsets into a record's full
text: for paged records the stored pages joined with a blank line (``join_pages``), for sound
records ``Transcript.text()``. One module per family, picked by :func:`pick_redactor`:

* ``text``: every character of a span becomes "■" (newlines kept, length kept); formats without
  a page image are released as that text laid out on A4 pages.
* ``pdf``: every page is rendered to an image; solid black boxes are burned over the characters
  of each span (text layer: pdfium's character boxes; OCR'd pages: the stored OCR word/line
  boxes). The result is a NEW PDF made only of the page images (JPEG, one per page, no text
  layer, no fonts, no metadata, no original objects), so nothing under a box survives.
* ``image``: photos and scans, the same on the image, which comes out without EXIF or any other
  metadata.
* ``sound``: the words of a span are replaced by a 1 kHz tone; the output is a new audio file
  (Ogg/Opus by default, or WAV) holding only the decoded, bleeped sound. For a video the
  rendition is its sound only: frames are not part of a party's rendition (they would need face
  and plate blurring, which this package does not do).
* ``watermarking``: :func:`watermark` burns a repeated, semi-transparent diagonal text (viewer
  and time) into the pixels of every page or image.

Shared by them: ``common`` (spans, errors, constants), ``boxes`` (OCR geometry and black boxes)
and ``imagepdf`` (image-only PDF output). Every public name is importable from here; so are the
private helpers of the text, PDF and OCR-box geometry, which the mutation tests pin down.

Safe failure: whatever cannot be hidden with certainty is refused, never released. A span that
cannot be located on its page (the page's text no longer matches the stored text, a character
has no box, no OCR boxes were kept for an OCR'd page, pages were never parsed) raises
``RedactionError`` naming the page; the caller must not release a rendition. Callers that prefer
to release the rest may pass ``on_unlocated="black_page"``: such a page then comes out entirely
black. Where a span is located but cannot be matched to single OCR words, the whole OCR line is
blacked out; where it cannot be matched to transcript words, the whole segment is bleeped.
"""

from pipelines.redaction.boxes import _black_page as _black_page
from pipelines.redaction.boxes import _box as _box
from pipelines.redaction.boxes import _burn_ocr as _burn_ocr
from pipelines.redaction.boxes import _fill as _fill
from pipelines.redaction.boxes import _ocr_layout as _ocr_layout
from pipelines.redaction.boxes import _ocr_of as _ocr_of
from pipelines.redaction.boxes import _ocr_span_boxes as _ocr_span_boxes
from pipelines.redaction.boxes import _OcrLayout as _OcrLayout
from pipelines.redaction.boxes import _OcrLine as _OcrLine
from pipelines.redaction.boxes import _refuse as _refuse
from pipelines.redaction.common import (
    BLOCK,
    DEFAULT_DPI,
    MAX_PAGE_PIXELS,
    OCR_DPI,
    Box,
    OnUnlocated,
    RedactionError,
    Redactor,
    Span,
    Subject,
    page_spans,
    rendition_mime,
)
from pipelines.redaction.common import _align as _align
from pipelines.redaction.common import _merged as _merged
from pipelines.redaction.common import _wanted as _wanted
from pipelines.redaction.image import ImageRedactor, open_image, redact_image, upright_frames
from pipelines.redaction.imagepdf import JPEG_QUALITY
from pipelines.redaction.imagepdf import _ImagePdf as _ImagePdf
from pipelines.redaction.pdf import (
    PDFIUM_LOCK,
    PageReader,
    PdfRedactor,
    native_scale,
    pdf_page_count,
    redact_pdf,
    rendition_page,
)
from pipelines.redaction.pdf import _normalise as _normalise
from pipelines.redaction.pdf import _open_pdf as _open_pdf
from pipelines.redaction.pdf import _page_scale as _page_scale
from pipelines.redaction.pdf import pdfium_c as pdfium_c  # the tests stub pdfium's C calls through it
from pipelines.redaction.registry import REDACTORS, pick_redactor
from pipelines.redaction.sound import (
    BLEEP_HZ,
    BLEEP_LEVEL,
    BLEEP_PAD_S,
    BLEEP_RAMP_S,
    OPUS_BITRATE,
    SoundRedactor,
    bleep_audio,
    bleep_ranges,
)
from pipelines.redaction.text import TextRedactor, redact_text, text_pdf
from pipelines.redaction.watermarking import (
    FONT_DIRS,
    FONT_FILES,
    FONT_PATTERNS,
    WATERMARK_ANGLE,
    WATERMARK_COLOR,
    WATERMARK_OPACITY,
    cjk_font_path,
    watermark,
)

__all__ = [
    "BLEEP_HZ",
    "BLEEP_LEVEL",
    "BLEEP_PAD_S",
    "BLEEP_RAMP_S",
    "BLOCK",
    "DEFAULT_DPI",
    "FONT_DIRS",
    "FONT_FILES",
    "FONT_PATTERNS",
    "JPEG_QUALITY",
    "MAX_PAGE_PIXELS",
    "OCR_DPI",
    "OPUS_BITRATE",
    "PDFIUM_LOCK",
    "REDACTORS",
    "WATERMARK_ANGLE",
    "WATERMARK_COLOR",
    "WATERMARK_OPACITY",
    "Box",
    "ImageRedactor",
    "OnUnlocated",
    "PageReader",
    "PdfRedactor",
    "RedactionError",
    "Redactor",
    "SoundRedactor",
    "Span",
    "Subject",
    "TextRedactor",
    "bleep_audio",
    "bleep_ranges",
    "cjk_font_path",
    "native_scale",
    "open_image",
    "page_spans",
    "pdf_page_count",
    "pick_redactor",
    "redact_image",
    "redact_pdf",
    "redact_text",
    "rendition_mime",
    "rendition_page",
    "text_pdf",
    "upright_frames",
    "watermark",
]
