"""One test per rule of docs/rules.md: a case that breaks it and one that does not.

Dates sit around the 2026 Spring Festival: 2月15日至23日 off, Saturdays 2月14日 and 2月28日 are
make-up workdays (调休), so a 2-working-day deadline from Friday 13 February is Tuesday 24 February.
"""

from __future__ import annotations

from datetime import date

import pytest

from archive.compliance.engine import CaseFacts, evaluate
from archive.compliance.rulebook import RULES
from archive.models import (
    Case,
    CaseEvent,
    CaseOrigin,
    CaseStatus,
    EnforcementKind,
    EventKind,
    ProcessingStatus,
    Record,
    RecordForm,
    Severity,
    StoredFile,
)
from archive.workdays import WorkCalendar
from tests.support.rules import START, TODAY, at, case, event, findings, record, rule_ids, sound


def test_art6_8_each_start_type_needs_its_records() -> None:
    assert "art6_8.start_records" in rule_ids(findings(case(), [], []))
    assert "art6_8.start_records" not in rule_ids(findings(case(), [], START))
    applied = case(origin=CaseOrigin.APPLICATION)
    found = [
        f for f in findings(applied, [], [record("行政许可申请书")]) if f.rule_id == "art6_8.start_records"
    ]
    assert len(found) == 1 and "受理" in found[0].message and found[0].article == "第六至八条"
    ok = [record("行政许可申请书"), record("受理通知书")]
    assert "art6_8.start_records" not in rule_ids(findings(applied, [], ok))
    complaint = case(origin=CaseOrigin.COMPLAINT)
    assert "art6_8.start_records" in rule_ids(findings(complaint, [], [record("投诉举报登记表")]))
    assert "art6_8.start_records" not in rule_ids(
        findings(complaint, [], [record("投诉举报登记表"), record("投诉处理情况记录")])
    )


def test_art9_an_investigation_step_needs_its_written_record() -> None:
    ask = event(EventKind.QUESTION_PARTY, at("2026-02-10"))
    found = [f for f in findings(case(), [ask], START) if f.rule_id == "art9_24.event_records"]
    assert len(found) == 1 and found[0].event_id == ask.id and "询问笔录" in found[0].message
    assert found[0].evidence == {"event": "询问当事人", "article": "第九条"}
    assert "art9_24.event_records" not in rule_ids(findings(case(), [ask], [*START, record("询问笔录")]))
    # linked to the event, any title counts
    assert "art9_24.event_records" not in rule_ids(
        findings(case(), [ask], [*START, record("笔录", event=ask)])
    )


@pytest.mark.parametrize(
    ("kind", "written", "article"),
    [
        (EventKind.SEIZURE, "查封扣押决定书", "第十条"),
        (EventKind.SERVE_LEFT, "送达回证", "第十九条"),
        (EventKind.SERVE_NOTICE_POSTED, "公告", "第二十一条"),
        (EventKind.FORCED_EXECUTION, "催告书", "第二十三条"),
    ],
)
def test_art10_19_21_23_need_a_full_av_record(kind: EventKind, written: str, article: str) -> None:
    step = event(kind, at("2026-02-13"))
    papers = [*START, record(written, event=step)]
    found = [f for f in findings(case(), [step], papers) if f.rule_id == "art10_23.full_av_record"]
    assert len(found) == 1 and found[0].evidence["article"] == article
    video = record("现场录像", "执法记录仪录像", event=step, form=RecordForm.AUDIOVISUAL, mime="video/mp4",
                   made_at=at("2026-02-13"), stored_at=at("2026-02-13"))  # fmt: skip
    video.files = [StoredFile(kind="transcript", sha256="t" * 64, size=1, mime="application/json")]
    assert "art10_23.full_av_record" not in rule_ids(findings(case(), [step], [*papers, video]))
    exempt = event(kind, at("2026-02-13"), av_exempt=True, note="涉密场所不宜录像")
    assert "art10_23.full_av_record" not in rule_ids(findings(case(), [exempt], [*START, record(written)]))


def test_art12_and_13_a_penalty_decision_needs_approval_and_a_rights_notice() -> None:
    decide = event(EventKind.DECISION, at("2026-02-26"))
    papers = [*START, record("行政处罚决定书", event=decide)]
    found = rule_ids(findings(case(), [decide], papers))
    assert {"art12.decision_approval", "art13.rights_notice"} <= found
    notify = event(EventKind.NOTIFY_RIGHTS, at("2026-02-12"))
    papers += [record("行政处罚告知书", event=notify), record("案件审批表")]
    found = rule_ids(findings(case(), [notify, decide], papers))
    assert not {"art12.decision_approval", "art13.rights_notice"} & found
    late_notice = event(EventKind.NOTIFY_RIGHTS, at("2026-02-27"))  # after the decision: too late
    assert "art13.rights_notice" in rule_ids(findings(case(), [late_notice, decide], papers))
    # a licensing decision needs no 告知陈述申辩
    licensing = case(enforcement_kind=EnforcementKind.LICENSING)
    assert "art13.rights_notice" not in rule_ids(findings(licensing, [decide], papers))


