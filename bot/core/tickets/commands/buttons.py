"""Buttons on ticket messages: 认领 and 转派 for staff, 批准 for the dispatcher, the 1–5 rating, 写几句意见 and
the 回访 (已解决 / 未解决) for the citizen.

Button data is checked like typed input (see bot/core/callbacks.py): a forged, stale or malformed value gets
a polite refusal, and only the person a button is for can use it (the service checks).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bot.core.callbacks import Prefix, data, fits, parse
from bot.core.messages import Button, Incoming, Reply
from bot.core.tickets.domain.models import OPEN_STATES
from bot.core.tickets.domain.permissions import PermissionDenied
from bot.core.tickets.intake.flow import is_cancel
from bot.core.tickets.service import TicketError
from bot.core.tickets.views import RATING_LABELS

from . import loop

if TYPE_CHECKING:
    from .registry import Context

# how long after pressing "写几句意见" the next message is taken as the comment
COMMENT_WAIT = dt.timedelta(minutes=30)


def _comment_key(user_id: str) -> str:
    # kept with the intake drafts: survives a restart, and costs nothing for people without one
    return f"comment:{user_id}"


def _index(raw: str) -> int | None:
    # isdecimal alone lets "²" through, which int() refuses
    return int(raw) if raw.isascii() and raw.isdecimal() else None


async def press(c: Context, msg: Incoming) -> list[Reply] | None:
    prefix, parts = parse(msg.callback or "")
    if prefix == Prefix.CLAIM and parts:
        t = await c.service.claim(parts[0], msg.user_id)
        names = await c.service.staff_names()
        who = names.get(msg.user_id, msg.display_name or msg.user_id)
        return [Reply(c.say("claimed_by", who=who, number=t.number))]
    if prefix == Prefix.TRANSFER and parts:
        return await _transfer(c, msg, parts)
    if prefix == Prefix.RATE and len(parts) == 2:
        score = _index(parts[1])
        if score is None:
            raise TicketError(c.say("bad_rating"))
        t = await c.service.rate(parts[0], msg.user_id, score)
        offer = [[Button(c.say("comment_button"), data(Prefix.COMMENT, t.number))]]
        if t.state in OPEN_STATES:
            return [Reply(c.say("rated_low"), offer)]
        if t.visit_result is None:  # 回访: "问题解决了吗", 已解决 / 未解决 (which reopens the ticket)
            visit = c.service.views.visit_buttons(t.number)
            return [Reply(c.say("rated_visit", label=RATING_LABELS[score]), visit + offer)]
        return [Reply(c.say("rated", label=RATING_LABELS[score]), offer)]
    if prefix == Prefix.VISIT:
        return await loop.visit_pressed(c, msg, parts)
    if prefix == Prefix.REQUEST:
        return await loop.approve_pressed(c, msg, parts)
    if prefix == Prefix.MERGE:
        return await loop.merge_pressed(c, msg, parts)
    if prefix == Prefix.COMMENT and parts:
        ticket = await c.service.get(parts[0])
        if ticket is None or ticket.citizen_id != msg.user_id or ticket.rating is None:
            raise TicketError(c.say("button_expired"))
        now = c.service.clock.now()
        await c.service.store.state.save(
            _comment_key(msg.user_id), {"number": ticket.number, "at": now.isoformat()}
        )
        return [Reply(c.say("ask_comment"))]
    return None


async def _transfer(c: Context, msg: Incoming, parts: list[str]) -> list[Reply]:
    number = parts[0]
    depts = sorted(c.service.department_names())
    if len(parts) == 1:
        ticket = await c.service.get(number)
        if ticket is None:
            raise TicketError(c.say("no_such_ticket", number=number))
        await c.service.require_for(msg.user_id, ticket, "transfer")
        rows = [
            [Button(d, f"{Prefix.TRANSFER}:{number}:{i}")]
            for i, d in enumerate(depts)
            if d != ticket.department and fits(f"{Prefix.TRANSFER}:{number}:{i}")
        ]
        return [Reply(c.say("choose_department", number=number), rows)]
    idx = _index(parts[1])
    if idx is None or idx >= len(depts):
        raise TicketError(c.say("department_choice_gone"))
    t = await c.service.transfer(number, msg.user_id, depts[idx], c.say("transferred_by_button"))
    return [Reply(c.say("transferred", number=t.number, department=t.department))]


async def take_comment(c: Context, msg: Incoming) -> list[Reply] | None:
    key = _comment_key(msg.user_id)
    pending = await c.service.store.state.load(key)
    if pending is None:
        return None
    await c.service.store.state.delete(key)
    try:
        asked = dt.datetime.fromisoformat(pending.get("at", ""))
    except (TypeError, ValueError):
        return None
    if c.service.clock.now() - asked > COMMENT_WAIT:
        return None  # asked long ago: this is a new question, not the comment
    text = (msg.text or "").strip()
    if is_cancel(text):
        return [Reply(c.say("comment_cancelled"))]
    try:
        await c.service.comment(pending["number"], msg.user_id, text)
    except (PermissionDenied, TicketError) as exc:
        return [Reply(str(exc))]
    return [Reply(c.say("comment_received"))]
