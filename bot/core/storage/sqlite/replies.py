"""Canned replies (reply templates) per department, on SQLite."""

from __future__ import annotations

import datetime as dt

from bot.core.storage.rows import to_ts

from .database import Database


class SqliteReplyTemplates:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, department: str, name: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT text FROM reply_templates WHERE department=? AND name=?", (department, name)
        )
        return row[0] if row else None

    async def list(self, department: str) -> list[tuple[str, str]]:
        rows = await self.db.fetchall(
            "SELECT name, text FROM reply_templates WHERE department=? ORDER BY name", (department,)
        )
        return [(r[0], r[1]) for r in rows]

    async def put(self, department: str, name: str, text: str, actor: str, at: dt.datetime) -> None:
        await self.db.write(
            "INSERT INTO reply_templates(department, name, text, updated_by, updated_at) VALUES (?,?,?,?,?)"
            " ON CONFLICT(department, name) DO UPDATE SET text=excluded.text, updated_by=excluded.updated_by,"
            " updated_at=excluded.updated_at",
            (department, name, text, actor, to_ts(at)),
        )

    async def remove(self, department: str, name: str) -> bool:
        n = await self.db.write(
            "DELETE FROM reply_templates WHERE department=? AND name=?", (department, name)
        )
        return n > 0
