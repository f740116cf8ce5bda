"""Commands of the 接诉即办 loop (bot/core/tickets/workflow/): 签收, 退单 / 改派 / 延期 / 申诉 requests and the
dispatcher's review of them, SLA pauses, supporting departments (协办), the citizen's 撤回 and 回访 buttons.

Each command parses its arguments, lets the workflow carry it out (the service checks roles, departments and
the ticket's state, and records the change with its event) and answers in one sentence of
templates/commands/replies.html.j2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from bot.core.messages import Incoming, Reply
from bot.core.tickets.domain.models import PENDING_REQUEST
from bot.core.tickets.service import TicketError
from bot.core.tickets.workflow import canned, handling, merging, requests, revisit

from .lookup import find_ticket, staff_ticket
from .registry import REGISTRY, Scope
from .workorders import vocabulary

if TYPE_CHECKING:
    from .registry import Context

STAFF: tuple[Scope, ...] = ("staff", "admin")
ADMIN: tuple[Scope, ...] = ("admin",)
CITIZEN: tuple[Scope, ...] = ("citizen",)
QUEUE_LIMIT = 20


def _split(tail: str) -> tuple[str, str]:
    parts = tail.split(None, 1)
    return (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")


@REGISTRY.command("sign", who="staff", menus=STAFF)
async def sign(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, _ = await staff_ticket(c, msg.user_id, rest, "sign", 1)
    t = await handling.sign(c.service, ticket.number, msg.user_id)
    return [Reply(c.say("signed", number=t.number))]


@REGISTRY.command("return", who="staff", menus=STAFF)
async def return_(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, reason = await staff_ticket(c, msg.user_id, rest, "return", 2)
    t = await requests.request_return(c.service, ticket.number, msg.user_id, reason)
    return [Reply(c.say("request_sent", number=t.number, kind="return"))]


@REGISTRY.command("reroute", who="staff", menus=STAFF)
async def reroute(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "reroute", 2)
    department, reason = _split(tail)
    if not reason:
        return [c.usage("reroute")]
    t = await requests.request_reroute(c.service, ticket.number, msg.user_id, department, reason)
    return [Reply(c.say("request_sent", number=t.number, kind="reroute"))]


@REGISTRY.command("extend", who="staff", menus=STAFF)
async def extend(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "extend", 2)
    days, reason = _split(tail)
    if not (days.isascii() and days.isdecimal() and len(days) <= 3):
        return [c.usage("extend")]
    t = await requests.request_extension(c.service, ticket.number, msg.user_id, int(days), reason)
    return [Reply(c.say("request_sent", number=t.number, kind="extend"))]


@REGISTRY.command("appeal", who="staff", menus=STAFF)
async def appeal(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, reason = await staff_ticket(c, msg.user_id, rest, "appeal", 2)
    t = await requests.appeal_rating(c.service, ticket.number, msg.user_id, reason)
    return [Reply(c.say("request_sent", number=t.number, kind="appeal"))]


@REGISTRY.command("approve", who="admin", menus=ADMIN)
async def approve(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, text = await staff_ticket(c, msg.user_id, rest, "approve", 1)
    t = await requests.decide(c.service, ticket.number, msg.user_id, True, text)
    return [Reply(c.say("request_decided", number=t.number, approved=True))]


@REGISTRY.command("reject", who="admin", menus=ADMIN)
async def reject(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, reason = await staff_ticket(c, msg.user_id, rest, "reject", 1)
    t = await requests.decide(c.service, ticket.number, msg.user_id, False, reason)
    return [Reply(c.say("request_decided", number=t.number, approved=False))]


@REGISTRY.command("requests", who="admin", menus=ADMIN)
async def queue(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    """The dispatcher's review queue: every request waiting for a decision, oldest first."""
    await c.service.require_admin(msg.user_id)
    waiting = await c.service.store.requests.list(
        states=(PENDING_REQUEST,), kinds=requests.DECIDED_KINDS, limit=QUEUE_LIMIT
    )
    return [Reply(c.say("request_queue", rows=waiting, now=c.service.clock.now()))]


@REGISTRY.command("pause", who="staff", menus=STAFF)
async def pause(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "pause", 2)
    word, note = _split(tail)
    reason = handling.pause_reason(c.service, word) or word
    t = await handling.pause(c.service, ticket.number, msg.user_id, reason, note)
    return [Reply(c.say("paused", number=t.number, reason=t.pause_reason))]


