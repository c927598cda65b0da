"""Case service functions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Case


class CaseNotFoundError(LookupError):
    """No case with this 案号."""


def get_by_case_no(*, session: Session, case_no: str) -> Case:
    """The case with ``case_no`` or CaseNotFoundError."""
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise CaseNotFoundError(f"案件不存在：{case_no}")
    return case
