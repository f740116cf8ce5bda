"""Creating tickets on PostgreSQL: numbered ahead of the writing transaction, group-committed, batched.

Creations that arrive while this process writes a batch are written together in the next one. Each batch
first reserves its ids and its numbers in one statement of its own, committed as it ends: it adds the batch's
size to the day's counter row (a row per day) and draws the ids from the tickets' identity. The counter row is
locked for that statement alone, so processes creating tickets on the same day wait for one another only that
long, never while a batch is written; numbers stay unique, and consecutive in the order the blocks were taken.
The tickets are then built in this process, with their ids and numbers, the hooks run on them, and the
tickets, their events and their notifications go to the database in one statement (unnest of typed arrays),
in a transaction of its own.

A batch that fails is tried again with one savepoint per creation, with the numbers it reserved: one bad
creation never costs the others theirs; the common case pays for no savepoint. A number whose creation failed,
or whose process stopped between reserving and writing, is not given again: the day's numbers then have a
gap, never a duplicate.
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


RESERVE = (
    # $1 the days (sorted: every process locks the counter rows in one order), $2 each day's count, $3 the total
    "WITH c AS (INSERT INTO ticket_counters AS c (day, last) SELECT * FROM unnest($1::text[], $2::int4[])"
    " ON CONFLICT (day) DO UPDATE SET last = c.last + EXCLUDED.last RETURNING day, last)"
    " SELECT day, last, NULL::int8[] FROM c UNION ALL"
    " SELECT NULL, NULL, array_agg(nextval(pg_get_serial_sequence('tickets', 'id')))"
    " FROM generate_series(1, $3::int4)"
)
INSERT_COLUMNS = ("id", "number", "day", "seq", "state", "updated_at", "round_started_at", *NEW_FIELDS)
# a ticket ready to write: the ticket, its day, the NEW_FIELDS values, its events, its notifications and the
# files the citizen sent with it
Built = tuple[Ticket, str, tuple[Any, ...], list[tuple[Any, ...]], list[Notification], list[tuple[Any, ...]]]
CREATED = NEW_FIELDS.index("created_at")


class TicketCreator:
    def __init__(self, db: Database, column_types: dict[str, str]):
        self.db = db
        types = {
            "id": "int8",
            "number": "text",
            "day": "text",
            "seq": "int4",
            "state": "text",
            **column_types,
        }
        marks = ", ".join(f"${i + 1}::{types[c]}[]" for i, c in enumerate(INSERT_COLUMNS))
        self._insert = f"INSERT INTO tickets ({', '.join(INSERT_COLUMNS)}) SELECT * FROM unnest({marks})"
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
        rows = [self._row(new) for new, _, _ in batch]
        tickets = await self._reserve(rows)
        results: list[Ticket | BaseException] = []
        built: list[Built] = []
        for (new, hook, _), ticket, (day, values, _) in zip(batch, tickets, rows, strict=True):
            try:
                evs, notes = hook(ticket)
            except Exception as exc:  # noqa: BLE001 - this creation fails alone
                results.append(exc)
                continue
            at = to_ts(ticket.created_at)
            events = [(ticket.id, at, e.actor, e.action, e.text) for e in evs]
            files = [attachment_params(ticket.id, "citizen", m, at) for m in new.attachments]
            built.append((ticket, day, values, events, notes, files))
            results.append(ticket)
        if not built:
            return results
        try:
            # run again from the same rows if the connection drops before COMMIT (nothing was written then)
            await self.db.run(lambda tx: self._write(tx, built))
            return results
        except StoreWriteError:
            raise  # the database, not one creation, is the problem: nothing was created
        except Exception as exc:  # noqa: BLE001
            if len(built) == 1:
                return [exc if r is built[0][0] else r for r in results]
        # one creation spoilt the batch (rolled back whole): one savepoint each, with the numbers reserved
        failed: dict[int, BaseException] = {}
        async with self.db.transaction() as tx:
            for item in built:
                try:
                    async with tx.transaction():
                        await self._write(tx, [item])
                except Exception as exc:  # noqa: BLE001
                    failed[id(item[0])] = exc
        return [failed.get(id(r), r) for r in results]

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

    async def _reserve(self, rows: Sequence[tuple[str, tuple[Any, ...], Ticket]]) -> list[Ticket]:
        """Each row's ticket with its id and number, reserved in one statement committed on its own."""
        count: dict[str, int] = {}
        for day, _, _ in rows:
            count[day] = count.get(day, 0) + 1
        days = sorted(count)
        got = await self.db.fetch_alone(RESERVE, days, [count[d] for d in days], len(rows))
        last = {r[0]: r[1] for r in got if r[0] is not None}
        ids = next(iter(r[2] for r in got if r[0] is None))
        seq = {d: last[d] - count[d] for d in days}  # the number before each day's block
        out = []
        for (day, _, ticket), tid in zip(rows, ids, strict=True):
            seq[day] += 1
            out.append(replace(ticket, id=tid, number=f"SQ{day}-{seq[day]:04d}", seq=seq[day]))
        return out

    async def _write(self, tx: asyncpg.Connection, built: Sequence[Built]) -> None:
        """The tickets, their events, notifications and attachments: one statement."""
        rows = [
            (t.id, t.number, day, t.seq, PENDING, values[CREATED], values[CREATED], *values)
            for t, day, values, *_ in built
        ]
        now = to_ts(self.db.clock.now())
        await write_beside(
            tx,
            events=[e for _, _, _, events, _, _ in built for e in events],
            notifications=[(n, now) for _, _, _, _, notes, _ in built for n in notes],
            attachments=[f for *_, files in built for f in files],
            first=(self._insert, as_columns(rows, len(INSERT_COLUMNS))),
        )
