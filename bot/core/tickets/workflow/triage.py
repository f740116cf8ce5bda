"""Triage: a ticket's priority and the deadlines that follow from it.

Changing the priority selects the policy again (sla.yaml) and recomputes every deadline not met yet from
where its window starts (contact and feedback from creation, resolve from the current round), so an urgent
ticket is held to the urgent policy from then on; met milestones keep the deadline they were met against.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.core.tickets.domain.models import OPEN_STATES, PRIORITIES, EventIn, Ticket
from bot.core.tickets.domain.sla import MILESTONES, Policy, window_start

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

MAX_REASON = 500


def unmet_deadlines(service: TicketService, t: Ticket, policy: Policy) -> dict[str, dt.datetime]:
    """The deadline fields of the unmet milestones under `policy`."""
    out: dict[str, dt.datetime] = {}
    for m in MILESTONES:
        if t.met(m) is None:
            out[f"{m}_due"] = policy.windows[m].due(window_start(t, m), service.policies.calendar)
    return out


async def set_priority(
    service: TicketService, number: str, actor_id: str, priority: str, reason: str
) -> Ticket:
    reason = reason.strip()[:MAX_REASON]
    if priority not in PRIORITIES:
        raise service.error("bad_priority", priority=priority[:20])
    if not reason:
        raise service.error("priority_needs_reason")

    async def build(t: Ticket, now: dt.datetime):
        actor = await service.require_for(actor_id, t, "priority")
        if t.state not in OPEN_STATES:
            raise service.error("not_open", number=t.number, state=t.state, action="priority")
        if t.priority == priority:
            raise service.error("same_priority", number=t.number, priority=priority)
        policy = service.policies.select(t.category, priority)
        fields: dict[str, Any] = {"priority": priority, "policy": policy.name}
        fields.update(unmet_deadlines(service, t, policy))
        text = service.views.event(
            "priority_changed", before=t.priority, after=priority, policy=policy.label, reason=reason
        )
        return fields, [EventIn(actor.user_id, "priority", text)], []

    return await service._change(number, build)
