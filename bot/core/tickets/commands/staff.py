"""Staff commands: lists, and every step of handling a ticket (claim, assign, transfer, contact, reply, note,
resolve, reopen, close) and /stats. The service checks roles and departments and records every change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from bot.core.messages import Incoming, Reply
from bot.core.tickets.domain.models import OPEN_STATES, PENDING, Ticket, TicketQuery
from bot.core.tickets.domain.permissions import department_text
from bot.core.tickets.reporting.stats import render_stats
from bot.core.tickets.workflow import canned

from .lookup import staff_ticket
from .registry import REGISTRY, Scope

if TYPE_CHECKING:
    from .registry import Context

STAFF: tuple[Scope, ...] = ("staff", "admin")
LIST_LIMIT = 20


async def listing(c: Context, title: str, found: list[Ticket], total: int) -> Reply:
    names = await c.service.staff_names()
    lines = [c.service.views.list_line(t, names) for t in found]
    return Reply(c.say("listing", title=title, total=total, lines=lines, shown=len(found)))


@REGISTRY.command("tickets", who="staff", menus=STAFF)
async def tickets(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    member = await c.service.require_staff(msg.user_id)
    now = c.service.clock.now()
    scope = None if member.role == "admin" else member.departments
    words = rest.split(None, 1)
    kind = words[0].lower() if words else ""
    query = TicketQuery(departments=scope, states=OPEN_STATES, limit=LIST_LIMIT)
    if kind == "mine":
        query = TicketQuery(handler=member.user_id, states=OPEN_STATES, limit=LIST_LIMIT)
    elif kind in ("overdue", "due"):
        found, counts = await c.service.attention(
            now, "red" if kind == "overdue" else "yellow", scope, LIST_LIMIT
        )
        return [await listing(c, c.say("list_title", kind=kind), found, sum(counts.values()))]
    elif kind == "new":
        query.states = (PENDING,)
    elif kind == "dept":
        if len(words) < 2:
            return [c.usage("tickets")]
        dept = c.service.canonical_department(words[1])
        if dept is None:
            return [Reply(c.say("no_such_department", name=words[1][:30]))]
        if not member.covers(dept):
            return [Reply(c.say("only_own_departments", departments=department_text(member)))]
        query.departments = (dept,)
    elif kind:
        return [c.usage("tickets")]
    title = c.say("list_title", kind=kind or "open", department=words[1] if kind == "dept" else "")
    total = await c.service.count(query)
    return [await listing(c, title, await c.service.list(query), total)]


@REGISTRY.command("stats", who="staff", menus=STAFF)
async def stats(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    member = await c.service.require_staff(msg.user_id)
    period = (rest.split() or ["day"])[0].lower()
    if period not in ("day", "week", "month"):
        return [c.usage("stats")]
    scope = None if member.role == "admin" else member.departments
    return [await render_stats(c.service, period, scope)]


@REGISTRY.command("claim", who="staff", menus=STAFF)
async def claim(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, _ = await staff_ticket(c, msg.user_id, rest, "claim", 1)
    t = await c.service.claim(ticket.number, msg.user_id)
    return [Reply(c.say("claimed", number=t.number, next=Markup(c.service.views.next_deadline(t))))]


@REGISTRY.command("assign", who="staff", menus=STAFF)
async def assign(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, who = await staff_ticket(c, msg.user_id, rest, "assign", 2)
    t = await c.service.assign(ticket.number, msg.user_id, who.split()[0])
    names = await c.service.staff_names()
    return [Reply(c.say("assigned", number=t.number, who=names.get(t.handler or "", t.handler or "")))]


@REGISTRY.command("transfer", who="staff", menus=STAFF)
async def transfer(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "transfer", 2)
    parts = tail.split(None, 1)
    if len(parts) < 2:
        return [Reply(c.say("need_reason", usage=c.words.usage("transfer")))]
    t = await c.service.transfer(ticket.number, msg.user_id, parts[0], parts[1])
    return [Reply(c.say("transferred", number=t.number, department=t.department))]


@REGISTRY.command("contact", who="staff", menus=STAFF)
async def contact(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, text = await staff_ticket(c, msg.user_id, rest, "contact", 2)
    t = await c.service.record_contact(ticket.number, msg.user_id, text)
    return [Reply(c.say("contact_recorded", number=t.number))]


@REGISTRY.command("reply", who="staff", menus=STAFF)
async def reply(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    # as a photo's caption the text may be left out: the photo is the answer
    _, ticket, text = await staff_ticket(c, msg.user_id, rest, "reply", 1 if msg.media else 2)
    # `#名称`: the department's canned reply, filled in for this ticket
    text = await canned.expand(c.service, ticket, text.strip(), c.say("citizen_fallback_name"))
    t = await c.service.reply(ticket.number, msg.user_id, text, media=msg.media)
    return [Reply(c.say("reply_sent", number=t.number))]


@REGISTRY.command("note", who="staff", menus=STAFF)
async def note(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, text = await staff_ticket(c, msg.user_id, rest, "note", 2)
    t = await c.service.note(ticket.number, msg.user_id, text)
    return [Reply(c.say("note_added", number=t.number))]


@REGISTRY.command("resolve", who="staff", menus=STAFF)
async def resolve(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, text = await staff_ticket(c, msg.user_id, rest, "resolve", 2)
    t = await c.service.resolve(ticket.number, msg.user_id, text)
    return [Reply(c.say("resolved", number=t.number))]


@REGISTRY.command("reopen", who="staff", menus=STAFF)
async def reopen(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, text = await staff_ticket(c, msg.user_id, rest, "reopen", 2)
    t = await c.service.reopen(ticket.number, msg.user_id, text)
    return [Reply(c.say("reopened", number=t.number, due=Markup(c.service.views.due_text(t, "resolve"))))]


@REGISTRY.command("close", who="staff", menus=STAFF)
async def close(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, text = await staff_ticket(c, msg.user_id, rest, "close", 1)
    t = await c.service.close(ticket.number, msg.user_id, text)
    return [Reply(c.say("closed", number=t.number))]
