"""The rules engine to the letter: each rule's findings are compared whole (message, evidence,
record, event, severity), every branch of what counts as an audio-visual or sound record, the
deadline boundaries, and the engine's database side (facts loaded eagerly, findings replaced)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from archive.compliance import engine as compliance
from archive.compliance.engine import (
    CaseFacts,
    FindingData,
    Hit,
    Rule,
    evaluate,
    load_facts,
    load_facts_many,
    refresh_findings,
)
from archive.compliance.rulebook import is_av, is_sound
from archive.models import (
    Base,
    Case,
    CaseEvent,
    CaseOrigin,
    CaseStatus,
    EnforcementKind,
    EventKind,
    FileRole,
    Finding,
    Party,
    PartyType,
    ProcessingStatus,
    Record,
    RecordForm,
    Severity,
    StoredFile,
    utcnow,
)
from archive.timeutil import CST, to_local
from archive.workdays import WorkCalendar
from tests.support.rules import START, TODAY, at, case, event, findings, record, sound

E = EventKind
ERR, WARN = Severity.ERROR, Severity.WARNING
Row = tuple[str, dict[str, Any], int | None, int | None, Severity]


def of(rule_id: str, found: Iterable[FindingData]) -> list[Row]:
    """One rule's findings, each as (message, evidence, record id, event id, severity)."""
    return [
        (f.message, f.evidence, f.record_id, f.event_id, f.severity) for f in found if f.rule_id == rule_id
    ]


def _rec(title: str, form: RecordForm, mime: str, **kw: object) -> Record:
    return record(title, "资料", form=form, mime=mime, **kw)


# --- what counts as audio-visual, and as sound -----------------------------------------------------


def test_audio_visual_by_its_form_or_by_its_mime_alone() -> None:
    assert is_av(_rec("a", RecordForm.AUDIOVISUAL, "application/octet-stream"))
    for mime in ("audio/mpeg", "video/mp4", "image/jpeg", "AUDIO/MPEG; codecs=mp3"):  # as family_of reads it
        assert is_av(_rec("a", RecordForm.TEXT, mime)), mime
    for mime in ("application/pdf", "text/plain", "application/x-audio"):
        assert not is_av(_rec("a", RecordForm.TEXT, mime)), mime


def test_sound_is_audio_or_a_video_with_a_sound_track() -> None:
    assert is_sound(_rec("a", RecordForm.TEXT, "audio/wav"))
    assert is_sound(_rec("v", RecordForm.AUDIOVISUAL, "video/mp4"))  # nothing known: assume sound
    assert is_sound(_rec("v", RecordForm.AUDIOVISUAL, "video/mp4", source_meta={"media": {}}))
    assert is_sound(
        _rec("v", RecordForm.AUDIOVISUAL, "video/mp4", source_meta={"media": {"has_audio": True}})
    )
    assert not is_sound(
        _rec("v", RecordForm.AUDIOVISUAL, "video/mp4", source_meta={"media": {"has_audio": False}})
    )
    assert not is_sound(_rec("p", RecordForm.AUDIOVISUAL, "image/jpeg"))
    assert not is_sound(_rec("x", RecordForm.AUDIOVISUAL, "application/octet-stream"))


# --- each rule, whole ------------------------------------------------------------------------------


def test_start_records_findings_in_full() -> None:
    assert of("art6_8.start_records", findings(case(), [], [])) == [
        (
            "第六至八条：程序启动应有书面记录（依职权案件缺少立案审批表（启动原因、案件来源、当事人、基本案情、"
            "承办人/承办机构/负责人意见））",
            {"origin": "依职权", "article": "第七条", "keywords": ["立案"]},
            None,
            None,
            ERR,
        )
    ]
    # the 文书类型 alone names it (the title does not) …
    assert of("art6_8.start_records", findings(case(), [], [record("表一", "立案审批表")])) == []
    # … and a photo of the form is not the written record
    photo = record("立案审批表", form=RecordForm.AUDIOVISUAL, mime="image/jpeg")
    assert len(of("art6_8.start_records", findings(case(), [], [photo]))) == 1
    applied = of("art6_8.start_records", findings(case(origin=CaseOrigin.APPLICATION), [], []))
    assert [(m[1]["article"], m[1]["keywords"]) for m in applied] == [
        ("第六条", ["申请"]),
        ("第六条", ["受理"]),
    ]
    assert applied[1][0] == "第六至八条：程序启动应有书面记录（依申请案件缺少受理或不予受理的记录）"


