"""What a 件 of a paper dossier is, from its 题名: its 文书类型, its 环节 (第三条) and the 执法活动
it documents, so that an imported case reads like one recorded in the system."""

from __future__ import annotations

from dataclasses import dataclass

from archive.enums import EventKind, Stage

E, S = EventKind, Stage


@dataclass(frozen=True)
class Kind:
    """A document type as filed: its name, stage, and the activity it records (if any)."""

    document_type: str
    stage: Stage
    activity: EventKind | None = None


# First match wins: longer, more specific names before the words they contain. "a+b": a title
# holding both ("关于对……立案调查的审批表").
KINDS: tuple[tuple[tuple[str, ...], Kind], ...] = (
    (("结案审批表", "结案报告", "结案登记"), Kind("结案审批表", S.SERVICE, E.ENFORCEMENT_ENDED)),
    (("立案审批表", "立案登记表", "立案呈批表", "立案+审批"), Kind("立案审批表", S.START, E.STARTED)),
    # "行政处罚决定书送达回证" is a 送达回证, "强制执行决定书" an enforcement document
    (("送达回证",), Kind("送达回证", S.SERVICE, E.SERVE_DIRECT)),
    (("催告", "强制执行"), Kind("强制执行文书", S.SERVICE, E.FORCED_EXECUTION)),
    (("受理", "举报登记", "投诉登记"), Kind("受理登记", S.START)),
    (("现场检查记录", "现场检查笔录"), Kind("现场检查记录", S.INVESTIGATION, E.INSPECTION)),
    (("勘验笔录", "勘查笔录"), Kind("勘验笔录", S.INVESTIGATION, E.INSPECTION)),
    (("询问笔录", "调查笔录"), Kind("询问笔录", S.INVESTIGATION, E.QUESTION_PARTY)),
    (("抽样",), Kind("抽样取证凭证", S.INVESTIGATION, E.SAMPLING)),
    (("先行登记保存",), Kind("先行登记保存证据通知书", S.INVESTIGATION, E.PRESERVATION)),
    (("检验", "检测", "鉴定"), Kind("检验检测鉴定意见", S.INVESTIGATION, E.EXPERT_TESTING)),
    (("查封", "扣押"), Kind("查封扣押决定书", S.INVESTIGATION, E.SEIZURE)),
    (("责令限期整改", "责令改正", "整改指令"), Kind("责令限期整改指令书", S.DECISION)),
    (("证据", "照片", "书证", "物证"), Kind("证据材料", S.INVESTIGATION, E.COLLECT_EVIDENCE)),
    (("告知书",), Kind("行政处罚告知书", S.DECISION, E.NOTIFY_RIGHTS)),
    (("陈述申辩", "放弃陈述"), Kind("陈述申辩笔录", S.DECISION, E.NOTIFY_RIGHTS)),
    (("听证",), Kind("听证笔录", S.DECISION, E.HEARING)),
    (("法制审核",), Kind("法制审核意见书", S.DECISION, E.LEGAL_REVIEW)),
    (("集体讨论", "处罚审批表", "案件审批表", "审批表"), Kind("案件处理审批表", S.DECISION)),
    (("决定书",), Kind("行政处罚决定书", S.DECISION, E.DECISION)),
    (("邮寄", "回执", "挂号"), Kind("邮寄送达回执", S.SERVICE, E.SERVE_MAIL)),
    (("公告",), Kind("送达公告", S.SERVICE, E.SERVE_NOTICE_POSTED)),
    (("缴款", "缴纳", "罚没款", "收据", "凭证"), Kind("罚款缴纳凭证", S.SERVICE)),
    (("复查",), Kind("整改复查意见书", S.SERVICE, E.CORRECTION_CHECK)),
    (("备考表",), Kind("卷内备考表", S.ARCHIVING)),
)


def kind_of(title: str) -> Kind | None:
    """The kind a 题名 names, or None when it names none of them (the archivist sets it)."""
    for words, kind in KINDS:
        if any(all(part in title for part in w.split("+")) for w in words):
            return kind
    return None
