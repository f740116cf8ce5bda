"""Canned replies (reply templates) per department, on PostgreSQL."""

from __future__ import annotations

import datetime as dt

from bot.core.storage.rows import to_ts

from .database import Database


class PostgresReplyTemplates:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, department: str, name: str) -> str | None:
        return await self.db.fetchval(
            "SELECT text FROM reply_templates WHERE department = $1 AND name = $2", department, name
        )

    async def list(self, department: str) -> list[tuple[str, str]]:
        rows = await self.db.fetch(
            "SELECT name, text FROM reply_templates WHERE department = $1 ORDER BY name", department
        )
        return [(r[0], r[1]) for r in rows]

    async def put(self, department: str, name: str, text: str, actor: str, at: dt.datetime) -> None:
        await self.db.execute(
            "INSERT INTO reply_templates(department, name, text, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (department, name) DO UPDATE SET text = EXCLUDED.text, updated_by = EXCLUDED.updated_by,"
            " updated_at = EXCLUDED.updated_at",
            department,
            name,
            text,
            actor,
            to_ts(at),
        )

    async def remove(self, department: str, name: str) -> bool:
        status = await self.db.execute(
            "DELETE FROM reply_templates WHERE department = $1 AND name = $2", department, name
        )
        return str(status).endswith(" 1")
