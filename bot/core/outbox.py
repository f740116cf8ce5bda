"""What goes out later: notifications for people other than the one being answered (staff groups, a citizen
when staff reply, reminders, digests). They are persisted before they are sent, so a restart loses nothing;
an adapter drains them (`due`, then `sent` or `failed`) and a notification that keeps failing is parked until
an admin re-queues it.
"""

from __future__ import annotations

import datetime as dt

from bot.core.clock import Clock
from bot.core.messages import Notification
from bot.core.storage.protocols import OutboxRepository
from bot.core.tickets.domain.models import OutboxRow


class Outbox:
    def __init__(self, repo: OutboxRepository, clock: Clock):
        self._repo = repo
        self.clock = clock

    async def enqueue(self, notification: Notification) -> bool:
        """Queue one notification; False when the same one (by its dedup_key) was queued before."""
        return await self._repo.enqueue(notification)

    async def due(self, now: dt.datetime | None = None, limit: int = 50) -> list[OutboxRow]:
        return await self._repo.due(now or self.clock.now(), limit)

    async def sending(
        self, id: int, hold: dt.timedelta, at: dt.datetime | None = None, mine: dt.datetime | None = None
    ) -> bool:
        """Take a notification (mark it in flight) just before it is handed to the channel; False when another
        sender has it or it was sent meanwhile (see the repository)."""
        return await self._repo.sending(id, at or self.clock.now(), hold, mine)

    async def sent(self, id: int, at: dt.datetime | None = None) -> None:
        await self._repo.sent(id, at or self.clock.now())

    async def failed(self, id: int, error: str, retry_at: dt.datetime, *, park: bool = False) -> None:
        await self._repo.failed(id, error, retry_at, park=park)

    async def delivered(self, id: int, chats: list[str]) -> None:
        await self._repo.delivered(id, chats)

    async def parked(self, limit: int = 50) -> list[OutboxRow]:
        return await self._repo.parked(limit)

    async def requeue(self, ids: list[int] | None) -> int:
        return await self._repo.requeue(ids, self.clock.now())

    async def pending_count(self) -> int:
        return await self._repo.pending_count()
