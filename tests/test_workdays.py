"""Working days for 第二十五条: the official calendar, make-up workdays, and no guessing past it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from archive.compliance.rulebook import AV_UPLOAD_WORKDAYS
from archive.settings import Settings
from archive.workdays import CalendarGapError, WorkCalendar

# 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号, 4 November 2025):
# (holiday, first day off, last day off, make-up working days (调休上班))
HOLIDAYS_2026: list[tuple[str, date, date, list[date]]] = [
    ("元旦", date(2026, 1, 1), date(2026, 1, 3), [date(2026, 1, 4)]),  # Thu–Sat; Sunday 4 Jan worked
    ("春节", date(2026, 2, 15), date(2026, 2, 23), [date(2026, 2, 14), date(2026, 2, 28)]),
    ("清明节", date(2026, 4, 4), date(2026, 4, 6), []),  # Sat–Mon, no make-up day
    ("劳动节", date(2026, 5, 1), date(2026, 5, 5), [date(2026, 5, 9)]),  # Fri–Tue; Saturday 9 May
    ("端午节", date(2026, 6, 19), date(2026, 6, 21), []),  # Fri–Sun
    ("中秋节", date(2026, 9, 25), date(2026, 9, 27), []),  # Fri–Sun
    ("国庆节", date(2026, 10, 1), date(2026, 10, 7), [date(2026, 9, 20), date(2026, 10, 10)]),  # Thu–Wed
]

# 第二十五条: (made on, the 2nd working day after — the last day to store the recording)
DEADLINES_2026: list[tuple[str, date, date]] = [
    # 元旦
    ("元旦: made Friday 2 Jan (off): Sunday 4 Jan worked, then Monday", date(2026, 1, 2), date(2026, 1, 5)),
    ("元旦: made Monday 5 Jan, after the make-up Sunday", date(2026, 1, 5), date(2026, 1, 7)),
    # 清明节
    ("清明节: made Friday 3 Apr: Monday 6 Apr is off", date(2026, 4, 3), date(2026, 4, 8)),
    ("清明节: made Thursday 2 Apr", date(2026, 4, 2), date(2026, 4, 7)),
    # 劳动节
    ("劳动节: made Thursday 30 Apr: 1–5 May off", date(2026, 4, 30), date(2026, 5, 7)),
    ("劳动节: made Thursday 7 May: Saturday 9 May is worked", date(2026, 5, 7), date(2026, 5, 9)),
    ("劳动节: made Friday 8 May: Saturday 9 May is the first day", date(2026, 5, 8), date(2026, 5, 11)),
    # 端午节
    ("端午节: made Wednesday 17 Jun: Friday 19 Jun is off", date(2026, 6, 17), date(2026, 6, 22)),
    ("端午节: made Thursday 18 Jun", date(2026, 6, 18), date(2026, 6, 23)),
    # 中秋节 (and the 国庆节 make-up Sunday just before it)
    ("中秋节: made Friday 18 Sep: Sunday 20 Sep is worked", date(2026, 9, 18), date(2026, 9, 21)),
    ("中秋节: made Thursday 24 Sep: 25–27 Sep off", date(2026, 9, 24), date(2026, 9, 29)),
    ("中秋节: made Wednesday 23 Sep", date(2026, 9, 23), date(2026, 9, 28)),
    # 国庆节
    ("国庆节: made Tuesday 29 Sep", date(2026, 9, 29), date(2026, 10, 8)),
    ("国庆节: made Wednesday 30 Sep: 1–7 Oct off", date(2026, 9, 30), date(2026, 10, 9)),
    ("国庆节: made Thursday 8 Oct: Saturday 10 Oct is worked", date(2026, 10, 8), date(2026, 10, 10)),
    ("国庆节: made Friday 9 Oct (the demo recording)", date(2026, 10, 9), date(2026, 10, 12)),
    # across the year end (the built-in data covers 2025)
    ("2025→2026: made Tuesday 30 Dec 2025: the make-up Sunday 4 Jan", date(2025, 12, 30), date(2026, 1, 4)),
    ("2025→2026: made Wednesday 31 Dec 2025", date(2025, 12, 31), date(2026, 1, 5)),
]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_spring_festival_2026_and_its_make_up_saturdays() -> None:
    c = WorkCalendar()
    assert c.is_workday(date(2026, 2, 13))  # Friday before the holiday
    assert c.is_workday(date(2026, 2, 14))  # Saturday, make-up workday (调休)
    assert not any(c.is_workday(date(2026, 2, d)) for d in range(15, 24))  # 2月15日至23日 off
    assert c.is_workday(date(2026, 2, 28))  # Saturday, make-up workday
    assert not c.is_workday(date(2026, 3, 1))  # an ordinary Sunday
    # made on Friday 13 February: the 2nd working day after is Tuesday 24 February, not Monday 16
    assert c.add_workdays(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert c.add_workdays(date(2026, 2, 12), 2) == date(2026, 2, 14)  # the make-up Saturday counts
    assert c.workdays_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert c.workdays_between(date(2026, 2, 24), date(2026, 2, 13)) == 0


def test_a_year_without_data_is_an_error_not_a_guess() -> None:
    with pytest.raises(CalendarGapError, match="2027 年的法定节假日") as info:
        WorkCalendar().add_workdays(date(2026, 12, 30), 2)
    assert "ARCHIVE_COMPLIANCE__CALENDAR_YEARS" in str(info.value) and info.value.year == 2027


def test_a_deployment_can_enter_the_next_years_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_COMPLIANCE__CALENDAR_YEARS", "[2027]")
    monkeypatch.setenv("ARCHIVE_COMPLIANCE__HOLIDAYS", '["2027-01-01"]')
    monkeypatch.setenv("ARCHIVE_COMPLIANCE__WORKDAYS", '["2027-01-09"]')
    cfg = Settings().compliance
    c = WorkCalendar(holidays=cfg.holidays, workdays=cfg.workdays, table_years=cfg.calendar_years)
    # Wed 30 Dec 2026 (built-in data) + 2: Thu 31 Dec, then Fri 1 Jan is a holiday → Mon 4 Jan
    assert c.add_workdays(date(2026, 12, 30), 2) == date(2027, 1, 4)
    assert c.is_workday(date(2027, 1, 9)) and not c.is_workday(date(2027, 1, 10))
    with pytest.raises(CalendarGapError):
        c.is_workday(date(2028, 3, 1))


@pytest.mark.parametrize(
    ("name", "first", "last", "make_up"), HOLIDAYS_2026, ids=[h[0] for h in HOLIDAYS_2026]
)
def test_the_2026_holidays_and_make_up_days(name: str, first: date, last: date, make_up: list[date]) -> None:
    c = WorkCalendar()
    off = _days(first, last)
    assert [d for d in off if c.is_workday(d)] == [], f"{name}: days off counted as working days"
    assert [d for d in make_up if not c.is_workday(d)] == [], f"{name}: make-up days not worked"
    # the working days on either side (weekdays, or a make-up weekend day)
    before, after = first - timedelta(days=1), last + timedelta(days=1)
    assert (c.is_workday(before), c.is_workday(after)) == (True, True), name
    # an ordinary weekend a fortnight later is off, an ordinary weekday worked
    saturday = last + timedelta(days=14 + (5 - last.weekday()) % 7)
    assert (c.is_workday(saturday), c.is_workday(saturday + timedelta(days=2))) == (False, True), saturday


def test_exactly_these_make_up_days_in_2026() -> None:
    """Every weekend day worked in 2026 is one of the notice's make-up days, and nothing else is."""
    c = WorkCalendar()
    year = _days(date(2026, 1, 1), date(2026, 12, 31))
    worked_weekend = [d for d in year if d.weekday() >= 5 and c.is_workday(d)]
    assert worked_weekend == sorted(d for _, _, _, make_up in HOLIDAYS_2026 for d in make_up)
    weekdays_off = [d for d in year if d.weekday() < 5 and not c.is_workday(d)]
    holidays = {d for _, first, last, _ in HOLIDAYS_2026 for d in _days(first, last)}
    assert weekdays_off == sorted(d for d in holidays if d.weekday() < 5)
    assert len(weekdays_off) == 19 and len(worked_weekend) == 6


@pytest.mark.parametrize(("case", "made", "due"), DEADLINES_2026, ids=[d[0] for d in DEADLINES_2026])
def test_the_upload_deadline_around_each_holiday(case: str, made: date, due: date) -> None:
    c = WorkCalendar()
    assert AV_UPLOAD_WORKDAYS == 2
    assert c.add_workdays(made, AV_UPLOAD_WORKDAYS) == due, case
    # stored on the due day: in time; one working day later: 1 day late
    assert c.workdays_between(made, due) == AV_UPLOAD_WORKDAYS
    assert c.workdays_between(due, c.add_workdays(due, 1)) == 1
