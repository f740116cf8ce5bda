"""Tickets, their events and recorded reminders on PostgreSQL.

Creation is group-committed as on SQLite: creations that arrive while this process's creation transaction
runs are written together in the next one. Numbers come from a counter row per day, incremented by one
upsert per day inside the inserting transaction: the row lock it takes makes processes that create tickets
on the same day take their blocks of numbers one after the other, and a transaction that rolls back gives
its block back. Every statement writes a whole batch (unnest of typed arrays), so a batch costs a handful of
round trips whatever its size. A statement that fails for one creation makes the batch fall back to one
savepoint per creation, so one bad creation never costs the others theirs.

Changes lock their tickets (SELECT … FOR UPDATE, in id order so two processes never deadlock), check the
versions, and then write each shape of change in one statement.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from bot.core.messages import Notification
from bot.core.storage.protocols import ConflictError, CreateHook, SentKey
from bot.core.storage.rows import (
    BOOL_FIELDS,
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    TICKET_FIELDS,
    TIME_FIELDS,
    column_value,
    event_from_row,
    notification_params,
    ticket_from_row,
    to_ts,
)
from bot.core.tickets.models import (
    OPEN_STATES,
    RESOLVED,
    Change,
    EventIn,
    NewTicket,
    Ticket,
    TicketEvent,
    TicketQuery,
)

from .database import Database, as_columns, status_count

log = logging.getLogger(__name__)

BATCH = 500
OPEN_SQL = "(" + ",".join(f"'{s}'" for s in OPEN_STATES) + ")"


def _pg_type(f: dataclasses.Field[Any]) -> str:
    if f.name == "id":
        return "int8"
    if f.name in TIME_FIELDS:
        return "int8"
    if f.name in BOOL_FIELDS:
        return "int2"
    return "int4" if str(f.type).startswith("int") else "text"


# the array type of each ticket column, for batched statements (derived from the Ticket model)
COLUMN_TYPES = {f.name: _pg_type(f) for f in dataclasses.fields(Ticket)}
RETURNING_TICKET = ", ".join(f"t.{c}" for c in TICKET_FIELDS)

# most urgent first: the earliest deadline among the unmet milestones (LEAST ignores NULLs)
URGENCY_ORDER = (
    "LEAST(CASE WHEN contact_met IS NULL THEN contact_due END,"
    " CASE WHEN feedback_met IS NULL THEN feedback_due END,"
    " CASE WHEN resolve_met IS NULL THEN resolve_due END), id"
)


def unmet_due_sql(a: str, b: str) -> str:
    """Some unmet milestone falls due in [a, b)."""
    return (
        f"((contact_met IS NULL AND contact_due >= {a} AND contact_due < {b})"
        f" OR (feedback_met IS NULL AND feedback_due >= {a} AND feedback_due < {b})"
        f" OR (resolve_met IS NULL AND resolve_due >= {a} AND resolve_due < {b}))"
    )


_NEW_COLUMNS = (
    "number", "day", "seq", "citizen_id", "description", "category", "department", "place", "phone",
    "anonymous", "priority", "policy", "state", "created_at", "updated_at", "round_started_at",
    "contact_due", "feedback_due", "resolve_due", "next_due_at", "source_question",
)  # fmt: skip
INSERT_TICKETS = (
    f"INSERT INTO tickets AS t ({', '.join(_NEW_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"${i + 1}::{COLUMN_TYPES.get(c, 'text')}[]" for i, c in enumerate(_NEW_COLUMNS))
    + f") RETURNING {RETURNING_TICKET}"
)
INSERT_EVENTS = (
    "INSERT INTO ticket_events(ticket_id, at, actor, action, text)"
    " SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[])"
)
INSERT_NOTIFICATIONS = (
    "INSERT INTO outbox(recipient_kind, recipient_id, html, buttons, dedup_key, created_at)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int8[])"
    " ON CONFLICT DO NOTHING"
)
INSERT_REMINDERS = (
    "INSERT INTO reminders_sent(ticket_id, milestone, level, round, repeat, sent_at)"
    " SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::int4[], $6::int8[])"
)
COUNT_DAY = (
    "INSERT INTO ticket_counters AS c (day, last) VALUES ($1, $2)"
    " ON CONFLICT (day) DO UPDATE SET last = c.last + EXCLUDED.last RETURNING last"
)


async def insert_events(tx: asyncpg.Connection, rows: Iterable[tuple[int, int | None, EventIn]]) -> None:
    """Append events (ticket id, when, event) in the caller's transaction."""
    rows = [(tid, at, e.actor, e.action, e.text) for tid, at, e in rows]
    if rows:
        await tx.execute(INSERT_EVENTS, *as_columns(rows, 5))


