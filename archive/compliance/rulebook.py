"""The rules of docs/rules.md (农安县应急管理局行政执法全过程记录制度), one entry per checkable rule.

A written record "counts" for an event when it is linked to that event, or — not linked to any
event — when its 文书类型 names the document the rule asks for. An audio-visual record counts
only when linked to its event (nothing else says which event a recording shows).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import cast

from archive.compliance.engine import CaseFacts, Hit, RecordFacts, Rule
from archive.media import MediaFamily, family_of
from archive.models import (
    CaseOrigin,
    CaseStatus,
    EnforcementKind,
    EventKind,
    ProcessingStatus,
    RecordForm,
    Severity,
)
from archive.workdays import CalendarGapError

E = EventKind

# 文书类型 keywords that satisfy each event's written-record requirement.
WRITTEN: dict[EventKind, tuple[str, ...]] = {
    E.QUESTION_PARTY: ("询问笔录",),
    E.QUESTION_WITNESS: ("询问笔录",),
    E.COLLECT_EVIDENCE: ("调取", "证据清单", "书证", "物证"),
    E.INSPECTION: ("现场检查记录", "勘验笔录", "现场检查笔录"),
    E.SAMPLING: ("抽样",),
    E.PRESERVATION: ("先行登记保存",),
    E.EXPERT_TESTING: ("委托", "检验", "检测", "鉴定", "专家"),
    E.SEIZURE: ("查封", "扣押"),
    E.NOTIFY_RIGHTS: ("告知书", "陈述申辩", "放弃陈述"),
    E.HEARING: ("听证",),
    E.LEGAL_REVIEW: ("法制审核",),
    E.DECISION: ("决定书",),
    E.SERVE_DIRECT: ("送达回证",),
    E.SERVE_MAIL: ("邮寄", "回执", "挂号", "快递"),
    E.SERVE_LEFT: ("送达回证", "留置送达"),
    E.SERVE_ENTRUSTED: ("送达回证", "委托送达", "转交"),
    E.SERVE_NOTICE_POSTED: ("公告",),
    E.SERVE_NOTICE_PRESS: ("公告",),
    E.CORRECTION_CHECK: ("复查", "整改"),
    E.FORCED_EXECUTION: ("催告", "强制执行决定"),
    E.COURT_EXECUTION: ("强制执行申请", "申请法院"),
}
ARTICLE_OF: dict[EventKind, str] = {
    **dict.fromkeys(
        (E.QUESTION_PARTY, E.QUESTION_WITNESS, E.COLLECT_EVIDENCE, E.INSPECTION, E.SAMPLING),
        "第九条",
    ),
    **dict.fromkeys((E.PRESERVATION, E.EXPERT_TESTING), "第九条"),
    E.SEIZURE: "第十条",
    E.NOTIFY_RIGHTS: "第十三条",
    E.HEARING: "第十四条",
    E.LEGAL_REVIEW: "第十五条",
    E.DECISION: "第十五条",
    E.SERVE_DIRECT: "第十七条",
    E.SERVE_MAIL: "第十八条",
    E.SERVE_LEFT: "第十九条",
    E.SERVE_ENTRUSTED: "第二十条",
    E.SERVE_NOTICE_POSTED: "第二十一条",
    E.SERVE_NOTICE_PRESS: "第二十一条",
    E.CORRECTION_CHECK: "第二十二条",
    E.FORCED_EXECUTION: "第二十三条",
    E.COURT_EXECUTION: "第二十四条",
}
# Events whose whole process must also be recorded on audio/video.
AV_REQUIRED: dict[EventKind, str] = {
    E.SEIZURE: "第十条",
    E.SERVE_LEFT: "第十九条",
    E.SERVE_NOTICE_POSTED: "第二十一条",
    E.FORCED_EXECUTION: "第二十三条",
}
# 程序启动 (第六至八条): what the case file must hold for each way a case starts.
START_RECORDS: dict[CaseOrigin, tuple[str, list[tuple[str, tuple[str, ...]]]]] = {
    CaseOrigin.APPLICATION: (
        "第六条",
        [("申请材料", ("申请",)), ("受理或不予受理的记录", ("受理",))],
    ),
    CaseOrigin.EX_OFFICIO: (
        "第七条",
        [("立案审批表（启动原因、案件来源、当事人、基本案情、承办人/承办机构/负责人意见）", ("立案",))],
    ),
    CaseOrigin.COMPLAINT: (
        "第八条",
        [("投诉举报登记（投诉人、内容、记录人）", ("投诉", "举报")), ("处理情况记录", ("处理", "立案"))],
    ),
}
APPROVAL = ("审批", "审理", "审核", "批准", "集体讨论")  # 第十二条
ARCHIVE_WARN_DAYS = 7
AV_UPLOAD_WORKDAYS = 2  # 第二十五条
METADATA = {"made_how": "制作方法", "made_at": "制作时间", "made_by": "制作人", "proves": "证明对象"}


def is_av(record: RecordFacts) -> bool:
    """An audio-visual record (音像记录): photo, sound or video."""
    return record.form is RecordForm.AUDIOVISUAL or family_of(record.mime).is_audiovisual


def is_sound(record: RecordFacts) -> bool:
    """A record with sound (第二十六条 needs its transcript): audio, or video with a sound track."""
    family = family_of(record.mime)
    if family is MediaFamily.VIDEO:
        media = (record.source_meta or {}).get("media") or {}
        return bool(media.get("has_audio", True))
    return family is MediaFamily.AUDIO


def _av(facts: CaseFacts) -> frozenset[int]:
    """The case's audio-visual records (by object identity), worked out once per evaluation: the
    rules ask about each record once per event."""
    found = facts.memo.get("av")
    if found is None:
        found = facts.memo["av"] = frozenset(id(r) for r in facts.records if is_av(r))
    return cast(frozenset[int], found)


def _matches(record: RecordFacts, keywords: tuple[str, ...]) -> bool:
    text = f"{record.document_type or ''} {record.title}"
    return any(k in text for k in keywords)


def _written_for(facts: CaseFacts, event_id: int, kind: EventKind) -> list[RecordFacts]:
    keywords = WRITTEN.get(kind, ())
    av = _av(facts)
    return [
        r
        for r in facts.records
        if id(r) not in av and (r.event_id == event_id or (r.event_id is None and _matches(r, keywords)))
    ]


def _event_label(facts: CaseFacts, event_id: int) -> str:
    event = next(e for e in facts.events if e.id == event_id)
    return f"{event.kind.value}（{facts.local_day(event.occurred_at):%Y-%m-%d}）"


def start_records(facts: CaseFacts) -> Iterable[Hit]:
    """第六至八条: the case file shows how the case started."""
    article, needed = START_RECORDS[facts.case.origin]
    for label, keywords in needed:
        if not any(id(r) not in _av(facts) and _matches(r, keywords) for r in facts.records):
            yield Hit(
                f"{facts.case.origin.value}案件缺少{label}",
                {"origin": facts.case.origin.value, "article": article, "keywords": list(keywords)},
            )


def event_records(facts: CaseFacts) -> Iterable[Hit]:
    """第九、十、十三至二十四条: each step has its written record (执法文书)."""
    for event in facts.events:
        if event.kind not in WRITTEN:
            continue
        if not _written_for(facts, event.id, event.kind):
            yield Hit(
                f"{_event_label(facts, event.id)}没有文字记录，应有：{'、'.join(WRITTEN[event.kind])}",
                {"event": event.kind.value, "article": ARTICLE_OF[event.kind]},
                event_id=event.id,
            )


def av_records(facts: CaseFacts) -> Iterable[Hit]:
    """第十、十九、二十一、二十三条: these steps are recorded on audio/video from start to end."""
    for event in facts.events:
        article = AV_REQUIRED.get(event.kind)
        if article is None or event.av_exempt:
            continue
        if not any(r.event_id == event.id and id(r) in _av(facts) for r in facts.records):
            yield Hit(
                f"{_event_label(facts, event.id)}须全程音像记录（{article}），未见关联的录音录像",
                {"event": event.kind.value, "article": article},
                event_id=event.id,
            )


def decision_approval(facts: CaseFacts) -> Iterable[Hit]:
    """第十二条: a decision is preceded by a record of 审理/审核/批准."""
    for event in facts.events:
        if event.kind is not E.DECISION:
            continue
        approved = any(
            id(r) not in _av(facts)
            and _matches(r, ("审批", "审理", "审核", "批准", "集体讨论"))
            and not _matches(r, ("立案",))
            for r in facts.records
        )
        if not approved:
            yield Hit(f"{_event_label(facts, event.id)}前没有审理、审核、批准的记录", event_id=event.id)


def rights_notice(facts: CaseFacts) -> Iterable[Hit]:
    """第十三条: before a penalty decision the party is told of the right to state and defend."""
    if facts.case.enforcement_kind is not EnforcementKind.PENALTY:
        return
    for event in facts.events:
        if event.kind is not E.DECISION:
            continue
        if not any(e.kind is E.NOTIFY_RIGHTS and e.occurred_at <= event.occurred_at for e in facts.events):
            yield Hit(f"{_event_label(facts, event.id)}前没有告知陈述申辩权利的环节", event_id=event.id)


def av_upload_deadline(facts: CaseFacts) -> Iterable[Hit]:
    """第二十五条: an audio-visual record is in the unit's storage within 2 working days."""
    for r in facts.records:
        if id(r) not in _av(facts) or r.made_at is None:
            continue  # a missing 制作时间 is art26.metadata's finding
        made, stored = facts.local_day(r.made_at), facts.local_day(r.stored_at)
        try:
            due = facts.calendar.add_workdays(made, AV_UPLOAD_WORKDAYS)
        except CalendarGapError as exc:
            yield Hit(str(exc), {"made_at": str(made)}, record_id=r.id, severity=Severity.WARNING)
            continue
        if stored > due:
            late = facts.calendar.workdays_between(due, stored)
            yield Hit(
                f"《{r.title}》{made:%Y-%m-%d} 制作，{stored:%Y-%m-%d} 才存储，期限为 {due:%Y-%m-%d}，"
                f"逾期 {late} 个工作日",
                {"made": str(made), "stored": str(stored), "due": str(due), "late_workdays": late},
                record_id=r.id,
            )


