"""The Chinese working-day calendar: weekends off, statutory holidays off, 调休 make-up working days on.

A year is OFFICIAL when the `chinese_calendar` package covers it (State Council notices, 2004–2026 in the
version we use) or ``knowledge/calendar.yaml`` lists it under ``working_calendar``::

    working_calendar:
      2027:
        holidays: [2027-01-01, 2027-02-08, ...]   # weekdays off
        workdays: [2027-02-20, ...]               # 调休: weekend days that are working days

A listed year is the whole truth for that year on top of plain weekends (and corrects the package's days
when the year is in both). Every other year is PROVISIONAL: computed from the statutory rules in force
(``statutory_rules`` in the same file, see statutory.py), so deadlines never go missing. Official data always
wins, and `fingerprint()` changes when it does, so stored deadlines can be recomputed.

Counting follows the usual legal rule: the day something starts does not count, and "N working days" ends at
24:00 of the Nth working day after it, i.e. 00:00 of the following calendar day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import chinese_calendar

from bot.core.resources import data_dir, read_yaml
from bot.core.tickets.domain.statutory import CalendarError, StatutoryRules, parse_rules

FILE_NAME = "calendar.yaml"

__all__ = ["CalendarError", "WorkingCalendar", "add_working_days", "default_calendar", "is_workday"]


def default_calendar_file() -> Path:
    """The shipped example's calendar.yaml (a deployment configures its own knowledge directory)."""
    return data_dir("knowledge") / "calendar.yaml"


def _package_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays] + [d.year for d in chinese_calendar.workdays]
    return min(years), max(years)


@cache
def shipped_rules() -> StatutoryRules:
    """The statutory rules shipped with the project: a deployment's calendar.yaml may leave them out."""
    data = read_yaml(default_calendar_file()) or {}
    return parse_rules(data.get("statutory_rules"), str(default_calendar_file()))


class WorkingCalendar:
    def __init__(self, overrides: Mapping[Any, Any] | None = None, rules: StatutoryRules | None = None):
        self.first_year, self.last_year = _package_years()
        self.rules = rules or shipped_rules()
        self.extra_holidays: set[dt.date] = set()
        self.extra_workdays: set[dt.date] = set()
        self.override_years: set[int] = set()
        # memo: the package validates its whole table on every call, which is slow in a hot path
        self._workday: dict[dt.date, bool] = {}
        self._ends: dict[tuple[dt.date, int], dt.date] = {}
        if overrides is not None and not isinstance(overrides, Mapping):
            raise CalendarError(f"{FILE_NAME}: working_calendar 必须是按年份的映射")
        for year, body in (overrides or {}).items():
            self._add_year(year, body)

    def _add_year(self, year: Any, body: Any) -> None:
        try:
            y = int(year)
        except (TypeError, ValueError):
            raise CalendarError(f"{FILE_NAME}: 年份「{year}」不是整数") from None
        body = body or {}
        if not isinstance(body, Mapping):
            raise CalendarError(f"{FILE_NAME}: {y} 年的内容必须是映射（holidays / workdays）", y)
        unknown = set(body) - {"holidays", "workdays", "source"}
        if unknown:
            raise CalendarError(f"{FILE_NAME}: {y} 年有未知字段 {sorted(unknown)}", y)
        self.override_years.add(y)
        for key, target in (("holidays", self.extra_holidays), ("workdays", self.extra_workdays)):
            days = body.get(key) or []
            if not isinstance(days, list):
                raise CalendarError(f"{FILE_NAME}: {y} 年的 {key} 应为日期列表", y)
            for raw in days:
                day = raw if isinstance(raw, dt.date) else _parse_date(raw, y)
                if day.year != y:
                    raise CalendarError(f"{FILE_NAME}: {y} 年的 {key} 中出现了 {day}（不属于 {y} 年）", y)
                target.add(day)

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None) -> WorkingCalendar:
        """From the sections of a calendar.yaml (working_calendar, statutory_rules; both optional)."""
        data = data or {}
        raw_rules = data.get("statutory_rules")
        rules = parse_rules(raw_rules, FILE_NAME) if raw_rules is not None else None
        return cls(data.get("working_calendar") or {}, rules)

    @classmethod
    def from_file(cls, path: Path | str | None = None) -> WorkingCalendar:
        path = Path(path) if path else default_calendar_file()
        if not path.exists():
            return cls()
        data = read_yaml(path) or {}
        if not isinstance(data, Mapping):
            raise CalendarError(f"{path}: 顶层必须是映射（working_calendar / statutory_rules）")
        return cls.from_data(data)

    # ------------------------------------------------------------------ official or provisional
    def is_official(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year or year in self.override_years

    def is_provisional(self, day: dt.date) -> bool:
        return not self.is_official(day.year)

    def provisional_years(self, start: dt.date, end: dt.date) -> list[int]:
        """The provisional years among those of the days from start to end (inclusive)."""
        return [y for y in range(start.year, end.year + 1) if not self.is_official(y)]

    def spans_provisional(self, start: dt.date, end: dt.date) -> bool:
        return bool(self.provisional_years(start, end))

    def fingerprint(self) -> str:
        """Changes whenever the days this calendar computes may change: official data or the rules."""
        data = {
            "package": [
                sorted(map(str, chinese_calendar.holidays)),
                sorted(map(str, chinese_calendar.workdays)),
            ],
            "years": sorted(self.override_years),
            "holidays": sorted(map(str, self.extra_holidays)),
            "workdays": sorted(map(str, self.extra_workdays)),
            "rules": self.rules.as_data(),
        }
        raw = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(raw).hexdigest()[:16]

    # ------------------------------------------------------------------ days
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
        if self.is_official(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5 and day not in self.rules.days_off(day.year)

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
        raise CalendarError(f"{FILE_NAME}: {year} 年的日期「{raw}」格式应为 YYYY-MM-DD", year) from None


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
