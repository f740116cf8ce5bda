"""Several bot processes in webhook mode behind one URL, on one PostgreSQL database: real `python -m bot run`
processes behind the local dispatcher (tests/webhook_dispatcher.py), against the Bot API stand-in, driven by
citizens who each wait for an answer before typing on, so consecutive messages of one person reach different
processes. PostgreSQL only (TEST_DATABASE_URL); each test in a schema of its own."""

from __future__ import annotations

import asyncio
import collections
import subprocess
import time

import pytest

from tests.bot_cluster import NUMBER, ROOT, STAFF_GROUP, Cluster, Person, webhook_mode
from tests.store_engines import PostgresEngine, requires_postgres
from tests.tg_standin import BotApiStandIn
from tests.webhook_dispatcher import Dispatcher

pytestmark = requires_postgres


@pytest.fixture
async def database():
    """A schema of its own on the test server, migrated once (as `python -m bot db migrate` would)."""
    eng = PostgresEngine()
    await eng.setup()
    store = await eng.open()
    await store.close()
    yield eng
    await eng.teardown()


@pytest.fixture
def stand():
    s = BotApiStandIn().start()
    yield s
    s.stop()


async def query(eng: PostgresEngine, sql: str) -> list:
    import asyncpg

    conn = await asyncpg.connect(eng.url, server_settings={"search_path": eng.schema})
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def wait_until(predicate, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"等待超时：{what}")
        await asyncio.sleep(0.2)


def group_sends(stand: BotApiStandIn) -> dict[str, list[int | None]]:
    """ticket number -> the processes that posted its card to the staff group (one entry per post)."""
    out: dict[str, list[int | None]] = collections.defaultdict(list)
    for call in stand.sends_to(STAFF_GROUP):
        m = NUMBER.search(str(call.params.get("text", "")))
        if m:
            out[m.group(0)].append(call.worker)
    return out


