"""Per-person dialogue memory: what was last answered and offered. It expires, so an old topic does not
silently steer a new question. In this process's memory (ContextStore), or in the database when several
processes answer one person's messages (SharedContextStore)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.core.clock import Clock
from bot.core.storage.protocols import StateRepository

_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)  # sorts before every stored context (put() sets `at`)


@dataclass
class Context:
    last_target: str | None = None
    last_aspect: str | None = None
    choices: list[str] = field(default_factory=list)  # ids offered in the last clarifying question
    choice_aspect: str | None = None
    unanswered: str | None = None  # the last question we could not answer (offered as a 诉求)
    last_score: float = 0.0  # confidence of the entry last answered, when a question named it
    urgent: bool = False  # `unanswered` was an emergency: its 诉求 is urgent
    # the item the conversation is about while a 免证明 entry is the last answer ("办个体户" → "经营场所证明还要吗"
    # → "多久能下证" asks about 个体户 again)
    last_item: str | None = None
    at: dt.datetime | None = None


class ContextStore:
    def __init__(self, clock: Clock, ttl_minutes: int = 30, max_users: int = 100_000):
        self.clock = clock
        self.ttl = dt.timedelta(minutes=ttl_minutes)
        self.max_users = max_users
        self._data: dict[str, Context] = {}

    def get(self, user_id: str) -> Context:
        ctx = self._data.get(user_id)
        if ctx is None or ctx.at is None or self.clock.now() - ctx.at > self.ttl:
            return Context()
        return ctx

    def put(self, user_id: str, ctx: Context) -> None:
        ctx.at = self.clock.now()
        if user_id not in self._data and len(self._data) >= self.max_users:
            # drop the oldest contexts rather than grow without bound
            oldest = sorted(self._data.items(), key=lambda kv: kv[1].at or _NEVER)
            for uid, _ in oldest[: self.max_users // 10]:
                del self._data[uid]
        self._data[user_id] = ctx

    def clear(self, user_id: str) -> None:
        self._data.pop(user_id, None)

    # Kept in this process's memory: nothing to read before a message or to write after it.
    async def load(self, user_id: str) -> None:
        pass

    async def save(self, user_id: str) -> None:
        pass

    async def purge(self) -> int:
        return 0


class SharedContextStore(ContextStore):
    """Contexts kept in the database (the conversation state, as JSON under `dialogue:<user>`), so that a
    person's next message may be answered by another process that shares it.

    `load` before answering a message reads the person's context afresh; `save` afterwards writes it if the
    dialogue changed it, and forgets it here: nothing is cached between messages, since the next one may be
    answered elsewhere. A context that expired is purged by the periodic tick (`purge`)."""

    PREFIX = "dialogue:"

    def __init__(self, clock: Clock, state: StateRepository, ttl_minutes: int = 30):
        super().__init__(clock, ttl_minutes)
        self.state = state
        self._changed: set[str] = set()

    async def load(self, user_id: str) -> None:
        data = await self.state.load(self.PREFIX + user_id)
        ctx = context_from_json(data) if data else None
        if ctx is None:
            self._data.pop(user_id, None)
        else:
            self._data[user_id] = ctx

    def put(self, user_id: str, ctx: Context) -> None:
        super().put(user_id, ctx)
        self._changed.add(user_id)

    async def save(self, user_id: str) -> None:
        ctx = self._data.pop(user_id, None)
        if user_id not in self._changed:
            return
        self._changed.discard(user_id)
        if ctx is not None:
            await self.state.save(self.PREFIX + user_id, context_to_json(ctx))

    async def purge(self) -> int:
        """Delete the contexts that expired; how many."""
        return await self.state.purge(self.PREFIX, self.clock.now() - self.ttl)


def context_to_json(ctx: Context) -> dict[str, Any]:
    data = asdict(ctx)
    data["at"] = ctx.at.isoformat() if ctx.at is not None else None
    return data


def context_from_json(data: dict[str, Any]) -> Context | None:
    """A context as saved; None for one this program cannot read (saved by another version: start afresh)."""
    try:
        at = dt.datetime.fromisoformat(data["at"]) if data.get("at") else None
        known = {f.name for f in fields(Context)} - {"at"}
        return Context(**{k: v for k, v in data.items() if k in known}, at=at)
    except (TypeError, ValueError):
        return None
