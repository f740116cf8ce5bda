"""Work that one process at a time may do, when several share one database: the reminder tick, building a day's
digest. A lease is a row naming its holder and until when it holds; a process that dies holding one blocks the
work only until then, and the next process to ask takes it over.

A lease saves work; it is not what keeps things from happening twice. Reminders are recorded by versioned
changes and notifications carry de-duplication keys, so two holders at once (a lease that ran out while its
holder was still working) would still queue each reminder and digest once.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.core.clock import Clock
from bot.core.storage.protocols import LeaseRepository


def process_owner() -> str:
    """A name for this process among all processes sharing the database: host, pid, and a random part so that
    a restarted process with a reused pid is someone else."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Leases:
    def __init__(self, repo: LeaseRepository, clock: Clock, owner: str):
        self._repo = repo
        self.clock = clock
        self.owner = owner

    async def acquire(self, name: str, hold: dt.timedelta) -> bool:
        """Hold `name` for `hold` from now (or extend it, if this process holds it already)."""
        now = self.clock.now()
        return await self._repo.acquire(name, self.owner, now, now + hold)

    async def keep_until(self, name: str, until: dt.datetime) -> bool:
        """Extend a lease this process holds to `until` (e.g. a finished day's digest: nobody builds it again)."""
        return await self._repo.acquire(name, self.owner, self.clock.now(), until)

    async def release(self, name: str) -> None:
        await self._repo.release(name, self.owner)

    @asynccontextmanager
    async def held(self, name: str, hold: dt.timedelta) -> AsyncIterator[bool]:
        """`async with leases.held("tick", …) as mine:` — mine is False when another process holds it; a lease
        taken here is given up when the block ends, however it ends."""
        mine = await self.acquire(name, hold)
        try:
            yield mine
        finally:
            if mine:
                await self.release(name)