async def outbox_empty(database: PostgresEngine) -> bool:
    rows = await query(database, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    return rows[0][0] == 0


async def test_an_update_given_to_two_processes_at_once_is_handled_once(tmp_path, database, stand):
    cluster = Cluster(tmp_path, stand, database.database, 2).start()
    try:
        with Dispatcher(cluster.ports, mirror=True) as dispatcher:
            webhook_mode(stand, dispatcher)
            people = [Person(stand, 30_001 + i) for i in range(6)]
            numbers = await asyncio.gather(*(p.file_ticket() for p in people))
            assert all(numbers), (numbers, cluster.logs())
            # every message went to both processes at the same moment ...
            assert sum(dispatcher.sent_to.values()) == 2 * 6 * 6
            # ... and was answered once: six answers each, one ticket each, one card each in the staff group
            for p in people:
                assert len(stand.sends_to(p.user)) == 6, [m["text"][:30] for m in stand.sent_messages(p.user)]
            rows = await query(database, "SELECT citizen_id, count(*) FROM tickets GROUP BY citizen_id")
            assert sorted(r[1] for r in rows) == [1] * 6
            await wait_until(lambda: outbox_empty(database), 30, "待发通知发完")
            await asyncio.sleep(1.5)  # a second post would come on the next outbox round
            sends = group_sends(stand)
            assert sorted(sends) == sorted(numbers) and all(len(w) == 1 for w in sends.values()), sends
            assert all(w.alive for w in cluster.workers)
    finally:
        cluster.stop()


async def test_kill_9_of_one_of_four_processes_under_load_loses_and_doubles_nothing(
    tmp_path, database, stand
):
    """4 processes under load, one killed with SIGKILL half-way: every ticket a person was told the number of is
    in the database, no number is given twice, every card reaches the staff group, and no card is posted by two
    processes — but for the one post the killed process may have made without living to record it."""
    cluster = Cluster(tmp_path, stand, database.database, 4).start()
    try:
        with Dispatcher(cluster.ports) as dispatcher:
            webhook_mode(stand, dispatcher)
            people = [Person(stand, 40_001 + i, patience=20) for i in range(48)]
            told: list[str | None] = []

            async def person(p: Person, delay: float) -> None:
                await asyncio.sleep(delay)
                told.append(await p.file_ticket())

            load = asyncio.gather(*(person(p, 0.05 * i) for i, p in enumerate(people)))
            await wait_until(lambda: _at_least(told, 12), 120, "前 12 件诉求登记完成")
            busy = stand.calls[-1].worker  # a process that was just working
            victim = busy if busy in (1, 2, 3, 4) else 2
            cluster.kill(victim)
            killed_at = time.monotonic()
            await load

            numbers = [n for n in told if n]
            # the people who got no answer were those whose message the killed process had taken (python-
            # telegram-bot answers a webhook on receipt, and what it had queued died with it)
            victim_port = cluster.workers[victim - 1].port
            unanswered = [p for p in people if p.told is None]
            for p in unanswered:
                assert dispatcher.routed.get(p.last_update) == [victim_port], (p.user, cluster.logs())
            assert len(numbers) >= len(people) // 2, told
            assert len(set(numbers)) == len(numbers)  # nobody was told another's number
            rows = await query(database, "SELECT number FROM tickets")
            stored = [r[0] for r in rows]
            assert len(stored) == len(set(stored))
            assert set(numbers) <= set(stored)  # every acknowledged ticket is there
            # people's consecutive messages were answered by different processes (the conversation is shared)
            assert sum(len(p.workers()) > 1 for p in people) >= len(people) // 2
            # the survivors deliver everything, the killed process's claims once its lease ran out
            await wait_until(lambda: outbox_empty(database), 60, "待发通知发完")
            await asyncio.sleep(1.5)
            sends = group_sends(stand)
            assert set(sends) == set(stored), set(stored) ^ set(sends)  # every card reached the group
            twice = {n: w for n, w in sends.items() if len(w) > 1}
            # at most the one card the killed process posted and could not record as sent
            assert len(twice) <= 1, twice
            for n, w in twice.items():
                assert len(w) == 2 and victim in w and w[-1] != victim, (n, w)
            print(
                f"\nkill -9 of process {victim} of 4: {len(numbers)} of {len(people)} people told their number,"
                f" {len(unanswered)} lost a message to the killed process; {len(stored)} tickets stored;"
                f" cards posted twice: {len(twice)}; people answered by more than one process:"
                f" {sum(len(p.workers()) > 1 for p in people)}"
            )
            survivors = [w for w in cluster.workers if w.n != victim]
            assert all(w.alive for w in survivors), cluster.logs()
            assert not cluster.workers[victim - 1].alive
            assert time.monotonic() - killed_at < 120
    finally:
        cluster.stop()


async def _at_least(told: list, n: int) -> bool:
    return sum(1 for t in told if t) >= n


# ------------------------------------------------------------------------------------------ server restart


@pytest.fixture
def own_server():
    """A PostgreSQL server of this test's own (the .ci/postgres.sh helpers), so restarting it disturbs no other
    test: its environment (PG_SCRATCH, PG_BIN, PG_USER, PG_PORT, TEST_DATABASE_URL)."""
    import glob
    import os

    if not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        pytest.skip("no PostgreSQL server binaries here to start a server of the test's own")
    started = subprocess.run(
        [
            "bash",
            "-c",
            ". .ci/postgres.sh && pg_start >&2 && env | grep -E '^(PG_SCRATCH|PG_BIN|PG_USER|PG_PORT|TEST_DATABASE_URL)='",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert started.returncode == 0, started.stderr
    env = dict(line.split("=", 1) for line in started.stdout.splitlines())
    yield env
    subprocess.run(
        ["bash", "-c", ". .ci/postgres.sh && pg_stop"], cwd=ROOT, env={**os.environ, **env}, timeout=120
    )


def pg_restart(env: dict[str, str]) -> None:
    import os

    subprocess.run(
        ["bash", "-c", ". .ci/postgres.sh && pg_restart"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        timeout=120,
    )


async def test_a_database_restart_mid_run_is_ridden_out(tmp_path, own_server, stand):
    """The server restarted (fast shutdown: every connection cut) while two processes are busy: they reconnect,
    neither exits, every acknowledged ticket is there, and people who come after are served as before."""
    eng = PostgresEngine(own_server["TEST_DATABASE_URL"])
    await eng.setup()
    store = await eng.open()
    await store.close()
    cluster = Cluster(tmp_path, stand, eng.database, 2).start()
    try:
        with Dispatcher(cluster.ports) as dispatcher:
            webhook_mode(stand, dispatcher)
            before = [Person(stand, 50_001 + i) for i in range(16)]
            told: list[str | None] = []

            async def person(p: Person, delay: float) -> None:
                await asyncio.sleep(delay)
                told.append(await p.file_ticket())

            load = asyncio.gather(*(person(p, 0.1 * i) for i, p in enumerate(before)))
            await wait_until(lambda: _at_least(told, 4), 120, "前 4 件诉求登记完成")
            await asyncio.to_thread(pg_restart, own_server)
            await load
            after = [Person(stand, 60_001 + i) for i in range(6)]
            later = await asyncio.gather(*(p.file_ticket() for p in after))
            assert all(later), (later, cluster.logs())  # served as before
            numbers = [n for n in told + later if n]
            stored = {r[0] for r in await query(eng, "SELECT number FROM tickets")}
            assert set(numbers) <= stored  # nothing acknowledged was lost
            assert len(numbers) >= 16  # at most a few people caught by the restart were asked to try again
            assert all(w.alive for w in cluster.workers), cluster.logs()
            assert any("已重新连上数据库" in w.text() for w in cluster.workers), cluster.logs()
            print(
                f"\nPostgreSQL restarted mid-run: {sum(1 for n in told if n)} of {len(before)} people busy then"
                f" were told their number, {len(after)} of {len(after)} after; {len(stored)} tickets stored"
            )
            await wait_until(lambda: outbox_empty(eng), 30, "待发通知发完")
    finally:
        cluster.stop()
        await eng.teardown()
