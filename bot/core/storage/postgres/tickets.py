"""Tickets, their events and recorded reminders on PostgreSQL.

Creation (numbering, group commit) is in creation.py. Changes lock their tickets (SELECT … FOR UPDATE, in id
order so two processes never deadlock), check the versions, write each shape of change in one UPDATE … FROM
unnest that returns the fresh rows, and write their events, reminders and notifications in one statement.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.core.storage.protocols import ConflictError, CreateHook, SentKey
from bot.core.storage.rows import (
    BOOL_FIELDS,
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    TICKET_FIELDS,
    TIME_FIELDS,
    attachment_params,
    column_value,
    event_from_row,
    request_rows,
    ticket_from_row,
    to_ts,
)
from bot.core.tickets.domain.models import (
    OPEN_STATES,
    Change,
    NewTicket,
    Ticket,
    TicketEvent,
    TicketQuery,
)
from bot.core.tickets.domain.sla import MILESTONES

from .batch import write_beside
from .creation import TicketCreator
from .database import Database, as_columns, nul_free
from .requests import DECIDE_REQUEST, INSERT_REQUEST

OPEN_SQL = "(" + ",".join(f"'{s}'" for s in OPEN_STATES) + ")"


def _pg_type(f: dataclasses.Field[Any]) -> str:
    if f.name == "id":
        return "int8"
    if f.name in TIME_FIELDS:
        return "int8"
    if f.name in BOOL_FIELDS:
        return "int2"
    if str(f.type).startswith("float"):
        return "float8"
    return "int4" if str(f.type).startswith("int") else "text"


# the array type of each ticket column, for batched statements (derived from the Ticket model)
COLUMN_TYPES = {f.name: _pg_type(f) for f in dataclasses.fields(Ticket)}
RETURNING_TICKET = ", ".join(f"t.{c}" for c in TICKET_FIELDS)

# most urgent first: the earliest deadline among the unmet milestones (LEAST ignores NULLs)
URGENCY_ORDER = (
    "LEAST(" + ", ".join(f"CASE WHEN {m}_met IS NULL THEN {m}_due END" for m in MILESTONES) + "), id"
)
# an open ticket whose SLA clock runs: not paused (等待补充材料…), not merged into another (handled there)
RUNNING_SQL = "paused_at IS NULL AND merged_into IS NULL"


def unmet_due_sql(a: str, b: str) -> str:
    """Some unmet milestone falls due in [a, b)."""
    return (
        "(" + " OR ".join(f"({m}_met IS NULL AND {m}_due >= {a} AND {m}_due < {b})" for m in MILESTONES) + ")"
    )


class PostgresTickets:
    def __init__(self, db: Database):
        self.db = db
        self._creator = TicketCreator(db, COLUMN_TYPES)

    def _ticket(self, row: Sequence[Any]) -> Ticket:
        return ticket_from_row(row, self.db.tz)

    # ------------------------------------------------------------------ creation
    async def create(self, new: NewTicket, hook: CreateHook) -> Ticket:
        return await self._creator.create(new, hook)

    async def wait_idle(self) -> None:
        await self._creator.wait_idle()

    # ------------------------------------------------------------------ reading
    async def get(self, number: str) -> Ticket | None:
        row = await self.db.fetchrow(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE number = $1", number)
        return self._ticket(row) if row else None

    async def recent_texts(
        self, department: str, since: dt.datetime, limit: int
    ) -> list[tuple[int, str, str, str | None]]:
        rows = await self.db.fetch(
            "SELECT id, number, description, place FROM tickets WHERE department = $1 AND created_at >= $2"
            f" AND state IN {OPEN_SQL} AND merged_into IS NULL ORDER BY created_at DESC, id DESC LIMIT $3",
            department,
            to_ts(since),
            limit,
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

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

    async def events(self, ticket_id: int) -> builtins.list[TicketEvent]:
        rows = await self.db.fetch(
            f"SELECT {EVENT_COLUMNS} FROM ticket_events WHERE ticket_id = $1 ORDER BY id", ticket_id
        )
        return [event_from_row(r, self.db.tz) for r in rows]

    async def due_for_reminders(self, now: dt.datetime, limit: int) -> builtins.list[Ticket]:
        rows = await self.db.fetch(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE next_due_at <= $1 ORDER BY next_due_at, id LIMIT $2",
            to_ts(now),
            limit,
        )
        return [self._ticket(r) for r in rows]

    async def reminders_sent(self, ticket_ids: builtins.list[int]) -> dict[int, set[SentKey]]:
        out: dict[int, set[SentKey]] = {i: set() for i in ticket_ids}
        rows = await self.db.fetch(
            "SELECT ticket_id, milestone, level, round, repeat FROM reminders_sent"
            " WHERE ticket_id = ANY($1::int8[])",
            ticket_ids,
        )
        for tid, m, lv, rnd, rep in rows:
            out[tid].add((m, lv, rnd, rep))
        return out

    # ------------------------------------------------------------------ changes
    async def apply(self, change: Change) -> Ticket:
        (result,) = await self.apply_many([change])
        if result is None:
            raise ConflictError(change.ticket.number)
        return result

    async def apply_many(self, changes: builtins.list[Change]) -> builtins.list[Ticket | None]:
        if not changes:
            return []

        async def write(tx: Any) -> tuple[list[Change], dict[int, Ticket]]:
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
            new, decided = request_rows(applied)
            if new:
                await tx.executemany(INSERT_REQUEST, [tuple(nul_free(v) for v in r) for r in new])
            if decided:
                await tx.executemany(DECIDE_REQUEST, [tuple(nul_free(v) for v in r) for r in decided])
            await write_beside(
                tx,
                events=[
                    (c.ticket.id, to_ts(c.at), e.actor, e.action, e.text) for c in applied for e in c.events
                ],
                reminders=[
                    (c.ticket.id, r.milestone, r.level, c.ticket.round, r.repeat, to_ts(c.at))
                    for c in applied
                    for r in c.reminders
                ],
                notifications=[(n, to_ts(c.at)) for c in applied for n in c.notifications],
                attachments=[
                    attachment_params(c.ticket.id, a.role, a.media, to_ts(c.at))
                    for c in applied
                    for a in c.attachments
                ],
            )
            return applied, fresh

        # run again, from the changes alone, if the connection drops before COMMIT
        applied, fresh = await self.db.run(write)
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
    if q.merged_into is not None:
        where.append(f"merged_into = {p(q.merged_into)}")
    if q.created_from is not None:
        where.append(f"created_at >= {p(to_ts(q.created_from))}")
    if q.created_to is not None:
        where.append(f"created_at < {p(to_ts(q.created_to))}")
    if q.due_to is not None:
        a = p(to_ts(q.due_from) if q.due_from else 0)
        b = p(to_ts(q.due_to))
        where.append(f"state IN {OPEN_SQL} AND {RUNNING_SQL} AND {unmet_due_sql(a + '::int8', b + '::int8')}")
    return (" WHERE " + " AND ".join(where)) if where else "", params
