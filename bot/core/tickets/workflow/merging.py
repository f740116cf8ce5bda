"""并单: repeated 诉求 about one problem are handled once.

`/merge N M` (a supervisor or an admin covering both) makes N a duplicate handled with M: N stays open but its
clock is off (no reminders, not on the overdue lists; see domain/schedule.py), its citizen is told which
ticket handles it, and both histories say so. When M is resolved, every open duplicate is resolved with M's
result, and each reporter is told and asked to rate (and gets the 回访). A duplicate of a duplicate is refused:
merge into the ticket that handles it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.core.storage import ConflictError
from bot.core.tickets.domain.models import OPEN_STATES, RESOLVED, EventIn, Ticket, TicketQuery
from bot.core.tickets.domain.sla import MILESTONES

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

MAX_DUPLICATES = 200  # resolved with one main ticket at a time


async def merge(service: TicketService, number: str, actor_id: str, into: str) -> Ticket:
    """Both tickets change in one transaction (store.tickets.apply_many with whole=True): the duplicate's
    merged_into, its history and its citizen's notice, and the main ticket's history; a concurrent change to
    either makes both be read and built again, so one is never written without the other."""
    for _ in range(5):
        t = await service._must_get(number)
        main = await service._must_get(into)
        now = service.clock.now()
        actor = await service.require_for(actor_id, t, "merge")
        await service.require_for(actor_id, main, "merge")
        if t.number == main.number:
            raise service.error("merge_self", number=t.number)
        for x in (t, main):
            if x.state not in OPEN_STATES:
                raise service.error("not_open", number=x.number, state=x.state, action="merge")
            if x.merged_into is not None:
                raise service.error("already_merged", number=x.number, main=x.merged_into)
        dup_fields: dict[str, Any] = {"merged_into": main.number}
        dup_events = [EventIn(actor.user_id, "merge", service.views.event("merged_into", main=main.number))]
        told = service._notify_citizen(t, "merged", f"merged:{t.version}", main=main.number)
        main_events = [EventIn(actor.user_id, "merged", service.views.event("merged_from", number=t.number))]
        changes = [
            await service._prepare(t, now, (dup_fields, dup_events, [told])),
            await service._prepare(main, now, ({}, main_events, [])),
        ]
        try:
            merged, _ = await service.store.tickets.apply_many(changes, whole=True)
        except ConflictError:
            continue
        if merged is not None:  # whole=True: both written, or ConflictError
            return merged
    raise service.error("busy")


async def duplicates_of(service: TicketService, main: Ticket) -> list[Ticket]:
    return await service.list(
        TicketQuery(merged_into=main.number, states=OPEN_STATES, limit=MAX_DUPLICATES, newest_first=False)
    )


async def resolve_duplicates(service: TicketService, main: Ticket, actor_id: str) -> list[Ticket]:
    """After `main` is resolved: resolve each open duplicate with its result; each reporter is told and asked to
    rate. A duplicate changed meanwhile is read again (service._change)."""
    done: list[Ticket] = []
    result = main.resolution or ""
    for dup in await duplicates_of(service, main):

        async def build(t: Ticket, now: dt.datetime) -> tuple[Any, ...]:
            if t.state not in OPEN_STATES or t.merged_into != main.number:
                return {}, [], []
            fields: dict[str, Any] = {f"{m}_met": now for m in MILESTONES if t.met(m) is None}
            fields.update(
                {
                    "state": RESOLVED,
                    "resolution": result,
                    "rating_due": service.policies.rating_deadline(now),
                    "visit_result": None,
                    "visited_at": None,
                }
            )
            text = service.views.event("resolved_with", main=main.number, result=result)
            buttons = service.views.rating_buttons(t.number)
            notes = [service._notify_citizen(t, "resolved", f"resolved:{t.version}", buttons, result=result)]
            return fields, [EventIn(actor_id, "resolve", text)], notes

        done.append(await service._change(dup.number, build))
    return done