@REGISTRY.command("resume", who="staff", menus=STAFF)
async def resume(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, note = await staff_ticket(c, msg.user_id, rest, "resume", 1)
    t = await handling.resume(c.service, ticket.number, msg.user_id, note)
    return [Reply(c.say("resumed", number=t.number, next=Markup(c.service.views.next_deadline(t))))]


@REGISTRY.command("cohost", who="staff", menus=STAFF)
async def cohost(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, department = await staff_ticket(c, msg.user_id, rest, "cohost", 2)
    t = await handling.add_cohost(c.service, ticket.number, msg.user_id, department)
    return [Reply(c.say("cohost_added", number=t.number, departments=list(t.co_departments)))]


@REGISTRY.command("merge", who="staff", menus=STAFF)
async def merge(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    member, ticket, tail = await staff_ticket(c, msg.user_id, rest, "merge", 2)
    into = await find_ticket(c, tail.split()[0], msg.user_id, member)
    t = await merging.merge(c.service, ticket.number, msg.user_id, into.number)
    return [Reply(c.say("merged", number=t.number, main=into.number))]


@REGISTRY.command("template", who="staff", menus=STAFF)
async def template(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    """Canned replies: list (the caller's departments), set 名称 文本, remove 名称 (supervisors)."""
    member = await c.service.require_staff(msg.user_id)
    action, tail = _split(rest)
    if action in ("", "list"):
        rows = [
            (d, name, text)
            for d in member.departments
            for name, text in await c.service.store.reply_templates.list(d)
        ]
        return [Reply(c.say("template_list", rows=rows))]
    if action == "set":
        name, text = _split(tail)
        departments = await canned.save(c.service, member, name, text)
        return [Reply(c.say("template_saved", name=name.lstrip("#"), departments=list(departments)))]
    if action == "remove" and tail:
        found = await canned.remove(c.service, member, tail)
        return [Reply(c.say("template_removed", name=tail.strip().lstrip("#"), found=found))]
    return [c.usage("template")]


@REGISTRY.command("withdraw", who="anyone", menus=CITIZEN)
async def withdraw(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    token, reason = _split(rest)
    if not token:
        return [c.usage("withdraw")]
    ticket = await find_ticket(c, token, msg.user_id, None)
    t = await handling.withdraw(c.service, ticket.number, msg.user_id, reason)
    return [Reply(c.say("withdrawn", number=t.number))]


@REGISTRY.command("revisit", who="staff", menus=STAFF)
async def revisit_call(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    """回访 by phone of a ticket closed unrated: 已解决|未解决 [1-5] [说明], or 未联系上 [说明]."""
    _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "revisit", 2)
    answer = revisit.parse_answer(tail, vocabulary(c, "revisit_answers"))
    if answer is None:
        return [c.usage("revisit")]
    t = await revisit.record(c.service, ticket.number, msg.user_id, answer)
    return [
        Reply(
            c.say("revisit_recorded", number=t.number, solved=answer.solved, reopened=answer.solved is False)
        )
    ]


async def visit_pressed(c: Context, msg: Incoming, parts: list[str]) -> list[Reply]:
    """回访 buttons: 已解决 thanks and asks for the rating if none was given; 未解决 reopens."""
    if len(parts) != 2 or parts[1] not in ("yes", "no"):
        raise TicketError(c.say("button_expired"))
    t = await handling.visit(c.service, parts[0], msg.user_id, parts[1] == "yes")
    if parts[1] == "no":
        return [Reply(c.service.views.to_citizen("visit_reopened", t))]
    if t.rating is None or t.rated_round != t.round:
        return [
            Reply(c.service.views.to_citizen("visit_thanks", t), c.service.views.rating_buttons(t.number))
        ]
    return [Reply(c.say("visit_recorded"))]


async def merge_pressed(c: Context, msg: Incoming, parts: list[str]) -> list[Reply]:
    """并入 on a new ticket's card: the same as /merge N M (the service checks who may)."""
    if len(parts) != 2:
        raise TicketError(c.say("button_expired"))
    t = await merging.merge(c.service, parts[0], msg.user_id, parts[1])
    return [Reply(c.say("merged", number=t.number, main=parts[1]))]


async def approve_pressed(c: Context, msg: Incoming, parts: list[str]) -> list[Reply]:
    if len(parts) != 2 or parts[0] != "ok":
        raise TicketError(c.say("button_expired"))
    t = await requests.decide(c.service, parts[1], msg.user_id, True)
    return [Reply(c.say("request_decided", number=t.number, approved=True))]
