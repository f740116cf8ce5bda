"""TicketStore on SQLite through aiosqlite: WAL, numbered migrations, one transaction per change.

Every write runs as one function on aiosqlite's connection thread (BEGIN IMMEDIATE … COMMIT in a single hop),
so transactions from concurrent coroutines never interleave and a creation costs one thread round trip.
Times are stored as integer Unix seconds (UTC); the store turns them back into aware datetimes in its zone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.clock import DEFAULT_TZ, Clock, SystemClock
from bot.core.messages import Button, Notification, Recipient, Reply

from .models import (
    OPEN_STATES,
    Change,
    NewTicket,
    OutboxRow,
    StaffMember,
    Ticket,
    TicketEvent,
    TicketQuery,
)
from .store import ConflictError, CreateHook, QuestionCount, SlaCount

log = logging.getLogger(__name__)

T = TypeVar("T")

TICKET_COLUMNS = (
    "id, number, seq, citizen_id, description, category, department, place, phone, anonymous, priority, policy, "
    "state, handler, source_question, created_at, updated_at, contact_due, contact_met, feedback_due, "
    "feedback_met, resolve_due, resolve_met, round, round_started_at, resolution, closed_at, rating, comment, rated_at, rated_round, "
    "rating_due, next_due_at, version"
)
_TIME_FIELDS = {
    "created_at",
    "updated_at",
    "contact_due",
    "contact_met",
    "feedback_due",
    "feedback_met",
    "resolve_due",
    "resolve_met",
    "closed_at",
    "round_started_at",
    "rated_at",
    "rating_due",
    "next_due_at",
}
_TICKET_NAMES = [c.strip() for c in TICKET_COLUMNS.split(",")]
_OPEN_SQL = "(" + ",".join(f"'{s}'" for s in OPEN_STATES) + ")"
_UNMET_DUE_SQL = (
    "((contact_met IS NULL AND contact_due >= :a AND contact_due < :b)"
    " OR (feedback_met IS NULL AND feedback_due >= :a AND feedback_due < :b)"
    " OR (resolve_met IS NULL AND resolve_due >= :a AND resolve_due < :b))"
)

# most urgent first: the earliest deadline among the unmet milestones
_URGENCY_ORDER = (
    "MIN(COALESCE(CASE WHEN contact_met IS NULL THEN contact_due END, 1e18),"
    " COALESCE(CASE WHEN feedback_met IS NULL THEN feedback_due END, 1e18),"
    " COALESCE(CASE WHEN resolve_met IS NULL THEN resolve_due END, 1e18))"
)


class StoreOpenError(Exception):
    """The database file cannot be used; the message names it and says why, in Chinese."""


def _open_problem(path: str | Path, exc: BaseException) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        why = "文件不是有效的 SQLite 数据库（可能已损坏，或填错了路径）"
    elif "readonly" in text or "read-only" in text:
        why = "文件或所在目录是只读的，无法写入"
    elif "unable to open" in text:
        why = "无法打开文件（目录不存在或没有权限）"
    else:
        why = text
    return f"无法使用诉求数据库 {path}：{why}。"


def to_ts(value: dt.datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return int(value.timestamp())


def _buttons_json(reply: Reply) -> str:
    return json.dumps(
        [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons], ensure_ascii=False
    )


def _buttons_from(raw: str | None) -> list[list[Button]]:
    return [[Button(b["label"], b["data"]) for b in row] for row in json.loads(raw or "[]")]


class SqliteTicketStore:
    def __init__(self, conn: aiosqlite.Connection, tz: dt.tzinfo, clock: Clock):
        self._conn = conn
        self.tz = tz
        self.clock = clock
        # group commit of concurrent creations: one transaction for all creations waiting at that moment
        self._pending_creates: list[tuple[NewTicket, CreateHook, asyncio.Future]] = []
        self._flushing = False
        self._flush_task: asyncio.Task | None = None
        # question-log rows waiting for their batch insert (statistics: one transaction for many rows)
        self._pending_questions: list[tuple] = []
        self._questions_task: asyncio.Task | None = None
        # who has an intake draft: most messages come from people without one, and this spares them a
        # database read. This process is the only writer of drafts (one bot per database).
        self._draft_users: set[str] = set()

    # ------------------------------------------------------------------ plumbing
    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        tz: dt.tzinfo = DEFAULT_TZ,
        clock: Clock | None = None,
        durable: bool = False,
    ) -> SqliteTicketStore:
        try:
            conn = await aiosqlite.connect(str(path), isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StoreOpenError(_open_problem(path, exc)) from None
        store = cls(conn, tz, clock or SystemClock(tz))
        try:
            await store._run(lambda db: store._setup(db, durable))
            store._draft_users = {r[0] for r in await store._fetchall("SELECT user_id FROM drafts")}
        except (sqlite3.Error, OSError) as exc:
            # close the connection's thread, or the process would never exit
            await conn.close()
            raise StoreOpenError(_open_problem(path, exc)) from None
        return store

    async def close(self) -> None:
        if self._flush_task is not None and not self._flush_task.done():
            await self._flush_task
        await self.flush_questions()
        await self._conn.close()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        # One hop to aiosqlite's connection thread; the function has the sqlite3 connection to itself.
        return await self._conn._execute(lambda: fn(self._conn._conn))

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def tx(db: sqlite3.Connection) -> T:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        return await self._run(tx)

    async def _fetchall(self, sql: str, params: Any = ()) -> list[tuple]:
        return await self._run(lambda db: db.execute(sql, params).fetchall())

    def _setup(self, db: sqlite3.Connection, durable: bool) -> None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        from bot.core.storage.sqlite.migrations import (
            MIGRATIONS,  # transitional: this store is being replaced
        )

        done = {r[0] for r in db.execute("SELECT version FROM schema_migrations")}
        for version, name, statements in MIGRATIONS:
            if version in done:
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT 1 FROM schema_migrations WHERE version=?", (version,)).fetchone():
                    db.execute("ROLLBACK")  # another process applied it meanwhile
                    continue
                for stmt in statements:
                    db.execute(stmt)
                db.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)",
                    (version, name, to_ts(self.clock.now())),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    async def schema_versions(self) -> list[int]:
        return [r[0] for r in await self._fetchall("SELECT version FROM schema_migrations ORDER BY version")]

    def _dt(self, ts: int | None) -> dt.datetime | None:
        return None if ts is None else dt.datetime.fromtimestamp(ts, self.tz)

    def _ticket(self, row: tuple) -> Ticket:
        data = dict(zip(_TICKET_NAMES, row, strict=True))
        for k in _TIME_FIELDS:
            data[k] = self._dt(data[k])
        data["anonymous"] = bool(data["anonymous"])
        return Ticket(**data)

    # ------------------------------------------------------------------ tickets
    async def create_ticket(self, new: NewTicket, hook: CreateHook) -> Ticket:
        """Insert a ticket, numbering it inside the transaction; returns once it is committed.

        Creations that arrive while another creation transaction runs are committed together in the next one
        (group commit), each inside its own savepoint so one failing creation does not affect the others.
        """
        fut: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()
        self._pending_creates.append((new, hook, fut))
        if not self._flushing:
            self._flushing = True
            self._flush_task = asyncio.create_task(self._flush_creates())
        return await fut

    async def _flush_creates(self) -> None:
        try:
            while self._pending_creates:
                batch, self._pending_creates = self._pending_creates[:500], self._pending_creates[500:]

                def tx(db: sqlite3.Connection, batch=batch) -> list[Ticket | BaseException]:
                    results: list[Ticket | BaseException] = []
                    for new, hook, _ in batch:
                        db.execute("SAVEPOINT create_ticket")
                        try:
                            results.append(self._create_one(db, new, hook))
                        except Exception as exc:
                            db.execute("ROLLBACK TO create_ticket")
                            results.append(exc)
                        db.execute("RELEASE create_ticket")
                    return results

                try:
                    results = await self._write(tx)
                except Exception as exc:  # the whole transaction failed: nothing was created
                    results = [exc] * len(batch)
                for (_, _, fut), result in zip(batch, results, strict=True):
                    if fut.done():  # the caller gave up waiting; the ticket exists all the same
                        continue
                    if isinstance(result, BaseException):
                        fut.set_exception(result)
                    else:
                        fut.set_result(result)
        finally:
            self._flushing = False

    def _create_one(self, db: sqlite3.Connection, new: NewTicket, hook: CreateHook) -> Ticket:
        created = new.created_at.astimezone(self.tz)
        day = created.strftime("%Y%m%d")
        at = to_ts(created)
        (seq,) = db.execute(
            "INSERT INTO ticket_counters(day, last) VALUES (?, 1)"
            " ON CONFLICT(day) DO UPDATE SET last = last + 1 RETURNING last",
            (day,),
        ).fetchone()
        number = f"SQ{day}-{seq:04d}"
        cur = db.execute(
            "INSERT INTO tickets(number, day, seq, citizen_id, description, category, department, place, phone,"
            " anonymous, priority, policy, state, created_at, updated_at, round_started_at, contact_due,"
            " feedback_due, resolve_due, next_due_at, source_question)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'待受理',?,?,?,?,?,?,?,?)",
            (
                number,
                day,
                seq,
                new.citizen_id,
                new.description,
                new.category,
                new.department,
                new.place,
                new.phone,
                int(new.anonymous),
                new.priority,
                new.policy,
                at,
                at,
                at,
                to_ts(new.contact_due),
                to_ts(new.feedback_due),
                to_ts(new.resolve_due),
                to_ts(new.next_due_at),
                new.source_question,
            ),
        )
        ticket = self._ticket(
            db.execute(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id=?", (cur.lastrowid,)).fetchone()
        )
        events, notes = hook(ticket)
        self._insert_events(db, ticket.id, at, events)
        self._insert_notifications(db, at, notes)
        return ticket

    def _insert_events(
        self, db: sqlite3.Connection, ticket_id: int, at: int | None, events: Iterable
    ) -> None:
        db.executemany(
            "INSERT INTO ticket_events(ticket_id, at, actor, action, text) VALUES (?,?,?,?,?)",
            [(ticket_id, at, e.actor, e.action, e.text) for e in events],
        )

    def _insert_notifications(
        self, db: sqlite3.Connection, at: int | None, notes: Iterable[Notification]
    ) -> int:
        added = 0
        for n in notes:
            cur = db.execute(
                "INSERT OR IGNORE INTO outbox(recipient_kind, recipient_id, html, buttons, dedup_key, created_at,"
                " attempts, next_attempt_at) VALUES (?,?,?,?,?,?,0,0)",
                (n.recipient.kind, n.recipient.id, n.reply.html, _buttons_json(n.reply), n.dedup_key, at),
            )
            added += cur.rowcount
        return added

    async def get_ticket(self, number: str) -> Ticket | None:
        rows = await self._fetchall(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE number=?", (number,))
        return self._ticket(rows[0]) if rows else None

    def _where(self, q: TicketQuery) -> tuple[str, dict[str, Any]]:
        where: list[str] = []
        params: dict[str, Any] = {}
        if q.departments is not None:
            names = [f":d{i}" for i in range(len(q.departments))]
            where.append(f"department IN ({','.join(names) or 'NULL'})")
            params.update({f"d{i}": d for i, d in enumerate(q.departments)})
        if q.states is not None:
            names = [f":s{i}" for i in range(len(q.states))]
            where.append(f"state IN ({','.join(names) or 'NULL'})")
            params.update({f"s{i}": s for i, s in enumerate(q.states)})
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
        if q.created_from is not None:
            where.append("created_at >= :cf")
            params["cf"] = to_ts(q.created_from)
        if q.created_to is not None:
            where.append("created_at < :ct")
            params["ct"] = to_ts(q.created_to)
        if q.due_to is not None:
            where.append(f"state IN {_OPEN_SQL} AND {_UNMET_DUE_SQL}")
            params["a"] = to_ts(q.due_from) if q.due_from else 0
            params["b"] = to_ts(q.due_to)
        return (" WHERE " + " AND ".join(where)) if where else "", params

    async def list_tickets(self, query: TicketQuery) -> list[Ticket]:
        where, params = self._where(query)
        order = "id DESC" if query.newest_first else "id"
        if query.due_to is not None:
            order = _URGENCY_ORDER
        params["limit"] = query.limit
        rows = await self._fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets{where} ORDER BY {order} LIMIT :limit", params
        )
        return [self._ticket(r) for r in rows]

    async def count_tickets(self, query: TicketQuery) -> int:
        where, params = self._where(query)
        rows = await self._fetchall(f"SELECT COUNT(*) FROM tickets{where}", params)
        return rows[0][0]

    def _apply_one(self, db: sqlite3.Connection, change: Change) -> Ticket | None:
        at = to_ts(change.at)
        cols = []
        values: list[Any] = []
        for k, v in change.fields.items():
            cols.append(f"{k} = ?")
            values.append(to_ts(v) if k in _TIME_FIELDS else v)
        sets = ", ".join([*cols, "version = version + 1", "updated_at = ?"])
        cur = db.execute(
            f"UPDATE tickets SET {sets} WHERE id = ? AND version = ?",
            (*values, at, change.ticket.id, change.ticket.version),
        )
        if cur.rowcount != 1:
            return None
        self._insert_events(db, change.ticket.id, at, change.events)
        db.executemany(
            "INSERT INTO reminders_sent(ticket_id, milestone, level, round, repeat, sent_at) VALUES (?,?,?,?,?,?)",
            [
                (change.ticket.id, r.milestone, r.level, change.ticket.round, r.repeat, at)
                for r in change.reminders
            ],
        )
        self._insert_notifications(db, at, change.notifications)
        return self._ticket(
            db.execute(f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id=?", (change.ticket.id,)).fetchone()
        )

    async def apply(self, change: Change) -> Ticket:
        def tx(db: sqlite3.Connection) -> Ticket:
            result = self._apply_one(db, change)
            if result is None:
                raise ConflictError(change.ticket.number)
            return result

        return await self._write(tx)

    async def apply_many(self, changes: list[Change]) -> list[Ticket | None]:
        if not changes:
            return []
        return await self._write(lambda db: [self._apply_one(db, c) for c in changes])

    async def events(self, ticket_id: int) -> list[TicketEvent]:
        rows = await self._fetchall(
            "SELECT id, ticket_id, at, actor, action, text FROM ticket_events WHERE ticket_id=? ORDER BY id",
            (ticket_id,),
        )
        return [
            TicketEvent(id=r[0], ticket_id=r[1], at=self._dt(r[2]), actor=r[3], action=r[4], text=r[5])
            for r in rows
        ]

    async def due_for_reminders(self, now: dt.datetime, limit: int) -> list[Ticket]:
        rows = await self._fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE next_due_at <= ? ORDER BY next_due_at LIMIT ?",
            (to_ts(now), limit),
        )
        return [self._ticket(r) for r in rows]

    async def reminders_sent(self, ticket_ids: list[int]) -> dict[int, set[tuple[str, str, int, int]]]:
        out: dict[int, set[tuple[str, str, int, int]]] = {i: set() for i in ticket_ids}
        for start in range(0, len(ticket_ids), 500):
            chunk = ticket_ids[start : start + 500]
            rows = await self._fetchall(
                "SELECT ticket_id, milestone, level, round, repeat FROM reminders_sent"
                f" WHERE ticket_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for tid, m, lv, rnd, rep in rows:
                out[tid].add((m, lv, rnd, rep))
        return out

    # ------------------------------------------------------------------ staff
    def _staff(self, row: tuple) -> StaffMember:
        return StaffMember(
            user_id=row[0], name=row[1], role=row[2], departments=tuple(json.loads(row[3] or "[]"))
        )

    async def get_staff(self, user_id: str) -> StaffMember | None:
        rows = await self._fetchall(
            "SELECT user_id, name, role, departments FROM staff WHERE user_id=?", (user_id,)
        )
        return self._staff(rows[0]) if rows else None

    async def list_staff(self) -> list[StaffMember]:
        rows = await self._fetchall(
            "SELECT user_id, name, role, departments FROM staff ORDER BY role, user_id"
        )
        return [self._staff(r) for r in rows]

    async def upsert_staff(self, member: StaffMember, actor: str, at: dt.datetime) -> None:
        deps = json.dumps(list(member.departments), ensure_ascii=False)

        def tx(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO staff(user_id, name, role, departments, updated_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT(user_id) DO UPDATE SET name=excluded.name, role=excluded.role,"
                " departments=excluded.departments, updated_at=excluded.updated_at",
                (member.user_id, member.name, member.role, deps, to_ts(at)),
            )
            db.execute(
                "INSERT INTO staff_log(at, actor, action, user_id, text) VALUES (?,?,?,?,?)",
                (to_ts(at), actor, "add", member.user_id, f"{member.name} {member.role} {deps}"),
            )

        await self._write(tx)

    async def remove_staff(self, user_id: str, actor: str, at: dt.datetime) -> bool:
        def tx(db: sqlite3.Connection) -> bool:
            cur = db.execute("DELETE FROM staff WHERE user_id=?", (user_id,))
            if cur.rowcount:
                db.execute(
                    "INSERT INTO staff_log(at, actor, action, user_id, text) VALUES (?,?,?,?,'')",
                    (to_ts(at), actor, "remove", user_id),
                )
            return cur.rowcount == 1

        return await self._write(tx)

    # ------------------------------------------------------------------ outbox
    async def enqueue(self, notification: Notification) -> bool:
        at = to_ts(self.clock.now())
        return bool(await self._write(lambda db: self._insert_notifications(db, at, [notification])))

    _OUTBOX_COLUMNS = (
        "id, recipient_kind, recipient_id, html, buttons, dedup_key, created_at, attempts,"
        " next_attempt_at, sent_at, last_error, parked_at, delivered"
    )

    def _outbox_row(self, r: tuple) -> OutboxRow:
        return OutboxRow(
            id=r[0],
            notification=Notification(Recipient(r[1], r[2]), Reply(r[3], _buttons_from(r[4])), r[5]),
            created_at=self._dt(r[6]),
            attempts=r[7],
            next_attempt_at=self._dt(r[8]),
            sent_at=self._dt(r[9]),
            last_error=r[10],
            parked_at=self._dt(r[11]),
            delivered=tuple(json.loads(r[12] or "[]")),
        )

    async def outbox_due(self, now: dt.datetime, limit: int = 50) -> list[OutboxRow]:
        rows = await self._fetchall(
            f"SELECT {self._OUTBOX_COLUMNS} FROM outbox"
            " WHERE sent_at IS NULL AND next_attempt_at <= ? AND parked_at IS NULL"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (to_ts(now), limit),
        )
        return [self._outbox_row(r) for r in rows]

    async def outbox_parked(self, limit: int = 50) -> list[OutboxRow]:
        rows = await self._fetchall(
            f"SELECT {self._OUTBOX_COLUMNS} FROM outbox"
            " WHERE sent_at IS NULL AND parked_at IS NOT NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [self._outbox_row(r) for r in rows]

    async def outbox_requeue(self, ids: list[int] | None, now: dt.datetime) -> int:
        def tx(db: sqlite3.Connection) -> int:
            sql = "UPDATE outbox SET parked_at=NULL, attempts=0, next_attempt_at=? WHERE sent_at IS NULL AND parked_at IS NOT NULL"
            if ids is None:
                return db.execute(sql, (to_ts(now),)).rowcount
            return sum(db.execute(sql + " AND id=?", (to_ts(now), i)).rowcount for i in ids)

        return await self._write(tx)

    async def outbox_delivered(self, id: int, chats: list[str]) -> None:
        raw = json.dumps(sorted(chats))
        await self._write(lambda db: db.execute("UPDATE outbox SET delivered=? WHERE id=?", (raw, id)))

    async def outbox_sent(self, id: int, at: dt.datetime) -> None:
        await self._write(
            lambda db: db.execute(
                "UPDATE outbox SET sent_at=?, attempts=attempts+1 WHERE id=?", (to_ts(at), id)
            )
        )

    async def outbox_failed(self, id: int, error: str, retry_at: dt.datetime, *, park: bool = False) -> None:
        parked = to_ts(self.clock.now()) if park else None
        await self._write(
            lambda db: db.execute(
                "UPDATE outbox SET attempts=attempts+1, last_error=?, next_attempt_at=?, parked_at=? WHERE id=?",
                (error[:2000], to_ts(retry_at), parked, id),
            )
        )

    async def outbox_pending_count(self) -> int:
        return (await self._fetchall("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"))[0][0]

    # ------------------------------------------------------------------ meta
    async def get_meta(self, key: str) -> str | None:
        rows = await self._fetchall("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        at = to_ts(self.clock.now())
        await self._write(
            lambda db: db.execute(
                "INSERT INTO meta(key, value, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                (key, value, at),
            )
        )

    # ------------------------------------------------------------------ drafts and questions
    async def save_draft(self, user_id: str, data: dict) -> None:
        raw = json.dumps(data, ensure_ascii=False, default=str)
        at = to_ts(self.clock.now())
        await self._write(
            lambda db: db.execute(
                "INSERT INTO drafts(user_id, data, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(user_id) DO UPDATE SET data=excluded.data, updated_at=excluded.updated_at",
                (user_id, raw, at),
            )
        )
        self._draft_users.add(user_id)

    async def load_draft(self, user_id: str) -> dict | None:
        if user_id not in self._draft_users:
            return None
        rows = await self._fetchall("SELECT data FROM drafts WHERE user_id=?", (user_id,))
        return json.loads(rows[0][0]) if rows else None

    async def delete_draft(self, user_id: str) -> None:
        await self._write(lambda db: db.execute("DELETE FROM drafts WHERE user_id=?", (user_id,)))
        self._draft_users.discard(user_id)

    async def log_question(
        self,
        user_id: str,
        text: str,
        intent: str,
        target: str | None,
        answered: bool,
        at: dt.datetime | None = None,
    ) -> None:
        ts = to_ts(at or self.clock.now())
        # Queued and written in batches: a question's answer never waits for its statistics row.
        self._pending_questions.append((user_id, text[:500], intent, target, int(answered), ts))
        if self._questions_task is None or self._questions_task.done():
            self._questions_task = asyncio.create_task(self._write_questions())

    async def _write_questions(self) -> None:
        await asyncio.sleep(0.02)  # gather the rows of the messages being handled right now
        while self._pending_questions:
            rows, self._pending_questions = self._pending_questions, []
            try:
                await self._write(
                    lambda db, rows=rows: db.executemany(
                        "INSERT INTO questions(user_id, text, intent, target, answered, at)"
                        " VALUES (?,?,?,?,?,?)",
                        rows,
                    )
                )
            except Exception:
                log.exception("could not write %d question-log rows", len(rows))

    async def flush_questions(self) -> None:
        """Wait until every logged question is written (readers of the log call this first)."""
        # log_question starts a writer whenever none is running, and the writer drains every row queued
        # meanwhile, so waiting for the running writer is enough
        while self._questions_task is not None and not self._questions_task.done():
            await self._questions_task

    # ------------------------------------------------------------------ aggregates
    async def _by_department(self, sql: str, params: Any) -> dict[str, int]:
        return {d: n for d, n in await self._fetchall(sql, params)}

    async def count_created(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        return await self._by_department(
            "SELECT department, COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY department",
            (to_ts(start), to_ts(end)),
        )

    async def count_resolved(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        return await self._by_department(
            "SELECT department, COUNT(*) FROM tickets WHERE resolve_met >= ? AND resolve_met < ? GROUP BY department",
            (to_ts(start), to_ts(end)),
        )

    async def open_by_state(self) -> dict[tuple[str, str], int]:
        rows = await self._fetchall(
            f"SELECT department, state, COUNT(*) FROM tickets WHERE state IN {_OPEN_SQL} GROUP BY state, department"
        )
        return {(d, s): n for d, s, n in rows}

    async def attention(
        self,
        now: dt.datetime,
        level: str,
        *,
        warn_at: dict[str, float],
        default_warn: float,
        departments: tuple[str, ...] | None = None,
        limit: int = 10,
    ) -> tuple[list[Ticket], dict[str, int]]:
        """Open tickets past a deadline (level "red") or past its warning time but not overdue ("yellow"):
        the most urgent `limit` of them, and how many per department."""
        params: dict[str, Any] = {"a": 0, "b": to_ts(now), "now": to_ts(now), "w": default_warn}
        red = _UNMET_DUE_SQL
        if level == "red":
            cond = red
        else:
            whens = []
            for i, (name, w) in enumerate(warn_at.items()):
                whens.append(f"WHEN :pn{i} THEN :pw{i}")
                params[f"pn{i}"], params[f"pw{i}"] = name, w
            weight = f"(CASE policy {' '.join(whens)} ELSE :w END)" if whens else ":w"
            parts = []
            for m in ("contact", "feedback", "resolve"):
                start = "round_started_at" if m == "resolve" else "created_at"
                parts.append(
                    f"({m}_met IS NULL AND {m}_due > :now AND (:now - {start}) >= {weight} * ({m}_due - {start}))"
                )
            cond = f"(({' OR '.join(parts)}) AND NOT {red})"
        where = f"state IN {_OPEN_SQL} AND {cond}"
        if departments is not None:
            names = [f":d{i}" for i in range(len(departments))]
            where += f" AND department IN ({','.join(names) or 'NULL'})"
            params.update({f"d{i}": d for i, d in enumerate(departments)})
        counts = await self._by_department(
            f"SELECT department, COUNT(*) FROM tickets WHERE {where} GROUP BY department", params
        )
        order = _URGENCY_ORDER
        params["limit"] = limit
        rows = await self._fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE {where} ORDER BY {order} LIMIT :limit", params
        )
        return [self._ticket(r) for r in rows], counts

    async def sla_counts(self, start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, SlaCount]]:
        out: dict[str, dict[str, SlaCount]] = {}
        for m in ("contact", "feedback", "resolve"):
            rows = await self._fetchall(
                f"SELECT department, SUM({m}_met IS NOT NULL AND {m}_met <= {m}_due), COUNT(*) FROM tickets"
                f" WHERE {m}_due >= ? AND {m}_due < ? GROUP BY department",
                (to_ts(start), to_ts(end)),
            )
            for dep, met, due in rows:
                out.setdefault(dep, {})[m] = SlaCount(met=met or 0, due=due)
        return out

    async def satisfaction(self, start: dt.datetime, end: dt.datetime) -> dict[str, tuple[int, int]]:
        rows = await self._fetchall(
            "SELECT department, SUM(rating), COUNT(*) FROM tickets WHERE rated_at >= ? AND rated_at < ?"
            " GROUP BY department",
            (to_ts(start), to_ts(end)),
        )
        return {d: (s or 0, n) for d, s, n in rows}

    async def top_questions(
        self, start: dt.datetime, end: dt.datetime, *, unanswered: bool, limit: int
    ) -> list[QuestionCount]:
        if unanswered:
            sql = (
                "SELECT text, COUNT(*) AS n FROM questions WHERE at >= ? AND at < ? AND answered = 0"
                " GROUP BY text ORDER BY n DESC, text LIMIT ?"
            )
        else:
            sql = (
                "SELECT target, COUNT(*) AS n FROM questions WHERE at >= ? AND at < ? AND target IS NOT NULL"
                " GROUP BY target ORDER BY n DESC, target LIMIT ?"
            )
        await self.flush_questions()
        rows = await self._fetchall(sql, (to_ts(start), to_ts(end), limit))
        return [QuestionCount(key=k, count=n) for k, n in rows]


async def open_sqlite_store(
    path: str | Path, *, tz: dt.tzinfo = DEFAULT_TZ, clock: Clock | None = None, durable: bool = False
) -> SqliteTicketStore:
    """Open (creating and migrating as needed) the ticket database at `path`.

    durable=True uses synchronous=FULL (survives power loss, slower); the default NORMAL survives a killed
    process, which is what WAL guarantees without an fsync per commit.
    """
    return await SqliteTicketStore.open(path, tz=tz, clock=clock, durable=durable)
