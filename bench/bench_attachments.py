"""From a citizen's album of 5 photos to the staff group's post, through the whole Telegram stack and the local
Bot API stand-in (issue 16): ≤ 1 s p99 at 50 诉求/s.

The bot is one process (the real python-telegram-bot Application, the real core, an SQLite ticket store); the
stand-in runs in a second process, as Telegram's servers are not on the bot's CPU either. Citizens are first
brought to the summary of an intake (untimed). Then, paced at --rate 诉求 per second, each citizen sends an
album of 5 photos as Telegram does (five messages with one media_group_id, the caption on the first); when
the bot has answered it ("已收到照片 5 张…") the citizen presses 提交; the ticket's post reaches the staff group
as an album (sendMediaGroup) followed by the card with its buttons (sendMessage).

Per 诉求, from the album's first photo handed to the stand-in to the card in the group (the whole post):
  album -> acknowledged   the album gathered (ALBUM_WAIT_SECONDS, default 0.5 s) and handled by the intake
  citizen's reaction      the driver pressing 提交 once it sees the acknowledgement (polling every 5 ms)
  submit -> group post    the ticket created, the outbox drained: sendMediaGroup, then the card
The baseline, in the same run at the same rate, is the same 诉求 without photos: from 提交 to the card.
Each phase runs --rounds times; the figures are the median of the rounds with their spread (min–max).

    python bench/bench_attachments.py [--rate 50] [--seconds 6] [--rounds 3] [--album-wait 0.5] [--rtt 0]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tg_standin import TOKEN, BotApiStandIn  # noqa: E402

from bot.adapters.telegram import build_application, start_polling, stop_polling  # noqa: E402
from bot.app import build  # noqa: E402
from bot.core.assistant import freeze_startup_objects  # noqa: E402
from bot.settings import Settings  # noqa: E402

GROUP = -1009999
APPEAL = "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险"
NUMBER = re.compile(r"SQ\d{8}-\d{4}")
MARK = re.compile(r"照片#(\d+)")
TO_SUMMARY = ["in:ok", "in:skip", "in:nophone", "in:anon:0"]


def _standin_process(conn, latency: float) -> None:  # noqa: ANN001 - a multiprocessing Connection
    stand = BotApiStandIn(latency=latency).start()
    conn.send(stand.port)
    while True:
        op, arg = conn.recv()
        if op == "push":
            for kind, user, payload in arg:
                if kind == "m":
                    stand.push_message(user, payload)
                elif kind == "c":
                    stand.push_callback(user, payload)
                else:
                    stand.push_album(user, payload[0], payload[1])
        elif op == "since":  # the calls after the first `arg`, as small tuples: (method, chat, text, at)
            calls = stand.calls_since(arg)
            out = []
            for c in calls:
                if c.method == "sendMediaGroup":
                    text = " ".join(str(m.get("caption") or "") for m in c.params.get("media") or [])
                else:
                    text = str(c.params.get("text") or c.params.get("caption") or "")
                out.append((c.method, int(c.params.get("chat_id") or 0), text, c.at))
            conn.send(out)
        elif op == "stop":
            stand.stop()
            conn.send(True)
            return


class RemoteStandIn:
    def __init__(self, latency: float) -> None:
        self._conn, child = mp.Pipe()
        self._proc = mp.get_context("spawn").Process(
            target=_standin_process, args=(child, latency), daemon=True
        )
        self._proc.start()
        self.port = self._conn.recv()
        self._seen = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def push(self, batch: list[tuple[str, int, object]]) -> None:
        self._conn.send(("push", batch))

    def _new_calls(self) -> list[tuple[str, int, str, float]]:
        self._conn.send(("since", self._seen))
        calls = self._conn.recv()
        self._seen += len(calls)
        return calls

    async def new_calls(self) -> list[tuple[str, int, str, float]]:
        # waited for in a thread: the driver shares the bot's process and must not stall its event loop while
        # the stand-in's process answers (one call at a time: the driver never overlaps them)
        return await asyncio.to_thread(self._new_calls)

    def stop(self) -> None:
        self._conn.send(("stop", None))
        self._conn.recv()
        self._proc.join(10)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def prepare(stand: RemoteStandIn, users: list[int]) -> None:
    """Every citizen at the summary of an intake (untimed)."""
    for start in range(0, len(users), 100):
        chunk = users[start : start + 100]
        batch: list[tuple[str, int, object]] = []
        for u in chunk:
            batch.append(("m", u, APPEAL))
            batch += [("c", u, data) for data in TO_SUMMARY]
        stand.push(batch)
        waiting = set(chunk)
        deadline = time.monotonic() + 120
        while waiting:
            for method, chat, text, _ in await stand.new_calls():
                if method == "sendMessage" and chat in waiting and "请核对诉求内容" in text:
                    waiting.discard(chat)
            if time.monotonic() > deadline:
                raise SystemExit(f"准备阶段超时：{len(waiting)} 位市民没有到达确认页")
            await asyncio.sleep(0.02)


async def run_phase(
    stand: RemoteStandIn, users: list[int], rate: float, album: bool
) -> dict[str, list[float]]:
    """Paced 诉求; per citizen the times (monotonic, system-wide) of each step; returns the spans in ms."""
    t0: dict[int, float] = {}
    ack: dict[int, float] = {}
    submitted: dict[int, float] = {}
    number_of: dict[int, str] = {}
    album_post: dict[int, float] = {}
    split: set[int] = set()
    card: dict[str, float] = {}
    by_chat = {u: i for i, u in enumerate(users)}
    start = time.monotonic() + 0.05
    pushed = 0
    deadline = start + len(users) / rate + 60
    while True:
        now = time.monotonic()
        due = []
        while pushed < len(users) and start + pushed / rate <= now:
            u = users[pushed]
            t0[u] = time.monotonic()
            if album:
                due.append(("a", u, (5, f"东门这根路灯 照片#{pushed}")))
            else:
                submitted[u] = t0[u]
                due.append(("c", u, "in:submit"))
            pushed += 1
        if due:
            stand.push(due)
        presses = []
        for method, chat, text, at in await stand.new_calls():
            if method == "sendMessage" and chat in by_chat:
                if album and "已收到照片" in text and chat not in ack:
                    ack[chat] = at
                    if "已收到照片 5 张" not in text:  # the album came apart (a gap > ALBUM_WAIT_SECONDS)
                        split.add(chat)
                    submitted[chat] = time.monotonic()
                    presses.append(("c", chat, "in:submit"))
                m = NUMBER.search(text)
                if m and "诉求已登记" in text:
                    number_of[chat] = m.group(0)
            elif chat == GROUP and method == "sendMediaGroup":
                m = MARK.search(text)
                if m:
                    album_post[users[int(m.group(1))]] = at
            elif chat == GROUP and method == "sendMessage":
                m = NUMBER.search(text)
                if m:
                    card[m.group(0)] = at
        if presses:
            stand.push(presses)
        done = sum(1 for u in users if u in number_of and number_of[u] in card)
        if done == len(users) and pushed == len(users):
            break
        if time.monotonic() > deadline:
            print(f"  （超时：{len(users) - done} 件没有到达工作群）")
            break
        await asyncio.sleep(0.005)
    spans: dict[str, list[float]] = {"whole": [], "ack": [], "reaction": [], "post": []}
    late = 0
    for u in users:
        n = number_of.get(u)
        if n is None or n not in card:
            continue
        spans["whole"].append((card[n] - t0[u]) * 1000)
        spans["post"].append((card[n] - submitted[u]) * 1000)
        if album:
            spans["ack"].append((ack[u] - t0[u]) * 1000)
            spans["reaction"].append((submitted[u] - ack[u]) * 1000)
            late += u not in album_post or album_post[u] > card[n]
    if split or late:
        print(f"  （{len(split)} 个相册被拆成几次收到；{late} 件的相册没有作为相册先于卡片到达工作群）")
    return spans


def summary(rounds: list[list[float]]) -> str:
    """p50 / p99 / max as the median of the rounds, with the rounds' min–max."""

    def one(f) -> str:  # noqa: ANN001
        vals = [f(r) for r in rounds if r]
        med = statistics.median(vals)
        return f"{med:6.0f} ms ({min(vals):.0f}–{max(vals):.0f})"

    return f"p50 {one(statistics.median)}   p99 {one(lambda r: pct(r, 99))}   max {one(max)}"


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    stand = RemoteStandIn(args.rtt / 1000)
    tmp = tempfile.mkdtemp(prefix="bench-att-")
    settings = Settings.load(environ={}, env_file=None, database_path=f"{tmp}/bench.db")
    assistant = (await build(settings)).assistant
    adapter = Settings(
        telegram_bot_token=TOKEN,
        telegram_base_url=stand.base_url,
        staff_groups={"*": (GROUP,)},
        rate_limit=0,
        album_wait_seconds=args.album_wait,
    )
    app = build_application(adapter, assistant, jobs=False)
    freeze_startup_objects()
    await start_polling(app, poll_timeout=1)
    per_phase = int(args.rate * args.seconds)
    load_before = os.getloadavg()[0]
    results: dict[str, list[dict[str, list[float]]]] = {"text": [], "album": []}
    base = 50_000_000
    try:
        # warm-up: first-use costs (jieba, templates, SQLite pages) paid before anything is timed
        warm = [base + i for i in range(20)]
        await prepare(stand, warm)
        await run_phase(stand, warm, 20, album=True)
        base += 1000
        for r in range(args.rounds):
            for kind in ("text", "album"):
                users = [base + i for i in range(per_phase)]
                base += per_phase + 1000
                t = time.monotonic()
                await prepare(stand, users)
                prep = time.monotonic() - t
                c0 = time.process_time()
                spans = await run_phase(stand, users, args.rate, album=kind == "album")
                spans["cpu"] = [(time.process_time() - c0) / per_phase * 1000]
                results[kind].append(spans)
                print(
                    f"round {r + 1} {kind:5}: {len(spans['whole'])}/{per_phase} 诉求 at {args.rate:g}/s "
                    f"(prepared in {prep:.1f} s); whole p99 {pct(spans['whole'], 99):.0f} ms, "
                    f"bot CPU {spans['cpu'][0]:.1f} ms per 诉求"
                )
    finally:
        await stop_polling(app)
        await assistant.close()
        stand.stop()

    print()
    print(
        f"{per_phase} 诉求 per phase × {args.rounds} rounds at {args.rate:g} 诉求/s, album of 5 photos, "
        f"ALBUM_WAIT_SECONDS {args.album_wait:g}, rtt {args.rtt:g} ms, stand-in in its own process; "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)"
    )
    album = results["album"]
    text = results["text"]
    print("album 诉求, album's first photo -> card in the staff group (target p99 ≤ 1000 ms):")
    print(f"  whole:                {summary([s['whole'] for s in album])}")
    print(f"  album -> acknowledged {summary([s['ack'] for s in album])}")
    print(f"  citizen's reaction    {summary([s['reaction'] for s in album])}")
    print(f"  submit -> group post  {summary([s['post'] for s in album])}")
    print("baseline, the same 诉求 without photos, submit -> card in the staff group:")
    print(f"  submit -> group post  {summary([s['post'] for s in text])}")
    cpu_a = [s["cpu"][0] for s in album]
    cpu_t = [s["cpu"][0] for s in text]
    print(
        f"bot CPU per 诉求 (the bot process, all threads): with photos {statistics.median(cpu_a):.1f} ms "
        f"({min(cpu_a):.1f}–{max(cpu_a):.1f}), without {statistics.median(cpu_t):.1f} ms "
        f"({min(cpu_t):.1f}–{max(cpu_t):.1f}); {args.rate:g} 诉求/s needs {statistics.median(cpu_a) * args.rate / 10:.0f}% of a core; the driver polling the stand-in every 5 ms runs in this process too"
    )
    ratios = [pct(a["post"], 99) / max(1e-9, pct(t["post"], 99)) for a, t in zip(album, text, strict=True)]
    print(
        f"submit -> post p99, with photos / without: {statistics.median(ratios):.2f}× "
        f"({min(ratios):.2f}–{max(ratios):.2f}× over the rounds)"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=50.0, help="诉求 per second")
    ap.add_argument("--seconds", type=float, default=6.0, help="seconds of load per phase")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--album-wait", type=float, default=0.5, help="ALBUM_WAIT_SECONDS")
    ap.add_argument("--rtt", type=float, default=0.0, help="ms the stand-in waits before answering each call")
    ap.add_argument("--profile", default=None, help="write a cProfile of the bot process to this file")
    parsed = ap.parse_args()
    if parsed.profile:
        import cProfile

        cProfile.run("asyncio.run(main(parsed))", parsed.profile)
    else:
        asyncio.run(main(parsed))
