"""The store's repositories: migrations, numbering under concurrency, changes with their events, the outbox,
conversation state, the question log and the meta facts."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest

from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.core.messages import Button, Notification, Recipient, Reply
from bot.core.storage import ConflictError
from bot.core.storage.sqlite import open_sqlite_store
from bot.core.tickets.domain.models import Change, EventIn, NewTicket, ReminderKey, StaffMember, TicketQuery


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=DEFAULT_TZ)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(2026, 11, 23, 9, 0))


@pytest.fixture
async def store(tmp_path, clock):
    s = await open_sqlite_store(tmp_path / "t.db", clock=clock)
    yield s
    await s.close()


def new_ticket(clock: FixedClock, i: int = 0, **kw) -> NewTicket:
    base = dict(
        citizen_id=f"c{i}",
        description=f"诉求{i}",
        category="其他",
        department="公安局",
        created_at=clock.now(),
        policy="2110",
        contact_due=clock.now() + dt.timedelta(hours=2),
    )
    base.update(kw)
    return NewTicket(**base)


def hook(ticket):
    return [EventIn(ticket.citizen_id, "create", "")], [
        Notification(
            Recipient("department", ticket.department),
            Reply(f"新诉求 {ticket.number}"),
            f"new:{ticket.number}",
        )
    ]


async def test_migrations_are_numbered_and_applied_once(tmp_path):
    db = tmp_path / "t.db"
    for _ in range(2):
        s = await open_sqlite_store(db)
        assert await s.schema_versions() == [1, 2, 3, 4]
        await s.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_concurrent_creations_get_unique_consecutive_numbers_with_events_and_notifications(
    store, clock
):
    tickets = await asyncio.gather(*(store.tickets.create(new_ticket(clock, i), hook) for i in range(120)))
    numbers = sorted(t.number for t in tickets)
    assert numbers == [f"SQ20261123-{i:04d}" for i in range(1, 121)]
    t = tickets[7]
    assert [e.action for e in await store.tickets.events(t.id)] == ["create"]
    due = await store.outbox.due(clock.now(), 1000)
    assert len(due) == 120 and {r.notification.dedup_key for r in due} == {f"new:{n}" for n in numbers}
    assert (await store.tickets.get(t.number)).contact_due == clock.now() + dt.timedelta(hours=2)


async def test_one_failing_creation_does_not_cost_the_others_theirs(store, clock):
    def bad_hook(ticket):
        return [EventIn(None, "create", "")], []  # actor NOT NULL: this creation's events cannot be written

    results = await asyncio.gather(
        store.tickets.create(new_ticket(clock, 1), hook),
        store.tickets.create(new_ticket(clock, 2), bad_hook),
        store.tickets.create(new_ticket(clock, 3), hook),
        return_exceptions=True,
    )
    assert isinstance(results[1], sqlite3.IntegrityError)
    good = [r for r in results if not isinstance(r, BaseException)]
    assert len(good) == 2
    assert await store.tickets.count(TicketQuery()) == 2  # the failed one left nothing behind


async def test_apply_is_optimistic_and_writes_events_reminders_and_notifications(store, clock):
    t = await store.tickets.create(new_ticket(clock), hook)
    note = Notification(Recipient("user", t.citizen_id), Reply("已受理"), f"{t.number}:claimed")
    changed = await store.tickets.apply(
        Change(
            t,
            clock.now(),
            {"state": "办理中", "handler": "h1"},
            [EventIn("h1", "claim")],
            [note],
            [ReminderKey("contact", "yellow")],
        )
    )
    assert changed.state == "办理中" and changed.version == t.version + 1
    with pytest.raises(ConflictError):
        await store.tickets.apply(Change(t, clock.now(), {"state": "已关闭"}, [EventIn("x", "close")]))
    assert (await store.tickets.get(t.number)).state == "办理中"
    assert [e.action for e in await store.tickets.events(t.id)] == ["create", "claim"]
    assert (await store.tickets.reminders_sent([t.id]))[t.id] == {("contact", "yellow", 0, 0)}
    assert [r.notification.dedup_key for r in await store.outbox.due(clock.now(), 10)] == [
        f"new:{t.number}",
        f"{t.number}:claimed",
    ]


async def test_apply_many_skips_conflicts_and_writes_the_rest(store, clock):
    a = await store.tickets.create(new_ticket(clock, 1), hook)
    b = await store.tickets.create(new_ticket(clock, 2), hook)
    stale = await store.tickets.apply(Change(b, clock.now(), {"handler": "h1"}, []))
    results = await store.tickets.apply_many(
        [
            Change(a, clock.now(), {"next_due_at": clock.now()}, [EventIn("system", "remind")]),
            Change(b, clock.now(), {"next_due_at": clock.now()}, [EventIn("system", "remind")]),
        ]
    )
    assert results[0] is not None and results[0].next_due_at == clock.now()
    assert results[1] is None and stale.version == b.version + 1


async def test_outbox_dedup_due_sent_retry_park_and_requeue(store, clock):
    n = Notification(
        Recipient("user", "42"), Reply("<b>您好</b>", [[Button("认领", "claim:SQ20261123-0001")]]), "k1"
    )
    assert await store.outbox.enqueue(n) is True
    assert await store.outbox.enqueue(n) is False
    assert await store.outbox.enqueue(Notification(Recipient("department", "公安局"), Reply("x"))) is True
    first, second = await store.outbox.due(clock.now(), 10)
    assert first.notification == n
    await store.outbox.failed(first.id, "RetryAfter 30", clock.now() + dt.timedelta(seconds=30))
    await store.outbox.sent(second.id, clock.now())
    assert await store.outbox.due(clock.now(), 10) == []
    (later,) = await store.outbox.due(clock.now() + dt.timedelta(seconds=30), 10)
    assert (later.attempts, later.last_error) == (1, "RetryAfter 30")
    await store.outbox.failed(later.id, "Forbidden", clock.now(), park=True)
    assert await store.outbox.due(clock.now() + dt.timedelta(days=400), 10) == []
    assert [r.id for r in await store.outbox.parked()] == [first.id]
    assert await store.outbox.requeue(None, clock.now()) == 1
    await store.outbox.delivered(first.id, ["-1001"])
    (again,) = await store.outbox.due(clock.now(), 10)
    assert again.attempts == 0 and again.delivered == ("-1001",)


async def test_state_survives_a_restart(tmp_path, clock):
    s = await open_sqlite_store(tmp_path / "t.db", clock=clock)
    await s.state.save("u1", {"step": "phone"})
    await s.state.save("u1", {"step": "summary"})
    await s.close()
    s = await open_sqlite_store(tmp_path / "t.db", clock=clock)
    try:
        assert await s.state.load("u1") == {"step": "summary"}
        assert await s.state.load("nobody") is None
        await s.state.delete("u1")
        assert await s.state.load("u1") is None
    finally:
        await s.close()


async def test_a_bad_question_row_is_skipped_alone(store, clock):
    for i in range(80):
        await store.questions.log(f"u{i}", "身份证怎么办", "item", "id-card-reissue", True)
    await store.questions.log("bad", "\ud800坏字符", "unknown", None, False)  # a lone surrogate
    await store.questions.flush()
    (top,) = await store.questions.top(
        clock.now() - dt.timedelta(days=1), clock.now() + dt.timedelta(days=1), unanswered=False, limit=5
    )
    assert (top.key, top.count) == ("id-card-reissue", 80)
    (gap,) = await store.questions.top(
        clock.now() - dt.timedelta(days=1), clock.now() + dt.timedelta(days=1), unanswered=True, limit=5
    )
    assert gap.count == 1 and gap.key.endswith("坏字符")


async def test_staff_and_meta(store, clock):
    await store.staff.upsert(StaffMember("7", "小王", "handler", ("公安局",)), "admin", clock.now())
    assert (await store.staff.get("7")).departments == ("公安局",)
    assert [m.user_id for m in await store.staff.list()] == ["7"]
    assert await store.staff.remove("7", "admin", clock.now()) is True
    assert await store.staff.remove("7", "admin", clock.now()) is False
    assert await store.meta.get("calendar") is None
    await store.meta.set("calendar", "abc")
    await store.meta.set("calendar", "def")
    assert await store.meta.get("calendar") == "def"


async def test_attention_lists_read_from_tickets_open_as_they_read_from_the_state_index(tmp_path, clock):
    """reports.attention() reads tickets_open (migration 4): the same counts and the same tickets in the same
    order as the state index's reading before it, deadlines tied on purpose, red and yellow, every scope."""
    import random

    from bot.core.storage.rows import TICKET_COLUMNS
    from bot.core.storage.sqlite.reports import attention_where
    from bot.core.storage.sqlite.tickets import URGENCY_ORDER

    path = tmp_path / "t.db"
    s = await open_sqlite_store(path, clock=clock)
    await s.close()
    now = int(clock.now().timestamp())
    rng = random.Random(4)
    states = ("待受理", "办理中", "已办结", "已关闭")
    departments = ("公安局", "住建局", "市场监管局", "人社局")
    rows = []
    for i in range(1, 3001):
        created = now - rng.choice((1, 2, 3, 5, 8)) * 3600 * 24
        dues = [now + rng.choice((-2, -1, 1, 2, 3)) * 3600 for _ in range(3)]  # few values: many ties
        mets = [None if rng.random() < 0.7 else created + 60 for _ in range(3)]
        rows.append(
            (f"SQ-{i}", "20261123", i, f"c{i}", "诉求", "其他", rng.choice(departments),
             rng.choice(("2110", "urgent", "safety")), rng.choice(states), created, created,
             dues[0], mets[0], dues[1], mets[1], dues[2], mets[2], created)
        )  # fmt: skip
    rng.shuffle(rows)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO tickets(number, day, seq, citizen_id, description, category, department, policy,"
            " state, created_at, updated_at, contact_due, contact_met, feedback_due, feedback_met, resolve_due,"
            " resolve_met, round_started_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT department, COUNT(*) FROM tickets INDEXED BY tickets_open"
            " WHERE state IN ('待受理','办理中') AND contact_met IS NULL GROUP BY department"
        ).fetchall()
        assert any("COVERING INDEX tickets_open" in r[-1] for r in plan)  # the wide rows are never read
    s = await open_sqlite_store(path, clock=clock)
    warn = {"warn_at": {"2110": 0.75, "urgent": 0.5}, "default_warn": 0.8}
    try:
        with sqlite3.connect(path) as conn:
            for level in ("red", "yellow"):
                for scope in (None, ("公安局",), ("住建局", "人社局"), ()):
                    for limit in (0, 1, 10, 5000):
                        got, counts = await s.reports.attention(
                            clock.now(), level, departments=scope, limit=limit, **warn
                        )
                        # the previous reading, through the state index, as it was written
                        where, params = attention_where(clock.now(), level, **warn, departments=scope)
                        source = "tickets INDEXED BY tickets_state"
                        want_counts = dict(
                            conn.execute(
                                f"SELECT department, COUNT(*) FROM {source} WHERE {where} GROUP BY department",
                                params,
                            ).fetchall()
                        )
                        want = conn.execute(
                            f"SELECT {TICKET_COLUMNS} FROM {source} WHERE {where}"
                            f" ORDER BY {URGENCY_ORDER} LIMIT :limit",
                            {**params, "limit": limit if want_counts else 0},
                        ).fetchall()
                        assert counts == want_counts and sum(counts.values()) > 0 or scope == ()
                        assert [t.number for t in got] == [r[1] for r in want], (level, scope, limit)
    finally:
        await s.close()
