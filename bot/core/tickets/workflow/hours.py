"""Staff notifications held to working hours (knowledge/workflow.yaml: `hold_staff_notifications`, `staff_hours`).

With holding on, a notification for staff (a department's group, a staff member, the admins) that is made
outside the staff hours of a working day (the working-day calendar: weekends, holidays and 调休 included) is
queued with `not_before` set to the start of the next working period, and the outbox sends it then; it is
persisted at once like every other, so nothing is lost meanwhile. Urgent tickets (priority urgent, or an
urgency tier other than the everyday one) are never held, nor is anything for a citizen.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from bot.core.messages import Notification
from bot.core.tickets.domain.calendar import WorkingCalendar

STAFF_KINDS = ("department", "staff", "admins")
MAX_DAYS_AHEAD = 60  # the longest break a calendar has is far shorter; a safety stop


@dataclasses.dataclass(frozen=True)
class StaffHours:
    calendar: WorkingCalendar
    spans: Sequence[tuple[dt.time, dt.time]]

    def within(self, now: dt.datetime) -> bool:
        t = now.timetz().replace(tzinfo=None)
        return self.calendar.is_workday(now.date()) and any(a <= t < b for a, b in self.spans)

    def next_start(self, now: dt.datetime) -> dt.datetime:
        """`now` when within staff hours, else the start of the next working period (later today, or the first
        span of the next working day)."""
        if self.within(now):
            return now
        day = now.date()
        for _ in range(MAX_DAYS_AHEAD):
            if self.calendar.is_workday(day):
                for start, _end in sorted(self.spans):
                    at = dt.datetime.combine(day, start, tzinfo=now.tzinfo)
                    if at > now:
                        return at
            day += dt.timedelta(days=1)
        raise ValueError(f"no working day within {MAX_DAYS_AHEAD} days after {now.isoformat()}")

    def hold(self, notes: Iterable[Notification], now: dt.datetime, *, urgent: bool) -> list[Notification]:
        """The staff notifications among `notes` deferred to the next working period, unless `urgent`."""
        out = list(notes)
        if urgent or self.within(now):
            return out
        release = self.next_start(now)
        return [
            dataclasses.replace(n, not_before=release) if n.recipient.kind in STAFF_KINDS else n for n in out
        ]
