"""Docs that cannot drift: every setting and every CLI command is in the README."""

from __future__ import annotations

from collections.abc import Iterator
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
    missing = [n for n in names if f"`{n}`" not in README]
    assert not missing, f"settings missing from README: {missing}"


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
    from archive.permissions import ROLES_FOR

    documented = {action: set(roles.split("、")) for action, roles in _table("Who may do what").items()}
    assert documented == {a.value: {r.value for r in roles} for a, roles in ROLES_FOR.items()}


def test_every_audit_event_type_is_documented() -> None:
    from archive.audit import EVENT_TYPES

    assert _table("Audit event types") == EVENT_TYPES
