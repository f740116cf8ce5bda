"""One registry of chat commands: name, who may use it, which menus show it, and the function that carries it
out. Usage lines, help texts, the console's help and the Telegram command menus are all generated from it;
the words (arguments and summary of each command) live in templates/commands/catalog.html.j2.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from bot.core.messages import Incoming, Reply
from bot.core.texts import Texts
from bot.core.tickets.service import TicketService

if TYPE_CHECKING:
    from bot.core.policies.desk import PolicyDesk

Who = Literal["anyone", "staff", "admin"]
Scope = Literal["citizen", "staff", "admin"]


class Context(Protocol):
    """What a command handler is given (TicketCommands in dispatch.py provides it)."""

    service: TicketService
    texts: Texts
    words: CommandTexts
    policies: PolicyDesk | None  # 惠企政策 (/profile, /unsubscribe, /policystats); None when not set up

    def say(self, macro: str, /, **kwargs: object) -> str: ...
    def usage(self, *names: str) -> Reply: ...


Handler = Callable[[Context, Incoming, str], Awaitable[list[Reply]]]

CATALOG = "commands/catalog.html.j2"


@dataclass(frozen=True)
class Command:
    name: str
    who: Who  # the least a caller must be; finer checks (department, own ticket) are the service's
    menus: tuple[Scope, ...]  # the command menus that list it
    handler: Handler | None  # None: handled by the assistant itself (/start, /help, /cancel)


class Registry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def add(
        self, name: str, *, who: Who, menus: tuple[Scope, ...] = (), handler: Handler | None = None
    ) -> None:
        if name in self._commands:
            raise ValueError(f"command /{name} registered twice")
        self._commands[name] = Command(name, who, menus, handler)

    def command(self, name: str, *, who: Who, menus: tuple[Scope, ...] = ()) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.add(name, who=who, menus=menus, handler=fn)
            return fn

        return register

    def get(self, name: str) -> Command | None:
        return self._commands.get(name)

    def names(self) -> list[str]:
        return list(self._commands)

    def in_menu(self, scope: Scope) -> list[Command]:
        return [c for c in self._commands.values() if scope in c.menus]


REGISTRY = Registry()
# handled by the assistant, listed here so menus and help know them
REGISTRY.add("start", who="anyone", menus=("citizen",))
REGISTRY.add("help", who="anyone", menus=("citizen", "staff", "admin"))
REGISTRY.add("cancel", who="anyone", menus=("citizen",))


class CommandTexts:
    """The words of the registry's commands, from the catalog template."""

    def __init__(self, texts: Texts, registry: Registry = REGISTRY):
        self.texts = texts
        self.registry = registry

    def args(self, name: str) -> str:
        return self.texts.say(CATALOG, "args", name=name)

    def summary(self, name: str) -> str:
        return self.texts.say(CATALOG, "summary", name=name)

    def usage(self, *names: str) -> str:
        return self.texts.say(CATALOG, "usage", lines=[(n, self.args(n), self.summary(n)) for n in names])

    def listed(self, scope: Scope) -> list[str]:
        """The commands of a menu, in the order the catalog lists them."""
        order = list(self.texts.variable(CATALOG, "commands"))
        names = [c.name for c in self.registry.in_menu(scope)]
        return sorted(names, key=lambda n: order.index(n) if n in order else len(order))

    def menu(self, scope: Scope) -> list[tuple[str, str]]:
        """(command, description) pairs for a channel's command menu of this scope."""
        return [
            (n, self.texts.say(CATALOG, "menu_entry", name=n, args=self.args(n), summary=self.summary(n)))
            for n in self.listed(scope)
        ]

    def help(self, scope: Scope) -> str:
        lines = [(n, self.args(n), self.summary(n)) for n in self.listed(scope)]
        return self.texts.say(CATALOG, "help", scope=scope, lines=lines)
