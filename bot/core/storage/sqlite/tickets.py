"""Tickets, their events and recorded reminders on SQLite.

Creation is group-committed: creations that arrive while a creation transaction runs are written together in
the next one, numbers allocated as one block per day. Changes are applied in batches too: the versions are
checked inside the transaction (no other writer can run there), then each statement runs once for the batch.
A statement that fails for one creation makes the batch fall back to one savepoint per creation, so one bad
creation never costs the others theirs.
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from bot.core.messages import Notification
from bot.core.storage.protocols import ConflictError, CreateHook, SentKey
from bot.core.storage.rows import (
    ATTACHMENT_FIELDS,
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    attachment_params,
    column_value,
    event_from_row,
    notification_params,
    request_rows,
    ticket_from_row,
    to_ts,
)
from bot.core.tickets.domain.models import (
    OPEN_STATES,
    Change,
    EventIn,
    NewTicket,
    Ticket,
    TicketEvent,
    TicketQuery,
)
from bot.core.tickets.domain.sla import MILESTONES

from .database import Database
from .requests import DECIDE_REQUEST, INSERT_REQUEST

log = logging.getLogger(__name__)

BATCH = 500
OPEN_SQL = "(" + ",".join(f"'{s}'" for s in OPEN_STATES) + ")"
# an open ticket whose SLA clock runs: not paused (等待补充材料…), not merged into another (handled there)
RUNNING_SQL = "paused_at IS NULL AND merged_into IS NULL"
UNMET_DUE_SQL = (
    "(" + " OR ".join(f"({m}_met IS NULL AND {m}_due >= :a AND {m}_due < :b)" for m in MILESTONES) + ")"
)
# most urgent first: the earliest deadline among the unmet milestones
URGENCY_ORDER = (
    "MIN("
    + ", ".join(f"COALESCE(CASE WHEN {m}_met IS NULL THEN {m}_due END, 1e18)" for m in MILESTONES)
    + ")"
)
INSERT_NOTIFICATION = (
    "INSERT OR IGNORE INTO outbox(recipient_kind, recipient_id, html, buttons, dedup_key, created_at, media,"
    " attempts, next_attempt_at) VALUES (?,?,?,?,?,?,?,0,0)"
)
INSERT_ATTACHMENT = f"INSERT INTO attachments({', '.join(ATTACHMENT_FIELDS)}) VALUES ({','.join('?' * len(ATTACHMENT_FIELDS))})"
_NEW_COLUMNS = (
    "number, day, seq, citizen_id, description, category, department, place, phone, anonymous, priority,"
    " policy, state, created_at, updated_at, round_started_at, contact_due, feedback_due, resolve_due,"
    " next_due_at, source_question, appeal_type, tier, dispatch_due, citizen_name, hot_key,"
    " latitude, longitude, unit"
)


async def insert_events(tx: aiosqlite.Connection, rows: Iterable[tuple[int, int | None, EventIn]]) -> None:
    """Append events (ticket id, when, event) in the caller's transaction."""
    await tx.executemany(
        "INSERT INTO ticket_events(ticket_id, at, actor, action, text) VALUES (?,?,?,?,?)",
        [(tid, at, e.actor, e.action, e.text) for tid, at, e in rows],
    )


async def insert_notifications(
    tx: aiosqlite.Connection, at: int | None, notes: Sequence[Notification]
) -> int:
    """Queue notifications in the caller's transaction; returns how many were new (not de-duplicated)."""
    if len(notes) == 1:
        cur = await tx.execute(INSERT_NOTIFICATION, notification_params(notes[0], at))
        return cur.rowcount
    if notes:
        await tx.executemany(INSERT_NOTIFICATION, [notification_params(n, at) for n in notes])
    return len(notes)


