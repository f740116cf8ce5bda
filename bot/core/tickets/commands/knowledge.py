"""Staff commands of the knowledge loop: /gaps (the week's top gaps), /teach (a gap or a question becomes an
alias of an entry), /unteach (undo), /taught (what was taught lately), /reload (admins: read the knowledge base
again), and the 加入知识库 button offered when a 咨询 ticket is resolved or closed with a reply (its question and
reply become a reviewed FAQ entry). The work is bot/core/knowledge/loop.py's; the words are
templates/commands/knowledge.html.j2's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.callbacks import Prefix, data, parse
from bot.core.messages import Button, Incoming, Reply
from bot.core.tickets.domain.models import CLOSED, RESOLVED, Ticket
from bot.core.tickets.service import TicketError

from .lookup import find_ticket
from .registry import REGISTRY, Scope

if TYPE_CHECKING:
    from bot.core.knowledge.loop import KnowledgeLoop

    from .registry import Context

WORDS = "commands/knowledge.html.j2"
STAFF: tuple[Scope, ...] = ("staff", "admin")
DAYS = 7  # /gaps looks back a week unless told otherwise
MAX_DAYS = 90
# commands after which a 咨询 ticket may be offered for the knowledge base
OFFER_AFTER = ("resolve", "close")


def say(c: Context, macro: str, /, **kw: object) -> str:
    return c.texts.say(WORDS, macro, **kw)


def loop_of(c: Context) -> KnowledgeLoop:
    loop = getattr(c, "knowledge", None)
    if loop is None:
        raise TicketError(say(c, "unavailable"))
    return loop


@REGISTRY.command("gaps", who="staff", menus=STAFF)
async def gaps(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    await c.service.require_staff(msg.user_id)
    loop = loop_of(c)
    words = rest.split()
    # a length check first: int() refuses strings of thousands of digits
    ok = words and words[0].isascii() and words[0].isdigit() and len(words[0]) <= 6
    if words and not (ok and 1 <= int(words[0]) <= MAX_DAYS):
        return [c.usage("gaps")]
    days = int(words[0]) if words else DAYS
    groups = await loop.gaps(days)
    return [Reply(say(c, "gaps", groups=groups, days_back=days))]


@REGISTRY.command("teach", who="staff", menus=STAFF)
async def teach(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    member = await c.service.require_staff(msg.user_id)
    loop = loop_of(c)
    parts = rest.split(None, 1)
    if len(parts) < 2:
        return [c.usage("teach")]
    first, second = parts
    ref = first.lstrip("#")
    if ref.isascii() and ref.isdigit():
        # /teach 123 条目: a logged question (a gap of /gaps, or any question's number)
        question = await loop.question(int(ref))
        if question is None:
            raise TicketError(say(c, "no_such_question", ref=first[:20]))
        text, source, entry_ref = question.text, f"q:{question.id}", second.strip()
    else:
        # /teach 条目 问题: a question typed by staff
        text, source, entry_ref = second.strip(), "typed", first
    entry = loop.find_entry(entry_ref)
    if entry is None:
        raise TicketError(say(c, "no_such_entry", ref=entry_ref[:40]))
    phrase = loop.phrase_of(text)
    if len(phrase) < 2:
        raise TicketError(say(c, "no_phrase", question=text[:60]))
    if loop.already_named(entry, phrase):
        return [Reply(say(c, "already_named", phrase=phrase, entry=entry))]
    learned, result = await loop.teach(entry, phrase, text, source, member.user_id, member.name)
    return [Reply(say(c, "taught", learned=learned, entry=entry, outcome=result))]


@REGISTRY.command("unteach", who="staff", menus=STAFF)
async def unteach(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    member = await c.service.require_staff(msg.user_id)
    loop = loop_of(c)
    ref = rest.strip().lstrip("#")
    if not (ref.isascii() and ref.isdigit()):
        return [c.usage("unteach")]
    undone, result = await loop.undo(int(ref), member.user_id)
    if undone is None:
        raise TicketError(say(c, "not_undone", learned_id=int(ref)))
    return [Reply(say(c, "undone", learned=undone, outcome=result))]


@REGISTRY.command("taught", who="staff", menus=STAFF)
async def taught(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    await c.service.require_staff(msg.user_id)
    loop = loop_of(c)
    rows = await loop.recent(10)
    return [Reply(say(c, "taught_list", rows=rows, now=c.service.clock.now()))]


@REGISTRY.command("reload", who="admin", menus=("admin",))
async def reload(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    await c.service.require_admin(msg.user_id)
    result = await loop_of(c).reload()
    return [Reply(say(c, "reloaded", outcome=result))]


# -- the 加入知识库 button ------------------------------------------------------------------------------------
async def after_command(c: Context, name: str, msg: Incoming, rest: str) -> list[Reply]:
    """After /resolve or /close of a 咨询 ticket that has a reply: offer to add it to the knowledge base."""
    loop = getattr(c, "knowledge", None)
    token = rest.split(None, 1)[0] if rest.split() else ""
    if loop is None or name not in OFFER_AFTER or not token:
        return []
    member = await c.service.require_staff(msg.user_id)
    ticket = await find_ticket(c, token, msg.user_id, member)
    if ticket.state not in (RESOLVED, CLOSED) or not loop.is_consultation(ticket):
        return []
    if await loop.faq_draft(ticket) is None:
        return []
    button = Button(say(c, "faq_button"), data(Prefix.KNOWLEDGE, "faq", ticket.number))
    return [Reply(say(c, "faq_offer", number=ticket.number), [[button]])]


async def press(c: Context, msg: Incoming) -> list[Reply] | None:
    prefix, parts = parse(msg.callback or "")
    if prefix != Prefix.KNOWLEDGE:
        return None
    if len(parts) != 2 or parts[0] not in ("faq", "faqok", "faqno"):
        raise TicketError(say(c, "button_expired"))
    action, number = parts
    member = await c.service.require_staff(msg.user_id)
    loop = loop_of(c)
    ticket = await _consultation(c, number, member)
    if action == "faqno":
        return [Reply(say(c, "faq_cancelled", number=number))]
    draft = await loop.faq_draft(ticket)
    if draft is None:
        raise TicketError(say(c, "faq_nothing", number=number))
    if await _already_added(loop, number):
        return [Reply(say(c, "faq_already", number=number))]
    if action == "faq":
        rows = [
            [
                Button(say(c, "faq_confirm_button"), data(Prefix.KNOWLEDGE, "faqok", number)),
                Button(say(c, "faq_cancel_button"), data(Prefix.KNOWLEDGE, "faqno", number)),
            ]
        ]
        return [Reply(say(c, "faq_preview", draft=draft), rows)]
    learned, result = await loop.add_faq(draft, member.user_id, member.name)
    return [Reply(say(c, "faq_added", learned=learned, draft=draft, outcome=result))]


async def _consultation(c: Context, number: str, member: object) -> Ticket:
    ticket = await c.service.get(number)
    if ticket is None:
        raise TicketError(say(c, "button_expired"))
    await c.service.require_for(member.user_id, ticket, "view")  # type: ignore[attr-defined]
    return ticket


async def _already_added(loop: KnowledgeLoop, number: str) -> bool:
    rows = await loop.store.learned.active(loop.clock.now())
    return any(r.kind == "faq" and r.source.endswith(number) for r in rows)
