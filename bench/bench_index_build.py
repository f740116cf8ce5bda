"""Index build (`Matcher(kb)`) at one size, this checkout against another, alternating in the same run.

    python bench/bench_index_build.py --tree /tmp/old                 # 10,000 entries, 7 rounds
    python bench/bench_index_build.py --tree /tmp/old --size 100000 --rounds 3
    python bench/bench_index_build.py                                 # this checkout alone

`/tmp/old` is an older commit laid out as files (`git archive <commit> | tar -x -C /tmp/old`). Each round builds
once in a fresh process per tree (the first build of a process is the one a person waits for: regular
expressions and caches are cold), in an order that alternates from round to round. The base is the same for
both: bench_matching.scaled_kb of THIS checkout, built before the timer starts; jieba's everyday dictionary
is read before it too (once per process whatever the base; bench_matching.py times it on its own).
Wall time is what a person waits; CPU (process time) is less disturbed by other work on a shared machine.
Ratios are taken within each round (this ÷ the other tree) and printed as min – median – max.
Prints figures; asserts nothing. Target (issue 9): ≤ 0.5 s at 10,000 entries.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import gc, json, sys, time
sys.path.insert(0, BENCH)
from bench_matching import scaled_kb
from bot.core.answering.matcher import Matcher
from bot.core.text.lexicon import everyday_words
kb, _ = scaled_kb(SIZE)
everyday_words()
gc.collect()
c, w = time.process_time(), time.perf_counter()
m = Matcher(kb)
print(json.dumps({"wall": time.perf_counter() - w, "cpu": time.process_time() - c, "entries": len(kb.entries)}))
"""


def build_once(tree: Path, size: int) -> dict[str, float]:
    code = _CHILD.replace("BENCH", repr(str(ROOT / "bench"))).replace("SIZE", str(size))
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def spread(values: list[float], fmt: str = "{:.3f}") -> str:
    return " – ".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--tree", type=Path, help="another checkout to build alongside, in the same rounds")
    args = ap.parse_args()
    trees = {"this": ROOT} | ({"other": args.tree.resolve()} if args.tree else {})
    for tree in trees.values():  # warm-up: byte-code compiled, files in the page cache
        build_once(tree, args.size)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(reversed(trees))
        for name in order:
            runs[name].append(build_once(trees[name], args.size))
    entries = int(runs["this"][0]["entries"])
    print(f"index build, {entries:,} entries, {args.rounds} rounds (min – median – max)")
    for name, tree in trees.items():
        for what in ("wall", "cpu"):
            print(f"  {name:5} {what:4} s: {spread([x[what] for x in runs[name]])}   ({tree})")
    if "other" in runs:
        for what in ("wall", "cpu"):
            ratios = [a[what] / b[what] for a, b in zip(runs["this"], runs["other"], strict=True)]
            print(f"  this ÷ other, {what}: {spread(ratios, '{:.2f}')}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
