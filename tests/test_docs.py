"""Docs that cannot drift: every setting and every CLI command is in the README; every permission
action and audit event type in docs/architecture.md; every compliance rule, with its article, in
docs/rules.md."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel

from archive.settings import Settings
from ui.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _env_names(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _env_names(ann, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}"


def test_every_setting_is_documented() -> None:
    names = list(_env_names(Settings, "ARCHIVE_"))
    assert len(names) > 15
    body = README.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {line.split("`")[1] for line in body.splitlines() if line.startswith("| `ARCHIVE_")}
    missing = [n for n in names if n not in documented]
    assert not missing, f"settings missing from the README's Configuration table: {missing}"
    stale = sorted(documented - set(names))
    assert not stale, f"README documents settings that do not exist: {stale}"


def test_every_cli_command_is_documented() -> None:
    commands = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert {"init", "demo", "serve", "ingest", "search"} <= set(commands)
    groups = {g.name: g.typer_instance for g in app.registered_groups}
    for group, sub in groups.items():
        commands += [f"{group} {c.name}" for c in sub.registered_commands]
    assert "user add" in commands
    missing = [c for c in commands if f"`archive {c}" not in README]
    assert not missing, f"commands missing from README: {missing}"


def test_the_two_commands_exist() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "\nrun:" in makefile and "\ntest:" in makefile
    assert "make run" in README and "make test" in README


ARCHITECTURE = (Path(__file__).resolve().parent.parent / "docs" / "architecture.md").read_text(
    encoding="utf-8"
)


def _table(section: str) -> dict[str, str]:
    """The two-column table under a heading of docs/architecture.md: first column (code) → second."""
    body = ARCHITECTURE.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in body.splitlines() if line.startswith("| `")]
    return {key.strip().strip("`"): value.strip() for key, value in rows}


def test_the_permission_table_is_documented_as_it_is() -> None:
    from archive.permissions import ROLES_FOR, Action

    documented = {action: set(roles.split("、")) for action, roles in _table("Who may do what").items()}
    assert len(Action) > 10
    missing = sorted({a.value for a in Action} - set(documented))
    assert not missing, f"actions missing from docs/architecture.md: {missing}"
    assert documented == {a.value: {r.value for r in roles} for a, roles in ROLES_FOR.items()}


def test_every_audit_event_type_is_documented() -> None:
    from archive.audit import EVENT_TYPES

    assert len(EVENT_TYPES) > 20
    assert _table("Audit event types") == EVENT_TYPES


RULES_DOC = (Path(__file__).resolve().parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
DIGITS = "一二三四五六七八九"


def _number(text: str) -> int:
    """一 → 1, 十 → 10, 十九 → 19, 二十 → 20, 二十四 → 24 (the articles of the rules)."""
    tens, _, units = text.rpartition("十")
    if "十" not in text:
        return DIGITS.index(text) + 1
    return (DIGITS.index(tens) + 1 if tens else 1) * 10 + (DIGITS.index(units) + 1 if units else 0)


def _numeral(n: int) -> str:
    tens, units = divmod(n, 10)
    ten = ("" if tens < 2 else DIGITS[tens - 1]) + ("十" if tens else "")
    return ten + (DIGITS[units - 1] if units else "")


def _articles(cited: str) -> list[str]:
    """第十、十九、二十一条 → [第十条, 第十九条, 第二十一条]; 第六至八条 → [第六条, 第七条, 第八条]."""
    out = []
    for part in cited.removeprefix("第").removesuffix("条").split("、"):
        first, _, last = part.partition("至")
        out += [f"第{_numeral(n)}条" for n in range(_number(first), _number(last or first) + 1)]
    return out


def _sections() -> dict[str, str]:
    """The article sections of docs/rules.md: 第N条 (the heading's first word) → its text."""
    parts = RULES_DOC.split("\n### ")[1:]
    return {part.split(maxsplit=1)[0]: part.split("\n## ", 1)[0] for part in parts}


def test_article_numerals() -> None:
    assert _articles("第十、十九、二十一、二十三条") == ["第十条", "第十九条", "第二十一条", "第二十三条"]
    assert _articles("第六至八条") == ["第六条", "第七条", "第八条"]
    assert _articles("第九至二十四条")[::5] == ["第九条", "第十四条", "第十九条", "第二十四条"]
    assert _articles("第二十七条") == ["第二十七条"]


def test_every_rule_is_documented_with_its_article() -> None:
    from archive.compliance.rulebook import RULES

    assert len(RULES) >= 10
    body = RULES_DOC.split("\n## 规则一览", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:4] for line in body.splitlines() if line.startswith("| `")]
    documented = {rule.strip().strip("`"): (article.strip(), level.strip()) for rule, article, level in rows}
    expected = {r.id: (r.article, r.severity.value) for r in RULES}
    missing = sorted(set(expected) - set(documented))
    assert not missing, f"rules missing from the index of docs/rules.md: {missing}"
    assert documented == expected


def test_every_article_of_the_rulebook_has_its_section() -> None:
    """Each article a rule cites has a 第N条 section of docs/rules.md naming the rule, and each
    step the rulebook ties to an article (written record, full AV record) is named in that section."""
    from archive.compliance import rulebook
    from archive.compliance.engine import CaseFacts, Hit

    sections = _sections()
    assert len(sections) > 20
    # The multi-article rules say in their data which article each case start or step falls under.
    cited: dict[Callable[[CaseFacts], Iterable[Hit]], list[str]] = {
        rulebook.start_records: [article for article, _ in rulebook.START_RECORDS.values()],
        rulebook.event_records: list(rulebook.ARTICLE_OF.values()),
        rulebook.av_records: list(rulebook.AV_REQUIRED.values()),
    }
    for rule in rulebook.RULES:
        articles = cited.get(rule.check, _articles(rule.article))
        assert set(articles) <= set(_articles(rule.article)), rule.id
        for article in articles:
            assert article in sections, f"docs/rules.md has no section {article} ({rule.id})"
            assert f"`{rule.id}`" in sections[article], f"{article} of docs/rules.md does not name {rule.id}"
    for kinds, form in ((rulebook.ARTICLE_OF, "written"), (rulebook.AV_REQUIRED, "audio-visual")):
        for kind, article in kinds.items():
            assert kind.value in sections[article], f"{article} does not name {kind.value} ({form} record)"


def _documented_commands() -> set[tuple[str, ...]]:
    """Every `archive …` command the README and the operations guide name (its words before the
    first argument or option)."""
    import re

    operations = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text(
        encoding="utf-8"
    )
    found = set()
    for text in (README, operations):
        for line in re.findall(r"`archive ([^`]*)`", text):
            words = []
            for token in line.split():
                if not re.fullmatch(r"[a-z][a-z-]*", token):
                    break
                words.append(token)
            if words:
                found.add(tuple(words))
    return found


def test_every_documented_command_runs() -> None:
    """A renamed or removed command fails here: each documented one answers --help."""
    from typer.testing import CliRunner

    documented = _documented_commands()
    assert {("ingest",), ("user", "add"), ("activity", "add"), ("audit", "verify")} <= documented
    runner = CliRunner()
    broken = {}
    for words in sorted(documented):
        result = runner.invoke(app, [*words, "--help"])
        if result.exit_code != 0 or "Usage" not in result.output:
            broken[" ".join(words)] = result.output[-300:]
    assert not broken, f"documented commands that do not run: {broken}"
