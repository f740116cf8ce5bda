"""Ticket creation on PostgreSQL from several processes at once, beside one SQLite process, in one run.

    . .ci/postgres.sh && pg_start            # a local throw-away server (see bench/README.md); sets TEST_DATABASE_URL
    python bench/bench_postgres.py           # SQLite ×1, PostgreSQL ×1, PostgreSQL ×4 processes; 100 creators each
    python bench/bench_postgres.py --processes 4 --creators 100 --per-creator 50 --url postgresql://…
    pg_stop

Each process opens its own store (its own pool, as separate bot processes would), waits at a barrier, then
runs `--creators` concurrent creators that each create `--per-creator` tickets through
`store.tickets.create` — the ticket row, its "create" event and its department notification, in the same
transaction, as the ticket service does. The rate is all tickets over the wall time from the common start to
the last process's end. Each PostgreSQL run gets a fresh schema (dropped afterwards, unless --keep) and checks
that the numbers came out unique and consecutive. The SQLite run uses a temporary file. Beside the rate, the
CPU time per ticket: the bench processes' own (the bot's work, SQLite's included) and the local PostgreSQL
server's (every process named postgres on this machine: run on a server of one's own). On a shared machine
the rate moves with everyone else's load; the CPU per ticket much less, and cores ÷ CPU per ticket is the
most this machine could do were it idle. Prints figures; asserts nothing. Target: ≥ 5,000 tickets/s with 4
processes × 100 creators against one local server.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.clock import DEFAULT_TZ, FixedClock  # noqa: E402
from bot.core.messages import Notification, Recipient, Reply  # noqa: E402
from bot.core.tickets.domain.models import EventIn, NewTicket  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=DEFAULT_TZ)
DEPARTMENTS = [f"部门{i:02d}" for i in range(20)]


def new_ticket(proc: int, creator: int, n: int) -> NewTicket:
    return NewTicket(
        citizen_id=f"p{proc}c{creator}",
        description=f"第{n}件：小区门口路灯坏了，晚上很黑，联系电话13812345678",
        category="城乡建设",
        department=DEPARTMENTS[(creator + n) % len(DEPARTMENTS)],
        created_at=NOW,
        policy="2110",
        phone="13812345678",
        contact_due=NOW + dt.timedelta(hours=2),
        feedback_due=NOW + dt.timedelta(days=1),
        resolve_due=NOW + dt.timedelta(days=14),
        next_due_at=NOW + dt.timedelta(hours=1, minutes=30),
    )


def hook(t):  # what the ticket service adds in the creating transaction: an event and a notification
    html = f"<b>新诉求 {t.number}</b>\n{t.category}｜{t.department}\n{t.description[:60]}"
    note = Notification(Recipient("department", t.department), Reply(html), f"new:{t.number}")
    return [EventIn(t.citizen_id, "create", "")], [note]


async def _open(engine: str, database: str, schema: str | None, pool_size: int):
    clock = FixedClock(NOW)
    if engine == "sqlite":
        from bot.core.storage.sqlite import open_sqlite_store

        return await open_sqlite_store(database, clock=clock)
    from bot.core.storage.postgres import open_postgres_store

    return await open_postgres_store(database, clock=clock, schema=schema, pool_size=pool_size)


async def _work(args: tuple, barrier, results) -> None:
    engine, database, schema, proc, creators, per_creator, pool_size = args
    store = await _open(engine, database, schema, pool_size)
    latencies: list[float] = []

    async def creator(i: int) -> None:
        for n in range(per_creator):
            t0 = time.monotonic()
            await store.tickets.create(new_ticket(proc, i, n), hook)
            latencies.append(time.monotonic() - t0)

    await asyncio.to_thread(barrier.wait)
    start = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
    cpu0 = time.process_time()
    await asyncio.gather(*(creator(i) for i in range(creators)))
    end = time.monotonic()
    cpu = time.process_time() - cpu0
    await store.close()
    results.put((proc, start, end, latencies, cpu))


def worker(args: tuple, barrier, results) -> None:
    asyncio.run(_work(args, barrier, results))


def run(engine: str, database: str, schema: str | None, processes: int, creators: int, per: int, pool: int):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=worker, args=((engine, database, schema, p, creators, per, pool), barrier, results)
        )
        for p in range(processes)
    ]
    for p in procs:
        p.start()
    server0 = server_cpu()
    got = [results.get(timeout=600) for _ in procs]
    server = server_cpu() - server0
    for p in procs:
        p.join()
    start = min(g[1] for g in got)
    end = max(g[2] for g in got)
    latencies = sorted(x for g in got for x in g[3])
    total = len(latencies)
    cpu = Cpu(bot=sum(g[4] for g in got), server=server if engine == "postgres" else 0.0)
    return total, end - start, latencies, cpu


@dataclasses.dataclass
class Cpu:
    """CPU seconds a run used: the bot processes' own (SQLite's work included) and the PostgreSQL server's."""

    bot: float
    server: float

    def per_ticket(self, total: int) -> str:
        ms = lambda s: 1000 * s / total  # noqa: E731
        return f"; CPU per ticket {ms(self.bot + self.server):.3f} ms (bot {ms(self.bot):.3f}, server {ms(self.server):.3f})"


