"""Accuracy of the matcher on a labelled question set (the JSON Lines format of spec/README.md)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .matcher import Matcher, Understanding


@dataclass
class Report:
    n: int = 0
    by_intent: dict[str, list[int]] = field(default_factory=dict)  # intent -> [correct, total]
    top1: list[int] = field(default_factory=lambda: [0, 0])
    top3: list[int] = field(default_factory=lambda: [0, 0])
    aspect: list[int] = field(default_factory=lambda: [0, 0])
    unknown_rejected: list[int] = field(default_factory=lambda: [0, 0])
    appeal_detected: list[int] = field(default_factory=lambda: [0, 0])
    wrong_answers: int = 0  # a target given that is not the right one
    answered: int = 0
    confusions: Counter = field(default_factory=Counter)
    errors: list[tuple[dict, Understanding]] = field(default_factory=list)

    def pct(self, pair: list[int]) -> str:
        return f"{100.0 * pair[0] / pair[1]:.1f}% ({pair[0]}/{pair[1]})" if pair[1] else "n/a"

    def as_dict(self) -> dict:
        def r(p: list[int]) -> float | None:
            return round(p[0] / p[1], 4) if p[1] else None

        return {
            "questions": self.n,
            "intent_accuracy": {k: r(v) for k, v in self.by_intent.items()},
            "target_top1": r(self.top1),
            "target_top3": r(self.top3),
            "aspect_when_target_right": r(self.aspect),
            "unknown_rejected": r(self.unknown_rejected),
            "appeal_detected": r(self.appeal_detected),
            "wrong_answer_rate": round(self.wrong_answers / self.n, 4) if self.n else None,
        }

    def render(self, worst: int = 15) -> str:
        lines = [f"questions: {self.n}"]
        for k, v in sorted(self.by_intent.items()):
            lines.append(f"  intent {k:<10} {self.pct(v)}")
        lines += [
            f"target top-1 (item+exemption): {self.pct(self.top1)}",
            f"target top-3 (item+exemption): {self.pct(self.top3)}",
            f"aspect (where target right):   {self.pct(self.aspect)}",
            f"unknown rejected:              {self.pct(self.unknown_rejected)}",
            f"appeal detected:               {self.pct(self.appeal_detected)}",
            f"wrong-answer rate:             {100.0 * self.wrong_answers / max(self.n, 1):.1f}% "
            f"({self.wrong_answers}/{self.n}; a target given that is not the labelled one)",
            "worst confusions (expected -> got):",
        ]
        for (exp, got), c in self.confusions.most_common(worst):
            lines.append(f"  {c} × {exp} -> {got}")
        return "\n".join(lines)


def evaluate(matcher: Matcher, rows: list[dict]) -> Report:
    rep = Report()
    for row in rows:
        u = matcher.understand(row["text"])
        rep.n += 1
        exp_intent = row["intent"]
        pair = rep.by_intent.setdefault(exp_intent, [0, 0])
        pair[1] += 1
        ok_intent = u.intent == exp_intent
        pair[0] += ok_intent
        if u.target:
            rep.answered += 1
            if u.target != row.get("target"):
                rep.wrong_answers += 1
        if exp_intent in ("item", "exemption"):
            rep.top1[1] += 1
            rep.top3[1] += 1
            right = u.target == row["target"]
            rep.top1[0] += right
            rep.top3[0] += row["target"] in [c.id for c in u.candidates[:3]]
            if right and exp_intent == "item":
                rep.aspect[1] += 1
                rep.aspect[0] += u.aspect == row.get("aspect")
            if not right:
                rep.confusions[(row["target"], u.target or f"<{u.intent}>")] += 1
        elif exp_intent == "unknown":
            rep.unknown_rejected[1] += 1
            rep.unknown_rejected[0] += u.target is None and u.intent in ("unknown",)
        elif exp_intent == "appeal":
            rep.appeal_detected[1] += 1
            rep.appeal_detected[0] += u.intent == "appeal"
        if (
            not ok_intent
            or (row.get("target") and u.target != row["target"])
            or (
                u.target and u.target == row.get("target") and row.get("aspect") and u.aspect != row["aspect"]
            )
        ):
            rep.errors.append((row, u))
        if not ok_intent and exp_intent not in ("item", "exemption"):
            rep.confusions[(f"<{exp_intent}>", u.target or f"<{u.intent}>")] += 1
    return rep


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{i}: 不是有效的 JSON：{exc}") from exc
    return rows