def test_event_records_findings_in_full() -> None:
    ended = event(E.ENFORCEMENT_ENDED, at("2026-02-11"))  # needs no written record of its own
    look = event(E.INSPECTION, at("2026-02-12", "09:30"))
    assert of("art9_24.event_records", findings(case(), [ended, look], START)) == [
        (
            "第九至二十四条：执法活动应有文字记录（现场检查（2026-02-12）没有文字记录，应有：现场检查记录、勘验笔录、"
            "现场检查笔录）",
            {"event": "现场检查", "article": "第九条"},
            None,
            look.id,
            ERR,
        )
    ]
    # a record linked to another event does not count, one not linked to any does by its 文书类型
    other = event(E.QUESTION_PARTY, at("2026-02-12"))
    linked_elsewhere = record("勘验笔录", event=other)
    assert len(of("art9_24.event_records", findings(case(), [look], [*START, linked_elsewhere]))) == 1
    assert of("art9_24.event_records", findings(case(), [look], [*START, record("勘验笔录")])) == []


def test_full_av_record_findings_in_full() -> None:
    ask = event(E.QUESTION_PARTY, at("2026-02-10"))
    exempt = event(E.SEIZURE, at("2026-02-11"), av_exempt=True)
    left = event(E.SERVE_LEFT, at("2026-02-13"))
    papers = [
        *START,
        record("询问笔录", event=ask),
        record("查封", event=exempt),
        record("送达回证", event=left),
    ]
    assert of("art10_23.full_av_record", findings(case(), [ask, exempt, left], papers)) == [
        (
            "第十、十九、二十一、二十三条：应全程音像记录（留置送达（2026-02-13）须全程音像记录（第十九条），"
            "未见关联的录音录像）",
            {"event": "留置送达", "article": "第十九条"},
            None,
            left.id,
            ERR,
        )
    ]
    # a recording of another event does not count
    video = _rec("录像", RecordForm.AUDIOVISUAL, "video/mp4", event=ask)
    assert len(of("art10_23.full_av_record", findings(case(), [left], [*papers, video]))) == 1


@pytest.mark.parametrize(
    "paper", ["处罚审批表", "案件审理记录", "法制审核意见", "负责人批准", "集体讨论记录"]
)
def test_any_kind_of_approval_record_comes_before_a_decision(paper: str) -> None:
    decide = event(E.DECISION, at("2026-02-26"))
    papers = [*START, record("决定书", event=decide), record(paper)]
    assert of("art12.decision_approval", findings(case(), [decide], papers)) == []


def test_decision_approval_findings_in_full() -> None:
    ask = event(E.QUESTION_PARTY, at("2026-02-10"))
    decide = event(E.DECISION, at("2026-02-26"))
    papers = [
        *START,
        record("询问笔录", event=ask),
        record("决定书", event=decide),
        _rec("审批会议录像", RecordForm.AUDIOVISUAL, "video/mp4"),  # a recording is not the record
    ]
    assert of("art12.decision_approval", findings(case(), [ask, decide], papers)) == [
        (
            "第十二条：作出决定前应记录审理、审核、批准（作出决定（2026-02-26）前没有审理、审核、批准的记录）",
            {},
            None,
            decide.id,
            ERR,
        )
    ]


def test_rights_notice_findings_in_full_and_a_notice_at_the_same_minute() -> None:
    ask = event(E.QUESTION_PARTY, at("2026-02-10"))
    decide = event(E.DECISION, at("2026-02-26"))
    assert of("art13.rights_notice", findings(case(), [ask, decide], START)) == [
        (
            "第十三条：处罚决定前应告知陈述申辩权利（作出决定（2026-02-26）前没有告知陈述申辩权利的环节）",
            {},
            None,
            decide.id,
            ERR,
        )
    ]
    same_time = event(E.NOTIFY_RIGHTS, at("2026-02-26"))
    assert of("art13.rights_notice", findings(case(), [ask, same_time, decide], START)) == []


