"""`archive jobs`, `retry`, `fixity`, `rederive` and `status`: what an operator needs to see that
nothing is stuck or lost, and to set it right."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from ui.cli_common import OPERATOR, err, progress_bar, services

LEVEL_MARK = {"ok": "[green]✓[/green]", "warning": "[yellow]![/yellow]", "error": "[red]✗[/red]"}


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} 秒"
    if seconds < 7200:
        return f"{seconds / 60:.0f} 分钟"
    return f"{seconds / 3600:.1f} 小时"


def jobs(
    every: Annotated[bool, typer.Option("--all", help="也列出已完成的任务")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """列出未完成的处理任务：等待中、处理中（由哪个进程、多久）、失败（在哪一步、原因）；停滞的标出。"""
    from pipelines.queue import job_rows

    rows = job_rows(services(), done=every)
    if as_json:
        typer.echo(json.dumps([vars(r) for r in rows], ensure_ascii=False))
        return
    labels = {"pending": "等待", "running": "处理中", "failed": "失败", "done": "完成"}
    for r in rows:
        mark = "[red]停滞[/red] " if r.stuck else ""
        who = f"，进程 {escape(r.worker)}" if r.worker else ""
        step = f"，步骤 {r.step}" if r.step else ""
        why = f"：{escape(r.error)}" if r.error else ""
        err.print(
            f"{mark}#{r.record_id} {escape(r.title)}：{labels[r.status]}{step}{who}，"
            f"{_age(r.age_s)}前更新，第 {r.attempts} 次{why}"
        )
    counts = {k: sum(r.status == k for r in rows) for k in labels}
    stuck = sum(r.stuck for r in rows)
    err.print(
        f"等待 {counts['pending']} 个，处理中 {counts['running']} 个，失败 {counts['failed']} 个，"
        f"其中停滞 {stuck} 个" + (f"，完成 {counts['done']} 个" if every else "")
    )


def retry(
    record_ids: Annotated[
        list[int] | None, typer.Argument(help="记录编号（省略：重新发送所有停滞的任务）")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """重新处理失败的记录（从失败的那一步继续），并重新发送停滞的任务（队列消息丢失、进程已退出）。"""
    from pipelines.queue import make_queue, resend_stuck, retry_processing, stuck_record_ids

    svc = services()
    wanted = list(record_ids) if record_ids else stuck_record_ids(svc)
    reset, skipped = retry_processing(svc, wanted, OPERATOR)
    resent = resend_stuck(svc, skipped, OPERATOR)
    for rid in skipped:
        if rid not in resent:
            err.print(f"记录 {rid} 不存在，或没有失败也没有停滞，跳过")
    if resent:
        err.print(f"重新发送停滞的任务：{'、'.join(map(str, resent))}")
    todo = reset + resent
    with progress_bar(sys.stderr.isatty() or not as_json) as progress:
        task = progress.add_task("重新处理", total=len(todo))
        done = make_queue(svc).run(todo, on_done=lambda _o: progress.advance(task))
    failed = [{"record_id": o.record_id, "reason": o.error} for o in done if o.error]
    if as_json:
        out = {"retried": len(reset), "resent": resent, "skipped": [r for r in skipped if r not in resent]}
        typer.echo(json.dumps(out | {"failed": failed}, ensure_ascii=False))
    for f in failed:
        err.print(f"[red]记录 {f['record_id']} 仍然失败：{f['reason']}[/red]")
    if failed:
        raise typer.Exit(1)


def fixity(
    originals_only: Annotated[bool, typer.Option("--originals", help="只校验原件（不含派生文件）")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """重新计算每个原件和派生文件的 SHA-256 并与入库时的值比对；有不符或缺失时退出码为 1。"""
    from search_api.services.integrity import run_fixity

    checks = run_fixity(services(), OPERATOR, derived=not originals_only)
    bad = [c for c in checks if not c.ok]
    originals = sum(c.role == "original" for c in checks)
    if as_json:
        out = {"checked": len(checks), "originals": originals, "derived": len(checks) - originals}
        typer.echo(json.dumps(out | {"mismatches": [vars(c) for c in bad]}, ensure_ascii=False))
    for c in bad:
        what = "原件" if c.role == "original" else f"派生文件 {c.kind}"
        err.print(f"[red]{c.problem}：记录 {c.record_id}《{escape(c.title)}》的{what} {c.sha256}[/red]")
    if any(c.role != "original" for c in bad):
        err.print("派生文件可以从原件重建：archive rederive --missing")
    err.print(f"校验 {originals} 个原件、{len(checks) - originals} 个派生文件，不符或缺失 {len(bad)} 个")
    if bad:
        raise typer.Exit(1)


def rederive(
    record_ids: Annotated[list[int] | None, typer.Argument(help="记录编号")] = None,
    missing: Annotated[bool, typer.Option("--missing", help="所有派生文件缺失或损坏的记录")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """从原件重新生成记录的派生文件（文本、分页、OCR、缩略图、转写）并重建索引。"""
    from pipelines.queue import make_queue
    from search_api.services.integrity import rederive as rederive_service

    if not record_ids and not missing:
        err.print("[red]请给出记录编号，或用 --missing 处理所有派生文件缺失或损坏的记录[/red]")
        raise typer.Exit(2)
    svc = services()
    queued, skipped = rederive_service(svc, OPERATOR, record_ids or [], missing=missing)
    for rid in skipped:
        err.print(f"记录 {rid} 不存在、原件已损坏或正在处理，跳过")
    with progress_bar(sys.stderr.isatty() or not as_json) as progress:
        task = progress.add_task("重建派生文件", total=len(queued))
        done = make_queue(svc).run(queued, on_done=lambda _o: progress.advance(task))
    failed = [{"record_id": o.record_id, "reason": o.error} for o in done if o.error]
    if as_json:
        out = {"rederived": [o.record_id for o in done if not o.error], "skipped": skipped, "failed": failed}
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        err.print(f"已重建 {len(done) - len(failed)} 条记录的派生文件")
    for f in failed:
        err.print(f"[red]记录 {f['record_id']} 失败：{f['reason']}[/red]")
    if failed or (missing and not queued and skipped):
        raise typer.Exit(1)


def status(
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """档案系统的整体状况：记录、任务、队列与 Redis、索引、固定性、审计链、磁盘、节假日日历。

    有需要处理的事项时退出码为 1。"""
    from pipelines.status import archive_status

    report = archive_status(services())
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, default=str))
    else:
        for c in report.checks:
            action = f"  → {escape(c.action)}" if c.action and c.level != "ok" else ""
            err.print(f"{LEVEL_MARK[c.level]} {c.name:9} {escape(c.summary)}{action}")
    if report.needs_action:
        raise typer.Exit(1)
