"""The store's repositories: migrations, numbering under concurrency, changes with their events, the outbox
and its claims, conversation state, the question log and the meta facts — on every engine (the `engine`
fixture: [sqlite] always, [postgres] when TEST_DATABASE_URL names a server)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest

from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.core.messages import Button, Notification, Recipient, Reply
from bot.core.storage import ConflictError, MigrationError, SlaCount
from bot.core.storage.sqlite.migrations import MIGRATIONS as SQLITE_MIGRATIONS
from bot.core.tickets.domain.models import Change, EventIn, NewTicket, ReminderKey, StaffMember, TicketQuery

# every migration, by number (the same numbers on both engines)
ALL = [version for version, _, _ in SQLITE_MIGRATIONS]


def test_both_engines_number_their_migrations_alike():
    from bot.core.storage.postgres.migrations import MIGRATIONS as PG

    assert [v for v, _, _ in PG] == ALL and ALL == sorted(ALL)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=DEFAULT_TZ)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(2026, 11, 23, 9, 0))


@pytest.fixture
async def store(engine, clock):
    s = await engine.open(clock=clock)
    yield s
    await s.close()


@pytest.fixture
async def two_stores(engine, clock):
    """Two stores on one database, as two processes would have them."""
    a = await engine.open(clock=clock)
    b = await engine.open(clock=clock)
    yield a, b
    await a.close()
    await b.close()


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


async def test_migrations_are_numbered_and_applied_once(engine):
    for _ in range(2):
        s = await engine.open()
        assert await s.schema_versions() == ALL
        await s.close()
    if engine.name == "sqlite":
        with sqlite3.connect(engine.path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_processes_starting_at_once_apply_each_migration_once(engine):
    stores = await asyncio.gather(*(engine.open() for _ in range(4)))
    try:
        for s in stores:
            assert await s.schema_versions() == ALL
    finally:
        for s in stores:
            await s.close()


async def test_status_lists_pending_migrations_until_migrate_applies_them(engine, clock):
    s = await engine.open(clock=clock, migrate=False)
    try:
        status = await s.migration_status()
        assert status.applied == []
        assert [v for v, _ in status.pending] == ALL
        assert status.pending[3][1] == "outbox: claimed by one sender at a time"
        assert await s.migrate() == ALL
        assert await s.migrate() == []
        status = await s.migration_status()
        assert status.pending == [] and [m.version for m in status.applied] == ALL
        assert status.applied[0].applied_at == clock.now()
        await s.state.save("u1", {"step": "phone"})  # the repositories work once migrated
        assert await s.state.load("u1") == {"step": "phone"}
    finally:
        await s.close()


async def test_a_failing_migration_is_rolled_back_whole_and_named(engine):
    from bot.core.storage.postgres.migrations import MIGRATIONS as PG
    from bot.core.storage.sqlite.migrations import MIGRATIONS as SQLITE

    known = SQLITE if engine.name == "sqlite" else PG
    n = max(v for v, _, _ in known) + 1  # the next number
    broken = (
        n,
        "half a migration",
        ["CREATE TABLE half_done (x INTEGER)", "ALTER TABLE nowhere ADD y INTEGER"],
    )
    with pytest.raises(MigrationError) as failed:
        await engine.open(migrations=[*known, broken])
    assert failed.value.version == n
    assert f"数据库迁移 {n}（half a migration）失败，已整体回滚" in str(failed.value)
    assert "nowhere" in str(failed.value)
    # nothing of the broken migration stayed: its first table can be created again, and the others are intact
    fixed = (n, "the same, fixed", ["CREATE TABLE half_done (x INTEGER)"])
    s = await engine.open(migrations=[*known, fixed])
    try:
        assert await s.schema_versions() == [*(v for v, _, _ in known), n]
    finally:
        await s.close()


async def test_concurrent_creations_get_unique_consecutive_numbers_with_events_and_notifications(
    store, clock
):
    tickets = await asyncio.gather(*(store.tickets.create(new_ticket(clock, i), hook) for i in range(120)))
    numbers = sorted(t.number for t in tickets)
    assert numbers == [f"SQ20261123-{i:04d}" for i in range(1, 121)]
    t = tickets[7]
    assert await store.tickets.get(t.number) == t  # what create returned is what was stored
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
    assert isinstance(results[1], Exception)  # the engine's "NOT NULL constraint failed"
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


async def test_apply_many_whole_writes_nothing_when_one_change_conflicts(store, clock):
    """并单 changes two tickets together: a conflict on either leaves both as they were."""
    a = await store.tickets.create(new_ticket(clock, 1), hook)
    b = await store.tickets.create(new_ticket(clock, 2), hook)
    await store.tickets.apply(Change(b, clock.now(), {"handler": "h1"}, []))  # b moved on
    note = Notification(Recipient("user", a.citizen_id), Reply("已并入"), f"{a.number}:merged")
    with pytest.raises(ConflictError):
        await store.tickets.apply_many(
            [
                Change(a, clock.now(), {"merged_into": b.number}, [EventIn("s1", "merge")], [note]),
                Change(b, clock.now(), {}, [EventIn("s1", "merged")]),
            ],
            whole=True,
        )
    after = await store.tickets.get(a.number)
    assert after is not None and after.merged_into is None and after.version == a.version
    assert "merge" not in [e.action for e in await store.tickets.events(a.id)]
    assert "merged" not in [e.action for e in await store.tickets.events(b.id)]
    assert all(r.notification.dedup_key != note.dedup_key for r in await store.outbox.due(clock.now(), 50))
    fresh_b = await store.tickets.get(b.number)
    assert fresh_b is not None
    both = await store.tickets.apply_many(
        [
            Change(a, clock.now(), {"merged_into": b.number}, [EventIn("s1", "merge")]),
            Change(fresh_b, clock.now(), {}, [EventIn("s1", "merged")]),
        ],
        whole=True,
    )
    assert [t.merged_into if t else "?" for t in both] == [b.number, None]


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


async def test_state_survives_a_restart(engine, clock):
    s = await engine.open(clock=clock)
    await s.state.save("u1", {"step": "phone"})
    await s.state.save("u1", {"step": "summary"})
    await s.close()
    s = await engine.open(clock=clock)
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


REFUSE_ONE_ROW = {
    "sqlite": [
        "CREATE TRIGGER refuse_bad BEFORE INSERT ON questions WHEN NEW.user_id = 'bad'"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgres": [
        "CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN IF NEW.user_id = 'bad' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse_bad BEFORE INSERT ON questions FOR EACH ROW EXECUTE FUNCTION refuse_bad()",
    ],
}


async def test_a_row_the_database_refuses_is_skipped_and_logged_alone(store, engine, clock, caplog):
    # whatever makes one row fail (here a trigger; in the field a value the driver or a constraint refuses),
    # the 80 other questions of its batch are written and the one is logged
    db = store.questions.db
    for sql in REFUSE_ONE_ROW[engine.name]:
        await (db.write(sql) if engine.name == "sqlite" else db.execute(sql))
    for i in range(40):
        await store.questions.log(f"u{i}", "身份证怎么办", "item", "id-card-reissue", True)
    await store.questions.log("bad", "被拒绝的一行", "unknown", None, False)
    for i in range(40, 80):
        await store.questions.log(f"u{i}", "身份证怎么办", "item", "id-card-reissue", True)
    await store.questions.flush()
    day = (clock.now() - dt.timedelta(days=1), clock.now() + dt.timedelta(days=1))
    (top,) = await store.questions.top(*day, unanswered=False, limit=5)
    assert (top.key, top.count) == ("id-card-reissue", 80)
    assert await store.questions.top(*day, unanswered=True, limit=5) == []
    skipped = [r for r in caplog.records if "question-log row" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].exc_info is not None


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


async def test_two_stores_creating_at_once_get_unique_consecutive_numbers(two_stores, clock):
    a, b = two_stores
    tickets = await asyncio.gather(
        *((a if i % 2 else b).tickets.create(new_ticket(clock, i), hook) for i in range(200))
    )
    assert sorted(t.number for t in tickets) == [f"SQ20261123-{i:04d}" for i in range(1, 201)]
    assert await a.tickets.count(TicketQuery()) == 200
    assert len(await b.outbox.due(clock.now(), 1000)) == 200


async def test_numbers_restart_each_day(store, clock):
    first = await store.tickets.create(new_ticket(clock), hook)
    clock.advance(days=1)
    second = await store.tickets.create(new_ticket(clock), hook)
    assert (first.number, second.number) == ("SQ20261123-0001", "SQ20261124-0001")


async def test_claims_hand_each_due_notification_to_one_owner(store, clock):
    for i in range(5):
        await store.outbox.enqueue(Notification(Recipient("user", str(i)), Reply(f"n{i}"), f"k{i}"))
    lease = dt.timedelta(minutes=2)
    mine = await store.outbox.claim(clock.now(), 3, "p1", lease)
    theirs = await store.outbox.claim(clock.now(), 10, "p2", lease)
    assert [r.notification.reply.html for r in mine] == ["n0", "n1", "n2"]
    assert [r.notification.reply.html for r in theirs] == ["n3", "n4"]
    assert await store.outbox.claim(clock.now(), 10, "p3", lease) == []
    assert len(await store.outbox.due(clock.now(), 10)) == 5  # looking is not claiming
    # sent and failed release the claim; a failed one is claimable again when its retry time comes
    await store.outbox.sent(mine[0].id, clock.now())
    await store.outbox.failed(mine[1].id, "RetryAfter 5", clock.now() + dt.timedelta(seconds=5))
    later = clock.now() + dt.timedelta(seconds=5)
    assert [r.id for r in await store.outbox.claim(later, 10, "p3", lease)] == [mine[1].id]
    # a claim whose owner went away runs out with its lease
    expired = clock.now() + lease
    again = await store.outbox.claim(expired, 10, "p4", lease)
    assert sorted(r.id for r in again) == sorted([mine[2].id, *(r.id for r in theirs)])


async def test_two_stores_claiming_at_once_never_get_the_same_row(two_stores, clock):
    a, b = two_stores
    for i in range(300):
        await a.outbox.enqueue(Notification(Recipient("user", str(i)), Reply(f"n{i}"), f"k{i}"))
    lease = dt.timedelta(minutes=5)

    async def drain(store, owner):
        got = []
        while batch := await store.outbox.claim(clock.now(), 7, owner, lease):
            got += [r.id for r in batch]
        return got

    claimed = await asyncio.gather(
        *(drain(s, f"{name}{i}") for i in range(4) for name, s in (("a", a), ("b", b)))
    )
    every = [i for ids in claimed for i in ids]
    assert len(every) == 300 and len(set(every)) == 300
    assert sum(1 for ids in claimed if ids) > 1  # they really took turns


async def test_text_with_a_nul_character_is_kept(store, clock):
    t = await store.tickets.create(new_ticket(clock, description="垃圾\x00没人清运"), hook)
    got = (await store.tickets.get(t.number)).description
    assert t.description == got
    assert got.startswith("垃圾") and got.endswith("没人清运") and len(got) == 7


async def test_queries_and_reports_agree_on_every_engine(store, clock):
    now = clock.now()
    h = dt.timedelta(hours=1)
    fresh = await store.tickets.create(
        new_ticket(clock, 1, department="甲局", resolve_due=now + dt.timedelta(days=10), next_due_at=now + h),
        hook,
    )
    overdue = await store.tickets.create(
        new_ticket(clock, 2, department="乙局", contact_due=now - h, next_due_at=now - h), hook
    )
    # created three hours ago, contact due in half an hour: past 75% of its window, not yet overdue
    warned = await store.tickets.create(
        new_ticket(clock, 3, department="甲局", created_at=now - 3 * h, contact_due=now + h / 2), hook
    )
    done = await store.tickets.create(new_ticket(clock, 4, department="乙局"), hook)
    claimed = await store.tickets.apply(
        Change(fresh, now, {"state": "办理中", "handler": "h1", "contact_met": now}, [EventIn("h1", "claim")])
    )
    await store.tickets.apply(
        Change(
            done,
            now,
            {"state": "已办结", "contact_met": now, "resolve_met": now, "rating": 4, "rated_at": now},
            [EventIn("h2", "resolve")],
            reminders=[ReminderKey("contact", "red", 1)],
        )
    )
    numbers = lambda ts: [t.number for t in ts]  # noqa: E731
    q = store.tickets
    assert numbers(await q.list(TicketQuery(departments=("甲局",)))) == [warned.number, fresh.number]
    assert numbers(await q.list(TicketQuery(departments=()))) == []
    assert numbers(await q.list(TicketQuery(states=("办理中",)))) == [fresh.number]
    assert numbers(await q.list(TicketQuery(handler="h1"))) == [fresh.number]
    assert numbers(await q.list(TicketQuery(citizen_id="c2"))) == [overdue.number]
    assert numbers(await q.list(TicketQuery(seq=warned.seq))) == [warned.number]
    assert numbers(await q.list(TicketQuery(after_id=fresh.id, newest_first=False, limit=2))) == [
        overdue.number,
        warned.number,
    ]
    assert numbers(await q.list(TicketQuery(created_from=now - h, created_to=now + h, limit=10))) == [
        done.number,
        overdue.number,
        fresh.number,
    ]
    assert numbers(await q.list(TicketQuery(due_to=now))) == [overdue.number]
    assert numbers(await q.list(TicketQuery(due_from=now, due_to=now + dt.timedelta(days=30)))) == [
        warned.number,
        fresh.number,
    ]
    assert await q.count(TicketQuery(departments=("乙局",))) == 2
    assert numbers(await q.due_for_reminders(now, 10)) == [overdue.number]
    assert (await q.reminders_sent([done.id, fresh.id])) == {
        done.id: {("contact", "red", 0, 1)},
        fresh.id: set(),
    }
    assert claimed.contact_met == now and claimed.version == 1

    day = (now.replace(hour=0, minute=0), now.replace(hour=0, minute=0) + dt.timedelta(days=1))
    r = store.reports
    assert await r.count_created(*day) == {"甲局": 2, "乙局": 2}
    assert await r.count_resolved(*day) == {"乙局": 1}
    assert await r.open_by_state() == {("甲局", "办理中"): 1, ("甲局", "待受理"): 1, ("乙局", "待受理"): 1}
    red, red_counts = await r.attention(now, "red", warn_at={}, default_warn=0.75)
    assert numbers(red) == [overdue.number] and red_counts == {"乙局": 1}
    yellow, yellow_counts = await r.attention(now, "yellow", warn_at={}, default_warn=0.75)
    assert numbers(yellow) == [warned.number] and yellow_counts == {"甲局": 1}
    # a policy of its own that warns later: 3 h of 3.5 h is not yet 90%
    assert await r.attention(now, "yellow", warn_at={"2110": 0.9}, default_warn=0.75) == ([], {})
    assert await r.attention(now, "red", warn_at={}, default_warn=0.75, departments=("甲局",)) == ([], {})
    only_count, counts = await r.attention(now, "red", warn_at={}, default_warn=0.75, limit=0)
    assert only_count == [] and counts == {"乙局": 1}
    sla = await r.sla_counts(now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    assert sla["乙局"]["contact"] == SlaCount(met=1, due=2)
    assert sla["甲局"]["contact"] == SlaCount(met=1, due=2)
    assert await r.satisfaction(*day) == {"乙局": (4, 1)}


async def test_the_created_ticket_is_what_was_stored(store, clock):
    odd = clock.now() + dt.timedelta(microseconds=654321)  # stored to the second
    t = await store.tickets.create(
        new_ticket(clock, 5, created_at=odd, anonymous=True, place="东门", priority="urgent", phone="138"),
        hook,
    )
    assert t.created_at == clock.now() and t.anonymous is True and t.round == 0 and t.version == 0
    assert await store.tickets.get(t.number) == t
