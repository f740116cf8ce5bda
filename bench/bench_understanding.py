"""One table of understanding figures: every labelled set (dev and, with --blind, the blind ones) × every
metric, through the real dialogue (sessions in order), and the figures on real hotline messages (msgabench).

Run: python bench/bench_understanding.py [--blind] [--no-msgabench] [--json]

The blind sets (bench/data/blind_*.jsonl) were written before anyone looked at outputs. Only their aggregate
figures are printed here — never their individual errors — so they stay blind.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = ROOT / "bench" / "data"

DEV_SETS = {
    "spec devset": SHARED / "spec" / "devset.jsonl",
    "heldout": DATA / "heldout.jsonl",
    "dev_followups": DATA / "dev_followups.jsonl",
    "dev_emergencies": DATA / "dev_emergencies.jsonl",
    "dev_out_of_catalog": DATA / "dev_out_of_catalog.jsonl",
    "dev_appeals": DATA / "dev_appeals.jsonl",
    "dev_mixed_language": DATA / "dev_mixed_language.jsonl",
    "dev2_general": DATA / "dev2_general.jsonl",
    "dev2_followups": DATA / "dev2_followups.jsonl",
    "dev2_emergencies": DATA / "dev2_emergencies.jsonl",
    "dev2_out_of_catalog": DATA / "dev2_out_of_catalog.jsonl",
    "dev2_appeals": DATA / "dev2_appeals.jsonl",
    "dev3_followups": DATA / "dev3_followups.jsonl",
    "dev4_emergencies": DATA / "dev4_emergencies.jsonl",
    "dev5_appeals_emergencies": DATA / "dev5_appeals_emergencies.jsonl",
    "dev6_followups": DATA / "dev6_followups.jsonl",
    "dev6_out_of_catalog": DATA / "dev6_out_of_catalog.jsonl",
    "dev6_emergencies": DATA / "dev6_emergencies.jsonl",
    "dev6_appeals": DATA / "dev6_appeals.jsonl",
    "dev7_appeals": DATA / "dev7_appeals.jsonl",
    "dev7_emergencies": DATA / "dev7_emergencies.jsonl",
    "dev8_out_of_catalog": DATA / "dev8_out_of_catalog.jsonl",
    "dev9_followups": DATA / "dev9_followups.jsonl",
}
BLIND_SETS = {
    "blind_followups": DATA / "blind_followups.jsonl",
    "blind_general": DATA / "blind_general.jsonl",
    "blind_out_of_catalog": DATA / "blind_out_of_catalog.jsonl",
    "blind_emergencies": DATA / "blind_emergencies.jsonl",
    "blind_appeals": DATA / "blind_appeals.jsonl",
    "blind2_general": DATA / "blind2" / "general.jsonl",
    "blind2_followups": DATA / "blind2" / "followups.jsonl",
    "blind2_out_of_catalog": DATA / "blind2" / "out_of_catalog.jsonl",
    "blind2_emergencies": DATA / "blind2" / "emergencies.jsonl",
    "blind2_appeals": DATA / "blind2" / "appeals.jsonl",
}
METRICS = [
    ("n", "questions"),
    ("top1", "item+exemption top-1"),
    ("aspect", "aspect (target right)"),
    ("wrong", "wrong-answer rate"),
    ("unknown_rejected", "unknown rejected"),
    ("unknown_answered", "unknown answered with entry"),
    ("appeal", "appeal detected"),
    ("followup", "follow-ups right"),
    ("no_context", "no-context follow-up answered"),
    ("urgent_recall", "urgent recall"),
    ("urgent_over", "urgent over-trigger"),
    ("centre", "centre answer (kind centre)"),
    ("status", "ticket status (kind status)"),
]


def figures(answering, path: Path) -> dict[str, str]:  # noqa: ANN001
    from bot.core.answering.evaluate import evaluate, read_jsonl

    rep = evaluate(answering, read_jsonl(path))

    def p(pair: list[int]) -> str:
        return f"{100.0 * pair[0] / pair[1]:.1f}%" if pair[1] else "–"

    return {
        "n": str(rep.n),
        "top1": p(rep.top1),
        "aspect": p(rep.aspect),
        "wrong": f"{100.0 * rep.wrong_answers / max(rep.n, 1):.1f}%",
        "unknown_rejected": p(rep.unknown_rejected),
        "unknown_answered": p(rep.unknown_answered),
        "appeal": p(rep.appeal_detected),
        "followup": p(rep.followup),
        "no_context": p(rep.followup_no_context),
        "urgent_recall": p(rep.urgent_recall),
        "urgent_over": p(rep.urgent_over),
        "centre": p(rep.topic.get("centre", [0, 0])),
        "status": p(rep.topic.get("status", [0, 0])),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blind", action="store_true", help="also the blind sets (aggregate figures only)")
    ap.add_argument("--no-msgabench", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))

    from bot.app import DataPaths, load_answering
    from bot.settings import Settings

    answering = load_answering(DataPaths.resolve(Settings.load(environ={}, env_file=None)))
    sets = dict(DEV_SETS)
    if args.blind:
        sets.update(BLIND_SETS)
    table = {name: figures(answering, path) for name, path in sets.items() if path.exists()}
    if args.json:
        print(json.dumps(table, ensure_ascii=False, indent=2))
    else:
        names = list(table)
        print("| metric | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for key, label in METRICS:
            print(f"| {label} | " + " | ".join(table[n][key] for n in names) + " |")

    if not args.no_msgabench:
        from bench_intents import APPEAL_KINDS, measure

        t0 = time.perf_counter()
        got = measure(answering.matcher)
        print(f"\nmsgabench 情感分类 ({got['n']} real messages, {time.perf_counter() - t0:.0f} s):")
        print("| label | half | n | appeal (诉求) | answered with an entry | marked urgent |")
        print("|---|---|---|---|---|---|")
        for kind in (*APPEAL_KINDS, "咨询"):
            for h in ("dev", "held", "all"):
                c = got["counts"].get((kind, h))
                if not c:
                    continue
                n = sum(c.values()) - c["urgent"]
                print(
                    f"| {kind} | {h} | {n} | {c['appeal'] / n:.1%} | {(c['item'] + c['exemption']) / n:.1%} "
                    f"| {c['urgent'] / n:.1%} |"
                )


if __name__ == "__main__":
    main()
