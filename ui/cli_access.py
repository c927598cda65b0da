"""`archive audit`, `archive access`, `archive spans` and `archive user token`: the access layer
from the command line (operators on the server itself)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from archive.timeutil import CST
from ui.cli_common import OPERATOR, err, services

audit_app = typer.Typer(help="审计日志（只增不改、哈希链）", no_args_is_help=True)
access_app = typer.Typer(help="案件指派与当事人账号关联", no_args_is_help=True)
spans_app = typer.Typer(help="敏感信息（脱敏范围）", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """校验整条哈希链；发现改动、删除或插入时指出第一处断点，退出码为 1。"""
    from archive import audit

    result = audit.verify(services().engine)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    elif result.ok:
        head = f"#{result.head_seq} {result.head_hash}"
        err.print(f"[green]审计日志完整[/green]：{result.events} 条事件，链头 {head}")
    else:
        err.print(f"[red]审计日志被篡改[/red]：{escape(result.reason)}（第一处断点：#{result.broken_seq}）")
    if not result.ok:
        raise typer.Exit(1)


def _day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
    except ValueError:
        err.print(f"[red]日期格式不正确：{escape(value)}（示例：2026-10-09）[/red]")
        raise typer.Exit(2) from None
    return datetime.combine(day, datetime.min.time(), CST)


@audit_app.command("export")
def audit_export(
    out: Annotated[Path, typer.Option("--out", help="输出的 CSV 文件")],
    event_type: Annotated[str | None, typer.Option("--type", help="事件类型，如 view、download")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="操作人用户名")] = None,
    since: Annotated[str | None, typer.Option("--from", help="起始日期（含）")] = None,
    until: Annotated[str | None, typer.Option("--to", help="截止日期（含）")] = None,
) -> None:
    """按条件导出审计日志为 CSV（含每条事件的哈希）。"""
    from archive import audit
    from search_api.services import audit_log

    if event_type and event_type not in audit.EVENT_TYPES:
        err.print(f"[red]未知事件类型：{escape(event_type)}（可选：{'、'.join(audit.EVENT_TYPES)}）[/red]")
        raise typer.Exit(2)
    svc = services()
    q = audit.AuditQuery(event_type=event_type, actor=actor, since=_day(since), until=_day(until, end=True))
    with out.open("w", encoding="utf-8", newline="") as f:
        for chunk in audit_log.export_log(svc, OPERATOR, q, file=str(out)):
            f.write(chunk)
    err.print(f"已导出到 {out}")


@access_app.command("assign")
def access_assign(
    case: Annotated[str, typer.Argument(help="案号")],
    username: Annotated[str, typer.Argument(help="执法人员的用户名")],
) -> None:
    """指派执法人员承办案件（承办人员只能看到指派给自己的案件）。"""
    from search_api.services import EVERYTHING, ServiceError, cases

    try:
        cases.assign_officer(services(), OPERATOR, EVERYTHING, case, username)
    except ServiceError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"已指派 {username} 承办 {case}")


@access_app.command("link-party")
def access_link_party(
    case: Annotated[str, typer.Argument(help="案号")],
    username: Annotated[str, typer.Argument(help="当事人账号的用户名")],
    party: Annotated[str, typer.Option("--party", help="案件中的当事人名称")],
    id_checked: Annotated[str, typer.Option("--id-checked", help="身份核验方式，如：身份证原件核验")],
) -> None:
    """把当事人账号关联到案件的当事人（须先当面核验身份）。"""
    from search_api.services import EVERYTHING, ServiceError, cases

    try:
        cases.link_party_account(services(), OPERATOR, EVERYTHING, case, username, party, id_checked)
    except ServiceError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"已关联 {username} → {case} 的当事人“{party}”")


@spans_app.command("detect")
def spans_detect(
    case: Annotated[str | None, typer.Option("--case", help="只处理这个案号")] = None,
) -> None:
    """重新识别已处理记录中的敏感信息（身份证号、手机号、住址、他人姓名 …）；人工标注和排除的结果保留。"""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from archive.models import Case, Record
    from pipelines.sensitive import detect_spans

    svc = services()
    with Session(svc.engine) as s:
        stmt = select(Record.id).order_by(Record.id)
        if case:
            stmt = stmt.join(Case, Record.case_id == Case.id).where(Case.case_no == case)
        ids = list(s.scalars(stmt))
    total = sum(detect_spans(svc, rid) for rid in ids)
    err.print(f"已识别 {len(ids)} 条记录，共 {total} 处敏感信息")


def user_token(
    username: Annotated[str, typer.Argument(help="用户名")],
    name: Annotated[str, typer.Option("--name", help="令牌用途")] = "cli",
    days: Annotated[int, typer.Option("--days", min=1, help="有效天数（至多 90 天）")] = 30,
) -> None:
    """为用户签发 API 令牌（Authorization: Bearer …），只显示一次。"""
    from archive.users import TOKEN_DAYS
    from search_api.services import ServiceError, users

    if days > TOKEN_DAYS:
        err.print(f"[red]有效天数至多 {TOKEN_DAYS} 天[/red]")
        raise typer.Exit(2)
    try:
        token = users.issue_token(services(), OPERATOR, username, name, days)
    except ServiceError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    typer.echo(token)
