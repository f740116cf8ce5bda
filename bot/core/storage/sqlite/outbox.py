"""The persisted outbox on SQLite: what goes out later, with attempts, parking, per-chat progress and claims.

A claim marks due rows as held by one sender until its lease runs out. SQLite has one writer at a time, so a
plain UPDATE … RETURNING in the write transaction is enough to hand each row to one claimant."""

from __future__ import annotations

import datetime as dt
import json

from bot.core.messages import Notification
from bot.core.storage.rows import OUTBOX_COLUMNS, outbox_from_row, to_ts
from bot.core.tickets.domain.models import OutboxRow

from .database import Database
from .tickets import insert_notifications


class SqliteOutbox:
    def __init__(self, db: Database):
        self.db = db

    async def enqueue(self, notification: Notification) -> bool:
        at = to_ts(self.db.clock.now())
        async with self.db.transaction() as tx:
            return bool(await insert_notifications(tx, at, [notification]))

    async def due(self, now: dt.datetime, limit: int = 50) -> list[OutboxRow]:
        rows = await self.db.fetchall(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox"
            " WHERE sent_at IS NULL AND next_attempt_at <= ? AND parked_at IS NULL"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (to_ts(now), limit),
        )
        return [outbox_from_row(r, self.db.tz) for r in rows]

    async def claim(self, now: dt.datetime, limit: int, owner: str, lease: dt.timedelta) -> list[OutboxRow]:
        ts = to_ts(now)
        async with self.db.transaction() as tx:
            rows = await tx.execute_fetchall(
                f"UPDATE outbox SET claimed_by=?, claimed_until=? WHERE id IN (SELECT id FROM outbox"
                " WHERE sent_at IS NULL AND next_attempt_at <= ? AND parked_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until <= ?)"
                f" ORDER BY next_attempt_at, id LIMIT ?) RETURNING {OUTBOX_COLUMNS}",
                (owner, to_ts(now + lease), ts, ts, limit),
            )
        out = [outbox_from_row(r, self.db.tz) for r in rows]
        return sorted(out, key=lambda r: (r.next_attempt_at, r.id))

    async def release(self, ids: list[int], owner: str) -> None:
        await self.db.write_many(
            "UPDATE outbox SET claimed_by=NULL, claimed_until=NULL WHERE id=? AND claimed_by=? AND sent_at IS NULL",
            [(i, owner) for i in ids],
        )

    async def parked(self, limit: int = 50) -> list[OutboxRow]:
        rows = await self.db.fetchall(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox"
            " WHERE sent_at IS NULL AND parked_at IS NOT NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [outbox_from_row(r, self.db.tz) for r in rows]

    async def requeue(self, ids: list[int] | None, now: dt.datetime) -> int:
        sql = (
            "UPDATE outbox SET parked_at=NULL, attempts=0, next_attempt_at=?, claimed_by=NULL, claimed_until=NULL,"
            " sending_at=NULL"
            " WHERE sent_at IS NULL AND parked_at IS NOT NULL"
        )
        async with self.db.transaction() as tx:
            if ids is None:
                return (await tx.execute(sql, (to_ts(now),))).rowcount
            return sum([(await tx.execute(sql + " AND id=?", (to_ts(now), i))).rowcount for i in ids])

    async def delivered(self, id: int, chats: list[str]) -> None:
        await self.db.write("UPDATE outbox SET delivered=? WHERE id=?", (json.dumps(sorted(chats)), id))

    async def sending(
        self, id: int, at: dt.datetime, hold: dt.timedelta, mine: dt.datetime | None = None
    ) -> bool:
        # one conditional UPDATE: of two senders that read the same due row, one changes it
        taken = "sending_at = ?" if mine is not None else "next_attempt_at <= ? AND parked_at IS NULL"
        changed = await self.db.write(
            f"UPDATE outbox SET sending_at=?, next_attempt_at=? WHERE id=? AND sent_at IS NULL AND {taken}",
            (to_ts(at), to_ts(at + hold), id, to_ts(mine if mine is not None else at)),
        )
        return changed == 1

    async def sent(self, id: int, at: dt.datetime) -> None:
        await self.db.write(
            "UPDATE outbox SET sent_at=?, attempts=attempts+1, claimed_by=NULL, claimed_until=NULL,"
            " sending_at=NULL WHERE id=?",
            (to_ts(at), id),
        )

    async def failed(self, id: int, error: str, retry_at: dt.datetime, *, park: bool = False) -> None:
        parked = to_ts(self.db.clock.now()) if park else None
        await self.db.write(
            "UPDATE outbox SET attempts=attempts+1, last_error=?, next_attempt_at=?, parked_at=?,"
            " claimed_by=NULL, claimed_until=NULL, sending_at=NULL WHERE id=?",
            (error[:2000], to_ts(retry_at), parked, id),
        )

    async def pending_count(self) -> int:
        return (await self.db.fetchone("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"))[0]
