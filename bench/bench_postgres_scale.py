"""The digest over 5,000,000 tickets and the reminder tick over 1,000,000 open tickets (1,000 of them due), on
PostgreSQL, through the same code the bot runs, each beside an SQLite baseline measured in the same run.

    . .ci/postgres.sh && pg_start                  # a local throw-away server (bench/README.md)
    python bench/bench_postgres_scale.py           # both (generating the data takes several minutes)
    python bench/bench_postgres_scale.py --only tick --open 1000000 --runs 7
    python bench/bench_postgres_scale.py --keep /tmp/pgscale   # keep the generated data and reuse it
    pg_stop

The tickets are the synthetic ones of bench/bench_tickets.py (the same generator, seed and spread: 20
departments, the shipped categories, created over a year, 5% still open, 60% of the closed ones rated; for the
tick, open tickets created over 12 days). On PostgreSQL they are loaded with COPY into a schema migrated by the
store (its indexes dropped while loading and created again after, then ANALYZE); the SQLite baseline is
bench_tickets.py's own database (the digest's at --sqlite-tickets, 1,000,000 by default; the tick's at the same
size as PostgreSQL's). Digest: `build_digest` daily overall, daily for one department, weekly and monthly 通报.
Tick: the Scheduler's tick (under its lease, as in the bot) with nothing due, and with the clock moved until
100 and 1,000 reminders are due; what a tick changed is put back after each run, so every run does the same
work. Each measurement runs --runs times per engine, the engines alternating; printed as median, min and max.
The machine is shared: compare the engines within one run. Prints figures; asserts nothing. Targets: digest
≤ 2 s over 5M tickets; tick ≤ 200 ms over 1M open tickets with 1,000 due.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_tickets as bt  # noqa: E402

from bot.core.clock import FixedClock  # noqa: E402
from bot.core.leases import Leases  # noqa: E402
from bot.core.outbox import Outbox  # noqa: E402
from bot.core.scheduler import Scheduler  # noqa: E402
from bot.core.storage.postgres import open_postgres_store  # noqa: E402
from bot.core.tickets.domain.models import StaffMember  # noqa: E402
from bot.core.tickets.domain.sla import load_policies  # noqa: E402
from bot.core.tickets.reminders import tick  # noqa: E402
from bot.core.tickets.reporting.digest import build_digest  # noqa: E402
from bot.core.tickets.service import TicketService  # noqa: E402

NOW = bt.NOW
CHUNK = 50_000


async def _admin(url: str, sql: str, *fetch: str) -> list:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
        return [await conn.fetchval(q) for q in fetch]
    finally:
        await conn.close()


async def prepare(
    url: str, schema: str, keep: bool, *, n: int, days_back: int, open_share: float, questions: int
):
    """The schema `schema` with n generated tickets (reused when --keep finds it complete)."""
    import asyncpg

    (exists,) = await _admin(url, "SELECT 1", f"SELECT to_regnamespace('{schema}') IS NOT NULL")
    if exists and keep:
        conn = await asyncpg.connect(url, server_settings={"search_path": schema})
        try:
            have = (
                await conn.fetchval("SELECT count(*) FROM tickets")
                if await conn.fetchval("SELECT to_regclass('tickets') IS NOT NULL")
                else 0
            )
        finally:
            await conn.close()
        if have == n:
            print(f"{schema}: reusing {n:,} tickets")
            return
    await _admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
    store = await open_postgres_store(url, schema=schema, clock=FixedClock(NOW), pool_size=2)
    for d in bt.DEPARTMENTS:
        await store.staff.upsert(StaffMember(f"s{d[-2:]}", f"{d}负责人", "supervisor", (d,)), "bench", NOW)
    await store.close()
    t0 = time.perf_counter()
    conn = await asyncpg.connect(url, server_settings={"search_path": schema})
    try:
        found = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tickets'"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            schema,
        )
        names, indexes = [r[0] for r in found], [r[1] for r in found]
        for name in names:
            await conn.execute(f'DROP INDEX "{name}"')
        rng = random.Random(7)
        columns = [c.strip() for c in bt.COLUMNS.split(",")]
        rows = bt._rows(n, days_back, open_share, rng, int(NOW.timestamp()))
        done = 0
        while True:
            chunk = [r for _, r in zip(range(CHUNK), rows, strict=False)]
            if not chunk:
                break
            await conn.copy_records_to_table("tickets", records=chunk, columns=columns)
            done += len(chunk)
            print(f"\r{schema}: {done:,} / {n:,} tickets", end="", flush=True)
        print()
        items = [f"item-{i:03d}" for i in range(300)]
        now_ts = int(NOW.timestamp())
        q = (
            (
                f"u{rng.randrange(100000)}",
                f"问题{int(rng.paretovariate(1.2)) % 500}",
                "item",
                items[int(rng.paretovariate(1.1)) % 300] if rng.random() < 0.8 else None,
                int(rng.random() < 0.8),
                now_ts - int(rng.random() * days_back * 86400),
            )
            for _ in range(questions)
        )
        await conn.copy_records_to_table(
            "questions", records=list(q), columns=["user_id", "text", "intent", "target", "answered", "at"]
        )
        for ddl in indexes:
            await conn.execute(ddl)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    print(
        f"{schema}: generated {n:,} tickets ({open_share:.0%} open) and {questions:,} questions"
        f" in {time.perf_counter() - t0:.0f} s"
    )


DIGESTS = [
    ("daily, overall", {"period": "day"}),
    ("daily, one department", {"period": "day", "department": bt.DEPARTMENTS[3]}),
    ("weekly 通报", {"period": "week"}),
    ("monthly 通报", {"period": "month"}),
]


def spread(times: list[float], cpu: list[float] | None = None) -> str:
    """Wall time: median (min, max). With `cpu`, the median CPU time of this process (SQLite's work included,
    the PostgreSQL server's not): on a busy machine the wall time grows with the queue for a core, the CPU much
    less."""
    ms = sorted(1000 * t for t in times)
    line = f"median {statistics.median(ms):6.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f}, n={len(ms)})"
    if cpu:
        line += f", cpu {statistics.median(1000 * c for c in cpu):.0f} ms"
    return line


async def bench_digest(
    url: str, schema: str, n: int, sqlite_db: Path | None, n_sqlite: int, runs: int
) -> None:
    """Each digest on PostgreSQL and, in the same run, on SQLite (the baseline), alternately."""
    from bot.core.storage.sqlite import open_sqlite_store

    pg = await open_postgres_store(url, schema=schema, clock=FixedClock(NOW), pool_size=4)
    lite = await open_sqlite_store(sqlite_db, clock=FixedClock(NOW)) if sqlite_db else None
    policies = load_policies()
    try:
        for label, kwargs in DIGESTS:
            times: dict[str, list[float]] = {"pg": [], "sqlite": []}
            cpu: dict[str, list[float]] = {"pg": [], "sqlite": []}
            for _ in range(runs):
                for engine, store in (("pg", pg), ("sqlite", lite)):
                    if store is None:
                        continue
                    t0, c0 = time.perf_counter(), time.process_time()
                    await build_digest(store, now=NOW, policies=policies, **kwargs)
                    times[engine].append(time.perf_counter() - t0)
                    cpu[engine].append(time.process_time() - c0)
            line = f"digest {label:<22} PostgreSQL {n:>9,}: {spread(times['pg'], cpu['pg'])}"
            if times["sqlite"]:
                line += f" | SQLite {n_sqlite:,}: {spread(times['sqlite'], cpu['sqlite'])}"
            line += f" | load {os.getloadavg()[0]:.1f}"
            print(line)
    finally:
        await pg.close()
        if lite is not None:
            await lite.close()


class TickRun:
    """One engine's tick, made repeatable: what a tick at `when` changes is put back afterwards."""

    def __init__(self, engine: str, store, service, scheduler):
        self.engine, self.store, self.service, self.scheduler = engine, store, service, scheduler

    async def sql(self, statement: str, *args) -> None:
        if self.engine == "pg":
            await self.store.db.execute(statement.replace("?", "$1"), *args)
        else:
            await self.store.db.write(statement, args)

    async def once(self, when: dt.datetime) -> tuple[int, float, float]:
        ts = int(when.timestamp())
        await self.sql("DROP TABLE IF EXISTS bench_saved")
        await self.sql(
            "CREATE TABLE bench_saved AS SELECT id, next_due_at, version, updated_at FROM tickets"
            f" WHERE next_due_at <= {ts}"
        )
        self.service.clock.set(when)
        t0, c0 = time.perf_counter(), time.process_time()
        sent = await self.scheduler.tick(when)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        # put everything back as it was before this tick
        await self.sql(
            "UPDATE tickets SET next_due_at = (SELECT s.next_due_at FROM bench_saved s WHERE s.id = tickets.id),"
            " version = (SELECT s.version FROM bench_saved s WHERE s.id = tickets.id),"
            " updated_at = (SELECT s.updated_at FROM bench_saved s WHERE s.id = tickets.id)"
            " WHERE id IN (SELECT id FROM bench_saved)"
        )
        for table in ("reminders_sent", "ticket_events", "outbox"):
            await self.sql(f"DELETE FROM {table}")
        return sent, elapsed, cpu


async def _tick_run(engine: str, where, clock: FixedClock) -> TickRun:
    if engine == "pg":
        url, schema = where
        store = await open_postgres_store(url, schema=schema, clock=clock, pool_size=4)
    else:
        from bot.core.storage.sqlite import open_sqlite_store

        store = await open_sqlite_store(where, clock=clock)
    service = TicketService(store, bt.kb(), clock, load_policies(), {"admin"})

    async def no_digest(department, day):  # not measured here
        raise AssertionError

    scheduler = Scheduler(
        load_policies().calendar,
        Outbox(store.outbox, clock, "bench"),
        clock,
        digest=no_digest,
        tick=lambda now: tick(service, now),
        leases=Leases(store.leases, clock, "bench"),
    )
    return TickRun(engine, store, service, scheduler)


async def bench_tick(url: str, schema: str, n_open: int, sqlite_db: Path | None, runs: int) -> None:
    """The Scheduler's tick (under its lease) on PostgreSQL and, in the same run, on SQLite over the same
    tickets, alternately; each tick's changes are put back so that every run does the same work."""
    engines = [await _tick_run("pg", (url, schema), FixedClock(NOW))]
    if sqlite_db is not None:
        engines.append(await _tick_run("sqlite", sqlite_db, FixedClock(NOW)))
    pg = engines[0]
    try:
        for due in (0, 100, 1000):
            if due:
                ts = await pg.store.db.fetchval(
                    "SELECT next_due_at FROM tickets WHERE next_due_at IS NOT NULL ORDER BY next_due_at"
                    " LIMIT 1 OFFSET $1",
                    due - 1,
                )
                when = dt.datetime.fromtimestamp(ts, bt.TZ)
            else:
                when = NOW
            times: dict[str, list[float]] = {e.engine: [] for e in engines}
            cpu: dict[str, list[float]] = {e.engine: [] for e in engines}
            queued: dict[str, set[int]] = {e.engine: set() for e in engines}
            for _ in range(runs):
                for e in engines:
                    sent, elapsed, used = await e.once(when)
                    times[e.engine].append(elapsed)
                    cpu[e.engine].append(used)
                    queued[e.engine].add(sent)
            line = (
                f"tick over {n_open:,} open tickets, {due:>4} due: PostgreSQL {spread(times['pg'], cpu['pg'])}"
                f" ({'/'.join(map(str, sorted(queued['pg'])))} reminders)"
            )
            if "sqlite" in times:
                line += f" | SQLite {spread(times['sqlite'], cpu['sqlite'])}"
            print(f"{line} | load {os.getloadavg()[0]:.1f}")
    finally:
        for e in engines:
            await e.store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--url", default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    )
    ap.add_argument("--only", choices=["digest", "tick"], default=None)
    ap.add_argument("--tickets", type=int, default=5_000_000)
    ap.add_argument("--open", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5, help="runs of each measurement per engine")
    ap.add_argument("--sqlite-tickets", type=int, default=1_000_000, help="the SQLite digest baseline's size")
    ap.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only, without the SQLite baseline")
    ap.add_argument("--keep", default=None, help="a directory: keep the generated data there and reuse it")
    args = ap.parse_args()
    if not args.url:
        sys.exit("no server: pass --url postgresql://… or set BENCH_DATABASE_URL / TEST_DATABASE_URL")
    fsync, sync_commit, version = asyncio.run(
        _admin(args.url, "SELECT 1", "SHOW fsync", "SHOW synchronous_commit", "SHOW server_version")
    )
    print(
        f"PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync_commit}); {os.cpu_count()} cores;"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    keep = args.keep is not None
    tmp = None
    if keep:
        workdir = Path(args.keep)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-pg-scale-")
        workdir = Path(tmp.name)
    schemas = []
    try:
        if args.only in (None, "digest"):
            n = args.tickets
            schema = f"bench_scale_digest_{n}"
            gen = {"days_back": 365, "open_share": 0.05}
            asyncio.run(prepare(args.url, schema, keep, n=n, questions=n // 5, **gen))
            lite = None
            if not args.no_sqlite:
                m = args.sqlite_tickets
                lite = bt.prepare(workdir, f"digest-{m}.db", keep, n=m, questions=m // 5, **gen)
            asyncio.run(bench_digest(args.url, schema, n, lite, args.sqlite_tickets, args.runs))
            schemas.append(schema)
        if args.only in (None, "tick"):
            n = args.open
            schema = f"bench_scale_tick_{n}"
            gen = {"days_back": 12, "open_share": 1.0, "questions": 0}
            asyncio.run(prepare(args.url, schema, keep, n=n, **gen))
            lite = None if args.no_sqlite else bt.prepare(workdir, f"tick-{n}.db", keep, n=n, **gen)
            asyncio.run(bench_tick(args.url, schema, n, lite, args.runs))
            schemas.append(schema)
    finally:
        if not keep:
            for schema in schemas:
                asyncio.run(_admin(args.url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
