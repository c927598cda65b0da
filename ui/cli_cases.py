"""`archive check`, `archive event add`, `archive case archivist`: the rules of RULES.md."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated

import typer
from rich.markup import escape

from archive.cases import CaseNotFoundError
from archive.models import EventKind, Severity
from pipelines.compliance import add_event, check, set_archivist
from ui.cli_common import err, services

event_app = typer.Typer(help="执法环节（立案、询问、现场检查、送达、执行终结 …）", no_args_is_help=True)
case_app = typer.Typer(help="案件", no_args_is_help=True)


def check_cmd(
    case: Annotated[str | None, typer.Option("--case", help="只检查这个案号")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按这一天计算期限（YYYY-MM-DD）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """按《执法全过程记录制度》逐案检查；有违规时退出码为 1。"""
    svc = services()
    day = date.fromisoformat(today) if today else None
    results = check(svc, [case] if case else None, today=day)
    if case and not results:
        err.print(f"[red]案件不存在：{escape(case)}[/red]")
        raise typer.Exit(2)
    if as_json:
        payload = [
            {
                "case_no": r.case_no,
                "name": r.name,
                "status": r.status,
                "findings": [
                    {
                        "rule_id": f.rule_id,
                        "article": f.article,
                        "severity": f.severity.value,
                        "message": f.message,
                        "evidence": f.evidence,
                        "record_id": f.record_id,
                        "event_id": f.event_id,
                    }
                    for f in r.findings
                ],
            }
            for r in results
        ]
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        for r in results:
            mark = (
                "[red]✗[/red]" if r.errors else ("[yellow]![/yellow]" if r.findings else "[green]✓[/green]")
            )
            err.print(f"{mark} {escape(r.case_no)} {escape(r.name)}（{r.status}）")
            for f in r.findings:
                colour = "red" if f.severity is Severity.ERROR else "yellow"
                err.print(
                    f"   [{colour}]{f.severity.value}[/{colour}] {escape(f.message)}  [dim]{f.rule_id}[/dim]"
                )
        total = sum(r.errors for r in results)
        err.print(f"检查 {len(results)} 个案件，违规 {total} 项")
    if any(r.errors for r in results):
        raise typer.Exit(1)


@event_app.command("add")
def event_add(
    case: Annotated[str, typer.Argument(help="案号")],
    kind: Annotated[str, typer.Option("--kind", help="环节：" + "/".join(k.value for k in EventKind))],
    at: Annotated[str, typer.Option("--at", help="发生时间（ISO 8601，无时区按北京时间）")],
    note: Annotated[str | None, typer.Option("--note", help="说明")] = None,
    av_exempt: Annotated[
        bool, typer.Option("--av-exempt", help="依法不得或不宜录音录像（第十条），理由写在 --note")
    ] = False,
) -> None:
    """记录一个执法环节；执行终结同时结束案件（第二十七条的 30 日归档期限由此起算）。"""
    try:
        kind_value = EventKind(kind)
    except ValueError:
        err.print(f"[red]未知环节：{escape(kind)}（可选：{'、'.join(k.value for k in EventKind)}）[/red]")
        raise typer.Exit(2) from None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        err.print(f"[red]时间格式不正确：{escape(at)}（示例：2026-10-09T09:30）[/red]")
        raise typer.Exit(2) from None
    if av_exempt and not note:
        err.print("[red]--av-exempt 须用 --note 写明不得或不宜录音录像的理由[/red]")
        raise typer.Exit(2)
    try:
        event_id = add_event(services(), case, kind_value, when, note=note, av_exempt=av_exempt)
    except (CaseNotFoundError, PermissionError) as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    typer.echo(str(event_id))
    err.print(
        f"已记录：{escape(case)} {kind_value.value}（编号 {event_id}，导入记录时用 --event {event_id} 关联）"
    )


@case_app.command("archivist")
def archivist(
    case: Annotated[str, typer.Argument(help="案号")],
    name: Annotated[str, typer.Argument(help="归档、保管责任人姓名")],
) -> None:
    """指定案件的归档、保管责任人（第二十七条）。"""
    try:
        set_archivist(services(), case, name)
    except CaseNotFoundError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"{escape(case)} 的归档责任人：{escape(name)}")
