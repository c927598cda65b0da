"""Pick the redactor for a record: each family module declares the families it renders and scores
a :class:`~pipelines.redaction.common.Subject`; the highest score wins (the redacted text on
pages, scored 1, renders anything)."""

from __future__ import annotations

from pipelines.redaction.common import Redactor, Subject
from pipelines.redaction.image import ImageRedactor
from pipelines.redaction.pdf import PdfRedactor
from pipelines.redaction.sound import SoundRedactor
from pipelines.redaction.text import TextRedactor

REDACTORS: list[Redactor] = [SoundRedactor(), PdfRedactor(), ImageRedactor(), TextRedactor()]


def pick_redactor(subject: Subject) -> Redactor:
    """The highest-scoring redactor for ``subject`` (the first listed on a tie)."""
    return max(REDACTORS, key=lambda r: r.score(subject))
