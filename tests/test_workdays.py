"""Working days for 第二十五条: the official calendar, make-up workdays, and no guessing past it."""

from __future__ import annotations

from datetime import date

import pytest

from archive.settings import Settings
from archive.workdays import CalendarGapError, WorkCalendar


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
