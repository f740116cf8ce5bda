"""Facts about the database itself on SQLite (key → value)."""

from __future__ import annotations

from bot.core.storage.rows import to_ts

from .database import Database


class SqliteMeta:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, key: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM meta WHERE key=?", (key,))
        return row[0] if row else None

    async def set(self, key: str, value: str) -> None:
        await self.db.write(
            "INSERT INTO meta(key, value, updated_at) VALUES (?,?,?)"
            " ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
            (key, value, to_ts(self.db.clock.now())),
        )
