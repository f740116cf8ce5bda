"""Working time: how much of an interval falls on working days, and a deadline moved by an amount of it.

A working day counts whole (00:00–24:00), as the deadlines do ("N working days" ends at 24:00 of the Nth
working day), so a pause of the SLA clock from Friday 10:00 to Tuesday 10:00 over a weekend and a Monday
holiday is 24 working hours: 14 on Friday and 10 on Tuesday, and the deadline moves by one working day.
Pure functions over a WorkingCalendar; datetimes are timezone-aware and counted in their own zone.
"""

from __future__ import annotations

import datetime as dt

from bot.core.tickets.domain.calendar import WorkingCalendar

DAY = 86400
MAX_DAYS = 3660  # a safety stop: ten years of calendar


def _midnight(day: dt.date, tz: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)


def working_seconds(start: dt.datetime, end: dt.datetime, calendar: WorkingCalendar) -> int:
    """Seconds of [start, end) that fall on working days."""
    if end <= start:
        return 0
    tz = start.tzinfo
    end = end.astimezone(tz)
    total = 0.0
    day = start.date()
    for _ in range(MAX_DAYS):
        day_start = _midnight(day, tz)
        if day_start >= end:
            break
        day_end = _midnight(day + dt.timedelta(days=1), tz)
        if calendar.is_workday(day):
            total += (min(end, day_end) - max(start, day_start)).total_seconds()
        day += dt.timedelta(days=1)
    return int(total)


def add_working_seconds(when: dt.datetime, seconds: int, calendar: WorkingCalendar) -> dt.datetime:
    """`when` moved later by `seconds` of working time (days off are skipped)."""
    if seconds <= 0:
        return when
    tz = when.tzinfo
    left = float(seconds)
    at = when
    for _ in range(MAX_DAYS):
        day = at.date()
        day_end = _midnight(day + dt.timedelta(days=1), tz)
        if calendar.is_workday(day):
            room = (day_end - at).total_seconds()
            if left <= room:
                return at + dt.timedelta(seconds=left)
            left -= room
        at = day_end
    raise ValueError(f"no working time within {MAX_DAYS} days after {when.isoformat()}")
