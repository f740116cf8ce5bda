"""Route an appeal (诉求) to a category by the domain vocabulary in knowledge/appeals.yaml.

No model is trained or shipped: every category lists the words citizens use for its domain (噪音, 拖欠工资,
物业, 公交…), and a message scores for each category by the keywords it contains.

- Text is normalised first: traditional → simplified characters (OpenCC's character table), full-width →
  half-width, lower case.
- Keywords are found by one dictionary lookup of the two characters at every position (two-character prefix →
  the lengths of the keywords that start with it), so the cost is linear in the message and independent of the
  number of categories and keywords.
- A keyword weighs more the longer (more specific) it is, and its weight is split between the categories that
  list it. Repeating a keyword adds a little, with diminishing returns. Words in the first `HEAD` characters
  (where people say what the message is about, or the subject line) count `HEAD_BOOST` times.
- Scores are the category's share of the evidence times the strength of the evidence, in [0, 1]; when no
  keyword matches, 其他 comes first with score 0.

Only the first `MAX_CHARS` characters are read (the intake limit for a description).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

MAX_CHARS = 2000
HEAD = 30
HEAD_BOOST = 1.5
FALLBACK = "其他"
# weight by keyword length: longer keywords are more specific
_LENGTH_WEIGHT = {1: 0.4, 2: 1.0, 3: 1.6}
_LONG_WEIGHT = 2.2
# repeated keyword: 1st occurrence counts 1, the 2nd 0.4, the 3rd 0.2, the rest nothing
_REPEAT = (1.0, 1.4, 1.6)
# evidence strength: total weight at which the top score reaches ~63% of its share
_STRENGTH_SCALE = 2.0


class _Category(Protocol):
    name: str
    keywords: list[str]


@lru_cache(maxsize=1)
def _char_table() -> tuple[dict[int, str], frozenset[str]]:
    """Traditional → simplified (first candidate of OpenCC's TSCharacters) and full-width letters and digits →
    ASCII; with the set of characters the table changes, so that text without any of them skips translation.
    Punctuation is left alone: keywords never contain it."""
    table: dict[int, str] = {}
    try:
        import opencc

        path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) == 1 and parts[1] != parts[0]:
                table[ord(parts[0])] = parts[1]
    except (ImportError, OSError):  # pragma: no cover - the dependency is declared; degrade to no conversion
        pass
    for code in range(0xFF01, 0xFF5F):
        if chr(code).isalnum():
            table[code] = chr(code - 0xFEE0)
    return table, frozenset(chr(c) for c in table)


def normalise(text: str) -> str:
    table, changed = _char_table()
    if not changed.isdisjoint(text):
        text = text.translate(table)
    return text.lower()


class AppealClassifier:
    def __init__(self, categories: Iterable[_Category]):
        cats = list(categories)
        self.names: list[str] = [c.name for c in cats]
        owners: dict[str, set[int]] = {}
        for idx, c in enumerate(cats):
            for kw in [c.name, *c.keywords]:
                k = normalise(str(kw).strip())
                if k:
                    owners.setdefault(k, set()).add(idx)
        self._keywords: dict[str, tuple[tuple[int, float], ...]] = {}
        # keywords of two or more characters are found through their first two characters (few text bigrams
        # start a keyword, so most positions cost one lookup); single characters through a set
        lengths: dict[str, set[int]] = {}
        self._singles: frozenset[str] = frozenset(k for k in owners if len(k) == 1)
        for k, idxs in owners.items():
            w = _LENGTH_WEIGHT.get(len(k), _LONG_WEIGHT) / len(idxs)
            self._keywords[k] = tuple((i, w) for i in sorted(idxs))
            if len(k) >= 2:
                lengths.setdefault(k[:2], set()).add(len(k))
        self._prefix: dict[str, tuple[int, ...]] = {
            p: tuple(sorted(ls, reverse=True)) for p, ls in lengths.items()
        }
        self._fallback = self.names.index(FALLBACK) if FALLBACK in self.names else None

    def _scan(self, text: str) -> tuple[dict[str, int], dict[str, float]]:
        """Keyword -> occurrence count, and keyword -> position boost of its best occurrence.

        At each position only the longest keyword counts, and a keyword lying wholly inside one already counted
        does not count again: "拖欠工资" is one piece of evidence, not also "工资" and "欠工资".
        """
        text = normalise(text[:MAX_CHARS])
        prefix, keywords = self._prefix, self._keywords
        best: dict[str, float] = {}
        count: dict[str, int] = {}
        covered_until = 0
        covered = bytearray(len(text)) if self._singles else None
        for i in range(len(text) - 1):
            lens = prefix.get(text[i : i + 2])
            if lens is None:
                continue
            for n in lens:  # longest first
                if i + n <= covered_until:
                    break
                k = text[i : i + n]
                if k in keywords:
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
                        boost = HEAD_BOOST if i < HEAD else 1.0
                        if boost > best.get(ch, 0.0):
                            best[ch] = boost
                    i = text.find(ch, i + 1)
        return count, best

    def raw_scores(self, text: str) -> list[float]:
        count, best = self._scan(text)
        scores = [0.0] * len(self.names)
        keywords = self._keywords
        for k, c in count.items():
            factor = best[k] * _REPEAT[min(c, len(_REPEAT)) - 1]
            for idx, w in keywords[k]:
                scores[idx] += w * factor
        return scores

    def explain(self, text: str) -> dict[str, list[str]]:
        """Matched keywords and the categories each one speaks for (to read why a message went where)."""
        count, _ = self._scan(text)
        return {k: [self.names[i] for i, _w in self._keywords[k]] for k in count}

    def classify(self, text: str) -> list[tuple[str, float]]:
        raw = self.raw_scores(text) if text else [0.0] * len(self.names)
        total = sum(raw)
        if total <= 0:
            order = list(range(len(self.names)))
            if self._fallback is not None:
                order.remove(self._fallback)
                order.insert(0, self._fallback)
            return [(self.names[i], 0.0) for i in order]
        strength = 1.0 - math.exp(-total / _STRENGTH_SCALE)
        ranked = sorted(range(len(self.names)), key=lambda i: -raw[i])
        return [(self.names[i], raw[i] / total * strength) for i in ranked]


_CACHE: dict[int, tuple[weakref.ref, Any, AppealClassifier]] = {}


def classifier_for(kb: Any) -> AppealClassifier:
    """The classifier for a knowledge base (anything with `.appeal_categories`), built once and cached."""
    cats = kb.appeal_categories
    key = id(kb)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is kb and hit[1] is cats:
        return hit[2]
    values = cats.values() if isinstance(cats, Mapping) else cats
    clf = AppealClassifier(values)

    def forget(_ref: weakref.ref[Any]) -> None:
        _CACHE.pop(key, None)

    try:
        ref = weakref.ref(kb, forget)
    except TypeError:  # objects without weakref support: do not cache
        return clf
    _CACHE[key] = (ref, cats, clf)
    return clf


def classify(text: str, kb: Any) -> list[tuple[str, float]]:
    """Categories of `kb.appeal_categories`, best first, each with a score in [0, 1]."""
    return classifier_for(kb).classify(text)
