"""Accuracy of understanding on a labelled question set (the JSON Lines format of spec/README.md).

Every line goes through the real dialogue, so what is measured is the understanding *after* context: lines that
share a `session` are one person's consecutive messages, in file order; a line without `session` is a
conversation of its own. Besides intent, target and aspect, a line may be labelled `urgent` (an emergency) and
`kind` (e.g. near_miss / centre / status in the out-of-catalogue set), which get figures of their own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .matcher import Understanding

# what the dialogue should do with a line of each out-of-catalogue kind: the centre's facts, the person's
# tickets, or no entry at all
_KIND_TOPIC = {"centre": "centre", "status": "status"}


@dataclass
class Report:
    n: int = 0
    by_intent: dict[str, list[int]] = field(default_factory=dict)  # intent -> [correct, total]
    top1: list[int] = field(default_factory=lambda: [0, 0])
    top3: list[int] = field(default_factory=lambda: [0, 0])
    aspect: list[int] = field(default_factory=lambda: [0, 0])
    unknown_rejected: list[int] = field(default_factory=lambda: [0, 0])
    unknown_answered: list[int] = field(default_factory=lambda: [0, 0])  # unknown lines given an entry
    appeal_detected: list[int] = field(default_factory=lambda: [0, 0])
    # sessions: lines after the first of their session that are labelled with an entry, answered right
    followup: list[int] = field(default_factory=lambda: [0, 0])
    # session lines labelled unknown while the session had no entry yet, that were answered with an entry
    followup_no_context: list[int] = field(default_factory=lambda: [0, 0])
    urgent_recall: list[int] = field(default_factory=lambda: [0, 0])
    urgent_over: list[int] = field(default_factory=lambda: [0, 0])  # lines not urgent, flagged urgent
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [handled as labelled, total]
    topic: dict[str, list[int]] = field(default_factory=dict)  # centre/status -> [got that answer, total]
    wrong_answers: int = 0  # a target given that is not the right one
    answered: int = 0
    confusions: Counter = field(default_factory=Counter)
    errors: list[tuple[dict, Understanding]] = field(default_factory=list)

    @staticmethod
    def pct(pair: list[int]) -> str:
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
            "unknown_answered_with_entry": r(self.unknown_answered),
            "appeal_detected": r(self.appeal_detected),
            "followup_right": r(self.followup),
            "followup_no_context_answered": r(self.followup_no_context),
            "urgent_recall": r(self.urgent_recall),
            "urgent_over_trigger": r(self.urgent_over),
            "by_kind": {k: r(v) for k, v in self.by_kind.items()},
            "topic": {k: r(v) for k, v in self.topic.items()},
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
            f"unknown answered with entry:   {self.pct(self.unknown_answered)}",
            f"appeal detected:               {self.pct(self.appeal_detected)}",
        ]
        if self.followup[1] or self.followup_no_context[1]:
            lines += [
                f"follow-ups right (in session): {self.pct(self.followup)}",
                f"no-context follow-up answered: {self.pct(self.followup_no_context)} (should be 0)",
            ]
        if self.urgent_recall[1] or self.urgent_over[1]:
            lines += [
                f"urgent recall:                 {self.pct(self.urgent_recall)}",
                f"urgent over-trigger:           {self.pct(self.urgent_over)}",
            ]
        for k, v in sorted(self.by_kind.items()):
            lines.append(f"  kind {k:<12} handled as labelled {self.pct(v)}")
        for k, v in sorted(self.topic.items()):
            lines.append(f"  {k} answer given:  {self.pct(v)}")
        lines += [
            f"wrong-answer rate:             {100.0 * self.wrong_answers / max(self.n, 1):.1f}% "
            f"({self.wrong_answers}/{self.n}; a target given that is not the labelled one)",
            "worst confusions (expected -> got):",
        ]
        for (exp, got), c in self.confusions.most_common(worst):
            lines.append(f"  {c} × {exp} -> {got}")
        return "\n".join(lines)


def conversations(rows: list[dict]) -> list[tuple[str, dict]]:
    """(conversation id, row) in input order: rows that share a `session` share one id; every other row is
    a conversation of its own."""
    out = []
    for n, row in enumerate(rows):
        session = row.get("session")
        out.append((f"s:{session}" if session not in (None, "") else f"line:{n}", row))
    return out


def make_dialogue(answering: Any):  # noqa: ANN201
    """A dialogue over the given answering parts, with a clock that never lets a context expire mid-set."""
    from bot.core.clock import DEFAULT_TZ, FixedClock

    from .context import ContextStore
    from .dialogue import Dialogue

    clock = FixedClock(dt.datetime(2026, 11, 23, 9, 30, tzinfo=DEFAULT_TZ))
    return Dialogue(answering.kb, answering.matcher, answering.renderer, ContextStore(clock))


def understand_rows(answering: Any, rows: list[dict]) -> list[Understanding]:
    """The understanding after context of every row, through one dialogue."""
    dialogue = make_dialogue(answering)
    out = []
    for conv, row in conversations(rows):
        out.append(dialogue.understand_in_context(conv, row["text"]))
    return out


def evaluate(answering: Any, rows: list[dict]) -> Report:
    rep = Report()
    understood = understand_rows(answering, rows)
    seen_entry: dict[str, bool] = {}  # session -> an entry has been labelled in it already
    seen_line: set[str] = set()
    for row, u in zip(rows, understood, strict=True):
        got = u.as_contract()
        rep.n += 1
        exp_intent = row["intent"]
        session = row.get("session")
        pair = rep.by_intent.setdefault(exp_intent, [0, 0])
        pair[1] += 1
        ok_intent = got["intent"] == exp_intent
        pair[0] += ok_intent
        target = got["target"]
        if target:
            rep.answered += 1
            if target != row.get("target"):
                rep.wrong_answers += 1
        if exp_intent in ("item", "exemption"):
            rep.top1[1] += 1
            rep.top3[1] += 1
            right = target == row["target"]
            rep.top1[0] += right
            rep.top3[0] += right or row["target"] in [c.id for c in u.candidates[:3]]
            if right and exp_intent == "item":
                rep.aspect[1] += 1
                rep.aspect[0] += got["aspect"] == row.get("aspect")
            if not right:
                rep.confusions[(row["target"], target or f"<{got['intent']}>")] += 1
        elif exp_intent == "unknown":
            rep.unknown_rejected[1] += 1
            rep.unknown_rejected[0] += target is None and got["intent"] == "unknown"
            rep.unknown_answered[1] += 1
            rep.unknown_answered[0] += target is not None
        elif exp_intent == "appeal":
            rep.appeal_detected[1] += 1
            rep.appeal_detected[0] += got["intent"] == "appeal"
        if session not in (None, ""):
            if session in seen_line and exp_intent in ("item", "exemption"):
                rep.followup[1] += 1
                rep.followup[0] += target == row["target"] and ok_intent
            if exp_intent == "unknown" and not seen_entry.get(session):
                rep.followup_no_context[1] += 1
                rep.followup_no_context[0] += target is not None
            seen_line.add(session)
            if exp_intent in ("item", "exemption"):
                seen_entry[session] = True
        urgent = bool(got.get("urgent"))
        if row.get("urgent"):
            rep.urgent_recall[1] += 1
            rep.urgent_recall[0] += urgent
        else:
            rep.urgent_over[1] += 1
            rep.urgent_over[0] += urgent
        kind = row.get("kind")
        handled = ok_intent and (target == row.get("target") or exp_intent not in ("item", "exemption"))
        if kind:
            k = rep.by_kind.setdefault(kind, [0, 0])
            k[1] += 1
            k[0] += handled
            topic = _KIND_TOPIC.get(kind)
            if topic:
                t = rep.topic.setdefault(topic, [0, 0])
                t[1] += 1
                t[0] += got.get("topic") == topic
        if (
            not ok_intent
            or (row.get("target") and target != row["target"])
            or (
                target
                and target == row.get("target")
                and row.get("aspect")
                and got["aspect"] != row["aspect"]
            )
            or bool(row.get("urgent")) != urgent
        ):
            rep.errors.append((row, u))
        if not ok_intent and exp_intent not in ("item", "exemption"):
            rep.confusions[(f"<{exp_intent}>", target or f"<{got['intent']}>")] += 1
    return rep


class EvalFileError(ValueError):
    """A labelled file that cannot be evaluated; the message (Chinese) names the file, the line and why."""


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a labelled JSON Lines file: one object with a string "text" per line (blank lines skipped)."""
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalFileError(f"找不到评测文件 {path}。") from None
    except IsADirectoryError:
        raise EvalFileError(f"{path} 是目录，请给出一个 .jsonl 文件。") from None
    except UnicodeDecodeError as exc:
        raise EvalFileError(f"{path} 不是 UTF-8 文本（第 {exc.start + 1} 个字节起无法解码）。") from None
    except OSError as exc:
        raise EvalFileError(f"无法读取评测文件 {path}：{exc.strerror or exc}。") from None
    rows = []
    for i, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{path}:{i}: 不是有效的 JSON：{exc}") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise EvalFileError(
                f'{path}:{i}: 每行应是一个带文字 "text" 的 JSON 对象，例如 {{"text": "护照怎么办"}}。'
            )
        rows.append(row)
    return rows
