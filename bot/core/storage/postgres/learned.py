"""The learned overlay on PostgreSQL: aliases and FAQ entries taught by staff, never deleted (undoing one marks
it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core.storage.protocols import Learned, NewLearned
from bot.core.storage.rows import from_ts, to_ts

from .database import Database

COLUMNS = (
    "id, kind, entry_id, phrase, answer, department, question, source, taught_by, taught_by_name, taught_at,"
    " expires_at, undone_by, undone_at"
)


class PostgresLearned:
    def __init__(self, db: Database):
        self.db = db

    async def add(self, new: NewLearned) -> Learned:
        learned_id = await self.db.fetchval(
            "INSERT INTO learned(kind, entry_id, phrase, answer, department, question, source, taught_by,"
            " taught_by_name, taught_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
            new.kind,
            new.entry_id,
            new.phrase,
            new.answer,
            new.department,
            new.question,
            new.source,
            new.taught_by,
            new.taught_by_name,
            to_ts(new.at),
            to_ts(new.expires),
        )
        return Learned(**{f: getattr(new, f) for f in NewLearned.__dataclass_fields__}, id=int(learned_id))

    async def get(self, learned_id: int) -> Learned | None:
        row = await self.db.fetchrow(f"SELECT {COLUMNS} FROM learned WHERE id = $1", learned_id)
        return self._row(row) if row else None

    async def undo(self, learned_id: int, by: str, at: dt.datetime) -> Learned | None:
        row = await self.db.fetchrow(
            f"UPDATE learned SET undone_by = $1, undone_at = $2 WHERE id = $3 AND undone_at IS NULL"
            f" RETURNING {COLUMNS}",
            by,
            to_ts(at),
            learned_id,
        )
        return self._row(row) if row else None

    async def active(self, now: dt.datetime) -> list[Learned]:
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM learned WHERE undone_at IS NULL AND (expires_at IS NULL OR expires_at > $1)"
            " ORDER BY id",
            to_ts(now),
        )
        return [self._row(r) for r in rows]

    async def recent(self, limit: int) -> list[Learned]:
        rows = await self.db.fetch(f"SELECT {COLUMNS} FROM learned ORDER BY id DESC LIMIT $1", limit)
        return [self._row(r) for r in rows]

    def _row(self, r: Any) -> Learned:
        tz = self.db.tz
        return Learned(
            kind=r[1],
            entry_id=r[2],
            phrase=r[3],
            answer=r[4],
            department=r[5],
            question=r[6],
            source=r[7],
            taught_by=r[8],
            taught_by_name=r[9],
            at=from_ts(r[10], tz),  # type: ignore[arg-type]
            expires=from_ts(r[11], tz),
            id=int(r[0]),
            undone_by=r[12],
            undone_at=from_ts(r[13], tz),
        )
