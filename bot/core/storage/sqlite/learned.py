"""The learned overlay on SQLite: aliases and FAQ entries taught by staff, never deleted (undoing one marks it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from bot.core.storage.protocols import Learned, NewLearned
from bot.core.storage.rows import from_ts, to_ts

from .database import Database

COLUMNS = (
    "id, kind, entry_id, phrase, answer, department, question, source, taught_by, taught_by_name, taught_at,"
    " expires_at, undone_by, undone_at"
)


class SqliteLearned:
    def __init__(self, db: Database):
        self.db = db

    async def add(self, new: NewLearned) -> Learned:
        async with self.db.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO learned(kind, entry_id, phrase, answer, department, question, source, taught_by,"
                " taught_by_name, taught_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
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
                ),
            )
            learned_id = cur.lastrowid
        return Learned(
            **{f: getattr(new, f) for f in NewLearned.__dataclass_fields__}, id=int(learned_id or 0)
        )

    async def get(self, learned_id: int) -> Learned | None:
        row = await self.db.fetchone(f"SELECT {COLUMNS} FROM learned WHERE id = ?", (learned_id,))
        return self._row(row) if row else None

    async def undo(self, learned_id: int, by: str, at: dt.datetime) -> Learned | None:
        changed = await self.db.write(
            "UPDATE learned SET undone_by = ?, undone_at = ? WHERE id = ? AND undone_at IS NULL",
            (by, to_ts(at), learned_id),
        )
        if not changed:
            return None
        got = await self.get(learned_id)
        return replace(got, undone_by=by) if got else None

    async def active(self, now: dt.datetime) -> list[Learned]:
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM learned WHERE undone_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
            " ORDER BY id",
            (to_ts(now),),
        )
        return [self._row(r) for r in rows]

    async def recent(self, limit: int) -> list[Learned]:
        rows = await self.db.fetchall(f"SELECT {COLUMNS} FROM learned ORDER BY id DESC LIMIT ?", (limit,))
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
