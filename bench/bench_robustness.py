"""Robustness at real size (issue 11): perturbed item names against a 100,000-entry base, the matcher side by side
with a plain character unigram+bigram BM25 baseline on the same queries.

The base is bench_matching.scaled_kb(size): the shipped entries, the 1,133 distinct real item names of 广安区 and
generated district × name × variant entries (names, 3 aliases, 2 keywords each). Queries are item names of that
base, sampled with a fixed seed and perturbed the way people mistype them:
  - "pinyin": one word of two or more characters (jieba's cut) written in toneless pinyin ("yancao专卖零售许可证");
  - "deleted": one character deleted (not a bracket), two in names of twelve characters or more;
  - "both": one pinyin word and one deleted character elsewhere.
A query is right when the matcher's best candidate (`Understanding.candidates[0]`, whether answered or not) is the
entry whose name was perturbed; "answered right" also needs the matcher to give it as its answer (or to offer it
among the variants it asks about). The baseline is BM25 (k1 1.2, b 0.75) over the unigrams and bigrams of each
entry's name, the query's grams as they are: its top-1 is right under the same rule.

Run (from the repository root, in the virtualenv; about 2–4 minutes at 100k on a shared core):
    python bench/bench_robustness.py                  # 100,000 entries, 300 names × 3 perturbations
    python bench/bench_robustness.py --size 10000 --names 200
    python bench/bench_robustness.py --errors 20      # also print some misses of the matcher
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_matching import pin_one_core, scaled_kb  # noqa: E402

_BRACKETS = set("（）()《》")
_HAN = re.compile(r"[\u4e00-\u9fff]")


# -- perturbations -------------------------------------------------------------------------------------------
def _pinyin_word(name: str, rng: random.Random, avoid: set[int] | None = None) -> tuple[str, set[int]] | None:
    """The name with one word of two or more Chinese characters written in pinyin, and the positions touched."""
    import jieba
    from pypinyin import lazy_pinyin

    spans = []
    at = 0
    for w in jieba.lcut(name, HMM=False):
        if (
            len(w) >= 2
            and all(_HAN.match(c) for c in w)
            and not (avoid and avoid & set(range(at, at + len(w))))
        ):
            spans.append((at, w))
        at += len(w)
    if not spans:
        return None
    at, w = rng.choice(spans)
    return name[:at] + "".join(lazy_pinyin(w)) + name[at + len(w) :], set(range(at, at + len(w)))


def _delete(name: str, rng: random.Random, avoid: set[int] | None = None) -> str | None:
    ok = [i for i, c in enumerate(name) if c not in _BRACKETS and not (avoid and i in avoid)]
    if len(ok) < 4:
        return None
    drop = set(rng.sample(ok, 2 if len(name) >= 12 else 1))
    return "".join(c for i, c in enumerate(name) if i not in drop)


def perturb(name: str, how: str, rng: random.Random) -> str | None:
    if how == "pinyin":
        got = _pinyin_word(name, rng)
        return got[0] if got else None
    if how == "deleted":
        return _delete(name, rng)
    got = _pinyin_word(name, rng)
    if got is None:
        return None
    # delete in the original name, away from the pinyin word, then write that word in pinyin
    text, touched = got
    kept = _delete(name, random.Random(rng.random()), avoid=touched)
    if kept is None:
        return None
    again = _pinyin_word(kept, random.Random(0))
    return again[0] if again else None


# -- the baseline --------------------------------------------------------------------------------------------
def _grams(text: str) -> list[str]:
    text = "".join(text.split())
    return list(text) + [text[i : i + 2] for i in range(len(text) - 1)]


class BM25:
    """Plain BM25 over character unigrams and bigrams of each document."""

    def __init__(self, docs: list[str], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        post: dict[str, list[tuple[int, int]]] = {}
        lengths = []
        for d, text in enumerate(docs):
            gs = Counter(_grams(text))
            lengths.append(sum(gs.values()))
            for g, tf in gs.items():
                post.setdefault(g, []).append((d, tf))
        self.n = len(docs)
        self.dl = np.array(lengths, dtype=np.float64)
        self.avgdl = float(self.dl.mean()) if self.n else 1.0
        self.post = {
            g: (np.array([d for d, _ in p], dtype=np.int64), np.array([t for _, t in p], dtype=np.float64))
            for g, p in post.items()
        }

    def top(self, query: str) -> int | None:
        scores = np.zeros(self.n)
        for g in set(_grams(query)):
            got = self.post.get(g)
            if got is None:
                continue
            docs, tf = got
            idf = math.log(1 + (self.n - len(docs) + 0.5) / (len(docs) + 0.5))
            norm = self.k1 * (1 - self.b + self.b * self.dl[docs] / self.avgdl)
            scores[docs] += idf * tf * (self.k1 + 1) / (tf + norm)
        best = int(np.argmax(scores))
        return best if scores[best] > 0 else None


# -- run -----------------------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p * len(s) / 100) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--names", type=int, default=300, help="item names sampled (each perturbed three ways)")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--errors", type=int, default=0, help="print this many misses of the matcher")
    args = ap.parse_args()
    core = pin_one_core()

    from bot.core.answering.matcher import Matcher
    from bot.core.text.lexicon import everyday_words

    t0 = time.perf_counter()
    kb, made = scaled_kb(args.size)
    entries = list(kb.entries.values())
    print(f"base: {len(entries):,} entries ({made}), made in {time.perf_counter() - t0:.1f} s; core {core}")
    everyday_words()
    t0 = time.perf_counter()
    matcher = Matcher(kb)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline = BM25([e.name for e in entries])
    base_build_s = time.perf_counter() - t0
    print(f"build: matcher {build_s:.1f} s, baseline {base_build_s:.1f} s")

    rng = random.Random(args.seed)
    items = [e for e in entries if e.kind == "item"]
    sample = rng.sample(items, min(args.names, len(items)))
    queries: list[tuple[str, str, str]] = []  # (how, query, expected id)
    for e in sample:
        for how in ("pinyin", "deleted", "both"):
            q = perturb(e.name, how, rng)
            if q and q != e.name:
                queries.append((how, q, e.id))
    ids = [e.id for e in entries]

    for q, _, _ in queries[:5]:  # warm-up: lazy parts of the matcher
        matcher.understand(q)
    rows = []
    m_times, b_times = [], []
    clock = time.perf_counter
    for how, q, want in queries:
        t0 = clock()
        u = matcher.understand(q)
        m_times.append(clock() - t0)
        t0 = clock()
        b = baseline.top(q)
        b_times.append(clock() - t0)
        top = u.candidates[0].id if u.candidates else None
        answered = u.target == want and not u.family or want in u.family
        rows.append((how, q, want, top == want, answered, b is not None and ids[b] == want, top))

    print(f"\n{len(queries)} queries from {len(sample)} names; base of {len(entries):,} entries\n")
    print("| perturbation | n | matcher top-1 | matcher answered right | BM25 baseline top-1 |")
    print("|---|---|---|---|---|")
    for how in ("pinyin", "deleted", "both", None):
        sub = [r for r in rows if how is None or r[0] == how]
        n = len(sub)
        m = sum(r[3] for r in sub) / n
        a = sum(r[4] for r in sub) / n
        b = sum(r[5] for r in sub) / n
        print(f"| {how or 'all'} | {n} | {100 * m:.1f}% | {100 * a:.1f}% | {100 * b:.1f}% |")
    print(
        f"\nlatency per query (ms), p50 / p90 / p99: matcher {1000 * statistics.median(m_times):.2f} / "
        f"{1000 * pct(m_times, 90):.2f} / {1000 * pct(m_times, 99):.2f}; baseline "
        f"{1000 * statistics.median(b_times):.2f} / {1000 * pct(b_times, 90):.2f} / {1000 * pct(b_times, 99):.2f}"
    )
    print(f"Command: python bench/bench_robustness.py --size {args.size} --names {args.names}")
    if args.errors:
        name = {e.id: e.name for e in entries}
        print("\nmisses of the matcher (query -> got | wanted):")
        for how, q, want, _ok, _, _, top in [r for r in rows if not r[3]][: args.errors]:
            print(f"  [{how}] {q} -> {name.get(top or '', '—')} | {name[want]}")


if __name__ == "__main__":
    main()
