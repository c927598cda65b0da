"""`archive check`, `event`, `case`, `dossier` and `fixity`: the rules of docs/rules.md and filing."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from archive.enums import CaseOrigin, EnforcementKind, EventKind, PartyType, Retention, Severity
from ui.cli_common import OPERATOR, err, services

activity_app = typer.Typer(help="执法活动（立案、询问、现场检查、送达、执行终结 …）", no_args_is_help=True)
# The former name of `archive activity`, kept for one release.
event_app = typer.Typer(help="同 archive activity（旧名，下一版本移除）", no_args_is_help=True)
case_app = typer.Typer(help="案件", no_args_is_help=True)
HISTORICAL = "历史卷宗：以下为导入时按现行制度核对的结果，仅供参考，不计入违规"


def check_cmd(
    case: Annotated[str | None, typer.Option("--case", help="只检查这个案号")] = None,
    today: Annotated[str | None, typer.Option("--today", help="按这一天计算期限（YYYY-MM-DD）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """按《执法全过程记录制度》逐案检查；有违规时退出码为 1。"""
    from pipelines.compliance import check, finding_fields

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
                "legacy": r.legacy,
                "findings": [finding_fields(f, r.legacy) for f in r.findings],
            }
            for r in results
        ]
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        # One write per case; plain text when stderr is not a terminal (a province's 300,000
        # findings took two minutes to print line by line through the colour markup).
        plain = not err.is_terminal
        for r in results:
            mark = ("✗", "red") if r.errors else (("!", "yellow") if r.findings else ("✓", "green"))
            if r.legacy:
                mark = ("·", "dim")
            lines = [(mark, f" {r.case_no} {r.name}（{r.status}）")]
            if r.legacy and r.findings:
                lines.append(((f"   {HISTORICAL}", "dim"), ""))
            for f in r.findings:
                colour = "dim" if r.legacy else ("red" if f.severity is Severity.ERROR else "yellow")
                lines.append(((f"   {f.severity.value}", colour), f" {f.message}  {f.rule_id}"))
            if plain:
                sys.stderr.write("".join(f"{head}{rest}\n" for (head, _), rest in lines))
            else:
                err.print("\n".join(f"[{c}]{escape(head)}[/{c}]{escape(rest)}" for (head, c), rest in lines))
        total = sum(r.errors for r in results)
        err.print(f"检查 {len(results)} 个案件，违规 {total} 项")
    if any(r.errors for r in results):
        raise typer.Exit(1)


@activity_app.command("add")
@event_app.command("add")
def activity_add(
    case: Annotated[str, typer.Argument(help="案号")],
    kind: Annotated[str, typer.Option("--kind", help="活动：" + "/".join(k.value for k in EventKind))],
    at: Annotated[str, typer.Option("--at", help="发生时间（ISO 8601，无时区按北京时间）")],
    note: Annotated[str | None, typer.Option("--note", help="说明")] = None,
    av_exempt: Annotated[
        bool, typer.Option("--av-exempt", help="依法不得或不宜录音录像（第十条），理由写在 --note")
    ] = False,
) -> None:
    """记录一项执法活动；执行终结同时结束案件（第二十七条的 30 日归档期限由此起算）。"""
    from search_api.services import EVERYTHING, ServiceError, cases

    try:
        kind_value = EventKind(kind)
    except ValueError:
        err.print(f"[red]未知执法活动：{escape(kind)}（可选：{'、'.join(k.value for k in EventKind)}）[/red]")
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
        event_id = cases.record_activity(
            services(), OPERATOR, EVERYTHING, case, kind_value, when, note=note, av_exempt=av_exempt
        )
    except ServiceError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    typer.echo(str(event_id))
    err.print(
        f"已记录：{escape(case)} {kind_value.value}"
        f"（编号 {event_id}，导入记录时用 --activity {event_id} 关联）"
    )


@case_app.command("add")
def case_add(
    case: Annotated[str, typer.Argument(help="案号，如 农应急罚〔2026〕15号")],
    name: Annotated[str, typer.Option("--name", help="案件名称")],
    kind: Annotated[
        str, typer.Option("--kind", help="执法类别：" + "/".join(k.value for k in EnforcementKind))
    ],
    origin: Annotated[
        str, typer.Option("--origin", help="案件来源：" + "/".join(o.value for o in CaseOrigin))
    ],
    opened: Annotated[str, typer.Option("--opened", help="立案时间（ISO 8601）")],
    officer: Annotated[str, typer.Option("--officer", help="承办人")] = "",
    org: Annotated[
        list[str] | None, typer.Option("--party-org", help="当事人：法人或其他组织（可重复）")
    ] = None,
    person: Annotated[
        list[str] | None, typer.Option("--party-person", help="当事人：自然人（可重复）")
    ] = None,
) -> None:
    """登记案件；同时记录“立案”环节。"""
    from pipelines.compliance import create_case

    try:
        kind_value, origin_value = EnforcementKind(kind), CaseOrigin(origin)
        opened_at = datetime.fromisoformat(opened)
    except ValueError as exc:
        err.print(f"[red]参数不正确：{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    try:
        parties = [(p, PartyType.ORGANISATION) for p in org or []] + [
            (p, PartyType.PERSON) for p in person or []
        ]
        create_case(services(), case, name, kind_value, origin_value, opened_at, officer, parties)
    except ValueError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"已登记案件：{escape(case)}")


@case_app.command("archivist")
def archivist(
    case: Annotated[str, typer.Argument(help="案号")],
    name: Annotated[str, typer.Argument(help="归档、保管责任人姓名")],
) -> None:
    """指定案件的归档、保管责任人（第二十七条）。"""
    from archive.cases import CaseNotFoundError
    from pipelines.compliance import set_archivist

    try:
        set_archivist(services(), case, name)
    except CaseNotFoundError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"{escape(case)} 的归档责任人：{escape(name)}")


dossier_app = typer.Typer(help="卷宗：归档、导出 BagIt 包、校验", no_args_is_help=True)


def _retention(value: str) -> Retention:
    try:
        return Retention(value)
    except ValueError:
        err.print(
            f"[red]未知保管期限：{escape(value)}（可选：{'、'.join(r.value for r in Retention)}）[/red]"
        )
        raise typer.Exit(2) from None


@dossier_app.command("preview")
def dossier_preview(
    case: Annotated[str, typer.Argument(help="案号")],
    out: Annotated[Path, typer.Option("--out", help="卷内目录 PDF 的保存路径")],
    retention: Annotated[str, typer.Option("--retention", help="保管期限：永久/30年/10年")] = "永久",
    archivist: Annotated[str, typer.Option("--archivist", help="立卷人")] = "",
) -> None:
    """预览卷宗封面与卷内目录（不归档、不改变任何数据）。"""
    from archive.cases import CaseNotFoundError
    from pipelines.dossier import preview

    try:
        out.write_bytes(preview(services(), case, _retention(retention), archivist))
    except CaseNotFoundError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"卷内目录预览：{out}")


@dossier_app.command("file")
def dossier_file(
    case: Annotated[str, typer.Argument(help="案号")],
    retention: Annotated[str, typer.Option("--retention", help="保管期限：永久/30年/10年")],
    archivist: Annotated[str, typer.Option("--archivist", help="归档、保管责任人")],
    filed_by: Annotated[str, typer.Option("--by", help="办理归档的人")] = "档案管理员",
) -> None:
    """归档：编件号、生成卷内目录、设定保管期限，并冻结案件（记录与元数据不可再改）。"""
    from search_api.services import EVERYTHING, ServiceError, cases

    try:
        d = cases.file_case(
            services(), OPERATOR, EVERYTHING, case, _retention(retention), archivist, filed_by=filed_by
        )
    except ServiceError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(
        f"已归档：{escape(case)}，{d.pieces} 件，保管期限 {d.retention.value}，责任人 {escape(d.archivist)}"
    )


@dossier_app.command("export")
def dossier_export(
    case: Annotated[str, typer.Argument(help="案号")],
    dest: Annotated[Path, typer.Argument(help="新建的 BagIt 包目录")],
) -> None:
    """导出已归档案件为 BagIt 包（原件、衍生文本与转写、逐件元数据、卷内目录、环节记录、SHA-256 清单）。"""
    from search_api.services import EVERYTHING, ServiceError, cases

    try:
        cases.export_dossier(services(), OPERATOR, EVERYTHING, case, dest)
    except ServiceError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"已导出：{dest}")


@dossier_app.command("verify")
def dossier_verify(path: Annotated[Path, typer.Argument(help="BagIt 包目录")]) -> None:
    """重新校验 BagIt 包：缺失、多出或被改动的文件都会列出；有问题时退出码为 1。"""
    from pipelines.dossier import verify_bag

    problems = verify_bag(path)
    for p in problems:
        err.print(f"[red]{escape(p)}[/red]")
    if problems:
        err.print(f"[red]校验失败：{len(problems)} 处问题[/red]")
        raise typer.Exit(1)
    err.print("校验通过：文件完整、未被改动")
