"""Routing speed: one message (p50 / p99), and retraining on 50,000 tickets.

- Routing: `Routing.route` on real messages (MSGABench 情感分类, read from ../shared at run time), with the rules
  only and with a model trained on 50,000 tickets; the keyword classifier of before issue 14
  (`classify.classify`) is timed in the same run on the same messages as the baseline, so the ratio is what to
  compare across machines. Several passes; the spread between passes is printed.
- Retraining: `RoutingDesk.retrain` (read examples, keep the last word per ticket, train on all but the newest
  1,000, score candidate and current model on those, store) on 50,000 tickets built from the real messages
  (each message repeated with a number so that no two tickets are equal, labelled by its 领域 as in
  bench_routing_learning.py), in an in-memory store. Nothing built here is kept.

Run:  python bench/bench_routing_speed.py [--tickets 50000] [--messages 2000] [--passes 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_routing_learning import MemoryStore, msgabench_stream  # noqa: E402

from bot.core.clock import DEFAULT_TZ, FixedClock  # noqa: E402
from bot.core.storage.protocols import RoutingExample  # noqa: E402


def timed(fn, texts: list[str], passes: int, clock=time.perf_counter) -> tuple[list[float], list[float]]:  # noqa: ANN001
    """Per-call times (µs) over all passes, and each pass's p99. `clock`: wall time (perf_counter) or this
    thread's CPU time (thread_time: what the call costs, without the waits of a machine shared with others)."""
    for t in texts[:100]:
        fn(t)
    every: list[float] = []
    p99s: list[float] = []
    for _ in range(passes):
        one: list[float] = []
        for t in texts:
            s = clock()
            fn(t)
            one.append((clock() - s) * 1e6)
        one.sort()
        p99s.append(one[int(len(one) * 0.99)])
        every += one
    every.sort()
    return every, p99s


def line(name: str, times: list[float], p99s: list[float], base: float | None = None) -> str:
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
    ratio = f"; {p50 / base:.2f}× the baseline's p50" if base else ""
    spread = f"{min(p99s) / 1000:.3f}–{max(p99s) / 1000:.3f}"
    return f"  {name:<34} p50 {p50 / 1000:.3f} ms, p99 {p99 / 1000:.3f} ms (p99 per pass {spread} ms){ratio}"


async def main_async(args: argparse.Namespace) -> None:
    from bot.app import DataPaths
    from bot.core.knowledge import load_knowledge
    from bot.core.routing import Routing
    from bot.core.routing.learning import RoutingDesk
    from bot.core.tickets.classify import classify
    from bot.settings import Settings

    paths = DataPaths.resolve(Settings(_env_file=None))
    kb = load_knowledge(paths.knowledge)
    stream = msgabench_stream()
    texts = [t for t, _ in stream[: args.messages]]
    print(f"messages timed: {len(texts)} (mean {statistics.mean(len(t) for t in texts):.0f} characters)")

    routing = Routing(kb, paths.knowledge)
    store = MemoryStore()
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=DEFAULT_TZ)
    for i in range(args.tickets):
        text, unit = stream[i % len(stream)]
        await store.routing.add_example(
            RoutingExample(text=f"{text} {i}", unit=unit, kind="resolved", actor="s", at=now, ticket_id=i + 1)
        )
    desk = RoutingDesk(routing, store, FixedClock(now))
    rounds = []
    for _ in range(args.retrains):
        t0, c0 = time.perf_counter(), time.process_time()
        result = await desk.retrain()
        rounds.append((time.perf_counter() - t0, time.process_time() - c0))
    print(
        f"retrain on {args.tickets} tickets: wall {', '.join(f'{w:.1f}' for w, _ in rounds)} s, "
        f"CPU {', '.join(f'{c:.1f}' for _, c in rounds)} s "
        f"(outcome {result.outcome}: {result.score:.1%} against {result.baseline:.1%} on {result.held_back} held back)"
    )
    model = routing.model
    assert model is not None
    print(
        f"model: {len(model.vocab)} n-grams × {len(model.classes)} units, {len(model.to_bytes()) / 1e6:.1f} MB stored"
    )

    for label, clock in (("wall time", time.perf_counter), ("CPU time of the call", time.thread_time)):
        print(f"routing one message, {label} ({args.passes} passes):")
        base, base_p99 = timed(lambda t: classify(t, kb), texts, args.passes, clock)
        base_p50 = base[len(base) // 2]
        print(line("baseline: classify.py (before)", base, base_p99))
        rules, rules_p99 = timed(lambda t: routing.route(t, model=None), texts, args.passes, clock)
        print(line("派单目录 rules only", rules, rules_p99, base_p50))
        full, full_p99 = timed(routing.route, texts, args.passes, clock)
        print(line("rules + 50k-ticket model", full, full_p99, base_p50))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=50_000)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--retrains", type=int, default=2)
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