class SqliteTickets:
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
            await tx.execute("SAVEPOINT batch")
            try:
                results: list[Ticket | BaseException] = list(await self._insert_all(tx, batch))
            except Exception:  # noqa: BLE001 - find out which creation it was, one savepoint each
                await tx.execute("ROLLBACK TO batch")
                results = []
                for item in batch:
                    await tx.execute("SAVEPOINT one")
                    try:
                        results.extend(await self._insert_all(tx, [item]))
                    except Exception as exc:  # noqa: BLE001
                        await tx.execute("ROLLBACK TO one")
                        results.append(exc)
                    await tx.execute("RELEASE one")
            await tx.execute("RELEASE batch")
            return results

    async def _insert_all(
        self, tx: aiosqlite.Connection, batch: list[tuple[NewTicket, CreateHook, Any]]
    ) -> list[Ticket]:
        tz = self.db.tz
        days: dict[str, int] = {}
        for new, _, _ in batch:
            day = new.created_at.astimezone(tz).strftime("%Y%m%d")
            days[day] = days.get(day, 0) + 1
        last: dict[str, int] = {}
        for day, n in days.items():
            async with tx.execute(
                "INSERT INTO ticket_counters(day, last) VALUES (?, ?)"
                " ON CONFLICT(day) DO UPDATE SET last = last + excluded.last RETURNING last",
                (day, n),
            ) as cur:
                (last[day],) = await cur.fetchone()  # type: ignore[misc]
        next_seq = {day: last[day] - n + 1 for day, n in days.items()}
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
                    to_ts(new.next_due_at), new.source_question, new.appeal_type, new.tier,
                    to_ts(new.dispatch_due), new.citizen_name, new.hot_key,
                    new.latitude, new.longitude, new.unit,
                )
            )  # fmt: skip
        marks = ",".join("?" * 29)
        await tx.executemany(f"INSERT INTO tickets({_NEW_COLUMNS}) VALUES ({marks})", rows)
        by_number = {t.number: t for t in await self._select(tx, "number", numbers)}
        tickets = [by_number[n] for n in numbers]
        events: list[tuple[int, int | None, EventIn]] = []
        notes: list[Notification] = []
        files: list[tuple[Any, ...]] = []
        for (new, hook, _), ticket in zip(batch, tickets, strict=True):
            evs, ns = hook(ticket)
            events += [(ticket.id, to_ts(ticket.created_at), e) for e in evs]
            notes += ns
            at = to_ts(ticket.created_at)
            files += [attachment_params(ticket.id, "citizen", m, at) for m in new.attachments]
        if files:
            await tx.executemany(INSERT_ATTACHMENT, files)
        await insert_events(tx, events)
        await insert_notifications(tx, to_ts(self.db.clock.now()), notes)
        return tickets

    async def _select(self, tx: aiosqlite.Connection, column: str, values: Sequence[Any]) -> list[Ticket]:
        out: list[Ticket] = []
        for start in range(0, len(values), BATCH):
            chunk = values[start : start + BATCH]
            sql = f"SELECT {TICKET_COLUMNS} FROM tickets WHERE {column} IN ({','.join('?' * len(chunk))})"
            out += [self._ticket(r) for r in await tx.execute_fetchall(sql, chunk)]
        return out

    # ------------------------------------------------------------------ reading
    async def get(self, number: str) -> Ticket | None:
        row = await self.db.fetchone(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE number=?", (number,))
        return self._ticket(row) if row else None

    async def list(self, query: TicketQuery) -> list[Ticket]:
        where, params = _where(query)
        order = "id DESC" if query.newest_first else "id"
        if query.due_to is not None:
            order = URGENCY_ORDER
        params["limit"] = query.limit
        rows = await self.db.fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets{where} ORDER BY {order} LIMIT :limit", params
        )
        return [self._ticket(r) for r in rows]

    async def recent_texts(
        self, department: str, since: dt.datetime, limit: int
    ) -> builtins.list[tuple[int, str, str, str | None]]:
        rows = await self.db.fetchall(
            "SELECT id, number, description, place FROM tickets WHERE department = ? AND created_at >= ?"
            f" AND state IN {OPEN_SQL} AND merged_into IS NULL ORDER BY created_at DESC, id DESC LIMIT ?",
            (department, to_ts(since), limit),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def count(self, query: TicketQuery) -> int:
        where, params = _where(query)
        return (await self.db.fetchone(f"SELECT COUNT(*) FROM tickets{where}", params))[0]

    async def events(self, ticket_id: int) -> builtins.list[TicketEvent]:
        rows = await self.db.fetchall(
            f"SELECT {EVENT_COLUMNS} FROM ticket_events WHERE ticket_id=? ORDER BY id", (ticket_id,)
        )
        return [event_from_row(r, self.db.tz) for r in rows]

    async def due_for_reminders(self, now: dt.datetime, limit: int) -> builtins.list[Ticket]:
        rows = await self.db.fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE next_due_at <= ? ORDER BY next_due_at LIMIT ?",
            (to_ts(now), limit),
        )
        return [self._ticket(r) for r in rows]

    async def reminders_sent(self, ticket_ids: builtins.list[int]) -> dict[int, set[SentKey]]:
        out: dict[int, set[SentKey]] = {i: set() for i in ticket_ids}
        for start in range(0, len(ticket_ids), BATCH):
            chunk = ticket_ids[start : start + BATCH]
            rows = await self.db.fetchall(
                "SELECT ticket_id, milestone, level, round, repeat FROM reminders_sent"
                f" WHERE ticket_id IN ({','.join('?' * len(chunk))})",
                chunk,
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
        async with self.db.transaction() as tx:
            ids = [c.ticket.id for c in changes]
            current = await _versions(tx, ids)
            ok = [c for c in changes if current.get(c.ticket.id) == c.ticket.version]
            seen: set[int] = set()
            applied = []
            for c in ok:  # two changes to one ticket in a batch: only the first holds the version
                if c.ticket.id not in seen:
                    seen.add(c.ticket.id)
                    applied.append(c)
            # one statement per shape of change (the reminder tick sets the same columns on many tickets)
            shapes: dict[tuple[str, ...], list[Change]] = {}
            for c in applied:
                shapes.setdefault(tuple(c.fields), []).append(c)
            for names, group in shapes.items():
                sets = ", ".join([*(f"{k} = ?" for k in names), "version = version + 1", "updated_at = ?"])
                await tx.executemany(
                    f"UPDATE tickets SET {sets} WHERE id = ?",
                    [
                        (*(column_value(k, c.fields[k]) for k in names), to_ts(c.at), c.ticket.id)
                        for c in group
                    ],
                )
            await insert_events(tx, [(c.ticket.id, to_ts(c.at), e) for c in applied for e in c.events])
            await tx.executemany(
                "INSERT INTO reminders_sent(ticket_id, milestone, level, round, repeat, sent_at)"
                " VALUES (?,?,?,?,?,?)",
                [
                    (c.ticket.id, r.milestone, r.level, c.ticket.round, r.repeat, to_ts(c.at))
                    for c in applied
                    for r in c.reminders
                ],
            )
            new, decided = request_rows(applied)
            if new:
                await tx.executemany(INSERT_REQUEST, new)
            if decided:
                await tx.executemany(DECIDE_REQUEST, decided)
            files = [
                attachment_params(c.ticket.id, a.role, a.media, to_ts(c.at))
                for c in applied
                for a in c.attachments
            ]
            if files:
                await tx.executemany(INSERT_ATTACHMENT, files)
            notes = [(c, n) for c in applied for n in c.notifications]
            if notes:
                await tx.executemany(
                    INSERT_NOTIFICATION, [notification_params(n, to_ts(c.at)) for c, n in notes]
                )
            fresh = {t.id: t for t in await self._select(tx, "id", [c.ticket.id for c in applied])}
        done = {id(c) for c in applied}
        return [fresh[c.ticket.id] if id(c) in done else None for c in changes]


async def _versions(tx: aiosqlite.Connection, ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        sql = f"SELECT id, version FROM tickets WHERE id IN ({','.join('?' * len(chunk))})"
        out.update({r[0]: r[1] for r in await tx.execute_fetchall(sql, chunk)})
    return out


def _where(q: TicketQuery) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}

    def among(column: str, prefix: str, values: Sequence[str]) -> None:
        names = [f":{prefix}{i}" for i in range(len(values))]
        where.append(f"{column} IN ({','.join(names) or 'NULL'})")
        params.update({f"{prefix}{i}": v for i, v in enumerate(values)})

    if q.departments is not None:
        among("department", "d", q.departments)
    if q.states is not None:
        among("state", "s", q.states)
    if q.handler is not None:
        where.append("handler = :handler")
        params["handler"] = q.handler
    if q.citizen_id is not None:
        where.append("citizen_id = :citizen")
        params["citizen"] = q.citizen_id
    if q.after_id is not None:
        where.append("id > :after")
        params["after"] = q.after_id
    if q.seq is not None:
        where.append("seq = :seq")
        params["seq"] = q.seq
    if q.merged_into is not None:
        where.append("merged_into = :merged")
        params["merged"] = q.merged_into
    if q.created_from is not None:
        where.append("created_at >= :cf")
        params["cf"] = to_ts(q.created_from)
    if q.created_to is not None:
        where.append("created_at < :ct")
        params["ct"] = to_ts(q.created_to)
    if q.due_to is not None:
        where.append(f"state IN {OPEN_SQL} AND {RUNNING_SQL} AND {UNMET_DUE_SQL}")
        params["a"] = to_ts(q.due_from) if q.due_from else 0
        params["b"] = to_ts(q.due_to)
    return (" WHERE " + " AND ".join(where)) if where else "", params