def metadata(facts: CaseFacts) -> Iterable[Hit]:
    """第二十六条: every record carries 制作方法、制作时间、制作人、证明对象."""
    for r in facts.records:
        missing = [label for name, label in METADATA.items() if not getattr(r, name)]
        if missing:
            yield Hit(f"《{r.title}》缺少{'、'.join(missing)}", {"missing": missing}, record_id=r.id)


def transcript(facts: CaseFacts) -> Iterable[Hit]:
    """第二十六条: a sound record has its text record (the transcript)."""
    for r in facts.records:
        if not is_sound(r):
            continue
        if facts.has_transcript(r):
            continue
        if r.status in (ProcessingStatus.PENDING, ProcessingStatus.PROCESSING):
            yield Hit(f"《{r.title}》正在转写", {"status": r.status.value}, r.id, severity=Severity.WARNING)
        else:
            reason = r.error or "没有转写稿"
            yield Hit(f"《{r.title}》没有文字记录：{reason}", {"status": r.status.value}, record_id=r.id)


def _ended(facts: CaseFacts) -> tuple[date, int | None] | None:
    ended = [e for e in facts.events if e.kind is E.ENFORCEMENT_ENDED]
    if ended:
        return facts.local_day(ended[-1].occurred_at), ended[-1].id
    if facts.case.enforcement_ended_at is not None:
        return facts.local_day(facts.case.enforcement_ended_at), None
    return None


