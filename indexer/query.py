"""The query language users type, parsed once for every backend.

    危险化学品 仓库          both words (AND is the default)
    "责令 限期整改"          a phrase: the words next to each other
    -复议  -"行政 复议"      exclude a word or a phrase
    留置送达 OR 公告送达     either (OR binds the items on each side of it)

A word matches where its characters occur in order in the text (whitespace and line breaks
between them ignored), so 复议 finds 行政复议; a phrase is the same with spaces allowed inside.
Full-width quotes “ ” and the full-width minus are accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.analysis import halfwidth, normalise

_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


class QuerySyntaxError(ValueError):
    """The query cannot be understood; the message says why (Chinese)."""


@dataclass(frozen=True)
class Clause:
    """One word or phrase, as the character sequence it must match."""

    text: str


@dataclass
class ParsedQuery:
    """AND of OR-groups, minus the excluded clauses."""

    groups: list[list[Clause]] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)

    @property
    def positive(self) -> list[str]:
        """Every clause a hit may contain (for highlighting)."""
        return [c.text for g in self.groups for c in g]

    @property
    def empty(self) -> bool:
        """No clause that selects anything."""
        return not self.groups


def _clean(text: str) -> str:
    return "".join(normalise(text).split())


def parse_query(text: str) -> ParsedQuery:
    """Parse ``text``; raises QuerySyntaxError for a query that only excludes."""
    text = halfwidth(text).replace("“", '"').replace("”", '"')
    if text.count('"') % 2:
        raise QuerySyntaxError("引号没有配对，请检查检索式中的引号")
    parsed = ParsedQuery()
    pending_or = False
    for m in _TOKEN.finditer(text):
        negative, phrase, word = m.group(1), m.group(2), m.group(3)
        if word == "OR":  # only the capitalised operator: "or" is an ordinary word
            pending_or = bool(parsed.groups)
            continue
        if word is not None and word.startswith("-") and len(word) > 1:
            negative, word = "-", word[1:]
        clause_text = _clean(phrase if phrase is not None else word or "")
        if not clause_text:
            continue
        clause = Clause(clause_text)
        if negative:
            parsed.excluded.append(clause)
            pending_or = False
        elif pending_or:
            parsed.groups[-1].append(clause)
            pending_or = False
        else:
            parsed.groups.append([clause])
    if parsed.empty and parsed.excluded:
        raise QuerySyntaxError("检索式只有排除条件，请至少输入一个要查找的词")
    return parsed


def parse_for(text: str, access: object) -> ParsedQuery | None:
    """The parsed query a backend should run, or None when nothing can match.

    Refuses (PermissionError) a search without the access layer's filter: no backend can be
    queried without one. An access filter that admits no case or no classification, or a
    query with nothing to look for, matches nothing.
    """
    from indexer.documents import AccessFilter

    if not isinstance(access, AccessFilter):
        raise PermissionError("a search needs the access filter of an authenticated principal")
    if access.redacted or access.record_ids is not None:
        # the index holds unredacted text: its matches and snippets would leak redacted spans
        raise PermissionError("callers limited to redacted renditions are never searched in the index")
    parsed = parse_query(text)
    if parsed.empty:
        return None
    if (access.case_nos is not None and not access.case_nos) or (
        access.classifications is not None and not access.classifications
    ):
        return None
    return parsed
