"""Injected clocks: every datetime in the core is timezone-aware, and tests set the time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    tz: dt.tzinfo

    def now(self) -> dt.datetime: ...


class SystemClock:
    def __init__(self, tz: dt.tzinfo = DEFAULT_TZ):
        self.tz = tz

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.tz)


class FixedClock:
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: dt.datetime):
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.tz = start.tzinfo
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("naive datetime")
        self._now = when

    def advance(self, **kwargs: float) -> dt.datetime:
        self._now = self._now + dt.timedelta(**kwargs)
        return self._now
