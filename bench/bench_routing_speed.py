"""Routing speed: one message (p50 / p99), and retraining on 50,000 tickets.

- Routing: `Routing.route` on real messages (MSGABench 情感分类, read from ../shared at run time), with the rules
  only and with a model trained on 50,000 tickets; the keyword classifier of before issue 14
  (`classify.classify`) is timed in the same run on the same messages as the baseline, so the ratio is what to
  compare across machines. The calls are interleaved (for every message each router once, the order rotating),
  so a stall of a shared machine falls on all alike; an empty call and a CPU spin of a fixed 0.3 ms (about what
  a route with the model costs) are timed the same way: the spin's wall p99 is what the machine adds to any call
  of that cost, the floor no router of that cost can beat there. Wall time and the call's CPU time; several passes, the
  spread between passes and the per-pass ratio of p99s printed.
- Retraining: `RoutingDesk.retrain` (read examples, keep the last word per ticket, train on all but the newest
  1,000, score candidate and current model on those, store) on 50,000 tickets built from the real messages
  (each message repeated with a number so that no two tickets are equal, labelled by its 领域 as in
  bench_routing_learning.py), in an in-memory store. Nothing built here is kept. Before each retrain a fixed
  reference job (a fixed amount of CPU work) is timed: its wall / CPU is the share of a core the process got then.

Run:  python bench/bench_routing_speed.py [--tickets 50000] [--messages 2000] [--passes 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
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


def paired(
    fns: dict[str, object], texts: list[str], passes: int, clock=time.perf_counter
) -> dict[str, list[list[float]]]:  # noqa: ANN001
    """Per-pass lists of per-call times (µs) for each function, measured in pairs: for every message each
    function is called once, in an order that rotates, so a stall of the machine falls on all of them alike
    and the ratios compare like with like. `clock`: wall time (perf_counter) or this thread's CPU time."""
    names = list(fns)
    for t in texts[:100]:
        for f in fns.values():
            f(t)  # type: ignore[operator]
    out: dict[str, list[list[float]]] = {n: [] for n in names}
    for _ in range(passes):
        one: dict[str, list[float]] = {n: [] for n in names}
        for k, t in enumerate(texts):
            for j in range(len(names)):
                n = names[(k + j) % len(names)]
                s = clock()
                fns[n](t)  # type: ignore[operator]
                one[n].append((clock() - s) * 1e6)
        for n in names:
            out[n].append(sorted(one[n]))
    return out


def q(xs: list[float], f: float) -> float:
    return xs[min(len(xs) - 1, int(len(xs) * f))]


def report(label: str, times: dict[str, list[list[float]]], base: str) -> None:
    print(f"routing one message, {label} ({len(times[base])} passes, calls interleaved):")
    for n, per_pass in times.items():
        every = sorted(x for p in per_pass for x in p)
        p99s = [q(p, 0.99) for p in per_pass]
        ratios = [q(p, 0.99) / max(q(b, 0.99), 1e-9) for p, b in zip(per_pass, times[base], strict=True)]
        rel = "" if n == base else f"; p99 / baseline's p99 per pass {min(ratios):.2f}–{max(ratios):.2f}"
        print(
            f"  {n:<34} p50 {q(every, 0.5) / 1000:.3f} ms, p99 {q(every, 0.99) / 1000:.3f} ms "
            f"(p99 per pass {min(p99s) / 1000:.3f}–{max(p99s) / 1000:.3f} ms){rel}"
        )


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


SPIN = (
    0.0003  # s of CPU: about what routing with the 50k-ticket model costs, so its wall p99 is the machine's
)


def spin(_text: str) -> None:
    """Exactly SPIN seconds of this thread's CPU: a call with a known cost, timed like the routers."""
    end = time.thread_time() + SPIN
    while time.thread_time() < end:
        pass


def reference() -> None:
    """A fixed amount of single-threaded CPU work (0.3 s of CPU on this machine), always the same."""
    acc = 0
    for i in range(4_000_000):
        acc += i * i % 7
    assert acc >= 0


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
        # a fixed CPU-bound reference job right before each retrain: its wall / CPU is the share of a core
        # this process got at that moment, so a slow wall time can be told from a slow program
        r0, rc0 = time.perf_counter(), time.process_time()
        reference()
        ref = (time.perf_counter() - r0, time.process_time() - rc0)
        t0, c0 = time.perf_counter(), time.process_time()
        result = await desk.retrain()
        rounds.append((time.perf_counter() - t0, time.process_time() - c0, ref))
        print(
            f"  retrain at {load()}: wall {rounds[-1][0]:.1f} s, CPU {rounds[-1][1]:.1f} s; "
            f"reference job just before: wall {ref[0]:.2f} s for {ref[1]:.2f} s CPU"
        )
    print(
        f"retrain on {args.tickets} tickets: wall {', '.join(f'{w:.1f}' for w, _, _ in rounds)} s, "
        f"CPU {', '.join(f'{c:.1f}' for _, c, _ in rounds)} s, "
        f"wall / CPU {', '.join(f'{w / c:.2f}' for w, c, _ in rounds)} "
        f"(the reference job's wall / CPU {', '.join(f'{r[0] / r[1]:.2f}' for _, _, r in rounds)}) "
        f"(outcome {result.outcome}: {result.score:.1%} against {result.baseline:.1%} on {result.held_back} held back)"
    )
    model = routing.model
    assert model is not None
    print(
        f"model: {len(model.vocab)} n-grams × {len(model.classes)} units, {len(model.to_bytes()) / 1e6:.1f} MB stored"
    )

    print(f"timing routing at {load()}")
    fns = {
        "nothing (the machine's own stalls)": lambda t: None,
        f"a {SPIN * 1000:.2f} ms CPU spin (the same work)": spin,
        "baseline: classify.py (before)": lambda t: classify(t, kb),
        "派单目录 rules only": lambda t: routing.route(t, model=None),
        "rules + 50k-ticket model": routing.route,
    }
    base = "baseline: classify.py (before)"
    wall = paired(fns, texts, args.passes)
    report("wall time", wall, base)
    cpu = paired(fns, texts, args.passes, time.thread_time)
    report("CPU time of the call", cpu, base)
    print(f"done at {load()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=50_000)
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--retrains", type=int, default=2)
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