def test_upload_deadline_findings_in_full() -> None:
    photo = _rec(
        "现场照片", RecordForm.AUDIOVISUAL, "image/jpeg", made_at=at("2026-12-30"), stored_at=at("2027-01-05")
    )
    late = _rec(
        "执法录像",
        RecordForm.AUDIOVISUAL,
        "video/mp4",
        made_at=at("2026-02-13"),
        stored_at=at("2026-02-25", "17:00"),
    )
    # a written record stored late has no such deadline, nor has a recording without 制作时间
    paper = record("询问笔录", made_at=at("2026-02-02"), stored_at=at("2026-02-27"))
    undated = _rec(
        "无时间录像", RecordForm.AUDIOVISUAL, "video/mp4", made_at=None, stored_at=at("2026-02-27")
    )
    found = of("art25.av_upload_deadline", findings(case(), [], [*START, paper, undated, photo, late]))
    gap, overdue = found
    assert gap[1:] == ({"made_at": "2026-12-30"}, photo.id, None, WARN) and "2027" in gap[0]
    assert overdue == (
        "第二十五条：音像记录应在2个工作日内存储至单位专用存储器（《执法录像》2026-02-13 制作，"
        "2026-02-25 才存储，"
        "期限为 2026-02-24，逾期 1 个工作日）",
        {"made": "2026-02-13", "stored": "2026-02-25", "due": "2026-02-24", "late_workdays": 1},
        late.id,
        None,
        ERR,
    )


def test_metadata_findings_in_full() -> None:
    bare = record("现场检查记录", made_how="", made_at=None, made_by=None, proves=None)
    assert of("art26.metadata", findings(case(), [], [*START, bare])) == [
        (
            "第二十六条：电子记录应载明制作方法、制作时间、制作人和证明对象（《现场检查记录》缺少制作方法、制作时间、"
            "制作人、证明对象）",
            {"missing": ["制作方法", "制作时间", "制作人", "证明对象"]},
            bare.id,
            None,
            ERR,
        )
    ]


def test_transcript_findings_in_full() -> None:
    done = sound("已转写录音")
    pending = sound("待转写录音", transcribed=False, status=ProcessingStatus.PENDING)
    failed = sound("失败录音", transcribed=False, status=ProcessingStatus.FAILED, error="音频无法解码")
    silent = sound("无稿录音", transcribed=False, status=ProcessingStatus.PROCESSED)
    other = sound("只有摘要的录音")
    other.files = [StoredFile(kind="summary", sha256="s" * 64, size=1, mime="text/plain")]
    papers = [*START, done, pending, failed, silent, other]
    assert of("art26.transcript", findings(case(), [], papers)) == [
        (
            "第二十六条：声音资料应附有该声音内容的文字记录（《待转写录音》正在转写）",
            {"status": "pending"},
            pending.id,
            None,
            WARN,
        ),
        (
            "第二十六条：声音资料应附有该声音内容的文字记录（《失败录音》没有文字记录：音频无法解码）",
            {"status": "failed"},
            failed.id,
            None,
            ERR,
        ),
        (
            "第二十六条：声音资料应附有该声音内容的文字记录（《无稿录音》没有文字记录：没有转写稿）",
            {"status": "processed"},
            silent.id,
            None,
            ERR,
        ),
        (
            "第二十六条：声音资料应附有该声音内容的文字记录（《只有摘要的录音》没有文字记录：没有转写稿）",
            {"status": "processed"},
            other.id,
            None,
            ERR,
        ),
    ]
    processing = sound("转写中", transcribed=False, status=ProcessingStatus.PROCESSING)
    assert of("art26.transcript", findings(case(), [], [*START, processing]))[0][4] is WARN


def _ended_on(day: str) -> CaseEvent:
    return event(E.ENFORCEMENT_ENDED, at(day))


