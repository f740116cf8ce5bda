"""Routing's learning curve: real messages replayed as tickets, with staff corrections, in time order.

Each message becomes a ticket where the router sends it (the shipped 派单目录 with its rules, plus the model
learned so far). When that is not the unit the message is labelled with — or the route was unsure and the
ticket went to the dispatcher's queue — staff correct it (a transfer or a dispatch), and the correction is a
labelled example, exactly as `RoutingDesk.record` keeps it. Retraining runs as it does in a deployment: on a
schedule (every `--every` tickets, standing in for a day) and through the same gate (`RoutingDesk.retrain`:
trained on all but the newest examples, switched in only when not worse on them). The store is an in-memory
stand-in with the same repository methods; nothing is written anywhere.

At 0, 100, 500 and 2,000 corrections, the next `--window` messages are routed with the model of that moment
(no learning inside the window) and reported: routed surely and rightly, the same with the rules alone on the
same messages (windows differ in what they hold: this column is the baseline each row is compared with), the
best guess right (queued ones included), queued, and the model's own first choice; and how many of the
window's messages belong to a unit the examples so far hold fewer than 20 of (class drift).

Windows differ in difficulty (the rules alone swing by 14 points between them), so with `--future N` the last
N messages of the stream are kept out of the replay and routed at every checkpoint too: one fixed set that
comes after every checkpoint, so its rows compare the models of each moment on the same messages. The
retrains the gate rejected are listed with both scores.

Streams (read from ../shared/research-data at run time, never copied or shipped; no model built here is kept):
- `msgabench`: MSGABench 情感分类 in file order (the sheet has no time), rows the blind routing set does not
  use, with a 问题领域; the 领域 is the label, mapped to one unit (`MSGA_UNIT`): a centre whose conventions are
  coarser than the shipped 派单目录 (all 城建 to 住建), which the model has to learn from the corrections;
- `tipdm`: the TipDM sample (附件2, 495 messages) in the order of 留言时间, its 7 classes mapped to units.

Every ticket is then resolved by the unit it ended at, and that is an example too (`TicketService.resolve`
records it, as a deployment does); `--corrections-only` leaves those out.

Run:  python bench/bench_routing_learning.py [--stream msgabench|tipdm] [--every 200] [--window 500]
      [--corrections-only] [--shuffle SEED]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_routing_blind import RESEARCH, sha1  # noqa: E402

from bot.core.clock import DEFAULT_TZ, FixedClock  # noqa: E402
from bot.core.storage.protocols import RoutingExample, RoutingModelRow  # noqa: E402

MSGA = RESEARCH / "msgabench" / "Government_affairs_QA_service_scenario.xlsx"
TIPDM = RESEARCH / "taidi2020c-sample" / "附件2.xlsx"
BLIND = ROOT / "bench" / "data" / "routing_blind.jsonl"
MSGA_UNIT = {
    "城建": "住房和城乡建设局",
    "交通": "交通运输局",
    "教育": "教育局",
    "政务": "行政审批服务局",
    "企业": "市场监督管理局",
    "治安": "公安局",
    "环保": "生态环境局",
    "就业": "人力资源和社会保障局",
    "医疗": "卫生健康局",
    "三农": "行政审批服务局",
    "文娱": "文化和旅游局",
    "旅游": "文化和旅游局",
    "金融": "行政审批服务局",
}
TIPDM_UNIT = {
    "城乡建设": "住房和城乡建设局",
    "环境保护": "生态环境局",
    "交通运输": "交通运输局",
    "教育文体": "教育局",
    "劳动和社会保障": "人力资源和社会保障局",
    "商贸旅游": "商务局",
    "卫生计生": "卫生健康局",
}
CHECKPOINTS = (0, 100, 500, 2000)


class MemoryRouting:
    def __init__(self) -> None:
        self.rows: list[RoutingExample] = []
        self.saved: list[RoutingModelRow] = []

    async def add_example(self, e: RoutingExample) -> int:
        self.rows.append(RoutingExample(**{**e.__dict__, "id": len(self.rows) + 1}))
        return len(self.rows)

    async def examples(self, after_id: int = 0, limit: int | None = None) -> list[RoutingExample]:
        out = self.rows[after_id:]
        return out[:limit] if limit is not None else list(out)

    async def save_model(self, row: RoutingModelRow, *, activate: bool) -> int:
        if activate:
            self.saved = [RoutingModelRow(**{**m.__dict__, "active": False}) for m in self.saved]
        self.saved.append(RoutingModelRow(**{**row.__dict__, "id": len(self.saved) + 1, "active": activate}))
        return len(self.saved)

    async def active_model(self) -> RoutingModelRow | None:
        return next((m for m in reversed(self.saved) if m.active), None)

    async def models(self, limit: int = 10) -> list[RoutingModelRow]:
        return self.saved[::-1][:limit]


class MemoryMeta:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def set(self, key: str, value: str) -> None:
        self.values[key] = value


class MemoryStore:
    def __init__(self) -> None:
        self.routing = MemoryRouting()
        self.meta = MemoryMeta()


def msgabench_stream() -> list[tuple[str, str]]:
    import openpyxl

    blind = [json.loads(s) for s in BLIND.read_text(encoding="utf-8").splitlines() if s.strip()]
    rows = {b["row"] for b in blind if b["source"] == "msgabench"}
    shas = {b["sha1"] for b in blind}
    ws = openpyxl.load_workbook(MSGA, read_only=True)["情感分类"]
    out = []
    for n, r in enumerate(ws.iter_rows(values_only=True), start=1):
        if n == 1 or n in rows or not r[0] or r[3] not in MSGA_UNIT:
            continue
        text = str(r[0]).strip()
        if len(text) >= 12 and sha1(text) not in shas:
            out.append((text, MSGA_UNIT[str(r[3])]))
    return out


def tipdm_stream() -> list[tuple[str, str]]:
    import openpyxl

    ws = openpyxl.load_workbook(TIPDM, read_only=True).active
    rows = []
    for i, r in enumerate(ws.iter_rows(values_only=True)):
        if i == 0 or not r or r[5] is None or str(r[5]).strip() not in TIPDM_UNIT:
            continue
        when = r[3] if isinstance(r[3], dt.datetime) else _when(str(r[3] or ""))
        rows.append(
            (when, f"{r[2] or ''}\n{' '.join(str(r[4] or '').split())}", TIPDM_UNIT[str(r[5]).strip()])
        )
    rows.sort(key=lambda x: x[0])
    return [(t, u) for _, t, u in rows]


def _when(text: str) -> dt.datetime:
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return dt.datetime.min


def window_figures(desk, msgs: list[tuple[str, str]]) -> dict[str, float]:  # noqa: ANN001
    sure_right = guess = queued = model_right = 0
    for text, unit in msgs:
        d = desk.route(text)
        sure_right += d.sure and d.line_unit == unit
        guess += d.line_unit == unit
        queued += not d.sure
        if d.model:
            model_right += d.model[0][0] == unit
    n = max(len(msgs), 1)
    rules_right = sum(
        (d := desk.routing.route(text, model=None)).sure and d.line_unit == unit for text, unit in msgs
    )
    return {
        "n": len(msgs),
        "rules_right": rules_right / n,
        "sure_right": sure_right / n,
        "guess": guess / n,
        "queued": queued / n,
        "model_alone": model_right / n if desk.routing.model is not None else float("nan"),
    }


def drift(desk, msgs: list[tuple[str, str]], seen: Counter[str], few: int) -> float:  # noqa: ANN001
    """Share of the messages whose unit the examples so far hold fewer than `few` of (class drift)."""
    return sum(seen[u] < few for _, u in msgs) / max(len(msgs), 1)


async def replay(
    stream: list[tuple[str, str]], every: int, window: int, confirmations: bool, future: int
) -> None:
    from bot.app import DataPaths
    from bot.core.knowledge import load_knowledge
    from bot.core.routing import Routing
    from bot.core.routing.learning import RoutingDesk
    from bot.settings import Settings

    paths = DataPaths.resolve(Settings(_env_file=None))
    routing = Routing(load_knowledge(paths.knowledge), paths.knowledge)
    clock = FixedClock(dt.datetime(2026, 1, 5, 9, 0, tzinfo=DEFAULT_TZ))
    desk = RoutingDesk(routing, MemoryStore(), clock)
    # the last `future` messages are never learned from: every checkpoint routes the same ones, so the rows
    # compare models, not windows of different difficulty (they come after every checkpoint in the stream)
    later = stream[len(stream) - future :] if future else []
    stream = stream[: len(stream) - future] if future else stream
    seen: Counter[str] = Counter()
    fixed_rows: list[str] = []
    corrections = 0
    pending = list(CHECKPOINTS)
    i = 0
    trains: list[float] = []
    print(f"stream: {len(stream)} messages; retrain every {every} tickets; windows of {window}")
    print(
        "| corrections | examples | model in use | routed surely and rightly | same window, rules only "
        "| best guess right | queued | model alone |"
    )
    print("|---|---|---|---|---|---|---|---|")
    while i < len(stream):
        if pending and corrections >= pending[0]:
            pending.pop(0)
            if desk.routing.model is not None or corrections:
                t0 = time.perf_counter()
                await desk.retrain()
                trains.append(time.perf_counter() - t0)
            f = window_figures(desk, stream[i : i + window])
            used = "rules only" if desk.routing.model is None else f"model {desk.model_id}"
            new_units = drift(desk, stream[i : i + window], seen, 20)
            if later:
                g = window_figures(desk, later)
                fixed_rows.append(
                    f"| {corrections} | {len(desk.store.routing.rows)} | {g['sure_right']:.1%} "
                    f"| {g['rules_right']:.1%} | {g['guess']:.1%} | {g['queued']:.1%} | {g['model_alone']:.1%} "
                    f"| {drift(desk, later, seen, 20):.1%} |"
                )
            print(
                f"| {corrections} | {len(desk.store.routing.rows)} | {used} | {f['sure_right']:.1%} "
                f"| {f['rules_right']:.1%} | {f['guess']:.1%} | {f['queued']:.1%} | {f['model_alone']:.1%} |"
                f"  (next {f['n']} messages; {new_units:.1%} of them of a unit with < 20 examples so far)"
            )
        text, unit = stream[i]
        seen[unit] += 1
        d = desk.route(text)
        ticket_id = i + 1
        if not d.sure or d.line_unit != unit:
            corrections += 1
            kind = "dispatch" if not d.sure else "transfer"
            await desk.record(
                ticket_id=ticket_id, text=text, unit=unit, kind=kind, actor="staff", previous=d.unit
            )
        if confirmations:  # resolved where it was (after the correction, if any): the staff's last word
            await desk.record(ticket_id=ticket_id, text=text, unit=unit, kind="resolved", actor="staff")
        i += 1
        clock.set(clock.now() + dt.timedelta(minutes=10))
        if i % every == 0:
            t0 = time.perf_counter()
            await desk.retrain()
            trains.append(time.perf_counter() - t0)
    if fixed_rows:
        print(
            f"\nthe same {len(later)} last messages of the stream (never learned from), at each checkpoint:"
        )
        print(
            "| corrections | examples | routed surely and rightly | rules only | best guess right | queued "
            "| model alone | of a unit with < 20 examples |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(fixed_rows))
    if pending:
        print(f"(the stream ended at {corrections} corrections: no window for {pending})")
    models = desk.store.routing.saved
    switched = sum(m.active or bool(m.data) for m in models)
    for m in models:
        if not (m.active or m.data):
            print(
                f"rejected: trained on {m.examples}, {m.score:.1%} against {m.baseline:.1%} "
                f"on the {m.held_back} newest"
            )
    print(
        f"\nretrains: {len(trains)} ({switched} switched in, {len(models) - switched} rejected or too few); "
        f"longest {max(trains, default=0):.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stream", choices=("msgabench", "tipdm"), default="msgabench")
    ap.add_argument("--every", type=int, default=200, help="retrain after this many tickets (a 'day')")
    ap.add_argument("--window", type=int, default=500)
    ap.add_argument(
        "--corrections-only",
        action="store_true",
        help="learn only from transfers and dispatches, not from tickets resolved where they were routed",
    )
    ap.add_argument(
        "--future",
        type=int,
        default=None,
        help="also route the last N messages (never learned from) at every checkpoint: one fixed later set "
        "(default 1500 for msgabench, 0 for the 495 tipdm messages)",
    )
    ap.add_argument(
        "--shuffle", type=int, default=None, help="shuffle the stream with this seed (no time order)"
    )
    args = ap.parse_args()
    stream = msgabench_stream() if args.stream == "msgabench" else tipdm_stream()
    if args.shuffle is not None:
        random.Random(args.shuffle).shuffle(stream)
    future = args.future if args.future is not None else (1500 if args.stream == "msgabench" else 0)
    asyncio.run(replay(stream, args.every, args.window, not args.corrections_only, future))


if __name__ == "__main__":
    main()
