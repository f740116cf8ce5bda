"""Throughput and handling latency of the whole Telegram stack against the local Bot API stand-in.

The bot is one process: the real python-telegram-bot Application polls the stand-in through getUpdates, the
real core answers (knowledge matching, dialogue, the SQLite ticket store), and every reply goes back through
sendMessage over HTTP on 127.0.0.1. By default the stand-in runs in a second process, as Telegram's servers
are not on the bot's CPU either; `--standin loop` serves it on the bot's own event loop instead (the bot then
also pays for the fake server's HTTP parsing), `--standin thread` in a thread of the bot's process.

Figures:
- updates/s: all updates queued up front, from the first getUpdates to the last reply recorded;
- handling latency per update: from the first handler to the last reply sent, minus the stand-in's own
  processing time for the calls made for that update (so the figure is ours, not the fake server's).

    python bench/bench_telegram.py [--updates 3000] [--users 500] [--callbacks 0.2] [--rate 100]
                                   [--standin process|loop|thread] [--echo]

Targets (issue 4): >= 300 updates/s, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from telegram import Update  # noqa: E402
from telegram.ext import TypeHandler  # noqa: E402
from tg_standin import TOKEN, BotApiStandIn  # noqa: E402

from bot.adapters.telegram import bridge_of, build_application, start_polling, stop_polling  # noqa: E402
from bot.app import build  # noqa: E402
from bot.core.assistant import freeze_startup_objects  # noqa: E402
from bot.core.messages import Reply  # noqa: E402
from bot.settings import Settings  # noqa: E402

DEVSET = ROOT.parent / "shared" / "spec" / "devset.jsonl"
FALLBACK = [
    "身份证丢了怎么补办",
    "社保卡怎么办",
    "公积金租房提取要什么材料",
    "营业执照丢了怎么补",
    "你好",
    "结婚登记要带什么",
]


def questions() -> list[str]:
    if DEVSET.exists():
        out = []
        for line in DEVSET.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["text"])
        return out
    return FALLBACK


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _standin_process(conn, latency: float) -> None:  # noqa: ANN001 - a multiprocessing Connection
    stand = BotApiStandIn(latency=latency).start()
    conn.send(stand.port)
    while True:
        op, arg = conn.recv()
        if op == "push":
            for kind, user, payload in arg:
                (stand.push_message if kind == "m" else stand.push_callback)(user, payload)
        elif op == "calls":
            conn.send(stand.calls)
        elif op == "reset":
            stand.reset_calls()
        elif op == "stop":
            stand.stop()
            conn.send(True)
            return


class RemoteStandIn:
    """The stand-in in its own process, driven over a pipe: pushes are batched, calls fetched on demand.
    Its Call.at stamps are time.monotonic(), which is system-wide on Linux, so spans stay comparable."""

    def __init__(self, latency: float = 0.0) -> None:
        self._conn, child = mp.Pipe()
        self._proc = mp.get_context("spawn").Process(
            target=_standin_process, args=(child, latency), daemon=True
        )
        self._proc.start()
        self.port = self._conn.recv()
        self._batch: list[tuple[str, int, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def push_message(self, user: int, text: str) -> None:
        self._batch.append(("m", user, text))

    def push_callback(self, user: int, data: str) -> None:
        self._batch.append(("c", user, data))

    def flush(self) -> None:
        if self._batch:
            self._conn.send(("push", self._batch))
            self._batch = []

    @property
    def calls(self) -> list:
        self._conn.send(("calls", None))
        return self._conn.recv()

    def reset_calls(self) -> None:
        self._conn.send(("reset", None))

    async def wait_for(self, predicate, limit: float = 10.0, what: str = "") -> None:  # noqa: ANN001
        self.flush()
        deadline = time.monotonic() + limit
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        self._conn.send(("stop", None))
        self._conn.recv()
        self._proc.join(10)


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    if args.standin == "process":
        stand = RemoteStandIn(args.rtt / 1000)
    else:
        stand = BotApiStandIn(latency=args.rtt / 1000)
        if args.standin == "thread":
            stand.start()
        else:
            await stand.start_here()
    flush = getattr(stand, "flush", lambda: None)
    tmp = tempfile.mkdtemp(prefix="bench-tg-")
    try:
        assistant = (
            await build(Settings.load(environ={}, env_file=None, database_path=f"{tmp}/bench.db"))
        ).assistant
        tickets = "on"
        if args.echo:
            real = assistant

            class Echo:
                kb = real.kb
                store = real.store
                clock = real.clock

                async def handle(self, msg):
                    return [Reply(f"收到：{msg.text or msg.callback}")]

                async def first_time(self, update_id):
                    return True

                async def tick(self):
                    return 0

                async def close(self):
                    await real.close()

            assistant = Echo()
            tickets = "echo core"
    except Exception as exc:  # the ticket store may not be available in a partial checkout
        print(f"(ticket store unavailable: {type(exc).__name__}: {exc}; running without tickets)")
        assistant = (
            await build(
                Settings.load(environ={}, env_file=None, database_path=f"{tmp}/bench.db"), tickets=False
            )
        ).assistant
        tickets = "off"
    settings = Settings(
        telegram_bot_token=TOKEN,
        telegram_base_url=stand.base_url,
        staff_groups={"*": (-1009999,)},
        rate_limit=0,
    )
    kwargs = {"concurrency": args.concurrency} if args.concurrency else {}
    app = build_application(settings, assistant, pool_size=args.pool, **kwargs)
    if not args.no_freeze:
        freeze_startup_objects()  # as `python -m bot run` does

    starts: dict[int, tuple[int, float]] = {}
    spans: dict[int, tuple[int, float, float]] = {}

    async def stamp_start(update: Update, context) -> None:
        chat = update.effective_chat.id if update.effective_chat else 0
        starts[update.update_id] = (chat, time.monotonic())

    async def stamp_end(update: Update, context) -> None:
        chat, t0 = starts.pop(update.update_id)
        spans[update.update_id] = (chat, t0, time.monotonic())

    app.add_handler(TypeHandler(Update, stamp_start), group=-10)
    app.add_handler(TypeHandler(Update, stamp_end), group=10)

    rng = random.Random(7)
    texts = questions()
    item_ids = list(assistant.kb.items)
    aspects = ["materials", "conditions", "time", "fee", "location", "online", "process"]
    # warm-up (first-use costs: jieba dictionaries, template compilation, SQLite pages)
    await start_polling(app, poll_timeout=1)
    warm_user = 10_000_000
    for t in texts[:20]:
        stand.push_message(warm_user, t)
    await stand.wait_for(lambda: bridge_of(app).handled >= 20, limit=120)
    await asyncio.sleep(0.3)
    stand.reset_calls()
    spans.clear()
    handled0 = bridge_of(app).handled

    def push(i: int, base: int) -> None:
        user = base + (i % args.users)
        if rng.random() < args.callbacks:
            stand.push_callback(user, f"a:{rng.choice(aspects)}:{rng.choice(item_ids)}")
        else:
            stand.push_message(user, rng.choice(texts))

    n = args.updates
    for i in range(n):
        push(i, 20_000_000)
    t0 = time.monotonic()
    c0 = time.process_time()
    await stand.wait_for(lambda: len(spans) >= n, limit=600, what="all updates handled")
    t1 = time.monotonic()
    c1 = time.process_time()
    await asyncio.sleep(0.2)
    calls = stand.calls
    handled = bridge_of(app).handled - handled0
    saturated = latencies(calls, spans)

    # phase 2: a steady offered load below saturation, to see handling latency without a queue in front
    paced: tuple[list[float], list[float]] | None = None
    if args.paced:
        stand.reset_calls()
        spans.clear()
        start = time.monotonic()
        for i in range(args.paced):
            delay = start + i / args.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            push(i, 30_000_000)
            flush()
        await stand.wait_for(lambda: len(spans) >= args.paced, limit=600, what="paced updates handled")
        await asyncio.sleep(0.2)
        paced = latencies(stand.calls, spans)
    await stop_polling(app)
    await assistant.close()
    stand.stop()

    raw, ours = saturated
    sends = sum(1 for c in calls if c.method == "sendMessage")
    standin_total = sum(c.server_seconds for c in calls if c.method != "getUpdates")
    print(
        f"updates: {n} ({args.users} users, {args.callbacks:.0%} button presses), tickets {tickets}, "
        f"concurrency {args.concurrency or 'default'}, rtt {args.rtt:g} ms, stand-in in {'its own process' if args.standin == 'process' else 'the bot process (' + args.standin + ')'}"
    )
    print(
        f"handled by the core: {handled}; sendMessage calls: {sends}; stand-in time total {standin_total:.2f} s"
    )
    print(f"throughput: {n / (t1 - t0):.0f} updates/s ({t1 - t0:.2f} s wall)")
    print(
        f"CPU (all threads of the bot process{', stand-in included' if args.standin != 'process' else ''}): {(c1 - c0) / n * 1000:.2f} ms per update "
        f"-> {n / (c1 - c0):.0f} updates/s per CPU-second"
    )
    print("saturated (all queued at once; includes waiting for the per-chat lock and HTTP pool):")
    report(raw, ours)
    if paced is not None:
        print(f"paced at {args.rate:.0f} updates/s ({args.paced} updates):")
        report(*paced)


def latencies(calls: list, spans: dict[int, tuple[int, float, float]]) -> tuple[list[float], list[float]]:
    """Per update: (including the stand-in's time, excluding it), in ms. The stand-in's own time (and its
    simulated network delay) for a chat is attributed to the update being handled for that chat at that
    moment (one at a time per chat)."""
    by_chat: dict[int, list[tuple[float, float]]] = {}
    for c in calls:
        if c.method in ("sendMessage", "answerCallbackQuery", "editMessageText", "editMessageReplyMarkup"):
            chat = int(c.params.get("chat_id") or c.params.get("_chat_id") or 0)
            by_chat.setdefault(chat, []).append((c.at, c.server_seconds))
    raw, ours = [], []
    for chat, start, end in spans.values():
        standin = sum(s for at, s in by_chat.get(chat, ()) if start <= at <= end + 0.002)
        raw.append((end - start) * 1000)
        ours.append(max(0.0, end - start - standin) * 1000)
    return raw, ours


def report(raw: list[float], ours: list[float]) -> None:
    print(
        f"  handling latency excl. stand-in: p50 {statistics.median(ours):.1f} ms, p90 {pct(ours, 90):.1f} ms, "
        f"p99 {pct(ours, 99):.1f} ms, max {max(ours):.1f} ms"
    )
    print(
        f"  handling latency incl. stand-in: p50 {statistics.median(raw):.1f} ms, p99 {pct(raw, 99):.1f} ms"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--updates", type=int, default=3000)
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--callbacks", type=float, default=0.2)
    ap.add_argument(
        "--concurrency", type=int, default=None, help="updates handled at once (default: the adapter's)"
    )
    ap.add_argument(
        "--rtt",
        type=float,
        default=0.0,
        help="ms the stand-in waits before answering each call (network + Telegram)",
    )
    ap.add_argument(
        "--rate", type=float, default=300.0, help="offered load (updates/s) for the latency phase"
    )
    ap.add_argument("--paced", type=int, default=3000, help="updates in the latency phase (0: skip it)")
    ap.add_argument(
        "--pool", type=int, default=None, help="HTTP connection pool size (default: the adapter's)"
    )
    ap.add_argument(
        "--standin",
        choices=("process", "loop", "thread"),
        default="process",
        help="where the stand-in runs: its own process (default), the bot's event loop, or a thread",
    )
    ap.add_argument(
        "--no-freeze", action="store_true", help="leave start-up objects in the cyclic GC (before the fix)"
    )
    ap.add_argument(
        "--echo", action="store_true", help="a trivial echo core instead of the real one (adapter ceiling)"
    )
    asyncio.run(main(ap.parse_args()))
