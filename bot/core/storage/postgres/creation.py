"""Creating tickets on PostgreSQL: numbered inside the inserting transaction, group-committed, batched.

Creations that arrive while this process's creation transaction runs are written together in the next one.
Numbers come from a counter row per day: one statement upserts the day's counter by the size of the batch
and inserts the batch's tickets numbered from the block it got (unnest of typed arrays, WITH ORDINALITY).
The counter row stays locked until the transaction ends, so processes creating tickets on the same day take
their blocks one after another (unique, consecutive numbers), and a transaction that rolls back gives its
block back. While the row is locked the transaction only numbers the tickets it built before it began (no
rows are read back), runs the hooks, and writes their events and notifications in one more statement: the
lock is held for two round trips and the commit, whatever the batch's size.

A batch that fails (rolled back whole, its block of numbers with it) is tried again with one savepoint per
creation, so one bad creation never costs the others theirs; the common case pays for no savepoint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import asyncpg

from bot.core.messages import Notification
from bot.core.storage.protocols import CreateHook, StoreWriteError
from bot.core.storage.rows import TICKET_FIELDS, attachment_params, column_value, ticket_from_row, to_ts
from bot.core.tickets.domain.models import PENDING, NewTicket, Ticket

from .batch import write_beside
from .database import Database, as_columns, nul_free

BATCH = 500
# what a new ticket brings; every other column starts empty, or as set below
NEW_FIELDS = (
    "citizen_id", "description", "category", "department", "place", "phone", "anonymous", "priority",
    "policy", "created_at", "contact_due", "feedback_due", "resolve_due", "next_due_at", "source_question",
    "latitude", "longitude", "unit",
    "appeal_type", "tier", "dispatch_due", "citizen_name", "hot_key",
)  # fmt: skip


def insert_day_sql(types: dict[str, str]) -> str:
    """$1 the day, $2 how many tickets, then one array per NEW_FIELDS column; returns (id, seq) per ticket."""
    arrays = ", ".join(f"${i + 3}::{types[f]}[]" for i, f in enumerate(NEW_FIELDS))
    return (
        "WITH block AS (INSERT INTO ticket_counters AS c (day, last) VALUES ($1::text, $2::int4)"
        " ON CONFLICT (day) DO UPDATE SET last = c.last + EXCLUDED.last RETURNING last)"
        f" INSERT INTO tickets (number, day, seq, state, updated_at, round_started_at, {', '.join(NEW_FIELDS)})"
        " SELECT 'SQ' || $1::text || '-' || lpad(n.seq::text, greatest(4, length(n.seq::text)), '0'),"
        f" $1::text, n.seq, '{PENDING}', v.created_at, v.created_at, {', '.join(f'v.{f}' for f in NEW_FIELDS)}"
        f" FROM block, unnest({arrays}) WITH ORDINALITY AS v({', '.join(NEW_FIELDS)}, ord)"
        " CROSS JOIN LATERAL (SELECT (block.last - $2::int4 + v.ord)::int4 AS seq) AS n"
        " RETURNING id, seq"
    )


class TicketCreator:
    def __init__(self, db: Database, column_types: dict[str, str]):
        self.db = db
        self._insert_day = insert_day_sql(column_types)
        self._pending: list[tuple[NewTicket, CreateHook, asyncio.Future[Ticket]]] = []
        self._flush_task: asyncio.Task[None] | None = None

    async def create(self, new: NewTicket, hook: CreateHook) -> Ticket:
        fut: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        self._pending.append((new, hook, fut))
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.create_task(self._flush())
        return await fut

    async def wait_idle(self) -> None:
        if self._flush_task is not None and not self._flush_task.done():
            await self._flush_task

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            try:
                results = await self._create_batch(batch)
            except Exception as exc:  # noqa: BLE001 - the transaction failed whole: nothing was created
                results = [exc] * len(batch)
            for (_, _, fut), result in zip(batch, results, strict=True):
                if fut.done():  # the caller gave up waiting; the ticket exists all the same
                    continue
                if isinstance(result, BaseException):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)

    async def _create_batch(
        self, batch: list[tuple[NewTicket, CreateHook, Any]]
    ) -> list[Ticket | BaseException]:
        rows = [self._row(new) for new, _, _ in batch]  # built before the transaction: no lock held yet
        try:
            # run again from the same rows if the connection drops before COMMIT (nothing was written then)
            return list(await self.db.run(lambda tx: self._insert_all(tx, batch, rows)))
        except StoreWriteError:
            raise  # the database, not one creation, is the problem: nothing was created
        except Exception:  # noqa: BLE001
            if len(batch) == 1:
                raise
        # one creation spoilt the batch (rolled back whole, numbers included): one savepoint each
        results: list[Ticket | BaseException] = []
        async with self.db.transaction() as tx:
            for item, row in zip(batch, rows, strict=True):
                try:
                    async with tx.transaction():
                        results.extend(await self._insert_all(tx, [item], [row]))
                except Exception as exc:  # noqa: BLE001
                    results.append(exc)
        return results

    def _row(self, new: NewTicket) -> tuple[str, tuple[Any, ...], Ticket]:
        """The day, the values inserted, and the ticket as its row will read but for id, number and seq."""
        day = new.created_at.astimezone(self.db.tz).strftime("%Y%m%d")
        values = tuple(nul_free(column_value(f, getattr(new, f))) for f in NEW_FIELDS)
        row: dict[str, Any] = dict(zip(NEW_FIELDS, values, strict=True))
        created = row["created_at"]
        row.update(
            id=0, number="", seq=0, state=PENDING, updated_at=created, round_started_at=created, round=0,
            version=0, paused_work=0, paused_wall=0, extra_days=0, co_departments="[]", rating_excluded=0,
        )  # fmt: skip
        return day, values, ticket_from_row([row.get(f) for f in TICKET_FIELDS], self.db.tz)

    async def _insert_all(
        self,
        tx: asyncpg.Connection,
        batch: Sequence[tuple[NewTicket, CreateHook, Any]],
        rows: Sequence[tuple[str, tuple[Any, ...], Ticket]],
    ) -> list[Ticket]:
        by_day: dict[str, list[int]] = {}
        for i, (day, _, _) in enumerate(rows):
            by_day.setdefault(day, []).append(i)
        tickets: list[Ticket | None] = [None] * len(rows)
        for day in sorted(by_day):  # one order for every process: two batches never deadlock
            members = by_day[day]
            values = [rows[i][1] for i in members]
            got = await tx.fetch(self._insert_day, day, len(members), *as_columns(values, len(NEW_FIELDS)))
            for i, (tid, seq) in zip(members, sorted(got, key=lambda r: r[1]), strict=True):
                tickets[i] = replace(rows[i][2], id=tid, number=f"SQ{day}-{seq:04d}", seq=seq)
        events: list[tuple[Any, ...]] = []
        notes: list[Notification] = []
        files: list[tuple[Any, ...]] = []
        for (new, hook, _), ticket in zip(batch, tickets, strict=True):
            assert ticket is not None
            evs, ns = hook(ticket)
            at = to_ts(ticket.created_at)
            events += [(ticket.id, at, e.actor, e.action, e.text) for e in evs]
            notes += ns
            files += [attachment_params(ticket.id, "citizen", m, at) for m in new.attachments]
        now = to_ts(self.db.clock.now())
        await write_beside(tx, events=events, notifications=[(n, now) for n in notes], attachments=files)
        return tickets  # type: ignore[return-value]
