"""Chinese working days: weekends and public holidays off, official make-up workdays (调休) on.

第二十五条 counts its 2-day upload deadline in working days. The official calendar comes from
`chinese-calendar`, which knows the State Council's holiday notices for the years it was
released with. A date outside those years is never guessed: it raises CalendarGapError unless the
deployment has entered that year's notice in settings (``ARCHIVE_COMPLIANCE__CALENDAR_YEARS``
with its ``HOLIDAYS`` and ``WORKDAYS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar


class CalendarGapError(ValueError):
    """No official holiday data for the year of a date (message in Chinese, says what to do)."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year} 年的法定节假日与调休安排未知（内置日历数据只到 {_last_year()} 年）："
            f"请在设置 ARCHIVE_COMPLIANCE__CALENDAR_YEARS 中加入 {year}，并在 ARCHIVE_COMPLIANCE__HOLIDAYS / "
            f"ARCHIVE_COMPLIANCE__WORKDAYS 中填入国务院办公厅公布的放假与调休日期"
        )
        self.year = year


def _last_year() -> int:
    return max(d.year for d in chinese_calendar.holidays)


def covered_years(table_years: Iterable[int] = ()) -> set[int]:
    """Years whose working days are known: the built-in official data and the deployment's table."""
    return {d.year for d in chinese_calendar.holidays} | set(table_years)


class WorkCalendar:
    """Which days are working days, from the official data plus the deployment's own table."""

    def __init__(
        self,
        *,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        table_years: Iterable[int] = (),
    ) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.table_years = frozenset(table_years)

    def is_workday(self, day: date) -> bool:
        """True on a working day; CalendarGapError for a year nobody has data for."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if day.year in self.table_years:
            return day.weekday() < 5  # the table lists every exception of this year
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarGapError(day.year) from None

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted)."""
        day, left = start, n
        while left > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end`` <= ``start``)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count
