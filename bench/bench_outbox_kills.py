"""How many notifications arrive twice when the sending process is killed again and again (issue 12).

Each run fills an SQLite outbox with --total notifications, starts a real sending process (the outbox
dispatcher over python-telegram-bot and aiohttp) against the local Bot API stand-in (tests/tg_standin.py,
--latency seconds per request), SIGKILLs it --kills times at a random moment 0.2–0.8 s after it is ready, then
lets a last process finish, and counts what the stand-in received: lost (never arrived), extra deliveries
(arrived more than once) and the most copies of one notification.

With --baseline REF the same runs (same seeds) go through the tree at REF as well (extracted with `git archive`
into a temporary directory; nothing in the worktree changes), alternating with this tree so both see the same
machine load. fc5da63^ is the outbox before the in-flight mark:

    python bench/bench_outbox_kills.py --runs 5 --baseline fc5da63^             # kill, then restart
    python bench/bench_outbox_kills.py --runs 5 --baseline fc5da63^ --overlap   # restart, then kill the old

Figures, not assertions: tests/test_outbox_in_flight.py holds what must be true.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tg_standin import BotApiStandIn  # noqa: E402

# runs with the tree under test first on sys.path; in_flight_hold only where the dispatcher has it
CHILD = textwrap.dedent(
    """
    import asyncio, datetime as dt, inspect, sys
    mode, root, db = sys.argv[1], sys.argv[2], sys.argv[3]
    sys.path.insert(0, root)
    from bot.core.clock import SystemClock
    from bot.core.storage.sqlite import open_sqlite_store

    async def fill(total):
        from bot.core.messages import Notification, Recipient, Reply
        store = await open_sqlite_store(db, clock=SystemClock())
        for i in range(total):
            await store.outbox.enqueue(Notification(Recipient("user", str(100_000 + i)), Reply(f"通知 {i}"), f"n:{i}"))
        await store.close()

    async def send(base, hold):
        from telegram import Bot
        from bot.adapters.telegram.http import AiohttpRequest
        from bot.adapters.telegram.outbox import OutboxDispatcher
        from bot.adapters.telegram.sending import ReplySender
        from bot.core.outbox import Outbox
        from bot.settings import Settings
        from tests.tg_standin import TOKEN

        clock = SystemClock()
        store = await open_sqlite_store(db, clock=clock)
        bot = Bot(TOKEN, base_url=base + "/bot", base_file_url=base + "/file/bot", request=AiohttpRequest(4))
        await bot.initialize()
        kw = {"batch": 20}
        params = inspect.signature(OutboxDispatcher).parameters
        if "in_flight_hold" in params:
            kw["in_flight_hold"] = dt.timedelta(seconds=hold)
        if "lease" in params:  # claims: a killed process's batch is free again in seconds, not minutes
            kw["lease"] = dt.timedelta(seconds=3)
        settings = Settings.load(environ={}, env_file=None)
        dispatcher = OutboxDispatcher(Outbox(store.outbox, clock), settings, ReplySender(bot), clock.now, **kw)
        print("ready", flush=True)
        while await store.outbox.pending_count():
            await dispatcher.drain()
            await asyncio.sleep(0.02)
        print("done", flush=True)
        await bot.shutdown()
        await store.close()

    if mode == "fill":
        asyncio.run(fill(int(sys.argv[4])))
    else:
        asyncio.run(send(sys.argv[4], float(sys.argv[5])))
    """
)


async def _start(root: Path, db: Path, stand: BotApiStandIn, hold: float) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, "send", str(root), str(db), stand.base_url[: -len("/bot")], str(hold),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=root,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 120)
    if line.strip() != b"ready":
        raise SystemExit(f"the sender did not start: {(await proc.stderr.read()).decode()[-2000:]}")
    return proc


async def kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:  # it may have finished the outbox already
        proc.send_signal(signal.SIGKILL)
    await asyncio.wait_for(proc.wait(), 30)


async def one_run(root: Path, seed: int, args: argparse.Namespace) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "t.db"
        fill = [sys.executable, "-c", CHILD, "fill", str(root), str(db), str(args.total)]
        await asyncio.to_thread(subprocess.run, fill, cwd=root, check=True)
        stand = BotApiStandIn(latency=args.latency).start()
        rng = random.Random(seed)
        try:
            proc = None
            for _ in range(args.kills):
                if args.overlap and proc is not None:
                    # the next process starts while the old one is still sending, which dies a little later
                    new = await _start(root, db, stand, args.hold)
                    await asyncio.sleep(rng.uniform(0.1, 0.5))
                    await kill(proc)
                    proc = new
                else:
                    proc = await _start(root, db, stand, args.hold)
                await asyncio.sleep(rng.uniform(0.2, 0.8))
                if not args.overlap:
                    await kill(proc)
            if args.overlap and proc is not None:
                await kill(proc)
            proc = await _start(root, db, stand, args.hold)
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 600)
            if line.strip() != b"done":
                raise SystemExit("the last sender did not finish")
            await asyncio.wait_for(proc.wait(), 30)
        finally:
            stand.stop()
        counts = collections.Counter(int(m.group(0)) for t in stand.texts() if (m := re.search(r"\d+$", t)))
    return {
        "deliveries": sum(counts.values()),
        "lost": args.total - len(counts),
        "extra": sum(counts.values()) - len(counts),
        "most": max(counts.values(), default=0),
    }


def extract(ref: str, into: str) -> None:
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", into], input=archive.stdout, check=True)


def summary(rows: list[dict[str, int]], key: str) -> str:
    values = [r[key] for r in rows]
    return f"median {statistics.median(values):g} (min {min(values)}, max {max(values)})"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--total", type=int, default=600)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--latency", type=float, default=0.004, help="seconds per request at the stand-in")
    parser.add_argument("--hold", type=float, default=1.0, help="in-flight hold of the sending process (s)")
    parser.add_argument("--baseline", metavar="REF", help="also run the tree at this git ref")
    parser.add_argument(
        "--overlap", action="store_true", help="each restart starts before the old process is killed"
    )
    args = parser.parse_args()

    trees: dict[str, Path] = {"this tree": ROOT}
    with tempfile.TemporaryDirectory() as base_dir:
        if args.baseline:
            await asyncio.to_thread(extract, args.baseline, base_dir)
            trees = {f"baseline {args.baseline}": Path(base_dir), **trees}
        results: dict[str, list[dict[str, int]]] = {name: [] for name in trees}
        print(
            f"{args.total} notifications, {args.kills} SIGKILLs per run, {args.latency * 1000:g} ms per request"
            + (", each restart overlapping the old process" if args.overlap else "")
        )
        for run in range(args.runs):
            for name, root in trees.items():
                r = await one_run(root, 1000 + run, args)
                results[name].append(r)
                print(f"run {run + 1} {name:>22}: {r['deliveries']} deliveries, {r['lost']} lost, "
                      f"{r['extra']} extra, at most {r['most']} of one", flush=True)  # fmt: skip
    print()
    for name, rows in results.items():
        print(f"{name}: extra deliveries {summary(rows, 'extra')}; lost {summary(rows, 'lost')}; "
              f"most copies of one {summary(rows, 'most')}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
