"""Photos, files and pins outside an intake, and showing a ticket's attachments again.

A bare photo, video, file, voice message or pin is not silently dropped: the person is asked "您是要反映问题吗？"
with buttons to file a new 诉求 with it, to add it to one of their open 诉求 as 补充材料, or to leave it. What
they sent waits in the conversation state (a restart loses nothing) for `HELD_WAIT`; pieces sent one after
another (a photo, then a pin) are gathered.

`show` re-sends a ticket's photos and files (the /media command and the 查看附件 button) to whoever may see the
ticket: the citizen who filed it, and staff of its department (the rules of /ticket). In staff groups the
captions are masked like every group text.

Button data: att:new, att:add:<number>, att:no, att:show:<number> (bot/core/callbacks.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from bot.core.callbacks import Prefix, data, parse
from bot.core.media import Location, Media, check_media, kind_counts, media_from_json, media_to_json
from bot.core.messages import Button, Incoming, Reply
from bot.core.text.mask import mask_pii
from bot.core.texts import short
from bot.core.tickets.domain.models import CLOSED, OPEN_STATES, RESOLVED, Ticket, TicketQuery
from bot.core.tickets.domain.permissions import PermissionDenied, department_text
from bot.core.tickets.files import MEDIA, masked, refusal_notes
from bot.core.tickets.service import TicketError, TicketService

if TYPE_CHECKING:
    from bot.core.tickets.intake.flow import IntakeFlow

log = logging.getLogger(__name__)

HELD_WAIT = dt.timedelta(minutes=30)
OFFER_TICKETS = 3  # open tickets offered for 补充材料
REPLIES = "commands/replies.html.j2"


def _held_key(user_id: str) -> str:
    # kept with the intake drafts: survives a restart, costs nothing for people without any
    return f"media:{user_id}"


async def visible_to(service: TicketService, ticket: Ticket, user_id: str) -> bool:
    """May `user_id` see the ticket's attachments? Raises PermissionDenied (worded) when not; True for staff
    (who see them in groups with masked captions), False for the citizen who filed it."""
    member = await service.staff_member(user_id)
    if member is not None and member.covers(ticket.department):
        return True
    if ticket.citizen_id == str(user_id):
        return False
    if member is not None:
        raise PermissionDenied(
            service.texts.say(
                REPLIES,
                "ticket_of_other_department",
                number=ticket.number,
                department=ticket.department,
                departments=department_text(member),
            )
        )
    raise PermissionDenied(service.texts.say(REPLIES, "only_own_tickets"))


async def show(service: TicketService, ticket: Ticket, msg: Incoming) -> list[Reply]:
    """The ticket's attachments, listed and sent again, to someone who may see them."""
    await visible_to(service, ticket, msg.user_id)
    found = await service.attachments_of(ticket)
    if not found:
        return [Reply(service.texts.say(MEDIA, "no_attachments", number=ticket.number))]
    now = service.clock.now()
    rows = [
        {
            "kind": a.media.kind,
            "role": a.role,
            "at": a.media.at,
            "now": now,
            "size": a.media.size,
            "caption": short(mask_pii(a.media.caption) if msg.is_group else a.media.caption, 60),
        }
        for a in found
    ]
    html = service.texts.say(MEDIA, "listing", number=ticket.number, files=rows, group=msg.is_group)
    return [Reply(html, media=masked([a.media for a in found], group=msg.is_group))]


def show_button(service: TicketService, number: str, count: int) -> list[list[Button]]:
    """The 查看附件 button under a ticket's card (none without attachments)."""
    if not count:
        return []
    label = service.texts.say(MEDIA, "show_button", count=count)
    return [[Button(label, data(Prefix.ATTACH, "show", number))]]


async def supplement(service: TicketService, user_id: str, ticket: Ticket, media: tuple[Media, ...]) -> Reply:
    """The citizen's 补充材料 for a submitted ticket; the reply says what was added and what was refused."""
    t, checked = await service.attach(ticket.number, user_id, media)
    notes = refusal_notes(service.texts, checked, service.media_limits)
    if checked.taken:
        notes.insert(0, service.texts.say(MEDIA, "added", number=t.number, counts=kind_counts(checked.taken)))
    return Reply("\n".join(notes))


