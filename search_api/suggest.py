"""Prefix suggestions for 案号 and party names, limited to the cases the caller may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Case, Party
from indexer.documents import AccessFilter


@dataclass(frozen=True)
class Suggestion:
    """One completion: what kind of value, the value, and the case it belongs to."""

    kind: str  # "case_no" | "party"
    value: str
    case_no: str


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def suggest(*, session: Session, prefix: str, access: AccessFilter, limit: int = 10) -> list[Suggestion]:
    """案号 and party names starting with ``prefix`` first, then those merely containing it.

    A party (redacted access) is suggested 案号 only: names are not even looked up, so neither the
    answer nor its length under any ``limit`` tells of other people's names."""
    if not isinstance(access, AccessFilter):
        raise PermissionError("suggestions need the access filter of an authenticated principal")
    text = prefix.strip()
    if not text or (access.case_nos is not None and not access.case_nos):
        return []
    pattern = f"%{_like(text)}%"
    cases = select(Case.case_no, Case.case_no).where(Case.case_no.like(pattern, escape="\\"))
    parties = (
        select(Party.name, Case.case_no)
        .join(Case, Party.case_id == Case.id)
        .where(Party.name.like(pattern, escape="\\"))
    )
    if access.case_nos is not None:
        allowed = sorted(access.case_nos)
        cases = cases.where(Case.case_no.in_(allowed))
        parties = parties.where(Case.case_no.in_(allowed))
    found: list[tuple[int, int, Suggestion]] = []
    kinds = [("case_no", cases)] + ([] if access.redacted else [("party", parties)])
    for kind, stmt in kinds:
        for value, case_no in session.execute(stmt.limit(200)):
            starts = 0 if value.startswith(text) else 1
            found.append((starts, len(value), Suggestion(kind, value, case_no)))
    found.sort(key=lambda f: (f[0], f[1], f[2].value, f[2].case_no))
    seen: set[tuple[str, str]] = set()
    out: list[Suggestion] = []
    for _, _, s in found:
        if (s.kind, s.value) in seen:
            continue
        seen.add((s.kind, s.value))
        out.append(s)
    return out[:limit]
