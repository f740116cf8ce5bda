"""Small guards in front of the core: duplicate updates, per-person rate limit, per-chat ordering."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class UpdateDeduplicator:
    """Drops an update delivered twice — a webhook retry, a replayed poll, the same update given to two
    processes behind one URL — so it is handled once.

    In front: the most recent update ids of this process (bounded), answered without a round trip. Behind,
    when given: `shared`, the core's record of update ids across every process sharing the database
    (`Assistant.first_time`); an id new here is new only if it is new there."""

    def __init__(self, capacity: int = 10_000, shared: Callable[[int], Awaitable[bool]] | None = None):
        self.capacity = capacity
        self._shared = shared
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        if update_id in self._seen:
            self._seen.move_to_end(update_id)
            return False
        # remembered before asking the database: a copy arriving meanwhile is dropped here
        self._seen[update_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        if self._shared is None:
            return True
        try:
            return await self._shared(update_id)
        except BaseException:
            # not recorded anywhere: a redelivery must still be handled
            self._seen.pop(update_id, None)
            raise

    def __len__(self) -> int:
        return len(self._seen)


class RateLimiter:
    """At most `per_minute` messages per person in any 60-second window. `check` answers
    "ok", "notify" (the first refused message: tell the person once) or "drop" (stay quiet)."""

    def __init__(
        self, per_minute: int, *, window: float = 60.0, monotonic: Callable[[], float] = time.monotonic
    ):
        self.per_minute = per_minute
        self.window = window
        self._now = monotonic
        self._hits: dict[str, deque[float]] = {}
        self._warned: set[str] = set()
        self._last_sweep = 0.0

    def check(self, key: str) -> str:
        if self.per_minute <= 0:
            return "ok"
        now = self._now()
        self._sweep(now)
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) < self.per_minute:
            hits.append(now)
            self._warned.discard(key)
            return "ok"
        if key in self._warned:
            return "drop"
        self._warned.add(key)
        return "notify"

    def _sweep(self, now: float) -> None:
        # forget idle people now and then so memory stays bounded
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        for k in [k for k, h in self._hits.items() if not h or now - h[-1] >= self.window]:
            del self._hits[k]
            self._warned.discard(k)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handles updates concurrently across chats but strictly in order within one chat, so a person's
    dialogue (and a staff group's commands) never race with themselves."""

    def __init__(self, max_concurrent_updates: int = 64):
        super().__init__(max_concurrent_updates)
        self._locks: dict[Any, tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def _key(update: object) -> Any:
        if isinstance(update, Update):
            if update.effective_chat is not None:
                return ("chat", update.effective_chat.id)
            if update.effective_user is not None:
                return ("user", update.effective_user.id)
        return ("other", id(update))

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key(update)
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