@pytest.mark.parametrize(
    ("kind", "paper"),
    [
        (EventKind.SERVE_DIRECT, "送达回证"),
        (EventKind.SERVE_MAIL, "邮寄送达回执"),
        (EventKind.SERVE_ENTRUSTED, "送达回证"),
        (EventKind.SERVE_NOTICE_PRESS, "公告"),
    ],
)
def test_art16_21_each_service_method_needs_its_record(kind: EventKind, paper: str) -> None:
    serve = event(kind, at("2026-02-27"))
    assert "art9_24.event_records" in rule_ids(findings(case(), [serve], START))
    assert "art9_24.event_records" not in rule_ids(findings(case(), [serve], [*START, record(paper)]))
    assert "art10_23.full_av_record" not in rule_ids(findings(case(), [serve], [*START, record(paper)]))


def test_art25_two_working_days_across_the_spring_festival() -> None:
    photo = _photo
    # Friday 13 Feb: due Tuesday 24 Feb (14 Feb is a make-up workday, 15–23 Feb off)
    assert "art25.av_upload_deadline" not in rule_ids(
        findings(case(), [], [*START, photo("2026-02-13", "2026-02-24")])
    )
    late = [f for f in findings(case(), [], [*START, photo("2026-02-13", "2026-02-25")])
            if f.rule_id == "art25.av_upload_deadline"]  # fmt: skip
    assert len(late) == 1 and late[0].severity is Severity.ERROR
    assert late[0].evidence == {
        "made": "2026-02-13",
        "stored": "2026-02-25",
        "due": "2026-02-24",
        "late_workdays": 1,
    }
    assert "第二十五条：音像记录应在2个工作日内存储至单位专用存储器" in late[0].message
    # Thursday 12 Feb: the make-up Saturday 14 Feb is the second working day — Monday 16 is late
    assert "art25.av_upload_deadline" not in rule_ids(
        findings(case(), [], [*START, photo("2026-02-12", "2026-02-14")])
    )
    assert "art25.av_upload_deadline" in rule_ids(
        findings(case(), [], [*START, photo("2026-02-12", "2026-02-16")])
    )
    # Wednesday 30 Dec 2026: no 2027 calendar here — said plainly, not guessed
    gap = [f for f in findings(case(), [], [*START, photo("2026-12-30", "2027-01-05")])
           if f.rule_id == "art25.av_upload_deadline"]  # fmt: skip
    assert len(gap) == 1 and gap[0].severity is Severity.WARNING and "2027 年的法定节假日" in gap[0].message


def test_art25_across_the_new_year_and_national_day() -> None:
    def late(made: str, stored: str) -> list[dict[str, object]]:
        found = findings(case(), [], [*START, _photo(made, stored)], today=date(2026, 11, 2))
        return [f.evidence for f in found if f.rule_id == "art25.av_upload_deadline"]

    # Wednesday 31 Dec 2025: 1–3 Jan 2026 off, Sunday 4 Jan worked → due Monday 5 Jan
    assert late("2025-12-31", "2026-01-05") == []
    assert late("2025-12-31", "2026-01-06") == [
        {"made": "2025-12-31", "stored": "2026-01-06", "due": "2026-01-05", "late_workdays": 1}
    ]
    # Thursday 8 Oct 2026 (国庆节 1–7 Oct off): Saturday 10 Oct is worked → due that Saturday
    assert late("2026-10-08", "2026-10-10") == []
    assert late("2026-10-08", "2026-10-12") == [
        {"made": "2026-10-08", "stored": "2026-10-12", "due": "2026-10-10", "late_workdays": 1}
    ]


def test_art26_metadata_on_every_record() -> None:
    bare = record("现场检查记录", made_how=None, proves="")
    found = [f for f in findings(case(), [], [*START, bare]) if f.rule_id == "art26.metadata"]
    assert len(found) == 1 and found[0].record_id == bare.id
    assert found[0].evidence == {"missing": ["制作方法", "证明对象"]}
    assert "art26.metadata" not in rule_ids(findings(case(), [], [*START, record("现场检查记录")]))


def test_art26_every_sound_record_has_its_transcript() -> None:
    assert "art26.transcript" not in rule_ids(findings(case(), [], [*START, sound("询问录音")]))
    failed = sound("询问录音", transcribed=False, status=ProcessingStatus.FAILED, error="音频无法解码")
    (f,) = [f for f in findings(case(), [], [*START, failed]) if f.rule_id == "art26.transcript"]
    assert f.severity is Severity.ERROR and "音频无法解码" in f.message
    pending = sound("询问录音", transcribed=False, status=ProcessingStatus.PROCESSING)
    (f,) = [f for f in findings(case(), [], [*START, pending]) if f.rule_id == "art26.transcript"]
    assert f.severity is Severity.WARNING
    mute = record("无声视频", "录像", form=RecordForm.AUDIOVISUAL, mime="video/mp4",
                  source_meta={"media": {"has_audio": False}, "transcript_status": "无音轨"})  # fmt: skip
    assert "art26.transcript" not in rule_ids(findings(case(), [], [*START, mute]))