def test_archive_deadline_findings_in_full_around_each_boundary() -> None:
    ended = _ended_on("2026-01-20")  # due 2026-02-19

    def deadline(today: date, c: Case | None = None, events: list[CaseEvent] | None = None) -> list[Row]:
        c = c or case(archivist="李档案")
        return of("art27.archive_deadline", findings(c, [ended] if events is None else events, START, today))

    assert deadline(date(2026, 2, 21)) == [
        (
            "第二十七条：执行终结之日起30日内应立卷归档"
            "（2026-01-20 执行终结，应于 2026-02-19 前归档，已逾期 2 天）",
            {"ended": "2026-01-20", "due": "2026-02-19", "days_left": -2},
            None,
            ended.id,
            ERR,
        )
    ]
    assert deadline(date(2026, 2, 19)) == [
        (
            "第二十七条：执行终结之日起30日内应立卷归档"
            "（2026-01-20 执行终结，须于 2026-02-19 前归档，还剩 0 天）",
            {"ended": "2026-01-20", "due": "2026-02-19", "days_left": 0},
            None,
            ended.id,
            WARN,
        )
    ]
    assert [r[1]["days_left"] for r in deadline(date(2026, 2, 12))] == [7]
    assert [r[4] for r in deadline(date(2026, 2, 12))] == [WARN]
    assert deadline(date(2026, 2, 11)) == []  # 8 days left: nothing yet
    # the case's own 执行终结 time counts when no event records it (the last event when several do)
    by_case = case(archivist="李档案", enforcement_ended_at=at("2026-01-10", "23:30"))
    assert deadline(date(2026, 2, 10), by_case, []) == [
        (
            "第二十七条：执行终结之日起30日内应立卷归档"
            "（2026-01-10 执行终结，应于 2026-02-09 前归档，已逾期 1 天）",
            {"ended": "2026-01-10", "due": "2026-02-09", "days_left": -1},
            None,
            None,
            ERR,
        )
    ]
    later = _ended_on("2026-01-25")
    assert deadline(date(2026, 2, 25), by_case, [ended, later])[0][1]["ended"] == "2026-01-25"
    assert deadline(date(2026, 2, 25), case(archivist="李档案"), []) == []


def test_archivist_named_findings_in_full() -> None:
    ended = _ended_on("2026-01-20")
    expected = [("第二十七条：应明确归档、保管责任人（执行终结的案件未指定归档责任人）", {}, None, None, ERR)]
    assert of("art27.archivist_named", findings(case(), [ended], START, date(2026, 1, 21))) == expected
    assert (
        of("art27.archivist_named", findings(case(archivist="  "), [ended], START, date(2026, 1, 21)))
        == expected
    )
    assert (
        of("art27.archivist_named", findings(case(archivist="李档案"), [ended], START, date(2026, 1, 21)))
        == []
    )
    assert of("art27.archivist_named", findings(case(), [], START, date(2026, 1, 21))) == []
    by_case = case(enforcement_ended_at=at("2026-01-10"))
    assert of("art27.archivist_named", findings(by_case, [], START, date(2026, 1, 21))) == expected


# --- the engine ------------------------------------------------------------------------------------


def test_a_hit_without_detail_gives_the_rule_message_alone_and_may_set_the_severity() -> None:
    def check(facts: CaseFacts) -> Iterator[Hit]:
        yield Hit("")
        yield Hit("细节", {"k": 1}, record_id=5, event_id=6, severity=WARN)

    rule = Rule("x.rule", "第一条", ERR, "规则", check)
    facts = CaseFacts(case(), [], [], TODAY, WorkCalendar())
    assert evaluate(facts, [rule, rule]) == 2 * [
        FindingData("x.rule", "第一条", ERR, "第一条：规则", {}, None, None),
        FindingData("x.rule", "第一条", WARN, "第一条：规则（细节）", {"k": 1}, 5, 6),
    ]


def test_the_local_day_is_beijings() -> None:
    facts = CaseFacts(case(), [], [], TODAY, WorkCalendar())
    assert facts.local_day(datetime(2026, 2, 10, 16, 30, tzinfo=UTC)) == date(2026, 2, 11)
    assert facts.local_day(datetime(2026, 2, 10, 15, 59, tzinfo=UTC)) == date(2026, 2, 10)
    assert facts.archive_days == 30


@pytest.fixture
def s() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _stored_case(s: Session, no: str) -> Case:
    c = Case(
        case_no=no, name="案", enforcement_kind=EnforcementKind.SUPERVISION, origin=CaseOrigin.EX_OFFICIO
    )
    c.parties.append(Party(name="张三", party_type=PartyType.PERSON, id_number=None))
    s.add(c)
    s.flush()
    c.events.append(CaseEvent(kind=E.ENFORCEMENT_ENDED, occurred_at=at("2026-01-20")))
    r = Record(
        case=c,
        sha256=no.encode().hex().ljust(64, "0")[:64],
        title="录音",
        original_name="a.mp3",
        mime="audio/mpeg",
        size=1,
        form=RecordForm.AUDIOVISUAL,
        status=ProcessingStatus.PROCESSED,
        made_how="录音笔",
        made_at=at("2026-01-19"),
        made_by="周",
        proves="事实",
        stored_at=at("2026-01-19"),
    )
    r.files.append(
        StoredFile(
            kind="original",
            role=FileRole.ORIGINAL,
            sha256=r.sha256,
            size=1,
            mime="audio/mpeg",
            storage_key=r.sha256,
        )
    )
    s.add(r)
    s.flush()
    return c


