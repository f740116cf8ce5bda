"""The persisted outbox on PostgreSQL: what goes out later, with attempts, parking, per-chat progress and
claims that hand each due notification to one sender among many processes (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import datetime as dt
import json

from bot.core.messages import Notification
from bot.core.storage.rows import OUTBOX_COLUMNS, outbox_from_row, to_ts
from bot.core.tickets.domain.models import OutboxRow

from .batch import write_beside
from .database import Database, status_count

DUE = "sent_at IS NULL AND next_attempt_at <= $1 AND parked_at IS NULL"
RETURNING = ", ".join(f"o.{c.strip()}" for c in OUTBOX_COLUMNS.split(","))
# Rows another sender is locking right now are skipped rather than waited for; a row whose claim was taken
# meanwhile fails the re-checked condition. Either way no row is handed to two senders.
CLAIM = (
    "WITH picked AS ("
    f" SELECT id FROM outbox WHERE {DUE} AND (claimed_until IS NULL OR claimed_until <= $1)"
    " ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)"
    " UPDATE outbox AS o SET claimed_by = $3, claimed_until = $4 FROM picked WHERE o.id = picked.id"
    f" RETURNING {RETURNING}"
)
RELEASE = "claimed_by = NULL, claimed_until = NULL"
# sent or failed: the outcome is known, so the row is no longer in flight
SETTLED = f"{RELEASE}, sending_at = NULL"


class PostgresOutbox:
    def __init__(self, db: Database):
        self.db = db

    def _rows(self, rows: list) -> list[OutboxRow]:
        return [outbox_from_row(r, self.db.tz) for r in rows]

    async def enqueue(self, notification: Notification) -> bool:
        at = to_ts(self.db.clock.now())
        return bool(await self.db.run(lambda tx: write_beside(tx, notifications=[(notification, at)])))

    async def due(self, now: dt.datetime, limit: int = 50) -> list[OutboxRow]:
        rows = await self.db.fetch(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE {DUE} ORDER BY next_attempt_at, id LIMIT $2",
            to_ts(now),
            limit,
        )
        return self._rows(rows)

    async def claim(self, now: dt.datetime, limit: int, owner: str, lease: dt.timedelta) -> list[OutboxRow]:
        rows = await self.db.run(lambda tx: tx.fetch(CLAIM, to_ts(now), limit, owner, to_ts(now + lease)))
        return sorted(self._rows(rows), key=lambda r: (r.next_attempt_at, r.id))

    async def release(self, ids: list[int], owner: str) -> None:
        await self.db.execute(
            f"UPDATE outbox SET {RELEASE} WHERE id = ANY($1::int8[]) AND claimed_by = $2 AND sent_at IS NULL",
            ids,
            owner,
        )

    async def parked(self, limit: int = 50) -> list[OutboxRow]:
        rows = await self.db.fetch(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox"
            " WHERE sent_at IS NULL AND parked_at IS NOT NULL ORDER BY id LIMIT $1",
            limit,
        )
        return self._rows(rows)

    async def requeue(self, ids: list[int] | None, now: dt.datetime) -> int:
        sql = (
            f"UPDATE outbox SET parked_at = NULL, attempts = 0, next_attempt_at = $1, {SETTLED}"
            " WHERE sent_at IS NULL AND parked_at IS NOT NULL"
        )
        if ids is None:
            return await self._count(sql, to_ts(now))
        return await self._count(sql + " AND id = ANY($2::int8[])", to_ts(now), ids)

    async def _count(self, sql: str, *args: object) -> int:
        return status_count(await self.db.execute(sql, *args))

    async def delivered(self, id: int, chats: list[str]) -> None:
        await self.db.execute("UPDATE outbox SET delivered = $1 WHERE id = $2", json.dumps(sorted(chats)), id)

    async def sending(
        self, id: int, at: dt.datetime, hold: dt.timedelta, mine: dt.datetime | None = None
    ) -> bool:
        # one conditional UPDATE: of two senders that read the same due row, one changes it
        taken = "sending_at = $4" if mine is not None else "next_attempt_at <= $4 AND parked_at IS NULL"
        status = await self.db.execute(
            "UPDATE outbox SET sending_at = $1, next_attempt_at = $2 WHERE id = $3 AND sent_at IS NULL"
            f" AND {taken}",
            to_ts(at),
            to_ts(at + hold),
            id,
            to_ts(mine if mine is not None else at),
        )
        return status == "UPDATE 1"

    async def sent(self, id: int, at: dt.datetime) -> None:
        await self.db.execute(
            f"UPDATE outbox SET sent_at = $1, attempts = attempts + 1, {SETTLED} WHERE id = $2", to_ts(at), id
        )

    async def failed(self, id: int, error: str, retry_at: dt.datetime, *, park: bool = False) -> None:
        parked = to_ts(self.db.clock.now()) if park else None
        await self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, parked_at = $3,"
            f" {SETTLED} WHERE id = $4",
            error[:2000],
            to_ts(retry_at),
            parked,
            id,
        )

    async def pending_count(self) -> int:
        return await self.db.fetchval("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
