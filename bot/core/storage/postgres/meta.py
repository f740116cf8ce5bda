"""Facts about the database itself on PostgreSQL (key → value)."""

from __future__ import annotations

from bot.core.storage.rows import to_ts

from .database import Database


class PostgresMeta:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, key: str) -> str | None:
        return await self.db.fetchval("SELECT value FROM meta WHERE key = $1", key)

    async def set(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO meta(key, value, updated_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
            key,
            value,
            to_ts(self.db.clock.now()),
        )
