"""The store: migrations, concurrent numbering, the persisted outbox, intake drafts."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

from bot.core.clock import FixedClock
from bot.core.messages import Button, Notification, Recipient, Reply
from bot.core.storage.sqlite import open_sqlite_store
from bot.core.storage.sqlite.migrations import MIGRATIONS
from tests.test_tickets_helpers import at, make_service


async def test_migrations_are_numbered_and_applied_once(tmp_path):
    db = tmp_path / "t.db"
    store = await open_sqlite_store(db)
    assert await store.schema_versions() == [version for version, _, _ in MIGRATIONS]
    await store.close()
    store = await open_sqlite_store(db)
    assert await store.schema_versions() == [version for version, _, _ in MIGRATIONS]
    await store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


async def test_version_1_database_is_migrated_with_its_pending_notifications(tmp_path):
    db = tmp_path / "v1.db"
    with sqlite3.connect(db) as conn:  # a database as the first release left it
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        version, name, statements = MIGRATIONS[0]
        for sql in statements:
            conn.execute(sql)
        conn.execute("INSERT INTO schema_migrations VALUES (?,?,0)", (version, name))
        conn.execute(
            "INSERT INTO outbox(recipient_kind, recipient_id, html, created_at) VALUES ('user','42','您好',0)"
        )
    clock = FixedClock(at(2026, 11, 23, 9, 0))
    store = await open_sqlite_store(db, clock=clock)
    try:
        assert await store.schema_versions() == [version for version, _, _ in MIGRATIONS]
        (row,) = await store.outbox.due(clock.now())
        assert row.notification.reply.html == "您好" and row.delivered == () and row.parked_at is None
    finally:
        await store.close()


async def test_meta_values_are_kept_and_replaced(tmp_path):
    db = tmp_path / "t.db"
    store = await open_sqlite_store(db)
    try:
        assert await store.meta.get("calendar_fingerprint") is None
        await store.meta.set("calendar_fingerprint", "a1")
        await store.meta.set("calendar_fingerprint", "b2")
    finally:
        await store.close()
    store = await open_sqlite_store(db)
    try:
        assert await store.meta.get("calendar_fingerprint") == "b2"
    finally:
        await store.close()


async def test_hundred_concurrent_creators_get_unique_consecutive_numbers(tmp_path):
    clock = FixedClock(at(2026, 11, 22, 23, 59))
    service = await make_service(tmp_path / "t.db", clock, staff=False)
    try:

        async def create(i: int):
            return await service.create(citizen_id=f"c{i}", description=f"诉求{i}", category="其他")

        tickets = await asyncio.gather(*(create(i) for i in range(100)))
        numbers = [t.number for t in tickets]
        assert len(set(numbers)) == 100
        assert sorted(numbers) == [f"SQ20261122-{i:04d}" for i in range(1, 101)]
        clock.advance(minutes=1)  # a new day starts a new sequence
        assert (await create(0)).number == "SQ20261123-0001"
    finally:
        await service.store.close()


async def test_outbox_dedup_due_sent_and_retry(tmp_path):
    clock = FixedClock(at(2026, 11, 23, 9, 0))
    store = await open_sqlite_store(tmp_path / "t.db", clock=clock)
    try:
        n = Notification(
            Recipient("user", "42"), Reply("<b>您好</b>", [[Button("认领", "claim:SQ20261123-0001")]]), "k1"
        )
        assert await store.outbox.enqueue(n) is True
        assert await store.outbox.enqueue(n) is False  # same dedup_key: queued once
        assert await store.outbox.enqueue(Notification(Recipient("department", "公安局"), Reply("x"))) is True
        due = await store.outbox.due(clock.now(), 10)
        assert [r.notification.dedup_key for r in due] == ["k1", None]
        assert due[0].notification == n  # buttons survive the round trip
        await store.outbox.failed(due[0].id, "RetryAfter 30", clock.now() + dt.timedelta(seconds=30))
        await store.outbox.sent(due[1].id, clock.now())
        assert await store.outbox.due(clock.now(), 10) == []
        later = await store.outbox.due(clock.now() + dt.timedelta(seconds=30), 10)
        assert [(r.notification.dedup_key, r.attempts, r.last_error) for r in later] == [
            ("k1", 1, "RetryAfter 30")
        ]
        await store.outbox.sent(later[0].id, clock.now())
        assert await store.outbox.enqueue(n) is False  # still deduplicated after sending
    finally:
        await store.close()


async def test_drafts_survive_a_restart(tmp_path):
    db = tmp_path / "t.db"
    store = await open_sqlite_store(db)
    await store.state.save("u1", {"step": "phone", "description": "路灯坏了", "when": at(2026, 11, 23)})
    await store.state.save("u1", {"step": "confirm", "description": "路灯坏了"})
    await store.close()
    store = await open_sqlite_store(db)
    try:
        assert await store.state.load("u1") == {"step": "confirm", "description": "路灯坏了"}
        assert await store.state.load("nobody") is None
        await store.state.delete("u1")
        assert await store.state.load("u1") is None
    finally:
        await store.close()


async def test_parked_notification_waits_for_requeue(tmp_path):
    clock = FixedClock(at(2026, 11, 23, 9, 0))
    store = await open_sqlite_store(tmp_path / "t.db", clock=clock)
    try:
        await store.outbox.enqueue(Notification(Recipient("user", "42"), Reply("诉求已办结")))
        await store.outbox.enqueue(Notification(Recipient("user", "43"), Reply("诉求已受理")))
        first, second = await store.outbox.due(clock.now(), 10)
        await store.outbox.failed(first.id, "Forbidden: bot was blocked by the user", clock.now(), park=True)
        clock.advance(days=400)
        assert [r.id for r in await store.outbox.due(clock.now(), 10)] == [second.id]  # never due again
        (parked,) = await store.outbox.parked()
        assert parked.id == first.id and "blocked" in parked.last_error and parked.parked_at is not None
        assert await store.outbox.requeue([second.id], clock.now()) == 0  # not parked: untouched
        assert await store.outbox.requeue(None, clock.now()) == 1
        due = await store.outbox.due(clock.now(), 10)
        assert sorted((r.id, r.attempts, r.parked_at) for r in due) == [
            (first.id, 0, None),
            (second.id, 0, None),
        ]
        assert await store.outbox.parked() == []
    finally:
        await store.close()


async def test_delivery_progress_of_a_multi_chat_notification_survives_reopening(tmp_path):
    clock = FixedClock(at(2026, 11, 23, 9, 0))
    store = await open_sqlite_store(tmp_path / "t.db", clock=clock)
    await store.outbox.enqueue(Notification(Recipient("department", "公安局"), Reply("新诉求")))
    (row,) = await store.outbox.due(clock.now(), 10)
    await store.outbox.delivered(row.id, ["-1001"])
    await store.close()
    store = await open_sqlite_store(tmp_path / "t.db", clock=clock)
    try:
        (row,) = await store.outbox.due(clock.now(), 10)
        assert row.delivered == ("-1001",)
    finally:
        await store.close()
