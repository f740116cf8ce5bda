"""`TicketCommands`: parse a chat command or a button press, find its registered handler and run it.

Returns the replies for the chat the command came from, or None when the text or button is not one of these
commands. A refusal (PermissionDenied), a request that cannot be carried out (TicketError) or a write the
database refused (StoreWriteError) becomes a polite reply; nothing else is swallowed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.messages import Incoming, Reply
from bot.core.storage import StoreWriteError
from bot.core.texts import Texts
from bot.core.tickets.domain.permissions import PermissionDenied
from bot.core.tickets.service import TicketError, TicketService

# importing them registers their commands (menus list them in the catalog template's order)
from . import (
    admin,  # noqa: F401, I001
    buttons,
    citizen,  # noqa: F401, I001
    knowledge,  # noqa: F401, I001
    loop,  # noqa: F401, I001
    media,  # noqa: F401, I001
    policies,  # noqa: F401, I001
    routing,  # noqa: F401, I001
    staff,  # noqa: F401, I001
    workorders,  # noqa: F401, I001
)
from .registry import REGISTRY, CommandTexts, Registry, Scope

if TYPE_CHECKING:
    from bot.core.knowledge.loop import KnowledgeLoop
    from bot.core.policies.desk import PolicyDesk

_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\S+)?(?:\s+(.*))?$", re.S)
REPLIES = "commands/replies.html.j2"


def command_menu(texts: Texts, scope: Scope) -> list[tuple[str, str]]:
    """(command, description) for a channel's command menu: citizen, staff or admin."""
    return CommandTexts(texts).menu(scope)


def command_help(texts: Texts, scope: Scope) -> str:
    return CommandTexts(texts).help(scope)


class TicketCommands:
    def __init__(self, service: TicketService, registry: Registry = REGISTRY):
        self.service = service
        # the knowledge loop (bot/core/knowledge/loop.py), set by the composition root when there is one
        self.knowledge: KnowledgeLoop | None = None
        self.registry = registry
        self.texts: Texts = service.texts
        self.words = CommandTexts(self.texts, registry)
        # the 惠企政策 desk (bot/core/policies/desk.py) for /profile and /unsubscribe; set by the app
        self.policies: PolicyDesk | None = None

    def say(self, macro: str, /, **kwargs: object) -> str:
        return self.texts.say(REPLIES, macro, **kwargs)

    def usage(self, *names: str) -> Reply:
        return Reply(self.words.usage(*names))

    async def handle(self, msg: Incoming) -> list[Reply] | None:
        try:
            if msg.callback:
                return await buttons.press(self, msg) or await knowledge.press(self, msg)
            m = _COMMAND.match((msg.text or "").strip())
            if not m:
                return None
            command = self.registry.get(m.group(1).lower())
            if command is None or command.handler is None:
                return None
            rest = (m.group(2) or "").strip()
            replies = await command.handler(self, msg, rest)
            # a 咨询 ticket just resolved or closed with a reply: offer it to the knowledge base
            return replies + await knowledge.after_command(self, command.name, msg, rest)
        except (PermissionDenied, TicketError, StoreWriteError) as exc:
            return [Reply(str(exc))]

    async def take_comment(self, msg: Incoming) -> list[Reply] | None:
        """The text after the "写几句意见" button is the comment; None when no comment is awaited."""
        return await buttons.take_comment(self, msg)
