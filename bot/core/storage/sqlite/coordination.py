"""What several processes would coordinate through, on SQLite: update ids already seen and named leases.

One process owns an SQLite file, so these rarely decide anything here; they keep the same semantics as on
PostgreSQL (a redelivered update is dropped after a restart too), and one write transaction at a time makes
each statement atomic."""

from __future__ import annotations

import datetime as dt

from bot.core.storage.rows import to_ts

from .database import Database

ACQUIRE = (
    "INSERT INTO leases(name, owner, until) VALUES (?,?,?)"
    " ON CONFLICT(name) DO UPDATE SET owner=excluded.owner, until=excluded.until"
    " WHERE leases.until <= ? OR leases.owner = excluded.owner"
    " RETURNING owner"
)


class SqliteUpdates:
    def __init__(self, db: Database):
        self.db = db

    async def first_time(self, update_id: int, at: dt.datetime) -> bool:
        sql = "INSERT OR IGNORE INTO seen_updates(update_id, seen_at) VALUES (?,?)"
        return await self.db.write(sql, (update_id, to_ts(at))) == 1

    async def forget(self, before: dt.datetime) -> int:
        return await self.db.write("DELETE FROM seen_updates WHERE seen_at < ?", (to_ts(before),))


class SqliteLeases:
    def __init__(self, db: Database):
        self.db = db

    async def acquire(self, name: str, owner: str, now: dt.datetime, until: dt.datetime) -> bool:
        async with self.db.transaction() as tx:
            rows = await tx.execute_fetchall(ACQUIRE, (name, owner, to_ts(until), to_ts(now)))
        return bool(rows)

    async def release(self, name: str, owner: str) -> None:
        await self.db.write("DELETE FROM leases WHERE name=? AND owner=?", (name, owner))
