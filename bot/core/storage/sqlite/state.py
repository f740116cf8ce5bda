"""Per-person conversation state on SQLite (intake drafts, an awaited rating comment), as JSON by key."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.core.storage.rows import to_ts

from .database import Database


class SqliteState:
    def __init__(self, db: Database, keys: set[str]):
        self.db = db
        # the keys that have state: most messages come from people without any, and this spares them a
        # database read. One process owns an SQLite file, so this set is the whole truth.
        self._keys = keys

    @classmethod
    async def open(cls, db: Database) -> SqliteState:
        state = cls(db, set())
        await state.reload()
        return state

    async def reload(self) -> None:
        # a database opened without its migrations (to look at them) may not have the table yet
        if await self.db.table_exists("drafts"):
            self._keys = {r[0] for r in await self.db.fetchall("SELECT user_id FROM drafts")}

    async def save(self, key: str, data: dict[str, Any]) -> None:
        raw = json.dumps(data, ensure_ascii=False, default=str)
        await self.db.write(
            "INSERT INTO drafts(user_id, data, updated_at) VALUES (?,?,?)"
            " ON CONFLICT(user_id) DO UPDATE SET data=excluded.data, updated_at=excluded.updated_at",
            (key, raw, to_ts(self.db.clock.now())),
        )
        self._keys.add(key)

    async def load(self, key: str) -> dict[str, Any] | None:
        if key not in self._keys:
            return None
        row = await self.db.fetchone("SELECT data FROM drafts WHERE user_id=?", (key,))
        return json.loads(row[0]) if row else None

    async def delete(self, key: str) -> None:
        if key in self._keys:
            await self.db.write("DELETE FROM drafts WHERE user_id=?", (key,))
            self._keys.discard(key)

    async def take(self, key: str) -> dict[str, Any] | None:
        if key not in self._keys:
            return None
        async with self.db.transaction() as tx:
            rows = list(
                await tx.execute_fetchall("DELETE FROM drafts WHERE user_id=? RETURNING data", (key,))
            )
        self._keys.discard(key)
        return json.loads(rows[0][0]) if rows else None

    async def purge(self, prefix: str, before: dt.datetime) -> int:
        async with self.db.transaction() as tx:
            rows = list(
                await tx.execute_fetchall(
                    "DELETE FROM drafts WHERE substr(user_id, 1, ?) = ? AND updated_at < ? RETURNING user_id",
                    (len(prefix), prefix, to_ts(before)),
                )
            )
        self._keys.difference_update(r[0] for r in rows)
        return len(rows)
