"""Per-person dialogue memory: what was last answered and offered. It expires, so an old topic does not
silently steer a new question."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.core.clock import Clock

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
