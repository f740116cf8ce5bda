"""The 派单目录's rules: score each entry by the keywords a message contains.

Keywords are found in one pass over the message (two-character prefix → lengths of the keywords starting
there, longest first; a keyword inside one already counted does not count again), the way classify.py finds a
category's words. A keyword weighs more the longer it is; its weight is split between the entries that list
it; a repeat adds a little; the first `HEAD` characters (where people say what it is about) count more. An
entry whose exclusion word appears in the message scores nothing.

A unit's score is the sum of its entries' scores. `share` is the best unit's part of all the evidence and
`strength` how much evidence there is (1 - exp(-total / scale)): both high means the rules are sure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.tickets.classify import normalise

from .catalogue import DispatchEntry

MAX_CHARS = 2000
HEAD = 30
HEAD_BOOST = 1.5
_LENGTH_WEIGHT = {1: 0.4, 2: 1.0, 3: 1.6}
_LONG_WEIGHT = 2.2
_REPEAT = (1.0, 1.4, 1.6)
STRENGTH_SCALE = 2.0


def _inside_latin(text: str, i: int, n: int) -> bool:
    before = text[i - 1] if i > 0 else ""
    after = text[i + n] if i + n < len(text) else ""
    return (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum())


@dataclass(frozen=True)
class EntryScore:
    entry: DispatchEntry
    score: float
    keywords: tuple[str, ...]  # the matched keywords, in the order found


@dataclass(frozen=True)
class RuleResult:
    units: list[tuple[str, float]]  # unit -> share of the evidence, best first (shares sum to 1)
    entries: list[EntryScore]  # matched entries, best first
    total: float  # all the evidence
    strength: float  # in [0, 1)

    @property
    def best(self) -> tuple[str, float] | None:
        return self.units[0] if self.units else None


class RuleScorer:
    def __init__(self, entries: Sequence[DispatchEntry]):
        self.entries = list(entries)
        owners: dict[str, set[int]] = {}
        for i, e in enumerate(self.entries):
            for kw in e.keywords:
                k = normalise(kw)
                if k:
                    owners.setdefault(k, set()).add(i)
        self._keywords: dict[str, tuple[tuple[int, float], ...]] = {}
        lengths: dict[str, set[int]] = {}
        for k, idxs in owners.items():
            w = _LENGTH_WEIGHT.get(len(k), _LONG_WEIGHT) / len(idxs)
            self._keywords[k] = tuple((i, w) for i in sorted(idxs))
            lengths.setdefault(k[:2] if len(k) >= 2 else k, set()).add(len(k))
        self._prefix = {p: tuple(sorted(ls, reverse=True)) for p, ls in lengths.items() if len(p) == 2}
        self._singles = frozenset(k for k in owners if len(k) == 1)
        self._exclusions = [tuple(normalise(x) for x in e.exclusions) for e in self.entries]
        # letters and digits ("12345", "app") count only as whole words: not inside a phone number or a word
        self._latin = frozenset(k for k in owners if k.isascii())

    def _scan(self, text: str) -> tuple[dict[str, int], dict[str, float]]:
        prefix, keywords = self._prefix, self._keywords
        count: dict[str, int] = {}
        best: dict[str, float] = {}
        covered_until = 0
        covered = bytearray(len(text)) if self._singles else None
        for i in range(len(text) - 1):
            lens = prefix.get(text[i : i + 2])
            if lens is None:
                continue
            for n in lens:
                if i + n <= covered_until:
                    break
                k = text[i : i + n]
                if k in keywords and not (k in self._latin and _inside_latin(text, i, n)):
                    count[k] = count.get(k, 0) + 1
                    boost = HEAD_BOOST if i < HEAD else 1.0
                    if boost > best.get(k, 0.0):
                        best[k] = boost
                    covered_until = i + n
                    if covered is not None:
                        covered[i : i + n] = b"\x01" * n
                    break
        if covered is not None:
            for ch in self._singles:
                i = text.find(ch)
                while i >= 0:
                    if not covered[i]:
                        count[ch] = count.get(ch, 0) + 1
                        best[ch] = max(best.get(ch, 0.0), HEAD_BOOST if i < HEAD else 1.0)
                    i = text.find(ch, i + 1)
        return count, best

    def score(self, text: str) -> RuleResult:
        text = normalise((text or "")[:MAX_CHARS])
        count, best = self._scan(text)
        raw = [0.0] * len(self.entries)
        found: list[list[str]] = [[] for _ in self.entries]
        for k, c in count.items():
            factor = best[k] * _REPEAT[min(c, len(_REPEAT)) - 1]
            for i, w in self._keywords[k]:
                raw[i] += w * factor
                found[i].append(k)
        for i, words in enumerate(self._exclusions):
            if raw[i] and words and any(w and w in text for w in words):
                raw[i] = 0.0
        scored = sorted(
            (EntryScore(self.entries[i], raw[i], tuple(found[i])) for i in range(len(raw)) if raw[i] > 0),
            key=lambda s: -s.score,
        )
        per_unit: dict[str, float] = {}
        for s in scored:
            per_unit[s.entry.unit] = per_unit.get(s.entry.unit, 0.0) + s.score
        total = sum(per_unit.values())
        units = sorted(((u, v / total) for u, v in per_unit.items()), key=lambda uv: -uv[1]) if total else []
        return RuleResult(units, scored, total, 1.0 - math.exp(-total / STRENGTH_SCALE) if total else 0.0)
