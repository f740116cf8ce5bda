"""Triage: a ticket's priority and the deadlines that follow from it.

Changing the priority selects the policy again (sla.yaml) and recomputes every deadline not met yet from
where its window starts (contact and feedback from creation, resolve from the current round), so an urgent
ticket is held to the urgent policy from then on; met milestones keep the deadline they were met against.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.core.tickets.domain.models import OPEN_STATES, PRIORITIES, EventIn, Ticket
from bot.core.tickets.domain.sla import MILESTONES

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

MAX_REASON = 500


def unmet_deadlines(service: TicketService, t: Ticket) -> dict[str, dt.datetime]:
    """The deadline fields of the unmet milestones of `t` (as it will be: its new policy, type or tier)."""
    out: dict[str, dt.datetime] = {}
    for m in MILESTONES:
        if t.met(m) is None:
            out[f"{m}_due"] = service.policies.due_of(t, m)
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
        tier = service.policies.tier_of(t.description, priority)
        fields: dict[str, Any] = {"priority": priority, "policy": policy.name, "tier": tier}
        fields.update(unmet_deadlines(service, dataclasses.replace(t, **fields)))
        text = service.views.event(
            "priority_changed", before=t.priority, after=priority, policy=policy.label, reason=reason
        )
        return fields, [EventIn(actor.user_id, "priority", text)], []

    return await service._change(number, build)


async def set_type(
    service: TicketService, number: str, actor_id: str, appeal_type: str, reason: str
) -> Ticket:
    """Change the 诉求类型 (sla.yaml types), with the reason in the history; the unmet deadlines follow the
    new type's windows."""
    reason = reason.strip()[:MAX_REASON]
    types = service.policies.types
    if appeal_type not in types:
        raise service.error("bad_type", appeal_type=appeal_type[:20], types=list(types))
    if not reason:
        raise service.error("type_needs_reason")

    async def build(t: Ticket, now: dt.datetime):
        actor = await service.require_for(actor_id, t, "type")
        if t.state not in OPEN_STATES:
            raise service.error("not_open", number=t.number, state=t.state, action="type")
        if t.appeal_type == appeal_type:
            raise service.error("same_type", number=t.number, appeal_type=appeal_type)
        fields: dict[str, Any] = {"appeal_type": appeal_type}
        fields.update(unmet_deadlines(service, dataclasses.replace(t, **fields)))
        text = service.views.event(
            "type_changed", before=t.appeal_type or "", after=appeal_type, reason=reason
        )
        return fields, [EventIn(actor.user_id, "type", text)], []

    return await service._change(number, build)
