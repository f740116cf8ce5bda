"""Blind routing benchmark: real messages labelled by content (bench/data/routing_blind.jsonl).

The 365 messages are referenced by file / sheet / 1-based Excel row / column header, each with the sha1 of the
cell's stripped text; the text is read from ../shared/research-data at run time and never copied into the
project. A line whose sha1 does not match (a changed file, a shifted row) stops the run. Labels and the rules
behind them: bench/data/routing_rules.md.

This set is the held-out measure: only its aggregate figures are read; nothing is tuned on its individual
errors (there is deliberately no --errors option).

Reported, over the lines labelled `is_appeal` (the plain questions, `is_appeal: false`, are counted apart):
- recognised as 诉求: the matcher's intent is `appeal` (bot.app.load_answering on the shipped data);
- routed: the unit the code picks is the labelled `unit` or one of its `acceptable` alternatives; and the exact
  unit; with --router dispatch, also how many went to the dispatcher's queue (unsure), how right the sure ones
  were, and how right the best guess was for every message (queued ones included). A queued message counts as
  not routed in the headline figure;
- recognised and routed (both);
- per-unit precision and recall (exact unit), and 属地 (`local`) agreement when the router reports it.

Routers:
- `classify` (the code before issue 14): bot/core/tickets/classify.py's category → that category's department;
- `dispatch`: the 派单目录 (knowledge/dispatch.yaml) through bot/core/routing (rules only, no learned model: a
  fresh deployment has no tickets to learn from).

Run:  python bench/bench_routing_blind.py [--router classify|dispatch] [--title] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESEARCH = ROOT.parent / "shared" / "research-data"
BLIND = ROOT / "bench" / "data" / "routing_blind.jsonl"
# the subject line next to the message body, for --title
TITLE_COLUMNS = {"投诉件内容": "标题", "留言详情": "留言主题"}


@dataclass
class Line:
    label: dict
    text: str
    title: str


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def read_cells(root: Path, refs: list[dict]) -> list[tuple[str, str]]:
    """(cell text, title text) for each reference, read from the workbooks under `root`; every sha1 checked."""
    import openpyxl

    wanted: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in refs:
        wanted[(r["file"], r["sheet"])].add(int(r["row"]))
    rows: dict[tuple[str, str, int], dict[str, object]] = {}
    for (file, sheet), numbers in wanted.items():
        path = root / file
        if not path.exists():
            sys.exit(f"数据文件不存在：{path}")
        wb = openpyxl.load_workbook(path, read_only=True)
        ws = wb[sheet]
        header: list[str] = []
        for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if n == 1:
                header = [str(h).strip() if h is not None else "" for h in values]
                continue
            if n in numbers:
                rows[(file, sheet, n)] = dict(zip(header, values, strict=False))
        wb.close()
    out = []
    bad = []
    for r in refs:
        cells = rows.get((r["file"], r["sheet"], int(r["row"])), {})
        text = str(cells.get(r["column"]) or "").strip()
        if sha1(text) != r["sha1"]:
            bad.append(f"{r['file']} {r['sheet']} 第{r['row']}行 {r['column']}")
        title_col = TITLE_COLUMNS.get(r["column"])
        title = str(cells.get(title_col) or "").strip() if title_col else ""
        out.append((text, title))
    if bad:
        sys.exit(f"{len(bad)} 条数据与 sha1 不符（文件变了或行号错位）：\n  " + "\n  ".join(bad[:20]))
    return out


def load_blind(path: Path = BLIND, root: Path = RESEARCH) -> list[Line]:
    labels = [json.loads(s) for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]
    cells = read_cells(root, labels)
    return [Line(lbl, text, title) for lbl, (text, title) in zip(labels, cells, strict=True)]


@dataclass
class Routed:
    unit: str  # the unit it goes to (the line department: the blind labels name those, not 属地 units)
    unsure: bool = False  # sent to the dispatcher's queue instead; `unit` is then the best guess
    local: bool | None = None


def classify_router(answering) -> Callable[[str], Routed]:  # noqa: ANN001
    """The code before issue 14: classify.py's top category, then that category's department."""
    from bot.core.tickets.classify import classify

    kb = answering.kb

    def route(text: str) -> Routed:
        cat = classify(text, kb)[0][0]
        return Routed(kb.appeal_categories[cat].department)

    return route


def dispatch_router(answering) -> Callable[[str], Routed]:  # noqa: ANN001
    """The 派单目录 (rules only), as a fresh deployment routes before it has learned from any ticket."""
    from bot.core.routing import router_for

    router = router_for(answering.kb)

    def route(text: str) -> Routed:
        d = router.route(text)
        return Routed(d.line_unit or "", unsure=not d.sure, local=d.local)

    return route


ROUTERS = {"classify": classify_router, "dispatch": dispatch_router}


def pct(a: int, b: int) -> str:
    return f"{a / b:.1%} ({a}/{b})" if b else "—"


def measure(lines: list[Line], understand, route, *, title: bool) -> dict:  # noqa: ANN001
    appeals = [ln for ln in lines if ln.label["is_appeal"]]
    plain = [ln for ln in lines if not ln.label["is_appeal"]]
    res: dict = {"n": len(lines), "appeals": len(appeals), "plain": len(plain)}
    recog = ok = exact = both = queued = sure_ok = guess_ok = guess_exact = 0
    local_agree = local_n = 0
    per_gold: Counter[str] = Counter()
    per_pred: Counter[str] = Counter()
    per_tp: Counter[str] = Counter()
    for ln in appeals:
        text = f"{ln.title}\n{ln.text}" if title and ln.title else ln.text
        is_appeal = understand(text) == "appeal"
        r = route(text)
        gold = ln.label["unit"]
        good = {gold, *ln.label["acceptable"]}
        right = (not r.unsure) and r.unit in good
        guess_ok += r.unit in good
        guess_exact += r.unit == gold
        recog += is_appeal
        ok += right
        exact += (not r.unsure) and r.unit == gold
        both += is_appeal and right
        queued += r.unsure
        sure_ok += right
        per_gold[gold] += 1
        if not r.unsure:
            per_pred[r.unit] += 1
            per_tp[gold] += r.unit == gold
        if r.local is not None:
            local_n += 1
            local_agree += r.local == ln.label["local"]
    over = sum(understand(ln.text) == "appeal" for ln in plain)
    routed_sure = len(appeals) - queued
    res.update(
        recognised=recog,
        routed=ok,
        exact=exact,
        both=both,
        queued=queued,
        sure_right=sure_ok,
        guess=guess_ok,
        guess_exact=guess_exact,
        sure=routed_sure,
        plain_as_appeal=over,
        local_agree=local_agree,
        local_n=local_n,
        units={
            u: {
                "n": per_gold[u],
                "recall": per_tp[u] / per_gold[u] if per_gold[u] else None,
                "precision": per_tp[u] / per_pred[u] if per_pred[u] else None,
                "predicted": per_pred[u],
            }
            for u in sorted(set(per_gold) | set(per_pred), key=lambda u: (-per_gold[u], u))
        },
    )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--router", choices=sorted(ROUTERS), default="dispatch")
    ap.add_argument(
        "--title", action="store_true", help="prefix the subject line (fuzhou, taidi) to the body"
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--data", type=Path, default=BLIND)
    ap.add_argument("--research", type=Path, default=RESEARCH)
    args = ap.parse_args()

    from bot.app import DataPaths, load_answering
    from bot.settings import Settings

    lines = load_blind(args.data, args.research)
    answering = load_answering(DataPaths.resolve(Settings(_env_file=None)))
    route = ROUTERS[args.router](answering)

    def understand(text: str) -> str:
        return answering.matcher.understand(text).intent

    res = measure(lines, understand, route, title=args.title)
    res["router"] = args.router
    if args.json:
        print(json.dumps(res, ensure_ascii=False, indent=1))
        return
    a = res["appeals"]
    print(f"blind routing set: {res['n']} messages, sha1 verified; router: {args.router}")
    print(f"  诉求 lines: {a}; plain questions: {res['plain']}")
    print(f"  recognised as 诉求 (intent appeal):            {pct(res['recognised'], a)}")
    print(f"  routed to the labelled unit or an acceptable:  {pct(res['routed'], a)}")
    print(f"  exact unit:                                    {pct(res['exact'], a)}")
    print(f"  recognised and routed:                         {pct(res['both'], a)}")
    if res["queued"]:
        print(f"  to the dispatcher's queue (unsure):            {pct(res['queued'], a)}")
        print(f"  sure routes that were right:                   {pct(res['sure_right'], res['sure'])}")
        print(f"  best guess right (queued ones included):       {pct(res['guess'], a)}")
        print(f"  best guess exact unit:                         {pct(res['guess_exact'], a)}")
    if res["local_n"]:
        print(f"  属地 (local) agrees with the label:            {pct(res['local_agree'], res['local_n'])}")
    print(f"  plain questions taken as 诉求 (over-trigger):   {pct(res['plain_as_appeal'], res['plain'])}")
    print(f"\n  {'unit':<22} {'n':>4} {'routed':>6} {'recall':>7} {'precision':>9}")
    for u, s in res["units"].items():
        rec = "—" if s["recall"] is None else f"{s['recall']:.0%}"
        prec = "—" if s["precision"] is None else f"{s['precision']:.0%}"
        print(f"  {u:<22} {s['n']:>4} {s['predicted']:>6} {rec:>7} {prec:>9}")


if __name__ == "__main__":
    main()
