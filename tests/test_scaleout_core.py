"""Several processes on one database, through the core: the reminder tick, the daily digests, update ids and
the dialogue context. Two stores (or two whole assistants) on one database stand for two processes; each test
runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL. What needs state shared between processes without a
per-process cache runs on PostgreSQL only (one process owns an SQLite file)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.core.clock import FixedClock
from bot.core.leases import Leases
from bot.core.messages import Incoming, Reply
from bot.core.outbox import Outbox
from bot.core.scheduler import DIGEST_LEASE, Scheduler
from bot.core.tickets.domain.calendar import WorkingCalendar
from bot.core.tickets.domain.models import StaffMember, TicketQuery
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.reminders import tick
from bot.core.tickets.service import TicketService
from tests.conftest import make_settings
from tests.store_engines import requires_postgres
from tests.test_tickets_helpers import ADMIN, at, small_kb


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(2026, 11, 23, 9, 30))  # a Monday


@pytest.fixture
async def two_services(engine, clock):
    """Two ticket services, each on its own store (its own connections), on one database."""
    stores = [await engine.open(clock=clock) for _ in range(2)]
    services = [TicketService(s, small_kb(), clock, load_policies(), {ADMIN}) for s in stores]
    await stores[0].staff.upsert(
        StaffMember("s-cg", "城管张科长", "supervisor", ("城市管理局",)), ADMIN, clock.now()
    )
    yield services
    for s in stores:
        await s.close()


async def remind_counts(store, numbers: list[str]) -> tuple[int, int, int]:
    """(remind events, recorded reminders, queued reminder notifications) over these tickets."""
    events = sent = 0
    tickets = [await store.tickets.get(n) for n in numbers]
    for t in tickets:
        events += sum(e.action == "remind" for e in await store.tickets.events(t.id))
    recorded = await store.tickets.reminders_sent([t.id for t in tickets])
    sent = sum(len(v) for v in recorded.values())
    far = await store.outbox.due(at(2036, 1, 1), 100_000)
    queued = sum((r.notification.dedup_key or "").startswith("remind:") for r in far)
    return events, sent, queued


async def test_two_processes_ticking_at_once_queue_each_reminder_once(two_services, clock):
    a, b = two_services
    # more than one tick batch (500) of tickets falling due at once
    made = await asyncio.gather(
        *(a.create(citizen_id=f"c{i}", description=f"窨井冒水{i}", category="城乡建设") for i in range(620))
    )
    clock.set(at(2026, 11, 23, 11, 0))  # 75% of the contact window: one warning each, to the department
    counts = await asyncio.gather(tick(a), tick(b), tick(a), tick(b))
    assert sum(counts) == 620, counts  # each reminder counted by the one tick that queued it
    assert await remind_counts(a.store, [t.number for t in made]) == (620, 620, 620)
    assert await asyncio.gather(tick(a), tick(b)) == [0, 0]


async def test_the_tick_lease_lets_one_process_tick_at_a_time(two_services, clock):
    a, b = two_services
    await a.create(citizen_id="c1", description="路灯不亮", category="城乡建设")
    clock.set(at(2026, 11, 23, 11, 0))
    calendar = WorkingCalendar()

    def scheduler(service: TicketService, owner: str) -> Scheduler:
        async def no_digest(department, day):  # not used here
            raise AssertionError

        async def ticker(now):
            return await tick(service, now)

        outbox = Outbox(service.store.outbox, clock, owner)
        leases = Leases(service.store.leases, clock, owner)
        return Scheduler(calendar, outbox, clock, digest=no_digest, tick=ticker, leases=leases)

    first, second = scheduler(a, "p1"), scheduler(b, "p2")
    async with first.leases.held("tick", dt.timedelta(minutes=2)) as mine:
        assert mine
        assert await second.tick() == 0  # p1 is ticking: p2 leaves it alone
    assert await second.tick() == 1  # released: p2 ticks
    assert await first.tick() == 0  # and nothing is left to queue
    # a holder that died: its lease blocks the tick until it runs out, then anyone takes over
    clock.set(at(2026, 11, 23, 11, 30))
    assert await first.leases.acquire("tick", dt.timedelta(minutes=2))
    clock.set(at(2026, 11, 23, 11, 31))  # the contact deadline passed: its breach is due
    assert await second.tick() == 0
    clock.set(at(2026, 11, 23, 11, 32))  # p1's lease ran out
    assert await second.tick() == 1


async def test_each_groups_digest_is_built_once_a_day_across_processes(engine, clock):
    stores = [await engine.open(clock=clock) for _ in range(3)]
    built: list[tuple[str, str | None]] = []
    groups = {"公安局": "公安局", "城市管理局": "城市管理局", "*": None}

    def scheduler(i: int) -> Scheduler:
        async def digest(department, day):
            built.append((f"p{i}", department))
            await asyncio.sleep(0.05)  # building takes a while: the others ask meanwhile
            return Reply(f"日报 {department}")

        owner = f"p{i}"
        outbox = Outbox(stores[i].outbox, clock, owner)
        leases = Leases(stores[i].leases, clock, owner)
        return Scheduler(WorkingCalendar(), outbox, clock, digest=digest, leases=leases)

    try:
        procs = [scheduler(i) for i in range(3)]
        rounds = await asyncio.gather(*(p.digest_round(clock.now().date(), groups) for p in procs))
        assert sum(r.queued for r in rounds) == 3
        assert sorted(d or "*" for _, d in built) == ["*", "公安局", "城市管理局"]  # each built once
        # later the same day (a process starting late, the look-again job): nothing is built again
        clock.advance(hours=3)
        again = await asyncio.gather(*(p.digest_round(clock.now().date(), groups) for p in procs))
        assert [r.queued for r in again] == [0, 0, 0] and len(built) == 3
        keys = [r.notification.dedup_key for r in await stores[0].outbox.due(at(2036, 1, 1), 100)]
        assert sorted(keys) == [f"digest:2026-11-23:{g}" for g in sorted(groups)]

        # a builder that died holding the next day's lease: the others skip it until the lease runs out
        day = dt.date(2026, 11, 24)
        clock.set(at(2026, 11, 24, 8, 30))
        assert await Leases(stores[0].leases, clock, "dead").acquire(f"digest:{day}:公安局", DIGEST_LEASE)
        got = await procs[1].digest_round(day, {"公安局": "公安局"})
        assert (got.queued, got.elsewhere) == (0, ("公安局",))
        clock.advance(seconds=DIGEST_LEASE.total_seconds())
        got = await procs[2].digest_round(day, {"公安局": "公安局"})
        assert (got.queued, got.elsewhere) == (1, ())
        assert built[-1] == ("p2", "公安局")
    finally:
        for s in stores:
            await s.close()


@pytest.fixture
async def two_assistants(engine, clock, real_answering):
    """Two whole assistants on one database, as two bot processes have them."""
    from bot.app import build

    where = (
        {"database_path": engine.database} if engine.name == "sqlite" else {"database_url": engine.database}
    )
    apps = [
        await build(make_settings(**where, admin_ids=frozenset({999})), clock=clock, answering=real_answering)
        for _ in range(2)
    ]
    yield [app.assistant for app in apps]
    for app in apps:
        await app.aclose()


async def test_an_update_is_first_seen_by_one_process_only(two_assistants):
    a, b = two_assistants
    got = await asyncio.gather(*(x.first_time(u) for u in range(100, 130) for x in (a, b)))
    assert sum(got) == 30
    assert await a.first_time(100) is False and await b.first_time(131) is True


async def test_update_ids_are_forgotten_by_the_tick_after_two_days(two_assistants, clock):
    a, b = two_assistants
    assert await a.first_time(5) is True
    clock.advance(hours=47)
    await b.tick()
    assert await b.first_time(5) is False  # still remembered
    clock.advance(hours=2)
    await b.tick()
    assert await a.first_time(5) is True  # forgotten after 48 hours


def text_of(replies) -> str:
    return "\n".join(r.html for r in replies)


@requires_postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_a_conversation_continues_in_another_process(two_assistants):
    a, b = two_assistants
    assert a.contexts.__class__.__name__ == "SharedContextStore"  # auto: shared on PostgreSQL
    first = text_of(await a.handle(Incoming("77", "77", text="身份证丢了怎么补办")))
    assert "居民身份证" in first
    follow = text_of(await b.handle(Incoming("77", "77", text="要多少钱")))
    assert "居民身份证" in follow and "费" in follow
    # an intake begun in one process goes on in the other, and the draft is the same one
    start = await a.handle(Incoming("78", "78", text="我们小区门口的路灯坏了半个多月了也没人修，晚上很危险"))
    assert "登记诉求" in text_of(start)
    confirm = [b_.data for r in start for row in r.buttons for b_ in row if "是这一类" in b_.label]
    place = await b.handle(Incoming("78", "78", callback=confirm[0]))
    assert "地点" in text_of(place) or "位置" in text_of(place)


@requires_postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_submit_pressed_twice_and_answered_by_two_processes_at_once_files_one_ticket(two_assistants):
    a, b = two_assistants

    def data(replies, label: str) -> str:
        return next(x.data for r in replies for row in r.buttons for x in row if label in x.label)

    user = "79"
    replies = await a.handle(
        Incoming(user, user, text="我们小区门口的路灯坏了半个多月了也没人修，晚上很危险")
    )
    replies = await b.handle(Incoming(user, user, callback=data(replies, "是这一类")))
    replies = await a.handle(Incoming(user, user, text="幸福小区东门"))
    replies = await b.handle(Incoming(user, user, text="13812345678"))
    replies = await a.handle(Incoming(user, user, callback=data(replies, "实名")))
    submit = Incoming(user, user, callback=data(replies, "提交"))
    first, second = await asyncio.gather(a.handle(submit), b.handle(submit))
    texts = sorted([text_of(first), text_of(second)], key=lambda t: "已登记" in t)
    assert "已经结束" in texts[0] and "已登记" in texts[1], texts
    assert len(await a.service.store.tickets.list(TicketQuery(citizen_id=user))) == 1


@requires_postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_without_shared_contexts_another_process_has_no_context(engine, clock, real_answering):
    """The same conversation with DIALOGUE_CONTEXT=memory: the second process cannot follow up."""
    from bot.app import build

    apps = [
        await build(
            make_settings(database_url=engine.database, dialogue_context="memory"),
            clock=clock,
            answering=real_answering,
        )
        for _ in range(2)
    ]
    try:
        a, b = (app.assistant for app in apps)
        await a.handle(Incoming("77", "77", text="身份证丢了怎么补办"))
        follow = text_of(await b.handle(Incoming("77", "77", text="要多少钱")))
        assert "居民身份证" not in follow
    finally:
        for app in apps:
            await app.aclose()


@requires_postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_expired_contexts_are_purged_by_the_tick(two_assistants, clock, engine):
    a, b = two_assistants
    await a.handle(Incoming("77", "77", text="身份证丢了怎么补办"))
    assert await engine.fetchval("SELECT count(*) FROM drafts WHERE user_id = 'dialogue:77'") == 1
    clock.advance(minutes=31)
    await b.tick()
    assert await engine.fetchval("SELECT count(*) FROM drafts WHERE user_id = 'dialogue:77'") == 0
    follow = text_of(await b.handle(Incoming("77", "77", text="要多少钱")))
    assert "居民身份证" not in follow


def test_dialogue_context_setting(tmp_path):
    from bot.settings import ConfigError

    assert not make_settings().shared_dialogue_context
    assert make_settings(database_url="postgresql://u@h/d").shared_dialogue_context
    assert not make_settings(
        database_url="postgresql://u@h/d", dialogue_context="memory"
    ).shared_dialogue_context
    assert make_settings(dialogue_context="database").shared_dialogue_context
    assert not make_settings(database_url=f"sqlite:///{tmp_path}/x.db").shared_dialogue_context
    with pytest.raises(ConfigError) as bad:
        make_settings(dialogue_context="redis")
    assert "DIALOGUE_CONTEXT" in str(bad.value)
