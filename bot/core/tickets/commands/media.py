"""Commands about a ticket's photos and files: /media N re-sends them to whoever may see the ticket (the citizen
who filed it, staff of its department); /add N as the caption of a photo or file adds it to the citizen's own
submitted 诉求 as 补充材料. Staff send a photo to the citizen with /reply N 文字 as its caption (staff.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.messages import Incoming, Reply
from bot.core.tickets.attachments import show, supplement
from bot.core.tickets.files import MEDIA

from .lookup import find_ticket
from .registry import REGISTRY

if TYPE_CHECKING:
    from .registry import Context


@REGISTRY.command("media", who="anyone", menus=("staff", "admin"))
async def media(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    if not rest:
        return [c.usage("media")]
    member = await c.service.staff_member(msg.user_id)
    ticket = await find_ticket(c, rest.split()[0], msg.user_id, member)
    return await show(c.service, ticket, msg)


@REGISTRY.command("add", who="anyone")
async def add(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    if not msg.media or not rest:
        return [Reply(c.texts.say(MEDIA, "add_usage"))]
    number, _, words = rest.partition(" ")
    ticket = await find_ticket(c, number, msg.user_id, None)  # one's own tickets only
    items = msg.media
    if words.strip() and not any(m.caption for m in items):
        # the words after the number are what the person says about the files
        items = (replace(items[0], caption=words.strip()), *items[1:])
    return [await supplement(c.service, msg.user_id, ticket, items)]
