"""The Chinese working-day calendar: weekends off, statutory holidays off, 调休 make-up working days on.

The base is the `chinese_calendar` package (State Council notices for 2004–2026). A deployment can add a year
the package does not know yet, or correct a day, in ``knowledge/calendar.yaml``::

    working_calendar:
      2027:
        holidays: [2027-01-01, 2027-02-06, ...]   # days off that would otherwise be working days
        workdays: [2027-02-14, ...]               # 调休: weekend days that are working days

A year listed there counts as covered (the file is then the whole truth for that year, on top of plain
weekends). A date in a year neither source covers raises `CalendarError` naming the year: never a guess.

Counting follows the usual legal rule: the day something starts does not count, and "N working days" ends at
24:00 of the Nth working day after it, i.e. 00:00 of the following calendar day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

DEFAULT_CALENDAR_FILE = Path(__file__).resolve().parents[3] / "knowledge" / "calendar.yaml"


class CalendarError(ValueError):
    """A date the working-day calendar does not cover (or a bad calendar file)."""

    def __init__(self, message: str, year: int | None = None):
        super().__init__(message)
        self.year = year


def _package_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays] + [d.year for d in chinese_calendar.workdays]
    return min(years), max(years)


class WorkingCalendar:
    def __init__(self, overrides: Mapping[Any, Any] | None = None):
        self.first_year, self.last_year = _package_years()
        self.extra_holidays: set[dt.date] = set()
        self.extra_workdays: set[dt.date] = set()
        self.override_years: set[int] = set()
        # memo: the package validates its whole table on every call, which is slow in a hot path
        self._workday: dict[dt.date, bool] = {}
        self._ends: dict[tuple[dt.date, int], dt.date] = {}
        for year, body in (overrides or {}).items():
            self._add_year(year, body)

    def _add_year(self, year: Any, body: Any) -> None:
        try:
            y = int(year)
        except (TypeError, ValueError):
            raise CalendarError(f"calendar.yaml: 年份「{year}」不是整数") from None
        body = body or {}
        if not isinstance(body, Mapping):
            raise CalendarError(f"calendar.yaml: {y} 年的内容必须是映射（holidays / workdays）", y)
        unknown = set(body) - {"holidays", "workdays", "source"}
        if unknown:
            raise CalendarError(f"calendar.yaml: {y} 年有未知字段 {sorted(unknown)}", y)
        self.override_years.add(y)
        for key, target in (("holidays", self.extra_holidays), ("workdays", self.extra_workdays)):
            for raw in body.get(key) or []:
                day = raw if isinstance(raw, dt.date) else _parse_date(raw, y)
                if day.year != y:
                    raise CalendarError(f"calendar.yaml: {y} 年的 {key} 中出现了 {day}（不属于 {y} 年）", y)
                target.add(day)

    @classmethod
    def from_file(cls, path: Path | str | None = None) -> WorkingCalendar:
        path = Path(path) if path else DEFAULT_CALENDAR_FILE
        if not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls((data.get("working_calendar") if isinstance(data, dict) else None) or {})

    def covers(self, day: dt.date) -> bool:
        return self.first_year <= day.year <= self.last_year or day.year in self.override_years

    def is_workday(self, day: dt.date) -> bool:
        known = self._workday.get(day)
        if known is None:
            known = self._workday[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if day.year in self.override_years and not (self.first_year <= day.year <= self.last_year):
            return day.weekday() < 5
        if not self.covers(day):
            raise CalendarError(
                f"工作日历不包含 {day.year} 年（内置日历覆盖 {self.first_year}–{self.last_year} 年）。"
                f"请在国务院公布 {day.year} 年放假安排后，在 knowledge/calendar.yaml 中补充该年的节假日和调休。",
                day.year,
            )
        return chinese_calendar.is_workday(day)

    def add_working_days(self, start: dt.datetime, n: int) -> dt.datetime:
        """24:00 of the Nth working day after `start`'s day (the start day does not count)."""
        if start.tzinfo is None:
            raise ValueError("add_working_days needs a timezone-aware datetime")
        if n < 1:
            raise ValueError("n must be at least 1")
        key = (start.date(), n)
        day = self._ends.get(key)
        if day is None:
            day = start.date()
            counted = 0
            while counted < n:
                day += dt.timedelta(days=1)
                if self.is_workday(day):
                    counted += 1
            self._ends[key] = day
        end = day + dt.timedelta(days=1)
        return dt.datetime.combine(end, dt.time(0, 0), tzinfo=start.tzinfo)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (0 when end <= start)."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


def _parse_date(raw: Any, year: int) -> dt.date:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise CalendarError(f"calendar.yaml: {year} 年的日期「{raw}」格式应为 YYYY-MM-DD", year) from None


_default: WorkingCalendar | None = None


def default_calendar() -> WorkingCalendar:
    global _default
    if _default is None:
        _default = WorkingCalendar.from_file()
    return _default


def add_working_days(start: dt.datetime, n: int, calendar: WorkingCalendar | None = None) -> dt.datetime:
    return (calendar or default_calendar()).add_working_days(start, n)


def is_workday(day: dt.date, calendar: WorkingCalendar | None = None) -> bool:
    return (calendar or default_calendar()).is_workday(day)
