"""Staff members and their roles on PostgreSQL; every change is also written to staff_log (who, when)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bot.core.storage.rows import STAFF_COLUMNS, staff_from_row, to_ts
from bot.core.tickets.domain.models import StaffMember

from .database import Database, nul_free, status_count

LOG = "INSERT INTO staff_log(at, actor, action, user_id, text) VALUES ($1, $2, $3, $4, $5)"


class PostgresStaff:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, user_id: str) -> StaffMember | None:
        row = await self.db.fetchrow(f"SELECT {STAFF_COLUMNS} FROM staff WHERE user_id = $1", user_id)
        return staff_from_row(row) if row else None

    async def list(self) -> list[StaffMember]:
        rows = await self.db.fetch(f"SELECT {STAFF_COLUMNS} FROM staff ORDER BY role, user_id")
        return [staff_from_row(r) for r in rows]

    async def upsert(self, member: StaffMember, actor: str, at: dt.datetime) -> None:
        deps = json.dumps(list(member.departments), ensure_ascii=False)

        async def write(tx: Any) -> None:
            await tx.execute(
                "INSERT INTO staff(user_id, name, role, departments, updated_at) VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (user_id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role,"
                " departments = EXCLUDED.departments, updated_at = EXCLUDED.updated_at",
                member.user_id,
                nul_free(member.name),
                member.role,
                deps,
                to_ts(at),
            )
            text = nul_free(f"{member.name} {member.role} {deps}")
            await tx.execute(LOG, to_ts(at), actor, "add", member.user_id, text)

        await self.db.run(write)

    async def remove(self, user_id: str, actor: str, at: dt.datetime) -> bool:
        async def write(tx: Any) -> bool:
            removed = status_count(await tx.execute("DELETE FROM staff WHERE user_id = $1", user_id))
            if removed:
                await tx.execute(LOG, to_ts(at), actor, "remove", user_id, "")
            return removed == 1

        return await self.db.run(write)
