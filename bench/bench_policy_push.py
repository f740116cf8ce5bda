"""惠企政策 push (直达快享, issue 15) at scale: how long one sweep takes when new policies arrive for many
subscribers.

    python bench/bench_policy_push.py                                # 10,000 subscribers, 5 new policies, 3 rounds
    python bench/bench_policy_push.py --subscribers 20000 --new 10 --rounds 5
    python bench/bench_policy_push.py --database-url postgresql://…   # on PostgreSQL (a throw-away database)

Set-up (not timed): N enterprise profiles drawn at random (size, industry section or division, place, founding
year, entity, taxpayer type, employees, revenue, some recognitions and facts) are saved with consent and
subscribed, each with what its list showed when it was saved (what `/profile` saving records), so nothing is news
yet. Each round then adds `--new` policies (copies of shipped national and district ones under new ids: the kind of
news a reload of an edited 政策库 brings), moves to the next working day (a person gets at most one push a day) and
runs one sweep, `PolicyDesk.push`: page through the subscribers, match each against the library, queue a message
for those with news and record what they were told, in one transaction each.

Printed per round: wall and CPU seconds of the sweep, subscribers per second, messages queued; and, as the baseline
in the same run, the matching alone (the same profiles against the same library, no database). The issue names no
figure for the push; the one that matters is the scheduler's tick lease (TICK_LEASE, 2 minutes): a sweep that
outlasts it lets another process start ticking beside it.
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
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.clock import DEFAULT_TZ, FixedClock  # noqa: E402
from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.policies.desk import LIBRARY_KEY, PolicyDesk  # noqa: E402
from bot.core.policies.library import PolicyLibrary  # noqa: E402
from bot.core.policies.profile import Profile  # noqa: E402
from bot.core.scheduler import TICK_LEASE  # noqa: E402
from bot.core.storage.engines import open_store  # noqa: E402
from bot.core.texts import Texts  # noqa: E402

START = dt.datetime(2026, 11, 23, 10, 0, tzinfo=DEFAULT_TZ)  # a Monday in working hours
SIZES = ["微型", "小型", "小微", "中型", "大型"]
TAXPAYERS = ["小规模纳税人", "一般纳税人"]
ENTITIES = ["企业"] * 8 + ["个体工商户"] * 2


def random_profile(rng: random.Random, lib: PolicyLibrary) -> dict:
    codes = [c for c in lib.industries.codes if len(c) <= 2]
    places = list(lib.places) + ["其他地区"]
    data: dict = {
        "主体类型": rng.choice(ENTITIES),
        "规模": rng.choice(SIZES),
        "行业": rng.choice(codes),
        "属地": rng.choice(places),
        "成立年份": rng.randint(1995, 2026),
        "纳税人类型": rng.choice(TAXPAYERS),
    }
    if rng.random() < 0.5:
        data["从业人数"] = rng.choice([5, 12, 40, 90, 180, 280])
    if rng.random() < 0.3:
        data["资质"] = rng.sample(list(lib.recognitions), rng.randint(1, 2))
    for key in rng.sample(list(lib.facts), 2):
        if rng.random() < 0.5:
            data[key] = rng.random() < 0.7
    return data


def with_new_policies(lib: PolicyLibrary, round_no: int, n: int, rng: random.Random) -> PolicyLibrary:
    """The library with `n` new policies: copies of shipped ones in force, under new ids and amounts."""
    today = START.date()
    current = [
        p
        for p in lib.policies.values()
        if p.valid.start <= today and (p.valid.end is None or p.valid.end >= today)
    ]
    added = {}
    for k, base in enumerate(rng.sample(current, min(n, len(current)))):
        pid = f"bench-r{round_no}-{k}-{base.id}"[:60]
        added[pid] = base.model_copy(
            update={"id": pid, "name": f"{base.name}（第{round_no}批）", "amount": f"{base.amount}（加码）"}
        )
    return replace(
        lib, policies={**lib.policies, **added}, origin={**lib.origin, **dict.fromkeys(added, "bench")}
    )


def desk_for(lib: PolicyLibrary, clock: FixedClock, store, cues) -> PolicyDesk:
    return PolicyDesk(lib, clock, Texts(ROOT / "templates"), store, cues=cues)


def next_workday(day: dt.date, desk_calendar) -> dt.date:
    d = day + dt.timedelta(days=1)
    while not desk_calendar(d):
        d += dt.timedelta(days=1)
    return d


async def run(args: argparse.Namespace) -> None:
    kb = load_knowledge(ROOT / "knowledge")
    lib = kb.policies
    rng = random.Random(args.seed)
    clock = FixedClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        target = args.database_url or Path(tmp) / "push.db"
        store = await open_store(target, clock=clock)
        try:
            from bot.app import load_policies

            calendar = load_policies(kb).calendar
            desk = desk_for(lib, clock, store, None)
            cues = desk.cues
            t0 = time.perf_counter()
            profiles = []
            for i in range(args.subscribers):
                data = random_profile(rng, lib)
                profile = Profile.from_json(data, lib)
                profiles.append(profile)
                await desk.save(f"u{i:06d}", profile, subscribe=True)
            await store.meta.set(LIBRARY_KEY, lib.fingerprint())
            setup = time.perf_counter() - t0
            print(
                f"{args.subscribers:,} subscribers saved in {setup:.1f} s "
                f"({'PostgreSQL' if args.database_url else 'SQLite'}); {len(lib)} policies; load {os.getloadavg()[0]:.1f}"
            )
            day = START.date()
            walls, cpus, queued_all = [], [], []
            for r in range(1, args.rounds + 1):
                day = next_workday(day, calendar.is_workday)
                clock.set(dt.datetime.combine(day, START.timetz()))
                lib = with_new_policies(lib, r, args.new, rng)
                desk = desk_for(lib, clock, store, cues)
                # the baseline in the same run: the matching alone, no database
                c0, w0 = time.process_time(), time.perf_counter()
                for p in profiles:
                    desk.engine.match(p.view(lib, day), possible=False)
                match_wall, match_cpu = time.perf_counter() - w0, time.process_time() - c0
                c0, w0 = time.process_time(), time.perf_counter()
                queued = await desk.push(clock.now())
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                again = await desk.push(clock.now())  # the same library: nothing to do
                walls.append(wall)
                cpus.append(cpu)
                queued_all.append(queued)
                print(
                    f"round {r} ({day}, +{args.new} policies): sweep {wall:.1f} s wall, {cpu:.1f} s CPU, "
                    f"{args.subscribers / wall:,.0f} subscribers/s, {queued:,} messages queued "
                    f"({queued / args.subscribers:.0%}); matching alone {match_wall:.1f} s wall, {match_cpu:.1f} s CPU "
                    f"(sweep/matching {wall / match_wall:.1f}×); a second sweep queued {again}; "
                    f"load {os.getloadavg()[0]:.1f}"
                )
            spread = f"{min(walls):.1f}–{max(walls):.1f}" if len(walls) > 1 else f"{walls[0]:.1f}"
            print(
                f"sweep of {args.subscribers:,} subscribers: median {statistics.median(walls):.1f} s wall ({spread}), "
                f"median {statistics.median(cpus):.1f} s CPU; tick lease {TICK_LEASE.total_seconds():.0f} s; "
                f"median {statistics.median(queued_all):,.0f} messages a round"
            )
        finally:
            await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--new", type=int, default=5, help="new policies per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument(
        "--database-url",
        default=None,
        help="a throw-away PostgreSQL database (default: SQLite in a temp dir)",
    )
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
