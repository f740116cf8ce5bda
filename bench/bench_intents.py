"""How the matcher's intents generalise to real citizen messages it was never tuned on.

Data (read from ../shared, never copied into the project):
  - msgabench 情感分类: 11,529 real messages to a city hotline labelled 咨询 / 投诉/求助 / 建言.
    Complaints, help requests and suggestions (7,841) should become 诉求 tickets: detected as `appeal` (the
    target), or at least not answered with a 办事指南 entry (`unknown` still offers a ticket).
The messages are split in two halves by a hash of their text: `dev` may be looked at when tuning cues (with
--errors), `held` never is; both halves are reported, so tuning that only fits the dev half shows.
Run: python bench/bench_intents.py [--sample N] [--errors N]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import random
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PATH = SHARED / "research-data" / "msgabench" / "Government_affairs_QA_service_scenario.xlsx"
APPEAL_KINDS = ("投诉/求助", "建言")


def half(text: str) -> str:
    return "dev" if hashlib.sha1(text.encode("utf-8")).digest()[0] % 2 == 0 else "held"


def load_rows() -> list[tuple[str, str]]:
    """(text, label) of every message of the sheet."""
    import openpyxl

    wb = openpyxl.load_workbook(PATH, read_only=True)
    return [
        (str(r[0]), str(r[2]))
        for i, r in enumerate(wb["情感分类"].iter_rows(values_only=True))
        if i > 0 and r[0]
    ]


def measure(matcher, sample: int = 0) -> dict:  # noqa: ANN001
    """Per (label, half): Counter of intents; also 'all'. sample=0 means every message."""
    rows = load_rows()
    if sample:
        random.seed(20261123)
        rows = random.sample(rows, min(sample, len(rows)))
    counts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    misses = []
    t0 = time.perf_counter()
    for text, kind in rows:
        u = matcher.understand(text)
        for h in (half(text), "all"):
            counts[(kind, h)][u.intent] += 1
            counts[(kind, h)]["urgent"] += u.urgent
        if kind in APPEAL_KINDS and u.intent != "appeal" and half(text) == "dev":
            misses.append((kind, u.intent, u.target, text))
    elapsed = time.perf_counter() - t0
    return {"counts": counts, "n": len(rows), "ms": elapsed / max(len(rows), 1) * 1e3, "misses": misses}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=0, help="messages to sample (0 = all 11,529)")
    ap.add_argument("--errors", type=int, default=0, help="print N missed appeals of the dev half")
    args = ap.parse_args()

    from bot.core.answering.matcher import Matcher
    from bot.core.knowledge import load_knowledge

    got = measure(Matcher(load_knowledge()), args.sample)
    counts = got["counts"]
    print(f"msgabench 情感分类: {got['n']} messages; {got['ms']:.2f} ms each")
    print(
        "| label | half | n | appeal | unknown (offered a ticket) | item/exemption answered | smalltalk "
        "| urgent |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (kind, h), c in sorted(counts.items()):
        n = sum(c.values()) - c["urgent"]
        answered = c["item"] + c["exemption"]
        print(
            f"| {kind} | {h} | {n} | {c['appeal'] / n:.1%} | {c['unknown'] / n:.1%} | {answered / n:.1%} "
            f"| {c['smalltalk'] / n:.1%} | {c['urgent'] / n:.1%} |"
        )
    both = collections.Counter()
    for kind in APPEAL_KINDS:
        both.update(counts.get((kind, "all"), collections.Counter()))
    n = sum(both.values()) - both["urgent"]
    if n:
        print(
            f"投诉/求助+建言 ({n}): appeal {both['appeal'] / n:.1%}, "
            f"answered with an entry {(both['item'] + both['exemption']) / n:.1%}"
        )
    for kind, intent, target, text in got["misses"][: args.errors]:
        print(f"- [{kind}] {intent}/{target}: {text[:150]}")


if __name__ == "__main__":
    main()
