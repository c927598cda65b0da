"""`archive --help` loads no database, web or processing code: scripts calling the command many
times do not pay for what they do not use (bench/cli.py measures the seconds)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "alembic", "fastapi", "pipelines", "search_api", "numpy", "tantivy", "rjieba")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})


def test_the_command_line_starts_without_heavy_modules() -> None:
    assert _loaded_after("import ui.cli") == []
    # and the probe can see them: the web app does load them
    assert {"sqlalchemy", "fastapi", "pipelines"} <= set(_loaded_after("import ui.web"))


def test_help_of_every_command_group_stays_light() -> None:
    code = (
        "from typer.testing import CliRunner\nfrom ui.cli import app\n"
        "for args in (['--help'], ['search', '--help'], ['ingest', '--help'], ['user', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0, args"
    )
    assert _loaded_after(code) == []
