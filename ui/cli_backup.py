"""`archive backup DEST`, `archive backup verify DEST` and `archive restore DEST --to DIR`: online
backup of the database and the objects, its verification, and restore as a new system beside the
live one (docs/operations.md, "Backup and restore"; the work is in pipelines/backup/).

`backup` is a group whose first word is either a subcommand (`verify`) or the backup directory:
`_DefaultsToBackup` sends `archive backup DEST …` to the backup command itself, so the usage is
`archive backup DEST` and `archive backup verify DEST` with one typer group; a directory named
like a subcommand is written `./verify`. Only typer and the standard library are imported at the
top: sqlalchemy, rich and pipelines.* are imported inside the commands (`archive --help` stays
fast).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # typer's own click, which TyperGroup and TyperCommand derive from
    from typer._click import Command, Context, HelpFormatter

_BACKUP = "backup"  # the hidden name `archive backup DEST` runs under


class _DefaultsToBackup(TyperGroup):
    """`archive backup verify DEST` runs the subcommand; `archive backup DEST` (anything that is not
    a subcommand nor the help option) runs the backup itself."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [_BACKUP, *args]
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name == _BACKUP:
            return typer.main.get_command(_backup_only)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        # Shown in the usage line as `archive backup DEST`, not under the hidden name.
        return ("" if name == _BACKUP else name), cmd, rest

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return ["DEST [--json] [--quick]", "|", "verify DEST [--snapshot STAMP] [--json]"]


class _BackupCommand(TyperCommand):
    """The backup itself, run as `archive backup DEST` (its usage line without the hidden name)."""

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path.rstrip(), " ".join(self.collect_usage_pieces(ctx)))