def test_facts_are_loaded_with_events_records_transcripts_and_parties(s: Session) -> None:
    c = _stored_case(s, "甲1号")
    other = _stored_case(s, "乙2号")
    heard = other.records[0]
    heard.files.append(
        StoredFile(
            kind="transcript",
            role=FileRole.DERIVATIVE,
            sha256="t" * 64,
            size=1,
            mime="application/json",
            storage_key="t" * 64,
        )
    )
    s.commit()
    other_id, heard_id = other.id, heard.id
    calendar = WorkCalendar()
    facts = load_facts(s, c.id, calendar, date(2026, 2, 1), archive_days=12)
    s.expunge_all()  # nothing may be loaded lazily from here on
    assert facts.case.case_no == "甲1号" and facts.today == date(2026, 2, 1)
    assert facts.calendar is calendar and facts.archive_days == 12
    assert [e.kind for e in facts.events] == [E.ENFORCEMENT_ENDED]
    assert [r.title for r in facts.records] == ["录音"]
    assert facts.transcribed == frozenset() and not facts.has_transcript(facts.records[0])
    both = load_facts_many(s, [other_id, c.id, 999], calendar, date(2026, 2, 1))
    assert [f.case.case_no for f in both] == ["甲1号", "乙2号"]  # by id; a missing id is skipped
    assert both[1].transcribed == frozenset({heard_id}) and both[1].has_transcript(both[1].records[0])
    assert [p.name for p in facts.case.parties] == ["张三"]
    assert [e.kind for e in facts.case.events] == [E.ENFORCEMENT_ENDED]
    assert load_facts(s, c.id, calendar, date(2026, 2, 1)).archive_days == 30
    with pytest.raises(LookupError, match=r"^案件不存在：999$"):
        load_facts(s, 999, calendar, date(2026, 2, 1))


def test_findings_are_replaced_for_one_case_only(s: Session) -> None:
    c = _stored_case(s, "甲1号")
    other = _stored_case(s, "乙2号")
    s.commit()
    theirs = refresh_findings(s, other.id, WorkCalendar(), date(2026, 2, 1))
    rows = refresh_findings(s, c.id, WorkCalendar(), date(2026, 3, 1), archive_days=60)
    # 60 days from 20 January: due 21 March, 20 days left — no deadline finding yet
    assert sorted(r.rule_id for r in rows) == [
        "art26.transcript",
        "art27.archivist_named",
        "art6_8.start_records",
    ]
    assert all(r.id is not None and r.case_id == c.id for r in rows)
    rows = refresh_findings(s, c.id, WorkCalendar(), date(2026, 3, 1))
    s.commit()
    stored = s.scalars(select(Finding).where(Finding.case_id == c.id)).all()
    assert sorted(f.rule_id for f in stored) == sorted(r.rule_id for r in rows)
    assert "art27.archive_deadline" in {f.rule_id for f in stored}  # 30 days: overdue
    deadline = next(f for f in stored if f.rule_id == "art27.archive_deadline")
    assert deadline.evidence == {"ended": "2026-01-20", "due": "2026-02-19", "days_left": -10}
    assert deadline.severity is ERR and deadline.event_id == c.events[0].id
    kept = s.scalars(select(Finding).where(Finding.case_id == other.id)).all()
    assert sorted(f.id for f in kept) == sorted(f.id for f in theirs) and kept


def test_findings_are_computed_for_today_by_default(s: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _stored_case(s, "甲1号")
    c.archivist = "李档案"
    s.commit()
    today = to_local(utcnow()).date()
    # ended 25 days ago (Beijing time): 5 days left, a warning
    c.events[0].occurred_at = datetime.combine(today - timedelta(days=25), datetime.min.time(), CST)
    s.commit()
    rows = refresh_findings(s, c.id, WorkCalendar())
    (deadline,) = [r for r in rows if r.rule_id == "art27.archive_deadline"]
    assert deadline.evidence["days_left"] == 5 and deadline.severity is WARN
    assert compliance.utcnow is utcnow  # the engine reads the models' clock
    assert c.status is CaseStatus.OPEN
