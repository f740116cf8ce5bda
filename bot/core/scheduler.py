"""The periodic work: the reminder tick, and the digests, queued on working days of the configured calendar.

Adapters decide when to call (a timer, a job queue, the console's `:tick`); what is due and whether today is a
working day is decided here, the same way for every channel. Each digest carries a per-day key, so it is queued
once a day per group however often it is asked for (after downtime, at start-up, by two timers).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping

from bot.core.clock import Clock
from bot.core.messages import Notification, Recipient, Reply
from bot.core.outbox import Outbox
from bot.core.tickets.domain.calendar import WorkingCalendar

log = logging.getLogger(__name__)

DigestBuilder = Callable[[str | None, dt.date], Awaitable[Reply]]
Ticker = Callable[[dt.datetime], Awaitable[int]]
Retrainer = Callable[[dt.datetime], Awaitable[object]]


class Scheduler:
    def __init__(
        self,
        calendar: WorkingCalendar,
        outbox: Outbox,
        clock: Clock,
        *,
        digest: DigestBuilder,
        tick: Ticker | None = None,
        retrain: Retrainer | None = None,
    ):
        self.calendar = calendar
        self.outbox = outbox
        self.clock = clock
        self._digest = digest
        self._tick = tick
        # routing's learning (bot/core/routing/learning.py): decides itself whether a retrain is due
        self._retrain = retrain

    def is_workday(self, day: dt.date) -> bool:
        return self.calendar.is_workday(day)

    async def tick(self, now: dt.datetime | None = None) -> int:
        """Queue every reminder due now (and close tickets whose rating window ended); how many. Then retrain
        routing when that is due (a failure there is logged; the reminders are what must not wait)."""
        now = now or self.clock.now()
        done = await self._tick(now) if self._tick is not None else 0
        if self._retrain is not None:
            try:
                await self._retrain(now)
            except Exception:  # noqa: BLE001
                log.exception("retraining routing failed; the current model stays")
        return done

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