backup_app = typer.Typer(
    cls=_DefaultsToBackup,
    help="联机备份：archive backup DEST 备份数据库快照和全部对象（增量）；"
    "archive backup verify DEST 校验备份。恢复用 archive restore DEST --to DIR。",
    no_args_is_help=True,
    add_completion=False,
)
_backup_only = typer.Typer(add_completion=False)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int | None], None]]:
    """A rich progress bar on stderr, one line per phase; yields the pipelines' on_progress."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from ui.cli_common import err

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not enabled, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        yield update


def _show_bar(as_json: bool) -> bool:
    import sys

    return sys.stderr.isatty() or not as_json


def _echo_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False))


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


@_backup_only.command(cls=_BackupCommand)
def backup_cmd(
    dest: Annotated[
        Path,
        typer.Argument(metavar="DEST", help="备份目录（本地目录；对象按内容寻址存放，可反复备份到同一目录）"),
    ],
    quick: Annotated[
        bool, typer.Option("--quick", help="备份目录中已有的对象只核对存在与大小，不重新计算 SHA-256")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """联机备份：数据库快照（SQLite 在线备份 / pg_dump）和快照引用的全部对象；
    只复制备份目录中还没有的对象。"""
    from rich.markup import escape

    from pipelines.backup import BackupError, backup
    from ui.cli_common import OPERATOR, err, services

    svc = services()
    try:
        with _progress(_show_bar(as_json)) as update:
            result = backup(svc, dest, actor=OPERATOR, verify_present=not quick, on_progress=update)
    except BackupError as exc:
        err.print(f"[red]备份失败：{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        _echo_json(result.as_dict())
    repaired = f"，修复损坏的副本 {result.repaired} 个" if result.repaired else ""
    err.print(
        f"备份完成：{escape(result.dest)} 快照 {result.snapshot}（{result.counts['records']} 条记录）；"
        f"对象 {result.objects} 个：新复制 {result.copied} 个（{_size(result.bytes_copied)}），"
        f"已在备份中 {result.present} 个{repaired}；审计链头 #{result.audit_seq} {result.audit_hash}；"
        f"用时 {result.seconds:.1f} 秒"
    )
    for u in result.unavailable:
        err.print(f"[red]未能备份对象 {u.sha256}：{escape(u.reason)}[/red]")
    if not result.ok:
        err.print(
            f"[red]有 {len(result.unavailable)} 个对象不在这次备份中：请先运行 archive fixity 查明原因[/red]"
        )
        raise typer.Exit(1)


@backup_app.command("verify")
def verify_cmd(
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="备份目录")],
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="校验这次快照（snapshots/ 下的目录名；默认：最近一次）")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """校验备份：清单本身的 SHA-256、数据库文件和每个对象的存在与 SHA-256；有问题时逐项指出，退出码为 1。"""
    from rich.markup import escape

    from pipelines.backup import verify_backup
    from ui.cli_common import err

    with _progress(_show_bar(as_json)) as update:
        result = verify_backup(dest, snapshot=snapshot, on_progress=update)
    if as_json:
        _echo_json(result.as_dict())
    for p in result.problems:
        err.print(f"[red]{escape(p.message)}[/red]")
    if result.ok:
        err.print(
            f"[green]备份完好[/green]：快照 {result.snapshot}，{result.objects} 个对象"
            f"（{_size(result.bytes_checked)}）与清单一致"
        )
    else:
        err.print(f"[red]备份有 {len(result.problems)} 处问题[/red]")
        raise typer.Exit(1)


def restore_cmd(
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="备份目录（archive backup 写入的目录）")],
    to: Annotated[
        Path | None,
        typer.Option("--to", help="恢复出的新数据目录（须为新的或空的目录）：数据库、对象和空索引"),
    ] = None,
    db_url: Annotated[
        str | None,
        typer.Option("--db-url", help="PostgreSQL 备份恢复到这个已建好的空数据库（SQLAlchemy URL）"),
    ] = None,
    bucket: Annotated[
        str | None,
        typer.Option("--bucket", help="对象恢复到这个 S3 存储桶（当前配置的 S3 服务器；不存在则新建）"),
    ] = None,
    es_alias: Annotated[
        str | None,
        typer.Option("--es-alias", help="恢复出的系统使用的 Elasticsearch 别名（ARCHIVE_INDEX__ES_ALIAS）"),
    ] = None,
    queue_name: Annotated[
        str | None,
        typer.Option("--queue-name", help="恢复出的系统使用的 Redis 队列名（ARCHIVE_QUEUE__NAME）"),
    ] = None,
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="恢复这次快照（snapshots/ 下的目录名；默认：最近一次）")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """从备份恢复出一套新的系统（不覆盖任何已有数据，不与当前系统共用索引或任务队列）；
    之后运行 archive reindex。"""
    from rich.markup import escape

    from pipelines.backup import BackupError, RestoreRefusedError, RestoreTarget, restore
    from ui.cli_common import OPERATOR, err, settings

    target = RestoreTarget(to=to, db_url=db_url, bucket=bucket, es_alias=es_alias, queue_name=queue_name)
    try:
        with _progress(_show_bar(as_json)) as update:
            result = restore(settings(), dest, target, snapshot=snapshot, actor=OPERATOR, on_progress=update)
    except RestoreRefusedError as exc:
        err.print(f"[red]拒绝恢复：{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    except BackupError as exc:
        err.print(f"[red]恢复失败：{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        _echo_json(result.as_dict())
    for p in result.problems:
        err.print(f"[red]{escape(p.message)}[/red]")
    env = " ".join(f"{key}={value}" for key, value in result.env.items())
    err.print(
        f"已恢复快照 {result.snapshot}：数据库 {escape(result.database)}，对象 {result.objects} 个"
        f"（{_size(result.bytes_restored)}），审计链头 #{result.audit_seq} {result.audit_hash}，"
        f"恢复事件 #{result.restore_event}"
    )
    if to is not None:
        err.print(f"恢复出的系统的设置已写入 {escape(str(to / 'archive.env'))}")
    err.print(
        "下一步（在恢复出的系统上）：\n"
        f"  {escape(env)} archive reindex\n"
        f"  {escape(env)} archive fixity\n"
        f"  {escape(env)} archive audit verify"
    )
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `archive backup …` and `archive restore` to the `archive` command."""
    app.add_typer(backup_app, name="backup")
    app.command("restore")(restore_cmd)
