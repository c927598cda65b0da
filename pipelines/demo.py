"""A small, realistic demo case: what `archive demo` and `make run` load."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from archive.access import assign, link_party
from archive.actor import Actor
from archive.db import session_scope
from archive.models import (
    Case,
    CaseOrigin,
    EnforcementKind,
    EventKind,
    Party,
    PartyType,
    Role,
    Stage,
    User,
    Witness,
)
from archive.timeutil import CST
from archive.users import create_user
from pipelines.compliance import add_event, create_case, set_archivist, today_local
from pipelines.context import Services
from pipelines.ingest import IngestOutcome, RecordMeta, ingest_file
from pipelines.queue import make_queue
from pipelines.samples import write_pdf

DEMO_CASE_NO = "农应急罚〔2026〕12号"
# Demo sign-in, created only in the dev profile (`archive demo` refuses it elsewhere).
DEMO_USER, DEMO_PASSWORD = "demo", "demo-2026"
COMPANY = "农安县宏达化工有限公司"
CREDIT_CODE = "91220122MA0Y3K2X7B"

_RECORDS: list[tuple[str, Stage, str, str, str, str, str]] = [
    # file name, stage, document type, made_by, made_at, proves, body
    (
        "立案审批表.pdf",
        Stage.START,
        "立案审批表",
        "孙立军",
        "2026-10-09T09:30",
        "案件来源及立案审批",
        f"立案审批表\n案件来源：日常监督检查中发现\n当事人：{COMPANY}\n统一社会信用代码：{CREDIT_CODE}\n"
        "基本案情：该公司危险化学品仓库未设置可燃气体报警装置，涉嫌违反《危险化学品安全管理条例》。\n"
        "承办人意见：建议立案调查。承办机构意见：同意立案。机关负责人意见：同意。",
    ),
    (
        "现场检查记录.pdf",
        Stage.INVESTIGATION,
        "现场检查记录",
        "孙立军、周晓梅",
        "2026-10-09T10:15",
        "仓库未设置可燃气体报警装置的事实",
        f"现场检查记录\n被检查单位：{COMPANY}\n检查场所：甲类危险化学品仓库\n"
        "检查情况：仓库内存放甲醇、丙酮等易燃液体约12吨，未设置可燃气体报警装置，"
        "安全出口处堆放纸箱，疏散通道不畅通。现场拍摄照片6张，执法记录仪全程录像。\n"
        "当事人对检查情况无异议并签字确认。",
    ),
    (
        "询问笔录.txt",
        Stage.INVESTIGATION,
        "询问笔录",
        "周晓梅",
        "2026-10-10T14:00",
        "当事人对违法事实的陈述",
        "询问笔录\n询问时间：2026年10月10日14时00分至14时40分\n询问地点：农安县应急管理局第二询问室\n"
        "被询问人：张建国，宏达化工有限公司安全负责人，身份证号：220122198503154214，"
        "联系电话：13904318866，住址：吉林省长春市农安县农安镇黄龙路188号\n"
        "在场证人：李明（公司仓库保管员）\n"
        "问：你公司危险化学品仓库是否设置了可燃气体报警装置？\n"
        "答：没有设置，原来的报警器去年坏了一直没有更换。\n"
        "问：以上笔录你看一下，是否属实？\n答：属实。",
    ),
    (
        "行政处罚决定书.pdf",
        Stage.DECISION,
        "行政处罚决定书",
        "孙立军",
        "2026-10-28T16:00",
        "行政处罚决定及法律依据",
        f"行政处罚决定书\n{DEMO_CASE_NO}\n当事人：{COMPANY}\n"
        "经查，你单位危险化学品仓库未设置可燃气体报警装置，违反了《危险化学品安全管理条例》第二十条的规定。\n"
        "依据第七十八条第一款，决定给予罚款人民币伍万元的行政处罚，并责令限期整改。\n"
        "如不服本决定，可以在收到本决定书之日起六十日内申请行政复议，或者六个月内依法提起行政诉讼。",
    ),
    (
        "送达回证.pdf",
        Stage.SERVICE,
        "送达回证",
        "吴国庆",
        "2026-10-29T10:00",
        "行政处罚决定书已直接送达",
        f"送达回证\n送达文书：行政处罚决定书（{DEMO_CASE_NO}）\n受送达人：{COMPANY}\n"
        "送达方式：直接送达\n送达地点：农安县工业园区宏达化工有限公司办公楼\n"
        "收件人签名：张建国\n送达人：吴国庆、郑海波",
    ),
]


# A recording of the on-site inspection (synthetic Mandarin speech, made with espeak-ng): shows a
# sound record with its machine transcript, which an officer can correct (第二十六条).
_RECORDINGS: list[tuple[str, Stage, str, str, str, str, str]] = [
    (
        "现场检查录音.ogg",
        Stage.INVESTIGATION,
        "现场检查录音",
        "孙立军",
        "2026-10-09T10:05",
        "现场检查过程及当事人陈述",
        "执法记录仪录音",
    ),
]
DEMO_MEDIA = Path(__file__).parent / "demo_media"


# One account per role for trying the whole 查阅 flow (all with DEMO_PASSWORD).
# The demo data's own steps are audited as done by the loader, not by a person.
DEMO_LOADER = Actor("示例数据", "系统")

DEMO_ACCOUNTS: list[tuple[str, str, Role]] = [
    (DEMO_USER, "孙立军", Role.OFFICER),
    ("archivist", "刘淑芬", Role.ARCHIVIST),
    ("leader", "王志刚", Role.LEADER),
    ("legal", "陈静", Role.LEGAL_REVIEWER),
    ("admin", "系统管理员", Role.ADMIN),
    ("party", "宏达化工（代理人）", Role.PARTY),
]


def ensure_demo_user(svc: Services) -> bool:
    """Create the demo accounts that are missing (dev profile only); True if any was created."""
    if svc.settings.profile != "dev":
        raise PermissionError("示例账号只能在开发配置（ARCHIVE_PROFILE=dev）下创建")
    created = False
    with session_scope(svc.engine) as s:
        for username, name, role in DEMO_ACCOUNTS:
            if s.scalar(select(User).where(User.username == username)) is None:
                create_user(
                    session=s, username=username, display_name=name, role=role, password=DEMO_PASSWORD
                )
                created = True
    return created


def _demo_access(svc: Services) -> None:
    """The demo officer is assigned to the demo case; the party account stands for the company."""
    with session_scope(svc.engine) as s:
        users = set(s.scalars(select(User.username)))
        if DEMO_USER in users:
            assign(session=s, case_no=DEMO_CASE_NO, username=DEMO_USER, by="示例数据")
        if "party" in users:
            link_party(
                session=s,
                username="party",
                case_no=DEMO_CASE_NO,
                party_name=COMPANY,
                id_checked="营业执照及授权委托书原件核验（示例）",
                by="孙立军",
            )


def load_demo(svc: Services, workdir: Path) -> list[IngestOutcome]:
    """Create the demo case (once) and ingest its records (re-running reports duplicates)."""
    with session_scope(svc.engine) as s:
        if s.scalar(select(Case).where(Case.case_no == DEMO_CASE_NO)) is None:
            case = Case(
                case_no=DEMO_CASE_NO,
                name=f"{COMPANY}危险化学品仓库未设置可燃气体报警装置案",
                enforcement_kind=EnforcementKind.PENALTY,
                origin=CaseOrigin.EX_OFFICIO,
                case_officer="孙立军",
                opened_at=datetime(2026, 10, 9, 9, 30, tzinfo=CST),
            )
            case.parties.append(Party(name=COMPANY, party_type=PartyType.ORGANISATION, id_number=CREDIT_CODE))
            s.add(case)
            s.flush()
            s.add(Witness(case_id=case.id, name="李明", relation="证人"))
    _demo_access(svc)
    workdir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for name, stage, kind, made_by, made_at, proves, body in _RECORDS:
        path = workdir / name
        if name.endswith(".pdf"):
            write_pdf(path, [body], title=name)
        else:
            path.write_bytes(body.encode("gb18030"))  # older office systems write GBK text
        meta = RecordMeta(
            case_no=DEMO_CASE_NO,
            stage=stage,
            document_type=kind,
            title=Path(name).stem,
            made_how="计算机制作" if name.endswith(".pdf") else "文字录入",
            made_at=datetime.fromisoformat(made_at).replace(tzinfo=CST),
            made_by=made_by,
            proves=proves,
        )
        outcomes.append(ingest_file(svc, path, meta))
    for name, stage, kind, made_by, made_at, proves, how in _RECORDINGS:
        meta = RecordMeta(
            case_no=DEMO_CASE_NO,
            stage=stage,
            document_type=kind,
            title=Path(name).stem,
            made_how=how,
            made_at=datetime.fromisoformat(made_at).replace(tzinfo=CST),
            made_by=made_by,
            proves=proves,
        )
        outcomes.append(ingest_file(svc, DEMO_MEDIA / name, meta))
    outcomes += _ended_case(svc, workdir)
    new = [o.record_id for o in outcomes if o.status == "ingested" and o.record_id]
    make_queue(svc).run(new)
    return outcomes


ENDED_CASE_NO = "农应急检〔2026〕7号"
_ENDED_RECORDS = [
    (
        "检查记录",
        Stage.INVESTIGATION,
        "现场检查笔录",
        0,
        "现场检查笔录\n检查对象：农安县鑫源加油站\n检查内容：油罐区防雷防静电设施、消防器材配置\n"
        "检查情况：二号油罐静电接地线断开，灭火器三具过期。",
    ),
    (
        "责令限期整改指令书",
        Stage.DECISION,
        "责令限期整改指令书",
        1,
        "责令限期整改指令书\n农安县鑫源加油站：\n经查，你单位二号油罐静电接地线断开、灭火器过期，"
        "责令于十日内整改完毕。",
    ),
    (
        "整改复查意见书",
        Stage.SERVICE,
        "整改复查意见书",
        11,
        "整改复查意见书\n经复查，农安县鑫源加油站已恢复二号油罐静电接地，更换过期灭火器，整改合格。",
    ),
]


def _ended_case(svc: Services, workdir: Path) -> list[IngestOutcome]:
    """A supervision case that ended 12 days ago: the archivist's filing work (第二十七条)."""
    ended = datetime.combine(today_local() - timedelta(days=12), time(16, 0), tzinfo=CST)
    opened = ended - timedelta(days=12)
    with session_scope(svc.engine) as s:
        exists = s.scalar(select(Case.id).where(Case.case_no == ENDED_CASE_NO)) is not None
    if not exists:
        create_case(
            svc,
            ENDED_CASE_NO,
            "农安县鑫源加油站安全生产监督检查",
            EnforcementKind.SUPERVISION,
            CaseOrigin.EX_OFFICIO,
            opened,
            officer="孙立军",
            parties=[("农安县鑫源加油站", PartyType.ORGANISATION)],
        )
    outcomes = []
    for title, stage, kind, day, body in _ENDED_RECORDS:
        path = workdir / f"{ENDED_CASE_NO}-{title}.pdf"
        write_pdf(path, [body], title=title)
        made = opened + timedelta(days=day, hours=1)
        meta = RecordMeta(
            case_no=ENDED_CASE_NO,
            stage=stage,
            document_type=kind,
            title=title,
            made_how="计算机制作",
            made_at=made,
            made_by="孙立军、王海涛",
            proves=f"{kind}的内容",
        )
        outcomes.append(ingest_file(svc, path, meta))
    if not exists:
        add_event(svc, ENDED_CASE_NO, EventKind.INSPECTION, opened + timedelta(hours=1), actor=DEMO_LOADER)
        add_event(
            svc, ENDED_CASE_NO, EventKind.CORRECTION_CHECK, opened + timedelta(days=11), actor=DEMO_LOADER
        )
        add_event(svc, ENDED_CASE_NO, EventKind.ENFORCEMENT_ENDED, ended, actor=DEMO_LOADER)
        set_archivist(svc, ENDED_CASE_NO, "刘淑芬")
    with session_scope(svc.engine) as s:
        if s.scalar(select(User.id).where(User.username == DEMO_USER)) is not None:
            assign(session=s, case_no=ENDED_CASE_NO, username=DEMO_USER, by="示例数据")
    return outcomes
