"""惠企政策 (issue 15): matching and extraction figures, and matching speed.

    python bench/bench_policies.py                      # every set below, and the speed at 5,000 policies
    python bench/bench_policies.py --only profiles      # precision / recall on the profile sets
    python bench/bench_policies.py --only messages      # free-text extraction on the message sets
    python bench/bench_policies.py --only speed [--policies 5000] [--repeats 5]
    python bench/bench_policies.py --only intent        # which messages the policy conversation takes
    python bench/bench_policies.py --errors dev         # list the errors of the dev sets (never of the blind ones)

Sets (bench/data/): policy_profiles.jsonl and policy_messages.jsonl are blind (written before the code; see
policy_README.md) — their figures are printed, their individual errors never are. policy_dev_*.jsonl are the dev
sets used for tuning. Every figure is computed as of 2026-11-26, the day the blind sets were labelled.

Speed: the shipped policies are copied into variants (other ids, places, thresholds, industries, dates) up to
--policies; each query profile is matched with the engine (numpy, bot/core/policies/engine.py) and, as the
baseline in the same run, with the explaining path policy by policy (bot/core/policies/match.py). Timings are
per profile, p50/p99 over all queries, for each repeat; the spread over repeats is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.policies.engine import PolicyEngine  # noqa: E402
from bot.core.policies.extract import ProfileExtractor, load_policy_cues  # noqa: E402
from bot.core.policies.interval import Interval  # noqa: E402
from bot.core.policies.library import PolicyLibrary  # noqa: E402
from bot.core.policies.match import ELIGIBLE, POSSIBLE, assess  # noqa: E402
from bot.core.policies.models import Conditions, Validity  # noqa: E402
from bot.core.policies.profile import SIZE_WORDS, Profile, ProfileError  # noqa: E402

TODAY = dt.date(2026, 11, 26)
DATA = ROOT / "bench" / "data"
BLIND = {"policy_profiles.jsonl", "policy_messages.jsonl"}
TOLERANCE = 0.02


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- profiles -----------------------------------------------------------------------------------------------
def profile_figures(path: Path, library: PolicyLibrary, engine: PolicyEngine, errors: bool) -> dict:
    tp = fp = fn = 0
    maybe_right = maybe_total = 0
    conflicts_asked = conflicts = wrongly_questioned = 0
    problems: list[str] = []
    for row in _rows(path):
        try:
            profile = Profile.from_json(row["profile"], library)
        except ProfileError as exc:
            problems.append(f"{row['id']}: 画像无法读取：{exc}")
            if not row.get("conflict"):
                fn += len(row["should"])
            continue
        view = profile.view(library, TODAY)
        if row.get("conflict"):
            conflicts += 1
            conflicts_asked += view.conflict is not None
            if errors and view.conflict is None:
                problems.append(f"{row['id']}: 矛盾的画像没有被追问")
            continue
        if view.conflict is not None:
            wrongly_questioned += 1
        matches = engine.match(view)
        got = {m.policy.id for m in matches if m.status == ELIGIBLE}
        maybe = {m.policy.id for m in matches if m.status == POSSIBLE}
        should, want_maybe = set(row["should"]), set(row["maybe"])
        tp += len(got & should)
        fp += len(got - should)
        fn += len(should - got)
        maybe_total += len(want_maybe)
        maybe_right += len(maybe & want_maybe)
        if errors and (got != should or maybe != want_maybe):
            problems.append(
                f"{row['id']}: 多出 {sorted(got - should)} 缺少 {sorted(should - got)}；"
                f"可能符合 多出 {sorted(maybe - want_maybe)} 缺少 {sorted(want_maybe - maybe)}"
            )
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "maybe_recall": maybe_right / maybe_total if maybe_total else 1.0,
        "conflicts": f"{conflicts_asked}/{conflicts}",
        "wrongly_questioned": wrongly_questioned,
        "problems": problems,
    }


# -- messages -----------------------------------------------------------------------------------------------
def _iv(raw: object) -> Interval:
    return Interval.parse(raw)


def _same_iv(a: Interval, b: Interval) -> bool:
    return abs(a.lo - b.lo) <= TOLERANCE and (a.hi == b.hi or abs(a.hi - b.hi) <= TOLERANCE)


def compare(expect: dict, got: Profile, library: PolicyLibrary) -> list[str]:
    """The keys where the extracted profile differs from the expected facts (empty: correct)."""
    have = got.to_json()
    wrong = []
    for key in sorted(set(expect) | set(have)):
        e, h = expect.get(key), have.get(key)
        if e is None or h is None:
            wrong.append(f"{key}: 期望 {e} 实得 {h}")
            continue
        if key == "行业":
            node = library.industries.get(h)
            got_ind = {"门类": node.section} if node is not None else {}
            if node is not None and node.parent is not None:
                got_ind["大类"] = node.code
            ok = got_ind == e
        elif key == "规模":
            ok = SIZE_WORDS[e] == got.sizes
        elif key in ("资质",):
            ok = set(e) == set(h)
        elif isinstance(e, bool) or isinstance(h, bool):
            ok = e == h
        elif isinstance(e, (int, float, list)):
            ok = _same_iv(_iv(e), _iv(h))
        else:
            ok = e == h
        if not ok:
            wrong.append(f"{key}: 期望 {e} 实得 {h}")
    return wrong


def message_figures(path: Path, library: PolicyLibrary, extractor: ProfileExtractor, errors: bool) -> dict:
    rows = _rows(path)
    right = 0
    per_key: dict[str, list[int]] = {}
    problems = []
    for row in rows:
        got = extractor.extract(row["text"], TODAY).profile
        wrong = compare(row["expect"], got, library)
        right += not wrong
        for key in set(row["expect"]) | set(got.to_json()):
            bad = any(w.startswith(key + ":") for w in wrong)
            per_key.setdefault(key, [0, 0])
            per_key[key][0] += not bad
            per_key[key][1] += 1
        if errors and wrong:
            problems.append(f"{row['text']}\n    " + "；".join(wrong))
    return {"accuracy": right / len(rows), "n": len(rows), "per_key": per_key, "problems": problems}


# -- speed --------------------------------------------------------------------------------------------------
def variants(library: PolicyLibrary, size: int, seed: int = 7) -> PolicyLibrary:
    """`size` policies: the shipped ones and copies with other ids, places, thresholds, industries, dates."""
    rnd = random.Random(seed)
    base = list(library.policies.values())
    codes = [c for c in library.industries.codes if len(c) <= 2]
    places = list(library.places) + [f"另一区{n}" for n in range(20)]
    out = PolicyLibrary(
        industries=library.industries,
        sizes=library.sizes,
        recognitions=library.recognitions,
        facts=library.facts,
        places=dict(library.places),
    )

    def vary(c: Conditions) -> Conditions:
        data = c.model_dump(exclude_none=True)
        for name, value in list(data.items()):
            if isinstance(value, dict) and name not in ("facts", "industry"):
                data[name] = {k: v * rnd.uniform(0.5, 2.0) for k, v in value.items()}
        if "place" in data or rnd.random() < 0.3:
            data["place"] = [rnd.choice(places)]
        if rnd.random() < 0.3:
            data["industry"] = {"include": rnd.sample(codes, rnd.randint(1, 4)), "exclude": []}
        return Conditions.model_validate(data)

    n = 0
    while len(out.policies) < size:
        p = base[n % len(base)]
        n += 1
        if len(out.policies) < len(base):
            q = p
        else:
            start = dt.date(2020 + rnd.randint(0, 6), rnd.randint(1, 12), 1)
            end = None if rnd.random() < 0.3 else start + dt.timedelta(days=rnd.randint(200, 3000))
            q = p.model_copy(
                update={
                    "id": f"{p.id}-v{n}",
                    "conditions": vary(p.conditions),
                    "any_of": [vary(g) for g in p.any_of],
                    "valid": Validity(start=start, end=end),
                }
            )
        out.policies[q.id] = q
    return out


def speed(library: PolicyLibrary, size: int, repeats: int) -> None:
    big = variants(library, size)
    t0 = time.perf_counter()
    engine = PolicyEngine(big)
    build = time.perf_counter() - t0
    queries = []
    for name in ("policy_profiles.jsonl", "policy_dev_profiles.jsonl"):
        for row in _rows(DATA / name):
            try:
                queries.append(Profile.from_json(row["profile"], library).view(big, TODAY))
            except ProfileError:
                pass
    queries = [q for q in queries if q.conflict is None]
    # the same statuses on both paths (the engine must agree with the definition)
    disagree = 0
    for view in queries[:20]:
        fast = engine.statuses(view)
        for i, p in enumerate(engine.policies):
            disagree += int(fast[i]) != assess(p, view, big).status
    print(
        f"\n## 匹配速度：{len(big)} 条政策（{len(library)} 条自带政策及其变体），{len(queries)} 个画像，索引构建 {build * 1000:.0f} ms"
    )
    print(f"两条路径结果一致性：前 20 个画像 × {len(big)} 条政策，不一致 {disagree} 处")
    engine.match(queries[0])  # warm-up
    # as the running bot does after start-up (bot.core.assistant.freeze_startup_objects): the library's objects
    # are left out of garbage collection
    gc.collect()
    gc.freeze()
    fast_p50, fast_p99, cpu_p50, cpu_p99, slow_p50, slow_p99, shown = [], [], [], [], [], [], []
    for _ in range(repeats):
        times, cpu = [], []
        for view in queries:
            t, c = time.perf_counter(), time.process_time()
            ms = engine.match(view)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            shown.append(len(ms))
        fast_p50.append(statistics.median(times) * 1000)
        fast_p99.append(_p99(times) * 1000)
        cpu_p50.append(statistics.median(cpu) * 1000)
        cpu_p99.append(_p99(cpu) * 1000)
        times = []
        for view in queries[:15]:
            t = time.perf_counter()
            got = [assess(p, view, big) for p in big.policies.values()]
            got = [m for m in got if m.status]
            times.append(time.perf_counter() - t)
        slow_p50.append(statistics.median(times) * 1000)
        slow_p99.append(_p99(times) * 1000)
    reasons = []
    for view in queries:
        ms = engine.match(view)
        t = time.perf_counter()
        for m in ms[:10]:
            _ = m.checks
        reasons.append(time.perf_counter() - t)
    print("| path | p50 ms (spread over repeats) | p99 ms (spread) |")
    print("|---|---|---|")
    print(f"| engine (numpy), matches ranked — wall clock | {_spread(fast_p50)} | {_spread(fast_p99)} |")
    print(
        f"| engine (numpy), matches ranked — CPU time of the process | {_spread(cpu_p50)} | {_spread(cpu_p99)} |"
    )
    print(
        f"| explaining path, policy by policy (baseline, 15 profiles) | {_spread(slow_p50)} | {_spread(slow_p99)} |"
    )
    print(
        f"| reasons for the first 10 matches (after matching) | {statistics.median(reasons) * 1000:.2f} | {_p99(reasons) * 1000:.2f} |"
    )
    print(
        f"每个画像平均匹配到 {statistics.mean(shown):.0f} 条（符合或可能符合）；engine p50 是基线 p50 的 "
        f"1/{statistics.median(slow_p50) / statistics.median(fast_p50):.0f}；机器负载 {os.getloadavg()[0]:.1f}（2 核）"
    )


def _p99(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def intent_figures(kb) -> None:  # noqa: ANN001
    """Which messages of the existing labelled sets (spec devset, heldout, own dev and blind sets of the
    understanding benchmarks) the policy conversation takes, by their label: an item, exemption or appeal taken
    is answered by the wrong part."""
    import asyncio
    from collections import Counter

    from bot.core.answering.policy_dialogue import PolicyDialogue
    from bot.core.clock import DEFAULT_TZ, FixedClock
    from bot.core.messages import Incoming
    from bot.core.policies.desk import PolicyDesk
    from bot.core.texts import Texts

    library = kb.policies
    desk = PolicyDesk(library, FixedClock(dt.datetime(2026, 11, 26, 10, tzinfo=DEFAULT_TZ)), Texts())
    dialogue = PolicyDialogue(desk, [n for e in kb.entries.values() for n in (e.name, *e.aliases)])
    files = [ROOT.parent / "shared" / "spec" / "devset.jsonl", *sorted(DATA.glob("*.jsonl"))]
    taken: Counter[str] = Counter()
    total: Counter[str] = Counter()
    examples: list[str] = []

    async def run() -> None:
        for path in files:
            if path.name.startswith("policy_") or not path.exists():
                continue
            for n, row in enumerate(_rows(path)):
                if "intent" not in row or "text" not in row:
                    continue
                label = row["intent"]
                total[label] += 1
                got = await dialogue.handle(Incoming(f"{path.stem}:{n}", "c", text=row["text"]))
                if got is not None:
                    taken[label] += 1
                    if label in ("item", "exemption", "appeal") and len(examples) < 12:
                        examples.append(f"{label}/{row.get('target')}: {row['text']}")

    policy_taken: Counter[str] = Counter()
    policy_total: Counter[str] = Counter()

    async def run_policy() -> None:
        for name in ("policy_dev_messages.jsonl", "policy_messages.jsonl"):
            for n, row in enumerate(_rows(DATA / name)):
                policy_total[name] += 1
                got = await dialogue.handle(Incoming(f"{name}:{n}", "c", text=row["text"]))
                policy_taken[name] += got is not None

    asyncio.run(run())
    asyncio.run(run_policy())
    print(
        "\n## 政策问题识别：惠企政策消息集中由政策对话回答的（其余是只陈述情况、不问的句子，或问办事指南的）"
    )
    for name in policy_total:
        print(
            f"- {name}：{policy_taken[name]}/{policy_total[name]}（{policy_taken[name] / policy_total[name]:.1%}）"
        )
    print("\n## 政策问题识别：已有标注集中被政策对话接走的消息（按标注）")
    print("| label | messages | taken by the policy conversation |")
    print("|---|---|---|")
    for label in sorted(total):
        print(f"| {label} | {total[label]} | {taken[label]} ({taken[label] / total[label]:.1%}) |")
    for e in examples:
        print("   ", e)


def _sets(which: str, kind: str) -> list[str]:
    dev, blind = f"policy_dev_{kind}.jsonl", f"policy_{kind}.jsonl"
    return {"dev": [dev], "blind": [blind], "all": [dev, blind]}[which]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("profiles", "messages", "speed", "intent"))
    ap.add_argument("--errors", choices=("dev",), help="list the errors of the dev sets")
    ap.add_argument("--sets", choices=("dev", "blind", "all"), default="all")
    ap.add_argument("--policies", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    kb = load_knowledge()
    library = kb.policies
    engine = PolicyEngine(library)
    if args.only in (None, "profiles"):
        print("## 画像匹配（符合 = 全部条件已知且满足；以 should 计精确率、召回率）")
        print("| set | precision | recall | 可能符合 recall | 矛盾画像被追问 | 非矛盾画像被误追问 |")
        print("|---|---|---|---|---|---|")
        for name in _sets(args.sets, "profiles"):
            f = profile_figures(DATA / name, library, engine, errors=bool(args.errors) and name not in BLIND)
            label = f"{name}{'（盲测）' if name in BLIND else ''}"
            print(
                f"| {label} | {f['precision']:.1%} | {f['recall']:.1%} | {f['maybe_recall']:.1%} | "
                f"{f['conflicts']} | {f['wrongly_questioned']} |"
            )
            for p in f["problems"]:
                print("   ", p)
    if args.only in (None, "messages"):
        extractor = ProfileExtractor(library, load_policy_cues())
        print("\n## 自由文本画像抽取（整条消息全部事实正确才算对）")
        for name in _sets(args.sets, "messages"):
            f = message_figures(
                DATA / name, library, extractor, errors=bool(args.errors) and name not in BLIND
            )
            label = f"{name}{'（盲测）' if name in BLIND else ''}"
            keys = "，".join(
                f"{k} {r}/{n}" for k, (r, n) in sorted(f["per_key"].items(), key=lambda kv: -kv[1][1])
            )
            print(f"- {label}：{f['accuracy']:.1%}（{f['n']} 条）；按字段：{keys}")
            for p in f["problems"]:
                print("   ", p)
    if args.only in (None, "intent"):
        intent_figures(kb)
    if args.only in (None, "speed"):
        speed(library, args.policies, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
