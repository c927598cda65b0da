"""The domain's fixed vocabularies (roles, stages, activities, statuses …) as string enums.

Kept apart from the database models so that what only needs the words (the command line's help,
settings) does not load SQLAlchemy; `archive.models` re-exports every one of them."""

from __future__ import annotations

import enum


class EnforcementKind(enum.StrEnum):
    """执法类别 (第二条)."""

    SUPERVISION = "监督检查"
    ON_SITE = "现场处理"
    PENALTY = "行政处罚"
    COERCION = "行政强制"
    LICENSING = "行政许可"
    CONFIRMATION = "行政确认"


class CaseOrigin(enum.StrEnum):
    """案件来源 (第六至八条)."""

    APPLICATION = "依申请"
    EX_OFFICIO = "依职权"
    COMPLAINT = "投诉举报"


class CaseStatus(enum.StrEnum):
    """Case lifecycle status."""

    OPEN = "办理中"
    ENDED = "执行终结"
    ARCHIVED = "已归档"


class Stage(enum.StrEnum):
    """环节 (第三条), in procedural order."""

    START = "程序启动"
    INVESTIGATION = "调查取证"
    DECISION = "审查决定"
    SERVICE = "送达执行"
    ARCHIVING = "归档管理"


class EventKind(enum.StrEnum):
    """What happened in a case (第六至二十七条); records are linked to the event they document."""

    # 程序启动
    STARTED = "立案"
    # 调查取证 (第九至十一条)
    QUESTION_PARTY = "询问当事人"
    QUESTION_WITNESS = "询问证人"
    COLLECT_EVIDENCE = "调取书证物证"
    INSPECTION = "现场检查"
    SAMPLING = "抽样取证"
    PRESERVATION = "先行登记保存"
    EXPERT_TESTING = "委托检验鉴定"
    SEIZURE = "查封扣押"
    # 审查决定 (第十二至十五条)
    NOTIFY_RIGHTS = "告知陈述申辩"
    HEARING = "听证"
    LEGAL_REVIEW = "法制审核"
    DECISION = "作出决定"
    # 送达执行 (第十六至二十四条)
    SERVE_DIRECT = "直接送达"
    SERVE_MAIL = "邮寄送达"
    SERVE_LEFT = "留置送达"
    SERVE_ENTRUSTED = "委托转交送达"
    SERVE_NOTICE_POSTED = "公告送达（张贴）"
    SERVE_NOTICE_PRESS = "公告送达（报纸）"
    CORRECTION_CHECK = "责令改正复查"
    FORCED_EXECUTION = "行政强制执行"
    COURT_EXECUTION = "申请法院强制执行"
    ENFORCEMENT_ENDED = "执行终结"
    # 归档管理
    FILED = "归档"


def stage_of(kind: EventKind) -> Stage:
    """The stage of the procedure (第三条) an event belongs to, by its place in EventKind."""
    order = list(EventKind)
    cuts = [
        (EventKind.QUESTION_PARTY, Stage.START),
        (EventKind.NOTIFY_RIGHTS, Stage.INVESTIGATION),
        (EventKind.SERVE_DIRECT, Stage.DECISION),
        (EventKind.FILED, Stage.SERVICE),
    ]
    for first_of_next, stage in cuts:
        if order.index(kind) < order.index(first_of_next):
            return stage
    return Stage.ARCHIVING


class Retention(enum.StrEnum):
    """保管期限 (DA/T 22-2015)."""

    PERMANENT = "永久"
    YEARS_30 = "30年"
    YEARS_10 = "10年"


class Severity(enum.StrEnum):
    """How bad a finding is."""

    ERROR = "违规"
    WARNING = "提醒"


class RecordForm(enum.StrEnum):
    """文字记录 / 音像记录 (第三条)."""

    TEXT = "文字"
    AUDIOVISUAL = "音像"


class Classification(enum.StrEnum):
    """密级/敏感 classification of a record."""

    PUBLIC = "公开"
    INTERNAL = "内部"
    TRADE_SECRET = "商业秘密"
    PRIVACY = "个人隐私"
    STATE_SECRET = "国家秘密"


class PartyType(enum.StrEnum):
    """当事人 type."""

    PERSON = "自然人"
    ORGANISATION = "法人或其他组织"


class ProcessingStatus(enum.StrEnum):
    """Pipeline state of a record."""

    PENDING = "pending"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"


class JobStatus(enum.StrEnum):
    """State of one pipeline job."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class FileRole(enum.StrEnum):
    """原件 / 衍生文件."""

    ORIGINAL = "original"
    DERIVATIVE = "derivative"


class Role(enum.StrEnum):
    """User roles."""

    OFFICER = "执法人员"
    ARCHIVIST = "档案管理员"
    LEADER = "负责人"
    LEGAL_REVIEWER = "法制审核人员"
    PARTY = "当事人"
    ADMIN = "系统管理员"


class SpanKind(enum.StrEnum):
    """Kinds of sensitive span inside a record (脱敏 for parties, 第二十八条)."""

    ID_CARD = "身份证号"
    MOBILE = "手机号"
    LANDLINE = "固定电话"
    BANK_CARD = "银行卡号"
    CREDIT_CODE = "统一社会信用代码"
    PLATE = "车牌号"
    EMAIL = "电子邮箱"
    ADDRESS = "住址"
    PERSON = "姓名"
    OTHER = "其他"


class RequestStatus(enum.StrEnum):
    """查阅申请 status (第二十八条), in the order a request moves."""

    SUBMITTED = "待审查"  # the party asked; an archivist prepares the scope and redactions
    REVIEWED = "待审批"  # scope and redactions checked; awaiting the 负责人
    APPROVED = "已批准"
    DENIED = "已驳回"
    WITHDRAWN = "已撤回"
