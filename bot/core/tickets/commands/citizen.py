"""Commands a citizen uses (staff too): /my and /ticket. A citizen sees only their own tickets; staff see the
tickets of their departments, with the history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.messages import Incoming, Reply
from bot.core.text.mask import mask_pii
from bot.core.texts import short
from bot.core.tickets.attachments import show_button
from bot.core.tickets.domain.permissions import PermissionDenied, department_text
from bot.core.tickets.workflow.duplicates import likely_duplicates

from .lookup import find_ticket
from .registry import REGISTRY

if TYPE_CHECKING:
    from .registry import Context


@REGISTRY.command("my", who="anyone", menus=("citizen",))
async def my(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    tickets = await c.service.citizen_tickets(msg.user_id, limit=20)
    lines = [c.service.views.list_line(t, citizen=True) for t in tickets]
    return [Reply(c.say("my_tickets", lines=lines))]


@REGISTRY.command("ticket", who="anyone", menus=("citizen", "staff", "admin"))
async def ticket(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    if not rest:
        return [c.usage("ticket")]
    member = await c.service.staff_member(msg.user_id)
    t = await find_ticket(c, rest.split()[0], msg.user_id, member)
    # the lead department and the supporting ones (协办) see the card and the history
    staff = member is not None and any(member.covers(d) for d in (t.department, *t.co_departments))
    files = (
        [a.media for a in await c.service.attachments_of(t)] if staff or t.citizen_id == msg.user_id else []
    )
    more = show_button(c.service, t.number, len(files))  # re-sends the photos and files
    if staff:
        names = await c.service.staff_names()
        views = c.service.views
        html = views.staff_card(
            t, names.get(t.handler or ""), group=msg.is_group, full=True, attachments=files
        )
        history = views.history(await c.service.events(t), names, citizen_id=t.citizen_id)
        parts = [html, c.say("history_heading"), history]
        if t.is_open and t.merged_into is None:  # the dispatch view: likely duplicates to merge (并单)
            rows = [
                (x.ticket.number, short(mask_pii(x.ticket.description), 24), round(100 * x.score))
                for x in await likely_duplicates(c.service, t)
            ]
            if rows:
                parts.append(c.say("likely_duplicates", number=t.number, rows=rows))
        return [Reply("\n".join(parts), more)]
    if t.citizen_id == msg.user_id:
        return [Reply(c.service.views.citizen_card(t, files), more)]
    if member is not None:
        raise PermissionDenied(
            c.say(
                "ticket_of_other_department",
                number=t.number,
                department=t.department,
                departments=department_text(member),
            )
        )
    raise PermissionDenied(c.say("only_own_tickets"))
