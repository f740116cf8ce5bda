"""Ticket benchmarks: creation rate, digest over 1,000,000 tickets, reminder tick and deadline recompute over
100,000 open tickets.

    python bench/bench_tickets.py                 # all four (about a minute or two)
    python bench/bench_tickets.py --only create   # or digest / tick / recompute
    python bench/bench_tickets.py --tickets 1000000 --open 100000 --keep /tmp/tb   # reuse generated databases

Prints figures; asserts nothing. Targets: creation ≥ 1,000/s with 100 concurrent creators in one process,
daily digest ≤ 0.4 s over 1,000,000 tickets (≤ 2 s with its hot spots and chart, issue 8) (the first of its three runs is what a day sees), reminder tick
≤ 200 ms over 100,000 open tickets, likely duplicates (`--only dupes`) ≤ 20 ms over 100,000 open tickets. The
recompute (run at start-up when the official year of a provisional one
arrives) has no target; it should take seconds, not minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.clock import DEFAULT_TZ, FixedClock  # noqa: E402
from bot.core.knowledge.loader import KnowledgeBase  # noqa: E402
from bot.core.knowledge.models import AppealCategory, Department  # noqa: E402
from bot.core.storage.sqlite import open_sqlite_store  # noqa: E402
from bot.core.tickets.domain.models import StaffMember, TicketQuery  # noqa: E402
from bot.core.tickets.domain.sla import load_policies  # noqa: E402
from bot.core.tickets.reminders import tick  # noqa: E402
from bot.core.tickets.reporting.digest import build_digest  # noqa: E402
from bot.core.tickets.service import TicketService  # noqa: E402

TZ = DEFAULT_TZ
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday morning, when the digest goes out
DEPARTMENTS = [f"部门{i:02d}" for i in range(20)]
# the shipped category names (the departments are synthetic: 20 of them, to spread the load)
CATEGORIES = [
    c["name"]
    for c in yaml.safe_load((ROOT / "knowledge" / "appeals.yaml").read_text(encoding="utf-8"))[
        "appeal_categories"
    ]
]


def kb() -> KnowledgeBase:
    k = KnowledgeBase(root=Path("."))
    for d in DEPARTMENTS:
        k.departments[d] = Department(
            name=d, window="1号窗口", address="示例路1号", phone="0000", hours="工作日"
        )
    for i, c in enumerate(CATEGORIES):
        k.appeal_categories[c] = AppealCategory(
            name=c, department=DEPARTMENTS[i % len(DEPARTMENTS)], keywords=[c]
        )
    return k


# ---------------------------------------------------------------------------------------------- creation
def _fresh(workdir: Path, name: str) -> Path:
    for p in workdir.glob(f"{name}*"):
        p.unlink()
    return workdir / name


def prepare(workdir: Path, name: str, keep: bool, **gen) -> Path:
    db = workdir / name
    if not (keep and db.exists()):
        _fresh(workdir, name)
        secs = _generate(db, **gen)
        print(
            f"{name}: generated {gen['n']:,} tickets ({gen['open_share']:.0%} open) and {gen['questions']:,} logged questions in {secs:.1f} s"
        )
    return db


async def bench_create(db: Path, creators: int = 100, per_creator: int = 100) -> None:
    clock = FixedClock(NOW)
    store = await open_sqlite_store(db, clock=clock)
    service = TicketService(store, kb(), clock, load_policies(), {"admin"})
    latencies: list[float] = []

    async def creator(i: int) -> None:
        for n in range(per_creator):
            t0 = time.perf_counter()
            await service.create(
                citizen_id=f"c{i}",
                description=f"第{n}件：小区门口路灯坏了，晚上很黑，联系电话13812345678",
                category=CATEGORIES[(i + n) % len(CATEGORIES)],
                phone="13812345678",
            )
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(creator(i) for i in range(creators)))
    elapsed = time.perf_counter() - t0
    total = creators * per_creator
    numbers = await store.tickets.count(TicketQuery())
    await store.close()
    latencies.sort()
    print(
        f"create: {total} tickets by {creators} concurrent creators in {elapsed:.2f} s = {total / elapsed:,.0f} tickets/s"
        f" (each with its event and department notification; stored {numbers});"
        f" latency p50 {1000 * statistics.median(latencies):.1f} ms, p99 {1000 * latencies[int(0.99 * len(latencies))]:.1f} ms"
    )


# ---------------------------------------------------------------------------------------------- data generation
COLUMNS = (
    "number, day, seq, citizen_id, description, category, department, place, phone, anonymous, priority, policy,"
    " state, handler, created_at, updated_at, contact_due, contact_met, feedback_due, feedback_met, resolve_due,"
    " resolve_met, round, round_started_at, resolution, closed_at, rating, comment, rated_at, rated_round,"
    " rating_due, next_due_at, version, hot_key"
)
# hot spots: 7 in 10 tickets name a place, a few places far more often than the rest (Pareto)
PLACES = [f"小区{i:03d}" for i in range(400)]
SUBJECTS = ["占道经营", "噪声扰民", "路灯不亮", "垃圾清运", "违章停车", "油烟扰民"]


def _rows(n: int, days_back: int, open_share: float, rng: random.Random, now_ts: int, due_now: int = 0):
    """n synthetic tickets created over `days_back` days before now; the newest ones are still open."""
    per_day: dict[str, int] = {}
    span = days_back * 86400
    created_list = sorted(now_ts - int(rng.random() * span) for _ in range(n))
    n_open = int(n * open_share)
    for i, created in enumerate(created_list):
        is_open = i >= n - n_open
        day = dt.datetime.fromtimestamp(created, TZ).strftime("%Y%m%d")
        seq = per_day[day] = per_day.get(day, 0) + 1
        dep = DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
        contact_due, feedback_due, resolve_due = created + 7200, created + 86400 + 43200, created + 14 * 86400
        speed = 0.5 + rng.random() * (1.5 if dep < "部门10" else 0.9)  # some departments are slower
        contact_met = created + int(7200 * speed * rng.random() * 1.4)
        feedback_met = created + int(130000 * speed * rng.random())
        resolve_met = created + int(14 * 86400 * speed * rng.random() * 1.1)
        rating = rated_at = rated_round = closed_at = resolution = None
        handler = f"h{dep[-2:]}-{rng.randrange(5)}"
        next_due = None
        if is_open:
            state = "办理中" if rng.random() < 0.7 else "待受理"
            handler = handler if state == "办理中" else None
            if contact_met > now_ts:
                contact_met = None
            if feedback_met > now_ts:
                feedback_met = None
            resolve_met = None
            pending = [
                d
                for d, m in ((contact_due, contact_met), (feedback_due, feedback_met), (resolve_due, None))
                if m is None
            ]
            # the next reminder: a future warning, or (for the `due_now` tickets) one that is due
            next_due = min(d for d in pending) if pending else None
            if next_due is not None and next_due <= now_ts:
                next_due = now_ts + 3600 + int(rng.random() * 86400 * 5)  # its red reminder was sent already
        else:
            state = "已关闭" if rng.random() < 0.8 else "已办结"
            resolution = "已办结"
            if rng.random() < 0.6:
                rating = rng.choice((5, 5, 5, 4, 4, 3, 2, 1))
                rated_at, rated_round = resolve_met + 3600, 0
            if state == "已关闭":
                closed_at = resolve_met + 7200
        yield (
            f"SQ{day}-{seq:04d}",
            day,
            seq,
            f"u{rng.randrange(200000)}",
            "楼下餐馆油烟扰民，联系电话13812345678",
            CATEGORIES[rng.randrange(len(CATEGORIES))],
            dep,
            None,
            "13812345678",
            0,
            "normal",
            "2110",
            state,
            handler,
            created,
            created,
            contact_due,
            contact_met,
            feedback_due,
            feedback_met,
            resolve_due,
            resolve_met,
            0,
            created,
            resolution,
            closed_at,
            rating,
            None,
            rated_at,
            rated_round,
            None,
            next_due,
            1,
            f"{PLACES[int(rng.paretovariate(1.1)) % len(PLACES)]}｜{rng.choice(SUBJECTS)}"
            if rng.random() < 0.7
            else None,
        )


def _generate(db: Path, n: int, days_back: int, open_share: float, questions: int, seed: int = 7) -> float:
    asyncio.run(_init(db))
    rng = random.Random(seed)
    now_ts = int(NOW.timestamp())
    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    placeholders = ",".join("?" * len(COLUMNS.split(",")))
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO tickets({COLUMNS}) VALUES ({placeholders})",
        _rows(n, days_back, open_share, rng, now_ts),
    )
    items = [f"item-{i:03d}" for i in range(300)]
    conn.executemany(
        "INSERT INTO questions(user_id, text, intent, target, answered, at) VALUES (?,?,?,?,?,?)",
        (
            (
                f"u{rng.randrange(100000)}",
                f"问题{int(rng.paretovariate(1.2)) % 500}",
                "item",
                items[int(rng.paretovariate(1.1)) % 300] if rng.random() < 0.8 else None,
                rng.random() < 0.8,
                now_ts - int(rng.random() * days_back * 86400),
            )
            for _ in range(questions)
        ),
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - t0


async def _init(db: Path) -> None:
    store = await open_sqlite_store(db)
    for d in DEPARTMENTS:
        await store.staff.upsert(StaffMember(f"s{d[-2:]}", f"{d}负责人", "supervisor", (d,)), "bench", NOW)
    await store.close()


# ---------------------------------------------------------------------------------------------- digest
async def bench_digest(db: Path, n: int) -> None:
    store = await open_sqlite_store(db)
    policies = load_policies()
    try:
        for label, kwargs in [
            ("daily, overall", {"period": "day"}),
            ("daily, overall, with the chart", {"period": "day", "chart": True}),
            ("daily, one department", {"period": "day", "department": DEPARTMENTS[3]}),
            ("weekly 通报", {"period": "week"}),
            ("monthly 通报", {"period": "month"}),
        ]:
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                reply = await build_digest(store, now=NOW, policies=policies, **kwargs)
                times.append(time.perf_counter() - t0)
            print(
                f"digest over {n:,} tickets, {label}: first {times[0] * 1000:.0f} ms, best {min(times) * 1000:.0f} ms"
                f" ({len(reply.html)} chars{', chart ' + str(len(reply.photo)) + ' bytes' if reply.photo else ''})"
            )
    finally:
        await store.close()


# ---------------------------------------------------------------------------------------------- tick
async def bench_tick(db: Path, n_open: int) -> None:
    clock = FixedClock(NOW)
    store = await open_sqlite_store(db, clock=clock)
    service = TicketService(store, kb(), clock, load_policies(), {"admin"})
    try:
        t0 = time.perf_counter()
        sent = await tick(service, NOW)
        idle = time.perf_counter() - t0
        print(f"tick over {n_open:,} open tickets, nothing due: {idle * 1000:.1f} ms ({sent} reminders)")
        # let some reminders fall due: move the clock forward until about 100, then 1,000 are due
        for target in (100, 1000):
            ts = (
                sqlite3.connect(db)
                .execute(
                    "SELECT next_due_at FROM tickets WHERE next_due_at IS NOT NULL ORDER BY next_due_at LIMIT 1 OFFSET ?",
                    (target - 1,),
                )
                .fetchone()[0]
            )
            when = dt.datetime.fromtimestamp(ts, TZ)
            t0 = time.perf_counter()
            sent = await tick(service, when)
            el = time.perf_counter() - t0
            t1 = time.perf_counter()
            again = await tick(service, when)
            el2 = time.perf_counter() - t1
            print(
                f"tick over {n_open:,} open tickets at {when:%m-%d %H:%M}: {sent} reminders queued in {el * 1000:.1f} ms;"
                f" the next tick at the same time: {again} in {el2 * 1000:.1f} ms"
            )
    finally:
        await store.close()


# ---------------------------------------------------------------------------------------------- duplicates
async def bench_duplicates(db: Path, n_open: int, runs: int = 50) -> None:
    """Likely duplicates of a ticket (the staff view, /merge) over the open tickets. Every generated ticket has
    the same description: the worst case, each of the `candidates` compared and matching."""
    from bot.core.tickets.workflow.duplicates import likely_duplicates

    clock = FixedClock(NOW)
    store = await open_sqlite_store(db, clock=clock)
    service = TicketService(store, kb(), clock, load_policies(), {"admin"})
    try:
        newest = await store.tickets.list(TicketQuery(states=("办理中", "待受理"), limit=runs))
        times, base = [], []
        found = 0
        for t in newest:
            t0 = time.perf_counter()
            await store.tickets.get(t.number)  # the baseline: reading one ticket, in the same run
            t1 = time.perf_counter()
            found += len(await likely_duplicates(service, t, NOW))
            times.append(time.perf_counter() - t1)
            base.append(t1 - t0)
        times.sort()
        ratios = sorted(a / b for a, b in zip(times, base, strict=True))
        print(
            f"likely duplicates over {n_open:,} open tickets ({service.workflow.duplicates.candidates} candidates):"
            f" median {statistics.median(times) * 1000:.1f} ms, p90 {times[int(len(times) * 0.9)] * 1000:.1f} ms,"
            f" max {times[-1] * 1000:.1f} ms over {len(times)} tickets ({found} shown); reading one ticket:"
            f" median {statistics.median(base) * 1000:.2f} ms; ratio median {statistics.median(ratios):.0f}×"
            f" (p10 {ratios[len(ratios) // 10]:.0f}×, p90 {ratios[int(len(ratios) * 0.9)]:.0f}×)"
        )
    finally:
        await store.close()


# ---------------------------------------------------------------------------------------------- recompute
async def bench_recompute(db: Path, n_open: int) -> None:
    """Every open ticket's working-day deadlines recomputed, as at start-up after calendar.yaml changed. The
    generated deadlines ignore the calendar, so nearly all of them move: the worst case. On a copy."""
    copy = db.with_name(db.stem + "-recompute.db")
    shutil.copy(db, copy)
    clock = FixedClock(NOW)
    store = await open_sqlite_store(copy, clock=clock)
    service = TicketService(store, kb(), clock, load_policies(), {"admin"})
    try:
        t0 = time.perf_counter()
        changed = await service.recompute_deadlines()
        el = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = await service.recompute_deadlines()
        el2 = time.perf_counter() - t1
        print(
            f"recompute over {n_open:,} open tickets: {changed:,} changed in {el:.1f} s;"
            f" again with nothing to change: {again} in {el2:.1f} s"
        )
    finally:
        await store.close()
        for path in copy.parent.glob(copy.name + "*"):
            path.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["create", "digest", "tick", "recompute", "dupes"], default=None)
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--keep", default=None, help="directory to keep (and reuse) the generated databases")
    args = ap.parse_args()
    tmp = None
    if args.keep:
        workdir = Path(args.keep)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-tickets-")
        workdir = Path(tmp.name)
    print(f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, workdir {workdir}")
    keep = bool(args.keep)
    if args.only in (None, "create"):
        asyncio.run(bench_create(_fresh(workdir, "create.db")))
    if args.only in (None, "digest"):
        n = args.tickets
        db = prepare(workdir, f"digest-{n}.db", keep, n=n, days_back=365, open_share=0.05, questions=n // 5)
        asyncio.run(bench_digest(db, n))
    if args.only in (None, "tick", "recompute", "dupes"):
        n = args.open
        db = prepare(workdir, f"tick-{n}.db", keep, n=n, days_back=12, open_share=1.0, questions=0)
        if args.only in (None, "tick"):
            asyncio.run(bench_tick(db, n))
        if args.only in (None, "recompute"):
            asyncio.run(bench_recompute(db, n))
        if args.only in (None, "dupes"):
            asyncio.run(bench_duplicates(db, n))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