def archive_deadline(facts: CaseFacts) -> Iterable[Hit]:
    """第二十七条: within 30 days of 执行终结 (or the period a law sets) the records are filed."""
    if facts.case.status is CaseStatus.ARCHIVED:
        return
    ended = _ended(facts)
    if ended is None:
        return
    day, event_id = ended
    due = day + timedelta(days=facts.archive_days)
    left = (due - facts.today).days
    evidence = {"ended": str(day), "due": str(due), "days_left": left}
    if left < 0:
        yield Hit(f"{day} 执行终结，应于 {due} 前归档，已逾期 {-left} 天", evidence, event_id=event_id)
    elif left <= ARCHIVE_WARN_DAYS:
        yield Hit(
            f"{day} 执行终结，须于 {due} 前归档，还剩 {left} 天",
            evidence,
            event_id=event_id,
            severity=Severity.WARNING,
        )


def archivist_named(facts: CaseFacts) -> Iterable[Hit]:
    """第二十七条: a named person is responsible for filing and keeping the records."""
    if _ended(facts) is not None and not (facts.case.archivist or "").strip():
        yield Hit("执行终结的案件未指定归档责任人")


RULES: list[Rule] = [
    Rule(
        "art6_8.start_records",
        "第六至八条",
        Severity.ERROR,
        "程序启动应有书面记录",
        start_records,
    ),
    Rule(
        "art9_24.event_records",
        "第九至二十四条",
        Severity.ERROR,
        "执法活动应有文字记录",
        event_records,
    ),
    Rule(
        "art10_23.full_av_record",
        "第十、十九、二十一、二十三条",
        Severity.ERROR,
        "应全程音像记录",
        av_records,
    ),
    Rule(
        "art12.decision_approval",
        "第十二条",
        Severity.ERROR,
        "作出决定前应记录审理、审核、批准",
        decision_approval,
    ),
    Rule(
        "art13.rights_notice",
        "第十三条",
        Severity.ERROR,
        "处罚决定前应告知陈述申辩权利",
        rights_notice,
    ),
    Rule(
        "art25.av_upload_deadline",
        "第二十五条",
        Severity.ERROR,
        "音像记录应在2个工作日内存储至单位专用存储器",
        av_upload_deadline,
    ),
    Rule(
        "art26.metadata",
        "第二十六条",
        Severity.ERROR,
        "电子记录应载明制作方法、制作时间、制作人和证明对象",
        metadata,
    ),
    Rule(
        "art26.transcript",
        "第二十六条",
        Severity.ERROR,
        "声音资料应附有该声音内容的文字记录",
        transcript,
    ),
    Rule(
        "art27.archive_deadline",
        "第二十七条",
        Severity.ERROR,
        "执行终结之日起30日内应立卷归档",
        archive_deadline,
    ),
    Rule(
        "art27.archivist_named",
        "第二十七条",
        Severity.ERROR,
        "应明确归档、保管责任人",
        archivist_named,
    ),
]
