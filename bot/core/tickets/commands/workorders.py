"""Staff commands of the 接诉即办 loop (bot/core/tickets/workflow/): /priority, and the steps that follow.

Each command parses its arguments, lets the workflow carry it out (the service checks roles, departments and
the ticket's state, and records the change with its event) and answers in one sentence of
templates/commands/replies.html.j2. Fixed choices people type (urgent / 紧急 …) are the vocabularies of
templates/commands/words.html.j2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from bot.core.messages import Incoming, Reply
from bot.core.tickets.workflow import triage

from .lookup import staff_ticket
from .registry import REGISTRY, Scope

if TYPE_CHECKING:
    from .registry import Context

STAFF: tuple[Scope, ...] = ("staff", "admin")
WORDS = "commands/words.html.j2"


def vocabulary(c: Context, name: str) -> dict[str, str]:
    return dict(c.texts.variable(WORDS, name))


@REGISTRY.command("priority", who="staff", menus=STAFF)
async def priority(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "priority", 2)
    parts = tail.split(None, 1)
    word = parts[0].lower() if parts else ""
    value = vocabulary(c, "priorities").get(word, word)
    t = await triage.set_priority(
        c.service, ticket.number, msg.user_id, value, parts[1] if len(parts) > 1 else ""
    )
    return [
        Reply(
            c.say(
                "priority_set",
                number=t.number,
                priority=t.priority,
                policy=c.service.policies.get(t.policy).label,
                next=Markup(c.service.views.next_deadline(t)),
            )
        )
    ]


@REGISTRY.command("type", who="staff", menus=STAFF)
async def appeal_type(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    _, ticket, tail = await staff_ticket(c, msg.user_id, rest, "type", 2)
    parts = tail.split(None, 1)
    t = await triage.set_type(
        c.service, ticket.number, msg.user_id, parts[0] if parts else "", parts[1] if len(parts) > 1 else ""
    )
    return [
        Reply(
            c.say(
                "type_set",
                number=t.number,
                appeal_type=t.appeal_type,
                next=Markup(c.service.views.next_deadline(t)),
            )
        )
    ]
