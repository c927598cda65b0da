"""`archive import-dossier`: a closed paper dossier split by its own 卷内目录 and filed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from ui.cli_common import OPERATOR, err, progress_bar, services

if TYPE_CHECKING:
    from pipelines.legacy.propose import Proposal


def _show(p: dict[str, Any]) -> None:
    c = p["cover"]
    err.print(
        f"卷宗 {escape(p['source'])}：{p['page_count']} 页，目录来自"
        f"{'表格' if p['catalog_from'] == 'spreadsheet' else '扫描件'}"
        f"（第 {'、'.join(str(i + 1) for i in p['catalog_pages']) or '—'} 页）"
    )
    err.print(
        f"案号 {escape(c.get('case_no') or '—')}  {escape(c.get('name') or '')}"
        f"  当事人 {escape(c.get('party') or '—')}"
        f"  立案 {c.get('opened') or '—'}  结案 {c.get('closed') or '—'}  {c.get('retention') or '—'}"
        f"  立卷人 {escape(c.get('archivist') or '—')}"
    )
    for x in p["pieces"]:
        pages = f"{x['first_index'] + 1}–{x['last_index'] + 1}"
        err.print(
            f"  {x['seq']:>2}. 第 {pages:>7} 页  {escape(x['title'])}  [dim]{escape(x['doc_no'] or '')}"
            f" {escape(x['author'] or '')} {x['date'] or ''}"
            f" {x['document_type'] or '?'}/{x['stage'] or '?'}[/dim]"
        )
    for note in p.get("notes") or []:
        err.print(f"  [yellow]! {escape(note)}[/yellow]")


def import_dossier(
    path: Annotated[Path, typer.Argument(help="扫描卷宗：PDF、多页 TIFF，或扫描页图像的文件夹")],
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="卷内目录表格（XLSX/CSV）；不给时从扫描的目录页识别")
    ] = None,
    case: Annotated[str | None, typer.Option("--case", help="案号（不用封面上读到的）")] = None,
    proposal_file: Annotated[
        Path | None,
        typer.Option("--proposal", help="按核对修改过的拆分方案导入（--dry-run --json 输出的 JSON）"),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="案件名称（案由），不用封面上读到的")] = None,
    retention: Annotated[
        str | None, typer.Option("--retention", help="保管期限：永久/30年/10年（不用封面上读到的）")
    ] = None,
    archivist: Annotated[str | None, typer.Option("--archivist", help="立卷人（不用封面上读到的）")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只显示拆分方案，不导入")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON")] = False,
) -> None:
    """导入已结案的纸质卷宗：按卷内目录拆成一件一条记录，识别文字，作为历史卷宗归档。"""
    from search_api.services import EVERYTHING, ServiceError, legacy

    stated = {"case_no": case, "name": name, "retention": retention, "archivist": archivist}
    overrides = {k: v.strip() for k, v in stated.items() if v is not None and v.strip()}
    if retention is not None and retention not in ("永久", "30年", "10年"):
        err.print("[red]--retention 应为 永久、30年 或 10年[/red]")
        raise typer.Exit(2)

    for given in [p for p in (path, catalog, proposal_file) if p is not None]:
        if not given.exists():
            err.print(f"[red]找不到 {escape(str(given))}[/red]")
            raise typer.Exit(2)
    if dry_run:
        try:
            with err.status("正在识别封面和卷内目录……"):
                proposal: Proposal = legacy.preview(OPERATOR, path, catalog)
        except ServiceError as exc:
            err.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from None
        shown = proposal.to_json()
        shown["cover"].update(overrides)
        if as_json:
            typer.echo(json.dumps(shown, ensure_ascii=False))
        else:
            _show(shown)
        return
    svc = services()
    try:
        edited = json.loads(proposal_file.read_text(encoding="utf-8")) if proposal_file else None
    except (OSError, ValueError) as exc:
        err.print(f"[red]无法读取拆分方案 {escape(str(proposal_file))}：{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    try:
        import_id = legacy.upload(svc, OPERATOR, path, name=path.name, catalog=catalog)
        with err.status("正在识别封面和卷内目录……"):
            row = legacy.propose_now(svc, import_id)
        if row.proposal is None:
            err.print(f"[red]无法导入：{escape(row.error or '未能识别')}[/red]")
            raise typer.Exit(1)
        if edited is not None or overrides:
            edited = edited if edited is not None else dict(row.proposal)
            edited["cover"] = {**(edited.get("cover") or {}), **overrides}
            legacy.review(svc, OPERATOR, import_id, edited)
        row = legacy.get(svc, OPERATOR, import_id)
        assert row.proposal is not None
        if not as_json:
            _show(row.proposal)
        confirmed = legacy.confirm(svc, OPERATOR, import_id)
        with progress_bar(sys.stderr.isatty() or not as_json) as progress:
            task = progress.add_task("识别各件文字", total=len(confirmed.record_ids))
            dossier = legacy.finish(
                svc,
                OPERATOR,
                EVERYTHING,
                import_id,
                on_done=lambda done, _t: progress.update(task, completed=done),
            )
    except legacy.PlanProblems as exc:
        err.print(f"[red]不能导入（已保留为待核对的导入 #{import_id}，可在网页“导入卷宗”中核对）：[/red]")
        for problem in exc.problems:
            err.print(f"  [red]· {escape(problem)}[/red]")
        raise typer.Exit(1) from None
    except ServiceError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(1) from None
    result = {
        "import_id": import_id,
        "case_no": confirmed.case_no,
        "records": confirmed.record_ids,
        "pieces": dossier.pieces,
        "retention": dossier.retention.value,
        "archivist": dossier.archivist,
    }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        err.print(
            f"[green]已导入并归档 {escape(confirmed.case_no)}：{dossier.pieces} 件，"
            f"保管期限 {dossier.retention.value}，立卷人 {escape(dossier.archivist)}[/green]"
        )
