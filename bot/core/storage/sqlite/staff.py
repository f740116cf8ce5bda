"""Staff members and their roles on SQLite; every change is also written to staff_log (who did it, when)."""

from __future__ import annotations

import datetime as dt
import json

from bot.core.storage.rows import STAFF_COLUMNS, staff_from_row, to_ts
from bot.core.tickets.domain.models import StaffMember

from .database import Database


class SqliteStaff:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, user_id: str) -> StaffMember | None:
        row = await self.db.fetchone(f"SELECT {STAFF_COLUMNS} FROM staff WHERE user_id=?", (user_id,))
        return staff_from_row(row) if row else None

    async def list(self) -> list[StaffMember]:
        rows = await self.db.fetchall(f"SELECT {STAFF_COLUMNS} FROM staff ORDER BY role, user_id")
        return [staff_from_row(r) for r in rows]

    async def upsert(self, member: StaffMember, actor: str, at: dt.datetime) -> None:
        deps = json.dumps(list(member.departments), ensure_ascii=False)
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO staff(user_id, name, role, departments, updated_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT(user_id) DO UPDATE SET name=excluded.name, role=excluded.role,"
                " departments=excluded.departments, updated_at=excluded.updated_at",
                (member.user_id, member.name, member.role, deps, to_ts(at)),
            )
            await tx.execute(
                "INSERT INTO staff_log(at, actor, action, user_id, text) VALUES (?,?,?,?,?)",
                (to_ts(at), actor, "add", member.user_id, f"{member.name} {member.role} {deps}"),
            )

    async def remove(self, user_id: str, actor: str, at: dt.datetime) -> bool:
        async with self.db.transaction() as tx:
            cur = await tx.execute("DELETE FROM staff WHERE user_id=?", (user_id,))
            if cur.rowcount:
                await tx.execute(
                    "INSERT INTO staff_log(at, actor, action, user_id, text) VALUES (?,?,?,?,'')",
                    (to_ts(at), actor, "remove", user_id),
                )
            return cur.rowcount == 1
