"""The periodic work: the reminder tick, and the digests, queued on working days of the configured calendar.

Adapters decide when to call (a timer, a job queue, the console's `:tick`); what is due and whether today is a
working day is decided here, the same way for every channel. Each digest carries a per-day key, so it is queued
once a day per group however often it is asked for (after downtime, at start-up, by two timers).

With several processes on one database (given `leases`), one process at a time ticks, and each group's digest
is built by one process a day: the builder holds the day's lease for that group while it builds, then keeps
it past the end of the day, so no other process builds it again (and the builder remembers it built it); a
builder that dies lets another take over once its lease ran out (DIGEST_LEASE).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.leases import Leases
from bot.core.messages import Notification, Recipient, Reply
from bot.core.outbox import Outbox
from bot.core.tickets.domain.calendar import WorkingCalendar

log = logging.getLogger(__name__)

DigestBuilder = Callable[[str | None, dt.date], Awaitable[Reply]]
Ticker = Callable[[dt.datetime], Awaitable[int]]
# 惠企政策 push (直达快享): queues today's messages, at most one a day per person (bot/core/policies/desk.py)
Pusher = Callable[[dt.datetime], Awaitable[int]]
Retrainer = Callable[[dt.datetime], Awaitable[object]]

# one tick at a time across processes; a holder that dies mid-tick delays reminders by at most this
TICK_LEASE = dt.timedelta(minutes=2)
# building one group's digest takes seconds; a builder silent for this long is taken over
DIGEST_LEASE = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class DigestRound:
    queued: int  # digests queued now
    elsewhere: tuple[str, ...] = ()  # recipients whose digest another process holds the lease for


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
        leases: Leases | None = None,
        retrain: Retrainer | None = None,
    ):
        self.calendar = calendar
        self.outbox = outbox
        self.clock = clock
        self._digest = digest
        self._tick = tick
        self._push = push
        self.push_hours = push_hours or (dt.time(9, 0), dt.time(17, 0))
        self.leases = leases
        self._built: set[str] = set()  # the digests (by lease name) this process built
        # routing's learning (bot/core/routing/learning.py): decides itself whether a retrain is due
        self._retrain = retrain

    def is_workday(self, day: dt.date) -> bool:
        return self.calendar.is_workday(day)

    async def tick(self, now: dt.datetime | None = None) -> int:
        """Queue every reminder due now (and close tickets whose rating window ended), and in working hours of
        a working day the policy push; how many. Then retrain routing when that is due. With leases, 0 while
        another process is ticking (and retraining)."""
        now = now or self.clock.now()
        if self.leases is None:
            return await self._tick_and_retrain(now)
        async with self.leases.held("tick", TICK_LEASE) as mine:
            return await self._tick_and_retrain(now) if mine else 0

    async def _tick_and_retrain(self, now: dt.datetime) -> int:
        done = await self._tick(now) if self._tick is not None else 0
        if self._push is not None and self.in_working_hours(now):
            done += await self._push(now)
        if self._retrain is not None:
            try:
                await self._retrain(now)
            except Exception:  # noqa: BLE001 - the reminders are what must not wait; the current model stays
                log.exception("retraining routing failed; the current model stays")
        return done

    def in_working_hours(self, now: dt.datetime) -> bool:
        """A working day of the calendar (调休 Saturdays included, holidays not), within the push hours."""
        start, end = self.push_hours
        return self.is_workday(now.date()) and start <= now.time() < end

    async def queue_digests(self, day: dt.date, groups: Mapping[str, str | None]) -> int:
        """Queue today's digest for each group (recipient department id -> the department it reports on, None
        for all); nothing on a day off. Returns how many were queued now (not before today)."""
        return (await self.digest_round(day, groups)).queued

    async def digest_round(self, day: dt.date, groups: Mapping[str, str | None]) -> DigestRound:
        """queue_digests, saying also which groups' digests another process is building right now (a caller
        may look again once DIGEST_LEASE has passed, in case that process died)."""
        if not self.is_workday(day):
            return DigestRound(0)
        queued = 0
        elsewhere: list[str] = []
        for recipient, department in groups.items():
            lease = f"digest:{day.isoformat()}:{recipient}"
            if lease in self._built:
                continue
            if self.leases is not None and not await self.leases.acquire(lease, DIGEST_LEASE):
                elsewhere.append(recipient)  # being built, or built today already
                continue
            reply = await self._digest(department, day)
            note = Notification(
                Recipient("department", recipient), reply, f"digest:{day.isoformat()}:{recipient}"
            )
            queued += await self.outbox.enqueue(note)
            if self.leases is not None:
                # built: kept (past the day's end, whatever the time zone) so that nobody builds it again
                done = dt.datetime.combine(
                    day + dt.timedelta(days=2), dt.time(), tzinfo=self.clock.now().tzinfo
                )
                await self.leases.keep_until(lease, done)
                self._built = {k for k in self._built if k.split(":")[1] >= day.isoformat()} | {lease}
        return DigestRound(queued, tuple(elsewhere))

    def digest_missed(self, now: dt.datetime, digest_time: dt.time) -> bool:
        """True when today's digest time has passed (a process starting late sends it now)."""
        return now.time() >= digest_time and self.is_workday(now.date())
