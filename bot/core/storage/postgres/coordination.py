"""What several processes coordinate through, on PostgreSQL: update ids already seen and named leases.

Both are one statement each. `INSERT … ON CONFLICT DO NOTHING` lets exactly one of several concurrent inserts
of an update id count it as new. A lease is taken by an upsert whose DO UPDATE is conditional: the row is locked
while the condition is checked, so of two processes racing for a free or expired lease exactly one gets it."""

from __future__ import annotations

import datetime as dt

from bot.core.storage.rows import to_ts

from .database import Database, status_count

ACQUIRE = (
    "INSERT INTO leases AS l (name, owner, until) VALUES ($1, $2, $3)"
    " ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until"
    " WHERE l.until <= $4 OR l.owner = EXCLUDED.owner"
    " RETURNING owner"
)


class PostgresUpdates:
    def __init__(self, db: Database):
        self.db = db

    async def first_time(self, update_id: int, at: dt.datetime) -> bool:
        status = await self.db.execute(
            "INSERT INTO seen_updates (update_id, seen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            update_id,
            to_ts(at),
        )
        return status_count(status) == 1

    async def forget(self, before: dt.datetime) -> int:
        return status_count(
            await self.db.execute("DELETE FROM seen_updates WHERE seen_at < $1", to_ts(before))
        )


class PostgresLeases:
    def __init__(self, db: Database):
        self.db = db

    async def acquire(self, name: str, owner: str, now: dt.datetime, until: dt.datetime) -> bool:
        got = await self.db.run(lambda tx: tx.fetchval(ACQUIRE, name, owner, to_ts(until), to_ts(now)))
        return got is not None

    async def release(self, name: str, owner: str) -> None:
        await self.db.execute("DELETE FROM leases WHERE name = $1 AND owner = $2", name, owner)
