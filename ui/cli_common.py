"""What every CLI module shares: the stderr console and the configured services."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

from archive.actor import Actor

if TYPE_CHECKING:
    from rich.progress import Progress

    from archive.settings import Settings
    from pipelines.context import Services

err = Console(stderr=True, soft_wrap=True)
# The audit log names the local operator of the `archive` command (who can read the data directory).
OPERATOR = Actor("cli", "系统")


def settings() -> Settings:
    """The settings, or exit 2 with the configuration error."""
    from archive.settings import get_settings

    try:
        return get_settings()
    except ValueError as exc:
        err.print(f"[red]配置错误：{exc}[/red]")
        raise typer.Exit(2) from exc


def services() -> Services:
    """Open the configured database, store and index."""
    from pipelines.context import open_services

    return open_services(settings())


def progress_bar(enabled: bool) -> Progress:
    """Progress bars on stderr (off when ``enabled`` is false: --json to a pipe)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not enabled,
        transient=False,
    )
