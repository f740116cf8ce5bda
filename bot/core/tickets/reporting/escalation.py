"""The last rung of the escalation ladder (催办 → 督办 → 通报): the open tickets the weekly 通报 names.

A ticket is named when its 办结 deadline passed, the 督办 went to the supervisors (`supervise_after` of its policy
later) and `report_after_working_days` (workflow.yaml, 5) more working days went by without it being resolved.
A paused ticket or a merged duplicate is not running late and is not named.
"""

from __future__ import annotations

import datetime as dt

from bot.core.storage import Store
from bot.core.tickets.domain.models import OPEN_STATES, Ticket, TicketQuery
from bot.core.tickets.domain.sla import SlaPolicies

SCAN = 2000  # overdue tickets looked at per report (the oldest first)
SECOND = dt.timedelta(seconds=1)


def reported_at(t: Ticket, policies: SlaPolicies, working_days: int) -> dt.datetime | None:
    """When the ticket reaches 通报: 24:00 of the Nth working day after the day of its 督办; None when it has
    no 办结 deadline running."""
    if t.resolve_due is None or t.resolve_met is not None or t.paused_at is not None or t.merged_into:
        return None
    supervised = t.resolve_due + policies.get(t.policy).supervise_after
    return policies.calendar.add_working_days(supervised - SECOND, working_days)


async def reported_tickets(
    store: Store,
    now: dt.datetime,
    policies: SlaPolicies,
    working_days: int,
    departments: tuple[str, ...] | None = None,
) -> list[Ticket]:
    """The open tickets due for 通报 at `now`, longest overdue first."""
    overdue = await store.tickets.list(
        TicketQuery(departments=departments, states=OPEN_STATES, due_to=now, limit=SCAN, newest_first=False)
    )
    named = [
        t
        for t in overdue
        if t.state in OPEN_STATES and (at := reported_at(t, policies, working_days)) is not None and at <= now
    ]
    return sorted(named, key=lambda t: (t.resolve_due, t.number))
