"""Development figures for routing: what the 派单目录 was tuned on (never the blind set).

First the own development set `bench/data/routing_dev.jsonl`: 90 MSGABench messages (rows the blind set does
not use; 投诉/求助 and 建言 only) labelled by content by the engineer with the blind set's written rules
(bench/data/routing_rules.md), before looking at how any router sends them; stored like the blind set
(references and sha1, no text). Then two sources with column labels, read from ../shared/research-data at run
time and never copied into the project:
- the TipDM 2020 C sample (附件2.xlsx, 495 messages, 7 first-level classes);
- MSGABench 情感分类 rows that bench/data/routing_blind.jsonl does not reference, with a 问题领域, a fixed
  random sample (`--msgabench N`, default 600).
Their labels are columns of the source (a class, a 领域), so a message counts as routed acceptably when the
unit is one a dispatcher would plausibly send that class to (`ALLOWED` below): a coarse check for development,
not a routing accuracy. `--errors N` prints misrouted messages of this set with the evidence (allowed here: it
is the development set).

Run:  python bench/bench_routing_dev.py [--errors N] [--msgabench N] [--router classify|dispatch]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_routing_blind import RESEARCH, ROUTERS, load_blind, measure, sha1  # noqa: E402

TIPDM = RESEARCH / "taidi2020c-sample" / "附件2.xlsx"
MSGA = RESEARCH / "msgabench" / "Government_affairs_QA_service_scenario.xlsx"
BLIND = ROOT / "bench" / "data" / "routing_blind.jsonl"
DEV = ROOT / "bench" / "data" / "routing_dev.jsonl"

_CITY = {"住房和城乡建设局", "城市管理局", "自然资源和规划局", "住房公积金管理中心", "消防救援大队"}
_UTIL = {
    "供水公司（政务服务中心公用事业窗口）",
    "供电公司（政务服务中心公用事业窗口）",
    "燃气公司（政务服务中心公用事业窗口）",
}
_CONSUMER = {"市场监督管理局", "商务局", "文化和旅游局", "发展和改革局"}
ALLOWED: dict[str, set[str]] = {
    # TipDM classes
    "城乡建设": _CITY | _UTIL | {"交通运输局", "公安局", "民政局", "生态环境局"},
    "环境保护": {"生态环境局", "城市管理局", "住房和城乡建设局", "公安局"},
    "交通运输": {"交通运输局", "公安局", "住房和城乡建设局", "城市管理局"},
    "教育文体": {"教育局", "文化和旅游局", "市场监督管理局"},
    "劳动和社会保障": {
        "人力资源和社会保障局",
        "医疗保障局",
        "民政局",
        "残疾人联合会",
        "退役军人事务局",
        "住房公积金管理中心",
    },
    "商贸旅游": _CONSUMER,
    "卫生计生": {"卫生健康局", "医疗保障局", "市场监督管理局"},
    # MSGABench 领域
    "城建": _CITY | _UTIL | {"交通运输局", "公安局", "生态环境局", "民政局"},
    "交通": {"交通运输局", "公安局", "住房和城乡建设局", "城市管理局"},
    "教育": {"教育局", "市场监督管理局", "人力资源和社会保障局"},
    "政务": {"行政审批服务局", "公安局", "人力资源和社会保障局", "民政局", "卫生健康局"},
    "企业": {"市场监督管理局", "行政审批服务局", "税务局", "人力资源和社会保障局", "商务局"},
    "治安": {"公安局", "城市管理局"},
    "环保": {"生态环境局", "城市管理局", "住房和城乡建设局"},
    "就业": {"人力资源和社会保障局"},
    "医疗": {"卫生健康局", "医疗保障局"},
    "三农": {"行政审批服务局", "自然资源和规划局", "住房和城乡建设局"},
    "文娱": {"文化和旅游局", "教育局"},
    "旅游": {"文化和旅游局", "交通运输局"},
    "金融": {"行政审批服务局", "市场监督管理局"},
}


def tipdm() -> list[tuple[str, str, str]]:
    import openpyxl

    ws = openpyxl.load_workbook(TIPDM, read_only=True).active
    out = []
    for i, r in enumerate(ws.iter_rows(values_only=True)):
        if i == 0 or not r or r[5] is None:
            continue
        out.append(("tipdm", f"{r[2] or ''}\n{' '.join(str(r[4] or '').split())}", str(r[5]).strip()))
    return out


def msgabench(n: int) -> list[tuple[str, str, str]]:
    import openpyxl

    blind_rows = {
        json.loads(s)["row"]
        for s in BLIND.read_text(encoding="utf-8").splitlines()
        if s.strip() and json.loads(s)["source"] == "msgabench"
    }
    blind_sha = {json.loads(s)["sha1"] for s in BLIND.read_text(encoding="utf-8").splitlines() if s.strip()}
    ws = openpyxl.load_workbook(MSGA, read_only=True)["情感分类"]
    pool = []
    for row, r in enumerate(ws.iter_rows(values_only=True), start=1):
        if row == 1 or row in blind_rows or not r[0] or r[3] not in ALLOWED:
            continue
        text = str(r[0]).strip()
        if len(text) < 12 or sha1(text) in blind_sha:
            continue
        pool.append(("msgabench", text, str(r[3])))
    random.Random(20261126).shuffle(pool)
    return pool[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--router", choices=sorted(ROUTERS), default="dispatch")
    ap.add_argument("--msgabench", type=int, default=600)
    ap.add_argument("--errors", type=int, default=0)
    args = ap.parse_args()

    from bot.app import DataPaths, load_answering
    from bot.settings import Settings

    answering = load_answering(DataPaths.resolve(Settings(_env_file=None)))
    route = ROUTERS[args.router](answering)
    rows = tipdm() + msgabench(args.msgabench)
    by: dict[str, Counter] = {}
    errors = []
    for src, text, label in rows:
        r = route(text)
        c = by.setdefault(src, Counter())
        c["n"] += 1
        ok = not r.unsure and r.unit in ALLOWED[label]
        c["ok"] += ok
        c["queued"] += r.unsure
        c["sure_ok"] += ok
        c["sure"] += not r.unsure
        if not ok:
            errors.append((src, label, r, text))
    own = load_blind(DEV)
    res = measure(own, lambda t: "appeal", route, title=False)
    n = res["appeals"]
    print(
        f"own dev set (routing_dev.jsonl, labelled by content with routing_rules.md): {n} messages; "
        f"routed {res['routed'] / n:.1%}; best guess {res['guess'] / n:.1%}; exact {res['exact'] / n:.1%}; "
        f"queued {res['queued'] / n:.1%}; sure routes right {res['sure_right'] / max(res['sure'], 1):.1%}"
    )
    if args.errors:
        for ln in own:
            r = route(ln.text)
            if r.unit not in {ln.label["unit"], *ln.label["acceptable"]} or r.unsure:
                errors.append(("own", ln.label["unit"], r, ln.text))
    for src, c in by.items():
        print(
            f"{src}: {c['n']} messages; routed acceptably {c['ok'] / c['n']:.1%}; queued {c['queued'] / c['n']:.1%}; "
            f"sure routes acceptable {c['sure_ok'] / max(c['sure'], 1):.1%}"
        )
    if args.errors:
        from bot.core.routing import router_for

        router = router_for(answering.kb)
        own_errors = [e for e in errors if e[0] == "own"]
        rest = [e for e in errors if e[0] != "own"]
        random.Random(1).shuffle(rest)
        for src, label, r, text in (own_errors + rest)[: args.errors]:
            d = router.route(text)
            ev = "; ".join(
                f"{s.entry.id}:{s.score:.1f}({','.join(s.keywords[:6])})" for s in d.rules.entries[:4]
            )
            print(f"\n[{src} {label} → {'队列 ' if r.unsure else ''}{d.line_unit}] {text[:150]!r}\n   {ev}")


if __name__ == "__main__":
    main()