def test_art27_filed_within_30_days_by_a_named_archivist() -> None:
    ended = event(EventKind.ENFORCEMENT_ENDED, at("2026-01-20"))
    overdue = [
        f for f in findings(case(), [ended], START, today=date(2026, 2, 20)) if f.rule_id.startswith("art27")
    ]
    assert {f.rule_id for f in overdue} == {"art27.archive_deadline", "art27.archivist_named"}
    deadline = next(f for f in overdue if f.rule_id == "art27.archive_deadline")
    assert deadline.severity is Severity.ERROR and deadline.evidence["due"] == "2026-02-19"
    soon = [f for f in findings(case(archivist="李档案"), [ended], START, today=date(2026, 2, 15))
            if f.rule_id.startswith("art27")]  # fmt: skip
    assert [(f.rule_id, f.severity) for f in soon] == [("art27.archive_deadline", Severity.WARNING)]
    assert not [f for f in findings(case(archivist="李档案"), [ended], START, today=date(2026, 1, 25))
                if f.rule_id.startswith("art27")]  # fmt: skip
    # where a law sets another period (ARCHIVE_COMPLIANCE__ARCHIVE_DAYS), it counts instead
    longer = CaseFacts(
        case(archivist="李档案"), [ended], START, date(2026, 2, 20), WorkCalendar(), archive_days=60
    )
    assert "art27.archive_deadline" not in rule_ids(evaluate(longer, RULES))
    filed = case(archivist="李档案", status=CaseStatus.ARCHIVED)
    assert "art27.archive_deadline" not in rule_ids(findings(filed, [ended], START, today=date(2026, 3, 20)))


def _photo(made: str, stored: str) -> Record:
    return record("现场照片", "照片", form=RecordForm.AUDIOVISUAL, mime="image/jpeg",
                  made_at=at(made), stored_at=at(stored, "17:00"))  # fmt: skip


def _breaking_cases() -> dict[str, tuple[Case, list[CaseEvent], list[Record], date]]:
    """For each rule id, a case that breaks that rule (each built fresh)."""
    ask = event(EventKind.QUESTION_PARTY, at("2026-02-10"))
    seize = event(EventKind.SEIZURE, at("2026-02-13"))
    decide = event(EventKind.DECISION, at("2026-02-26"))
    ended = event(EventKind.ENFORCEMENT_ENDED, at("2026-01-20"))
    failed = sound("询问录音", transcribed=False, status=ProcessingStatus.FAILED, error="音频无法解码")
    decided = [*START, record("行政处罚决定书", event=decide)]
    return {
        "art6_8.start_records": (case(), [], [], TODAY),
        "art9_24.event_records": (case(), [ask], START, TODAY),
        "art10_23.full_av_record": (case(), [seize], [*START, record("查封扣押决定书", event=seize)], TODAY),
        "art12.decision_approval": (case(), [decide], decided, TODAY),
        "art13.rights_notice": (case(), [decide], decided, TODAY),
        "art25.av_upload_deadline": (case(), [], [*START, _photo("2026-02-13", "2026-02-25")], TODAY),
        "art26.metadata": (case(), [], [*START, record("现场检查记录", made_how=None, proves="")], TODAY),
        "art26.transcript": (case(), [], [*START, failed], TODAY),
        "art27.archive_deadline": (case(archivist="李档案"), [ended], START, date(2026, 2, 20)),
        "art27.archivist_named": (case(), [ended], START, date(2026, 1, 25)),
    }


def test_every_rule_has_a_case_that_breaks_it() -> None:
    """Behaviour, not mentions: each rule of RULES fires on its own breaking case here."""
    breaking = _breaking_cases()
    assert set(breaking) == {rule.id for rule in RULES}  # a new rule needs a case here
    fired = {rule_id: rule_ids(findings(*facts)) for rule_id, facts in breaking.items()}
    assert {rule_id for rule_id, found in fired.items() if rule_id not in found} == set()
    # the deadline rules fire on their own: with the archivist named only the deadline is late, and
    # before the deadline only the missing archivist is reported
    assert {i for i in fired["art27.archive_deadline"] if i.startswith("art27")} == {"art27.archive_deadline"}
    assert {i for i in fired["art27.archivist_named"] if i.startswith("art27")} == {"art27.archivist_named"}


def test_a_compliant_case_breaks_no_rule() -> None:
    """The other half: no rule fires on a case that keeps every rule (so none fires regardless)."""
    notify = event(EventKind.NOTIFY_RIGHTS, at("2026-02-12"))
    decide = event(EventKind.DECISION, at("2026-02-26"))
    ended = event(EventKind.ENFORCEMENT_ENDED, at("2026-02-27"))
    records = [
        *START,
        record("行政处罚告知书", event=notify),
        record("案件审批表"),
        record("行政处罚决定书", event=decide),
        sound("询问录音"),
        _photo("2026-02-13", "2026-02-24"),
    ]
    assert rule_ids(findings(case(archivist="李档案"), [notify, decide, ended], records)) == set()
