"""How the matcher's intents generalise to real citizen messages it was never tuned on.

Data (read from ../shared, never copied into the project):
  - msgabench 情感分类: 11,529 real messages to a city hotline labelled 咨询 / 投诉/求助 / 建言.
    Complaints, help requests and suggestions should become 诉求 tickets: either detected as `appeal`, or
    (when nothing matches) `unknown`, which the dialogue turns into an offer to file one.
  - the dev set, for comparison.
Run: python bench/bench_intents.py [--sample N]
"""

from __future__ import annotations

import argparse
import collections
import random
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=3000)
    args = ap.parse_args()

    import openpyxl

    from bot.core.answering.matcher import Matcher
    from bot.core.knowledge import load_knowledge

    m = Matcher(load_knowledge())
    path = SHARED / "research-data" / "msgabench" / "Government_affairs_QA_service_scenario.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [r for i, r in enumerate(wb["情感分类"].iter_rows(values_only=True)) if i > 0 and r[0]]
    random.seed(20261123)
    sample = random.sample(rows, min(args.sample, len(rows)))
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    t0 = time.perf_counter()
    for text, _sentiment, kind, _domain in sample:
        counts[kind][m.understand(str(text)).intent] += 1
    elapsed = time.perf_counter() - t0

    print(
        f"msgabench 情感分类: {len(sample)} messages sampled of {len(rows)}; {elapsed / len(sample) * 1e3:.2f} ms each"
    )
    print("| label | n | appeal | unknown (offered a ticket) | item/exemption answered | smalltalk |")
    print("|---|---|---|---|---|---|")
    for kind, c in sorted(counts.items()):
        n = sum(c.values())
        answered = c["item"] + c["exemption"]
        print(
            f"| {kind} | {n} | {c['appeal'] / n:.1%} | {c['unknown'] / n:.1%} | {answered / n:.1%} | {c['smalltalk'] / n:.1%} |"
        )
    for kind in ("投诉/求助", "建言"):
        c = counts.get(kind)
        if c:
            n = sum(c.values())
            print(f"{kind}: reach a ticket (appeal or ticket offer) {(c['appeal'] + c['unknown']) / n:.1%}")


if __name__ == "__main__":
    main()