def server_cpu() -> float:
    """CPU seconds used so far by the local PostgreSQL server: its postmaster and every process it started
    (backends, walwriter, checkpointer…; backends that ended are in the postmaster's cutime). The server is the
    one whose data directory is $PG_SCRATCH/data (.ci/postgres.sh), or whose postmaster --server-pid names;
    without either, 0 (not measured). Other clients of the same server count too: use a server of one's own."""
    if not SERVER_PID:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, tail = stat.read_text().split(" ", 1)
            rest = tail.rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        # rest[0] is field 3 of proc(5): state, then ppid; utime, stime, cutime, cstime are fields 14-17
        if int(pid) == SERVER_PID or int(rest[1]) == SERVER_PID:
            total += sum(int(x) for x in rest[11:15])
    return total / tick


def _server_pid(given: int | None) -> int | None:
    if given:
        return given
    scratch = os.environ.get("PG_SCRATCH")
    pidfile = Path(scratch) / "data" / "postmaster.pid" if scratch else None
    if pidfile is not None and pidfile.exists():
        return int(pidfile.read_text().split()[0])
    return None


SERVER_PID: int | None = None


def report(label: str, total: int, elapsed: float, latencies: list[float], cpu: Cpu, extra: str = "") -> None:
    p50 = 1000 * statistics.median(latencies)
    p99 = 1000 * latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"{label:<28} {total:>7,} tickets in {elapsed:6.2f} s = {total / elapsed:>7,.0f} tickets/s;"
        f" latency p50 {p50:6.1f} ms, p99 {p99:6.1f} ms{cpu.per_ticket(total)}{extra};"
        f" load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


async def _admin(url: str, sql: str, *fetch: str):
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
        return [await conn.fetchval(q) for q in fetch]
    finally:
        await conn.close()


async def _prepare(url: str, schema: str) -> None:
    await _admin(url, f'CREATE SCHEMA "{schema}"')
    store = await _open("postgres", url, schema, 2)  # migrate once, before the processes start
    await store.close()


async def _check(url: str, schema: str, keep: bool) -> str:
    n, distinct, top = await _admin(
        url,
        f'SET search_path TO "{schema}"',
        "SELECT count(*) FROM tickets",
        "SELECT count(DISTINCT number) FROM tickets",
        "SELECT max(seq) FROM tickets",
    )
    if not keep:
        await _admin(url, f'DROP SCHEMA "{schema}" CASCADE')
    ok = n == distinct == top
    return f"; numbers {'unique and consecutive' if ok else 'NOT consecutive'} ({distinct:,} of {n:,}, last {top})"


def postgres_run(url: str, processes: int, creators: int, per: int, pool: int, keep: bool) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_prepare(url, schema))
    total, elapsed, latencies, cpu = run("postgres", url, schema, processes, creators, per, pool)
    check = asyncio.run(_check(url, schema, keep))
    report(
        f"PostgreSQL, {processes} process{'es' if processes > 1 else ''} × {creators}",
        total,
        elapsed,
        latencies,
        cpu,
        check,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--url", default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    )
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--creators", type=int, default=100, help="concurrent creators per process")
    ap.add_argument("--per-creator", type=int, default=50, help="tickets each creator creates")
    ap.add_argument("--pool-size", type=int, default=10, help="connections per process (DATABASE_POOL_SIZE)")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL schemas (bench_…) afterwards")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--server-pid", type=int, default=None, help="the local server's postmaster, for its CPU")
    args = ap.parse_args()
    global SERVER_PID
    SERVER_PID = _server_pid(args.server_pid)
    if not args.url:
        sys.exit(
            "no server: pass --url postgresql://… or set BENCH_DATABASE_URL / TEST_DATABASE_URL (bench/README.md)"
        )

    import asyncpg  # noqa: F401 - fail early when the driver is missing

    fsync, sync_commit, version = asyncio.run(
        _admin(args.url, "SELECT 1", "SHOW fsync", "SHOW synchronous_commit", "SHOW server_version")
    )
    print(
        f"PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync_commit}); {os.cpu_count()} cores;"
        f" {args.creators} creators per process × {args.per_creator} tickets each;"
        f" server CPU {'of postmaster ' + str(SERVER_PID) if SERVER_PID else 'not measured (no --server-pid)'}"
    )
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "bench.db")
            asyncio.run(_migrate_sqlite(db))
            total, elapsed, latencies, cpu = run("sqlite", db, None, 1, args.creators, args.per_creator, 0)
            report(f"SQLite, 1 process × {args.creators}", total, elapsed, latencies, cpu)
    if args.processes != 1:
        postgres_run(args.url, 1, args.creators, args.per_creator, args.pool_size, args.keep)
    postgres_run(args.url, args.processes, args.creators, args.per_creator, args.pool_size, args.keep)


async def _migrate_sqlite(db: str) -> None:
    store = await _open("sqlite", db, None, 0)
    await store.close()


if __name__ == "__main__":
    main()
