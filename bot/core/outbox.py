"""What goes out later: notifications for people other than the one being answered (staff groups, a citizen
when staff reply, reminders, digests). They are persisted before they are sent, so a restart loses nothing;
an adapter drains them (`claim`, then `sent` or `failed`) and a notification that keeps failing is parked until
an admin re-queues it.

With several processes on one database each drains the same outbox: `claim` hands every due notification to
one process (this Outbox's `owner`) for a lease, so it is sent once; a process that dies holding claims delays
them only until the lease runs out, when another process takes them over.
"""

from __future__ import annotations

import datetime as dt

from bot.core.clock import Clock
from bot.core.leases import process_owner
from bot.core.messages import Notification
from bot.core.storage.protocols import OutboxRepository
from bot.core.tickets.domain.models import OutboxRow

# how long a claimed notification is this process's to send; a sender stops taking rows of a claimed batch
# once half of it has passed (bot/adapters/telegram/outbox.py), so a claim never runs out mid-send
CLAIM_LEASE = dt.timedelta(minutes=2)


class Outbox:
    def __init__(self, repo: OutboxRepository, clock: Clock, owner: str | None = None):
        self._repo = repo
        self.clock = clock
        self.owner = owner or process_owner()

    async def enqueue(self, notification: Notification) -> bool:
        """Queue one notification; False when the same one (by its dedup_key) was queued before."""
        return await self._repo.enqueue(notification)

    async def due(self, now: dt.datetime | None = None, limit: int = 50) -> list[OutboxRow]:
        return await self._repo.due(now or self.clock.now(), limit)

    async def claim(
        self, limit: int = 50, lease: dt.timedelta = CLAIM_LEASE, now: dt.datetime | None = None
    ) -> list[OutboxRow]:
        """Take up to `limit` due notifications for this process until now + lease (see the module's note)."""
        return await self._repo.claim(now or self.clock.now(), limit, self.owner, lease)

    async def release(self, ids: list[int]) -> None:
        """Give back claimed notifications this process will not send now (anyone may take them at once)."""
        if ids:
            await self._repo.release(ids, self.owner)

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