class AttachmentDesk:
    """What the assistant hands a photo, file or pin that is no part of an intake, and the att: buttons."""

    def __init__(self, service: TicketService, state: Any, intake: IntakeFlow):
        self.service = service
        self.state = state
        self.intake = intake
        self.texts = service.texts

    # ------------------------------------------------------------------ the offer
    async def offer(self, msg: Incoming) -> list[Reply]:
        limits = self.service.media_limits
        held_media, held_location = await self._held(msg.user_id)
        checked = check_media(msg.media, limits, already=len(held_media))
        have = {m.unique_id for m in held_media}
        media = held_media + [m for m in checked.taken if m.unique_id not in have]
        location = msg.location if msg.location is not None and msg.location.valid else held_location
        refused = " ".join(refusal_notes(self.texts, checked, limits))
        if msg.location is not None and not msg.location.valid:
            refused = " ".join(filter(None, [refused, self.texts.say(MEDIA, "pin_invalid")]))
        if not media and location is None:
            return [Reply(refused or self.texts.say(MEDIA, "offer_gone"))]
        await self.state.save(
            _held_key(msg.user_id),
            {
                "media": media_to_json(media),
                "location": location.to_json() if location else None,
                "at": self.service.clock.now().isoformat(),
            },
        )
        open_tickets = await self._open_tickets(msg.user_id) if media else []
        html = self.texts.say(
            MEDIA,
            "offer",
            counts=kind_counts(media),
            location=location is not None,
            voice=any(m.kind == "voice" for m in media),
            refused_note=refused,
            open_tickets=[t.number for t in open_tickets],
        )
        b = self._button
        rows = [[Button(b("new"), data(Prefix.ATTACH, "new"))]]
        rows += [[Button(b("add", t.number), data(Prefix.ATTACH, "add", t.number))] for t in open_tickets]
        rows.append([Button(b("no"), data(Prefix.ATTACH, "no"))])
        return [Reply(html, rows)]

    async def _open_tickets(self, user_id: str) -> list[Ticket]:
        recent = await self.service.store.tickets.list(
            TicketQuery(citizen_id=str(user_id), states=(*OPEN_STATES, RESOLVED), limit=OFFER_TICKETS)
        )
        return [t for t in recent if t.state != CLOSED]

    def _button(self, name: str, number: str = "") -> str:
        return self.texts.say(MEDIA, "offer_buttons", name=name, number=number)

    async def _held(self, user_id: str) -> tuple[list[Media], Location | None]:
        raw = await self.state.load(_held_key(user_id))
        if not raw:
            return [], None
        try:
            at = dt.datetime.fromisoformat(raw.get("at", ""))
            if self.service.clock.now() - at > HELD_WAIT:
                return [], None
            return list(media_from_json(raw.get("media"))), Location.from_json(raw.get("location"))
        except (KeyError, TypeError, ValueError):
            log.warning("the attachments held for %s could not be read; ignored", user_id)
            return [], None

    # ------------------------------------------------------------------ buttons
    async def press(self, msg: Incoming) -> list[Reply]:
        prefix, parts = parse(msg.callback or "")
        action = parts[0] if prefix == Prefix.ATTACH and parts else ""
        try:
            if action == "show" and len(parts) == 2:
                ticket = await self.service.get(parts[1])
                if ticket is None:
                    raise TicketError(self.texts.say(REPLIES, "no_such_ticket", number=parts[1][:30]))
                return await show(self.service, ticket, msg)
            if action in ("new", "add", "no"):
                return await self._use_held(msg, action, parts[1] if len(parts) == 2 else None)
        except (PermissionDenied, TicketError) as exc:
            return [Reply(str(exc))]
        return [Reply(self.texts.say(REPLIES, "button_expired"))]

    async def _use_held(self, msg: Incoming, action: str, number: str | None) -> list[Reply]:
        uid = msg.user_id
        media, location = await self._held(uid)
        if action == "no":
            await self.state.delete(_held_key(uid))
            return [Reply(self.texts.say(MEDIA, "offer_declined"))]
        if not media and location is None:
            return [Reply(self.texts.say(MEDIA, "offer_gone"))]
        if action == "add":
            if not number or not media:
                return [Reply(self.texts.say(REPLIES, "button_expired"))]
            ticket = await self.service.get(number)
            if ticket is None:
                raise TicketError(self.texts.say(REPLIES, "no_such_ticket", number=number[:30]))
            reply = await supplement(self.service, uid, ticket, tuple(media))
            await self.state.delete(_held_key(uid))
            return [reply]
        await self.state.delete(_held_key(uid))
        evidence = Incoming(uid, msg.chat_id, media=tuple(media), location=location)
        if await self.intake.active(uid):  # an intake began meanwhile: the evidence is for it
            return (await self.intake.handle(evidence)).replies
        return await self.intake.start(evidence, "", media=tuple(media), location=location)
