"""Per-person conversation state on PostgreSQL (intake drafts, an awaited rating comment), as JSON by key.

Several processes may serve the same person, so nothing is cached here: the database is the whole truth."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.core.storage.rows import to_ts

from .database import Database, status_count


class PostgresState:
    def __init__(self, db: Database):
        self.db = db

    async def save(self, key: str, data: dict[str, Any]) -> None:
        raw = json.dumps(data, ensure_ascii=False, default=str)
        await self.db.execute(
            "INSERT INTO drafts(user_id, data, updated_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (user_id) DO UPDATE SET data = EXCLUDED.data, updated_at = EXCLUDED.updated_at",
            key,
            raw,
            to_ts(self.db.clock.now()),
        )

    async def load(self, key: str) -> dict[str, Any] | None:
        raw = await self.db.fetchval("SELECT data FROM drafts WHERE user_id = $1", key)
        return json.loads(raw) if raw is not None else None

    async def delete(self, key: str) -> None:
        await self.db.execute("DELETE FROM drafts WHERE user_id = $1", key)

    async def take(self, key: str) -> dict[str, Any] | None:
        raw = await self.db.run(
            lambda tx: tx.fetchval("DELETE FROM drafts WHERE user_id = $1 RETURNING data", key)
        )
        return json.loads(raw) if raw is not None else None

    async def purge(self, prefix: str, before: dt.datetime) -> int:
        status = await self.db.execute(
            "DELETE FROM drafts WHERE left(user_id, $1) = $2 AND updated_at < $3",
            len(prefix),
            prefix,
            to_ts(before),
        )
        return status_count(status)
