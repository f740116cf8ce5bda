"""Finding the ticket a command means: the full number (SQ20261122-0007), or only its daily suffix (7).

A suffix is looked up among the tickets the caller may see (a citizen's own, a staff member's departments).
Several matches are narrowed to open tickets; if still more than one (today's 0001 and an older 0001 still
open), the caller is asked for the full number rather than given a guess.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.tickets.domain.models import OPEN_STATES, StaffMember, Ticket, TicketQuery
from bot.core.tickets.service import TicketError

if TYPE_CHECKING:
    from .registry import Context

_FULL = re.compile(r"^(?:SQ)?(\d{8})-(\d{1,6})$", re.I)
_SHORT = re.compile(r"^#?(\d{1,6})$")


async def find_ticket(c: Context, token: str, user_id: str, member: StaffMember | None) -> Ticket:
    token = token.strip()
    full = _FULL.match(token)
    if full:
        number = f"SQ{full.group(1)}-{int(full.group(2)):04d}"
        ticket = await c.service.get(number)
        if ticket is None:
            raise TicketError(c.say("no_such_ticket", number=number))
        return ticket
    short = _SHORT.match(token)
    if not short:
        raise TicketError(c.say("not_a_number", token=token[:30]))
    seq = int(short.group(1))
    query = TicketQuery(seq=seq, limit=50)
    if member is None:
        query.citizen_id = user_id
    elif member.role != "admin":
        query.departments = member.departments
    found = await c.service.list(query)
    if len(found) > 1:
        found = [t for t in found if t.state in OPEN_STATES] or found
    # still several (e.g. today's 0001 and an older 0001 still open): never guess, ask for the full number
    if not found:
        raise TicketError(c.say("no_such_suffix", seq=seq))
    if len(found) > 1:
        raise TicketError(c.say("several_with_suffix", seq=seq, numbers=[t.number for t in found[:5]]))
    return found[0]


async def staff_ticket(
    c: Context, msg_user: str, rest: str, name: str, min_parts: int
) -> tuple[StaffMember, Ticket, str]:
    """The staff caller, the ticket named first in `rest`, and the rest of the text."""
    member = await c.service.require_staff(msg_user)
    parts = rest.split(None, 1)
    if len(parts) < min_parts:
        raise TicketError(c.words.usage(name))
    ticket = await find_ticket(c, parts[0], msg_user, member)
    return member, ticket, parts[1] if len(parts) > 1 else ""
