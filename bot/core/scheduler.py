"""The periodic work: the reminder tick, and the digests, queued on working days of the configured calendar.

Adapters decide when to call (a timer, a job queue, the console's `:tick`); what is due and whether today is a
working day is decided here, the same way for every channel. Each digest carries a per-day key, so it is queued
once a day per group however often it is asked for (after downtime, at start-up, by two timers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping

from bot.core.clock import Clock
from bot.core.messages import Notification, Recipient, Reply
from bot.core.outbox import Outbox
from bot.core.tickets.domain.calendar import WorkingCalendar

DigestBuilder = Callable[[str | None, dt.date], Awaitable[Reply]]
Ticker = Callable[[dt.datetime], Awaitable[int]]
# 惠企政策 push (直达快享): queues today's messages, at most one a day per person (bot/core/policies/desk.py)
Pusher = Callable[[dt.datetime], Awaitable[int]]


class Scheduler:
    def __init__(
        self,
        calendar: WorkingCalendar,
        outbox: Outbox,
        clock: Clock,
        *,
        digest: DigestBuilder,
        tick: Ticker | None = None,
        push: Pusher | None = None,
        push_hours: tuple[dt.time, dt.time] | None = None,
    ):
        self.calendar = calendar
        self.outbox = outbox
        self.clock = clock
        self._digest = digest
        self._tick = tick
        self._push = push
        self.push_hours = push_hours or (dt.time(9, 0), dt.time(17, 0))

    def is_workday(self, day: dt.date) -> bool:
        return self.calendar.is_workday(day)

    async def tick(self, now: dt.datetime | None = None) -> int:
        """Queue every reminder due now (and close tickets whose rating window ended), and in working hours of
        a working day the policy push; how many."""
        now = now or self.clock.now()
        queued = await self._tick(now) if self._tick is not None else 0
        if self._push is not None and self.in_working_hours(now):
            queued += await self._push(now)
        return queued

    def in_working_hours(self, now: dt.datetime) -> bool:
        """A working day of the calendar (调休 Saturdays included, holidays not), within the push hours."""
        start, end = self.push_hours
        return self.is_workday(now.date()) and start <= now.time() < end

    async def queue_digests(self, day: dt.date, groups: Mapping[str, str | None]) -> int:
        """Queue today's digest for each group (recipient department id -> the department it reports on, None
        for all); nothing on a day off. Returns how many were queued now (not before today)."""
        if not self.is_workday(day):
            return 0
        queued = 0
        for recipient, department in groups.items():
            reply = await self._digest(department, day)
            note = Notification(
                Recipient("department", recipient), reply, f"digest:{day.isoformat()}:{recipient}"
            )
            queued += await self.outbox.enqueue(note)
        return queued

    def digest_missed(self, now: dt.datetime, digest_time: dt.time) -> bool:
        """True when today's digest time has passed (a process starting late sends it now)."""
        return now.time() >= digest_time and self.is_workday(now.date())
