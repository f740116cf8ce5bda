"""Automatic assignment per department (knowledge/workflow.yaml `assignment`: 部门: {mode, cap}).

A new ticket (or one transferred in) of a department listed there goes straight to one of its handlers:
- `round_robin`: the handlers in turn (ordered by user id), starting after the one who was given the last ticket;
- `least_loaded`: the handler holding the fewest open tickets, ties broken in the same turn order.
Nobody is given more than `cap` open tickets: when everybody is at the cap the ticket stays unassigned and the
department's group gets the card to claim, as in a department without assignment. Only handlers (role
handler) of the department take part; supervisors and admins assign by hand.

The turn is kept in the meta table (`assign:<部门>`); two processes assigning at the same moment may give two
tickets to the same person, which the cap still bounds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.messages import Notification, Recipient
from bot.core.tickets.domain.models import (
    IN_PROGRESS,
    OPEN_STATES,
    PENDING,
    EventIn,
    StaffMember,
    Ticket,
    TicketQuery,
)

if TYPE_CHECKING:
    from bot.core.tickets.service import Built, TicketService

log = logging.getLogger(__name__)

SYSTEM = "system"


def turn_order(handlers: Sequence[StaffMember], last: str | None) -> list[StaffMember]:
    """The handlers by user id, starting with the one after `last` (the first when `last` is unknown)."""
    ordered = sorted(handlers, key=lambda m: m.user_id)
    after = [m for m in ordered if last is not None and m.user_id > last]
    return after + [m for m in ordered if m not in after]


def pick(mode: str, order: Sequence[StaffMember], loads: dict[str, int], cap: int) -> StaffMember | None:
    """Who gets the next ticket: the first in turn under the cap (round_robin), or the least loaded under the
    cap, the earliest in turn among equals (least_loaded); None when everybody is at the cap."""
    free = [m for m in order if loads.get(m.user_id, 0) < cap]
    if not free:
        return None
    if mode == "least_loaded":
        return min(free, key=lambda m: loads.get(m.user_id, 0))  # min keeps the first of equals: the turn
    return free[0]


async def handlers_of(service: TicketService, department: str) -> list[StaffMember]:
    return [
        m for m in await service.store.staff.list() if m.role == "handler" and department in m.departments
    ]


async def loads_of(service: TicketService, people: Sequence[StaffMember]) -> dict[str, int]:
    """Open tickets each person holds now (in any department)."""
    return {
        m.user_id: await service.store.tickets.count(TicketQuery(handler=m.user_id, states=OPEN_STATES))
        for m in people
    }


async def auto_assign(service: TicketService, ticket: Ticket) -> Ticket:
    """Assign `ticket` by its department's rule, if it has one and the ticket is still unclaimed; returns the
    ticket as it is now."""
    rule = service.workflow.assignment.get(ticket.department)
    if rule is None or ticket.handler is not None or ticket.state != PENDING:
        return ticket
    handlers = await handlers_of(service, ticket.department)
    if not handlers:
        log.warning("no handler in %s to assign %s to automatically", ticket.department, ticket.number)
        return ticket
    key = f"assign:{ticket.department}"
    order = turn_order(handlers, await service.store.meta.get(key))
    chosen = pick(rule.mode, order, await loads_of(service, handlers), rule.cap)
    if chosen is None:
        log.info(
            "%s: everybody in %s holds %d open tickets; left to claim",
            ticket.number,
            ticket.department,
            rule.cap,
        )
        return ticket

    async def build(t: Ticket, now: dt.datetime) -> Built:
        if t.handler is not None or t.state != PENDING:  # claimed meanwhile: nothing to do
            return {}, [], []
        text = service.views.event("auto_assigned", name=chosen.name, user_id=chosen.user_id, mode=rule.mode)
        notes = [
            Notification(
                Recipient("staff", chosen.user_id),
                service.views.assigned(t, chosen.name),
                f"{t.number}:assigned:{t.version}",
            ),
            service._notify_citizen(t, "claimed", f"claimed:{t.version}", department=t.department),
        ]
        fields = {"handler": chosen.user_id, "state": IN_PROGRESS, **service._signed(t)}
        return fields, [EventIn(SYSTEM, "assign", text)], notes

    done = await service._change(ticket.number, build)
    if done.handler == chosen.user_id:
        await service.store.meta.set(key, chosen.user_id)
    return done
