"""Routing commands: /route (where a message would go and why), the dispatcher's queue (/dispatch), /category
(staff correct a category) and /retrain (admins train routing on the centre's tickets now)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.messages import Incoming, Reply
from bot.core.tickets.domain.models import OPEN_STATES, TicketQuery

from .lookup import staff_ticket
from .registry import REGISTRY
from .staff import LIST_LIMIT

if TYPE_CHECKING:
    from bot.core.routing import Decision
    from bot.core.texts import Texts

    from .registry import Context

WORDS = "routing/replies.html.j2"


def _say(c: Context, macro: str, /, **kw: object) -> str:
    return c.service.texts.say(WORDS, macro, **kw)


def explain(texts: Texts, decision: Decision, dispatcher: str) -> str:
    """The /route answer for a routing decision (also what `python -m bot route` prints)."""
    return texts.say(WORDS, "route", d=decision, dispatcher=dispatcher)


@REGISTRY.command("route", who="staff", menus=("staff", "admin"))
async def route(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    await c.service.require_staff(msg.user_id)
    desk = c.service.routing
    if desk is None:
        return [Reply(_say(c, "no_routing"))]
    if not rest.strip():
        return [Reply(_say(c, "route_usage"))]
    return [Reply(explain(c.service.texts, desk.route(rest.strip()), desk.dispatcher))]


@REGISTRY.command("dispatch", who="staff", menus=("staff", "admin"))
async def dispatch(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    """Without arguments: the queue, each with the router's suggestion. `/dispatch 编号 部门`: send it."""
    member = await c.service.require_staff(msg.user_id)
    desk = c.service.routing
    if desk is None:
        return [Reply(_say(c, "no_routing"))]
    if not desk.dispatcher:
        return [Reply(_say(c, "no_dispatcher"))]
    if rest.strip():
        _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "dispatch", 2)
        dept = tail.strip()
        t = await c.service.transfer(
            ticket.number, msg.user_id, dept, _say(c, "dispatch_reason"), kind="dispatch"
        )
        return [Reply(_say(c, "dispatched", number=t.number, department=t.department))]
    if not member.covers(desk.dispatcher):
        return [Reply(c.say("only_own_departments", departments="、".join(member.departments)))]
    query = TicketQuery(departments=(desk.dispatcher,), states=OPEN_STATES, limit=LIST_LIMIT)
    found = await c.service.list(query)
    total = await c.service.count(query)
    names = await c.service.staff_names()
    lines = []
    for t in found:
        d = desk.route(t.description, t.place)
        lines.append((c.service.views.list_line(t, names), d.unit if d.sure else d.line_unit))
    title = _say(c, "queue_title", dispatcher=desk.dispatcher)
    return [Reply(_say(c, "queue", title=title, lines=lines, total=total, shown=len(found)))]


@REGISTRY.command("category", who="staff", menus=("staff", "admin"))
async def category(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "category", 2)
    t = await c.service.set_category(ticket.number, msg.user_id, tail)
    return [Reply(_say(c, "category_changed", number=t.number, category=t.category))]


@REGISTRY.command("retrain", who="admin", menus=("admin",))
async def retrain(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    await c.service.require_admin(msg.user_id)
    desk = c.service.routing
    if desk is None:
        return [Reply(_say(c, "no_routing"))]
    result = await desk.retrain()
    return [Reply(_say(c, "retrained", r=result, needed=desk.min_examples))]