async def insert_notifications(
    tx: asyncpg.Connection, rows: Sequence[tuple[Notification, int | None]]
) -> int:
    """Queue notifications (each with its creation time) in the caller's transaction; returns how many were
    new (the others had a dedup_key that exists already)."""
    if not rows:
        return 0
    params = [notification_params(n, at) for n, at in rows]
    return status_count(await tx.execute(INSERT_NOTIFICATIONS, *as_columns(params, 6)))


class PostgresTickets:
    def __init__(self, db: Database):
        self.db = db
        self._pending: list[tuple[NewTicket, CreateHook, asyncio.Future[Ticket]]] = []
        self._flush_task: asyncio.Task[None] | None = None

    def _ticket(self, row: Sequence[Any]) -> Ticket:
        return ticket_from_row(row, self.db.tz)

    # ------------------------------------------------------------------ creation
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
        async with self.db.transaction() as tx:
            try:
                async with tx.transaction():  # a savepoint
                    return list(await self._insert_all(tx, batch))
            except Exception:  # noqa: BLE001 - find out which creation it was, one savepoint each
                pass
            results: list[Ticket | BaseException] = []
            for item in batch:
                try:
                    async with tx.transaction():
                        results.extend(await self._insert_all(tx, [item]))
                except Exception as exc:  # noqa: BLE001
                    results.append(exc)
            return results

    async def _insert_all(
        self, tx: asyncpg.Connection, batch: list[tuple[NewTicket, CreateHook, Any]]
    ) -> list[Ticket]:
        tz = self.db.tz
        days: dict[str, int] = {}
        for new, _, _ in batch:
            day = new.created_at.astimezone(tz).strftime("%Y%m%d")
            days[day] = days.get(day, 0) + 1
        next_seq: dict[str, int] = {}
        for day in sorted(days):  # one order for every process: no deadlock between two batches
            last = await tx.fetchval(COUNT_DAY, day, days[day])
            next_seq[day] = last - days[day] + 1
        rows, numbers = [], []
        for new, _, _ in batch:
            created = new.created_at.astimezone(tz)
            day = created.strftime("%Y%m%d")
            seq = next_seq[day]
            next_seq[day] += 1
            number = f"SQ{day}-{seq:04d}"
            at = to_ts(created)
            numbers.append(number)
            rows.append(
                (
                    number, day, seq, new.citizen_id, new.description, new.category, new.department,
                    new.place, new.phone, int(new.anonymous), new.priority, new.policy, "待受理",
                    at, at, at, to_ts(new.contact_due), to_ts(new.feedback_due), to_ts(new.resolve_due),
                    to_ts(new.next_due_at), new.source_question,
                )
            )  # fmt: skip
        inserted = await tx.fetch(INSERT_TICKETS, *as_columns(rows, len(_NEW_COLUMNS)))
        by_number = {t.number: t for t in map(self._ticket, inserted)}
        tickets = [by_number[n] for n in numbers]
        events: list[tuple[int, int | None, EventIn]] = []
        notes: list[Notification] = []
        for (_, hook, _), ticket in zip(batch, tickets, strict=True):
            evs, ns = hook(ticket)
            events += [(ticket.id, to_ts(ticket.created_at), e) for e in evs]
            notes += ns
        await insert_events(tx, events)
        now = to_ts(self.db.clock.now())
        await insert_notifications(tx, [(n, now) for n in notes])
        return tickets

    # ------------------------------------------------------------------ reading
    async def get(self, number: str) -> Ticket | None:
        row = await self.db.fetchrow(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE number = $1", number)
        return self._ticket(row) if row else None

    async def list(self, query: TicketQuery) -> list[Ticket]:
        where, params = _where(query)
        order = "id DESC" if query.newest_first else "id"
        if query.due_to is not None:
            order = URGENCY_ORDER
        params.append(query.limit)
        rows = await self.db.fetch(
            f"SELECT {TICKET_COLUMNS} FROM tickets{where} ORDER BY {order} LIMIT ${len(params)}", *params
        )
        return [self._ticket(r) for r in rows]

    async def count(self, query: TicketQuery) -> int:
        where, params = _where(query)
        return await self.db.fetchval(f"SELECT COUNT(*) FROM tickets{where}", *params)

    async def events(self, ticket_id: int) -> list[TicketEvent]:
        rows = await self.db.fetch(
            f"SELECT {EVENT_COLUMNS} FROM ticket_events WHERE ticket_id = $1 ORDER BY id", ticket_id
        )
        return [event_from_row(r, self.db.tz) for r in rows]

    async def due_for_reminders(self, now: Any, limit: int) -> list[Ticket]:
        rows = await self.db.fetch(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE next_due_at <= $1 ORDER BY next_due_at, id LIMIT $2",
            to_ts(now),
            limit,
        )
        return [self._ticket(r) for r in rows]

    async def reminders_sent(self, ticket_ids: list[int]) -> dict[int, set[SentKey]]:
        out: dict[int, set[SentKey]] = {i: set() for i in ticket_ids}
        rows = await self.db.fetch(
            "SELECT ticket_id, milestone, level, round, repeat FROM reminders_sent"
            " WHERE ticket_id = ANY($1::int8[])",
            ticket_ids,
        )
        for tid, m, lv, rnd, rep in rows:
            out[tid].add((m, lv, rnd, rep))
        return out

    async def open_tickets(self, after_id: int, limit: int) -> list[Ticket]:
        rows = await self.db.fetch(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id > $1 AND (state IN {OPEN_SQL}"
            f" OR (state = '{RESOLVED}' AND rating_due IS NOT NULL)) ORDER BY id LIMIT $2",
            after_id,
            limit,
        )
        return [self._ticket(r) for r in rows]

    # ------------------------------------------------------------------ changes
    async def apply(self, change: Change) -> Ticket:
        (result,) = await self.apply_many([change])
        if result is None:
            raise ConflictError(change.ticket.number)
        return result

    async def apply_many(self, changes: list[Change]) -> list[Ticket | None]:
        if not changes:
            return []
        async with self.db.transaction() as tx:
            ids = sorted({c.ticket.id for c in changes})
            current = {
                r[0]: r[1]
                for r in await tx.fetch(
                    "SELECT id, version FROM tickets WHERE id = ANY($1::int8[]) ORDER BY id FOR UPDATE", ids
                )
            }
            seen: set[int] = set()
            applied = []
            for c in changes:  # two changes to one ticket in a batch: only the first holds the version
                if current.get(c.ticket.id) == c.ticket.version and c.ticket.id not in seen:
                    seen.add(c.ticket.id)
                    applied.append(c)
            # one statement per shape of change (the reminder tick sets the same columns on many tickets)
            shapes: dict[tuple[str, ...], list[Change]] = {}
            for c in applied:
                shapes.setdefault(tuple(c.fields), []).append(c)
            fresh: dict[int, Ticket] = {}
            for names, group in shapes.items():
                for row in await tx.fetch(*_update(names, group)):
                    ticket = self._ticket(row)
                    fresh[ticket.id] = ticket
            await insert_events(tx, [(c.ticket.id, to_ts(c.at), e) for c in applied for e in c.events])
            reminders = [
                (c.ticket.id, r.milestone, r.level, c.ticket.round, r.repeat, to_ts(c.at))
                for c in applied
                for r in c.reminders
            ]
            if reminders:
                await tx.execute(INSERT_REMINDERS, *as_columns(reminders, 6))
            await insert_notifications(tx, [(n, to_ts(c.at)) for c in applied for n in c.notifications])
        done = {id(c) for c in applied}
        return [fresh[c.ticket.id] if id(c) in done else None for c in changes]


def _update(names: tuple[str, ...], group: list[Change]) -> tuple[Any, ...]:
    """UPDATE … FROM unnest(…) for changes that set the same columns: (sql, *arrays)."""
    sets = [f"{k} = v.{k}" for k in names] + ["version = t.version + 1", "updated_at = v.at_"]
    arrays = ["$1::int8[]", "$2::int8[]"] + [f"${i + 3}::{COLUMN_TYPES[k]}[]" for i, k in enumerate(names)]
    sql = (
        f"UPDATE tickets AS t SET {', '.join(sets)}"
        f" FROM unnest({', '.join(arrays)}) AS v(id_, at_{''.join(', ' + k for k in names)})"
        f" WHERE t.id = v.id_ RETURNING {RETURNING_TICKET}"
    )
    rows = [(c.ticket.id, to_ts(c.at), *(column_value(k, c.fields[k]) for k in names)) for c in group]
    return (sql, *as_columns(rows, 2 + len(names)))


def _where(q: TicketQuery) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []

    def p(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    if q.departments is not None:
        where.append(f"department = ANY({p(list(q.departments))}::text[])")
    if q.states is not None:
        where.append(f"state = ANY({p(list(q.states))}::text[])")
    if q.handler is not None:
        where.append(f"handler = {p(q.handler)}")
    if q.citizen_id is not None:
        where.append(f"citizen_id = {p(q.citizen_id)}")
    if q.after_id is not None:
        where.append(f"id > {p(q.after_id)}")
    if q.seq is not None:
        where.append(f"seq = {p(q.seq)}")
    if q.created_from is not None:
        where.append(f"created_at >= {p(to_ts(q.created_from))}")
    if q.created_to is not None:
        where.append(f"created_at < {p(to_ts(q.created_to))}")
    if q.due_to is not None:
        a = p(to_ts(q.due_from) if q.due_from else 0)
        b = p(to_ts(q.due_to))
        where.append(f"state IN {OPEN_SQL} AND {unmet_due_sql(a + '::int8', b + '::int8')}")
    return (" WHERE " + " AND ".join(where)) if where else "", params
