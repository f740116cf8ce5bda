"""The fast path: every policy of a library judged against one profile at once, with numpy.

A policy is one row per alternative (its base conditions with each `any_of` group); every condition field is an
array over the rows (a bit mask for sets, lower and upper bounds for numbers, a row × code matrix for industries).
One profile is then a few dozen array operations whatever the size of the library, and only the policies shown
get their reasons from the explaining path (bot/core/policies/match.py), which stays the definition: a test
checks that both agree on every shipped policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .library import PolicyLibrary
from .match import FAILED, MET, Match, assess, groups_of, rank_key
from .models import ENTITIES, NUMBERS, SIZES, TAXPAYERS, Conditions, Policy
from .profile import ProfileView

_NAN = np.nan


def _bits(values: list[str] | None, vocabulary: dict[str, int]) -> int:
    return 0 if not values else sum(1 << vocabulary[v] for v in values)


@dataclass
class _Numbers:
    lo: np.ndarray
    lo_strict: np.ndarray
    hi: np.ndarray
    hi_strict: np.ndarray
    has: np.ndarray


class _Layer:
    """One group of conditions per row, as arrays: the base conditions are one layer, the `any_of` group of
    each alternative another, so a field that appears in both is checked in both, exactly as the definition
    does. Fields no row of the layer uses are left out."""

    def __init__(self, engine: PolicyEngine, conditions: list[Conditions | None]):
        n = len(conditions)
        lib = engine.library

        def pick(name: str) -> list:
            return [getattr(c, name) if c is not None else None for c in conditions]

        def bits(name: str, vocab: dict[str, int]) -> np.ndarray | None:
            values = pick(name)
            return np.array([_bits(v, vocab) for v in values], dtype=np.int64) if any(values) else None

        self.entity = bits("entity", engine._entities)
        self.size = bits("size", engine._sizes)
        self.taxpayer = bits("taxpayer", engine._taxpayers)
        self.recognition = bits("recognitions", engine._recognitions)
        places = pick("place")
        self.place: np.ndarray | None = None
        self.has_place: np.ndarray | None = None
        if any(places):
            self.place = np.zeros((n, max(1, len(engine._places))), dtype=bool)
            for r, qs in enumerate(places):
                for q in qs or ():
                    self.place[r, engine._places[q]] = True
            self.has_place = np.asarray(self.place.any(axis=1), dtype=bool)
        self.facts: dict[str, np.ndarray] = {}
        facts = pick("facts")
        for key in lib.facts:
            arr = np.array([int(f[key]) if f and key in f else -1 for f in facts], dtype=np.int8)
            if (arr >= 0).any():
                self.facts[key] = arr
        self.numbers: dict[str, _Numbers] = {}
        for name in NUMBERS:
            bounds = pick(name)
            if any(b is not None for b in bounds):
                self.numbers[name] = _numbers(bounds)
        rules = pick("industry")
        self.has_ind = None
        if any(r is not None for r in rules):
            ncodes = max(1, len(engine._codes))
            self.inc = np.zeros((n, ncodes), dtype=bool)
            self.exc = np.zeros((n, ncodes), dtype=bool)
            self.has_ind = np.array([r is not None for r in rules], dtype=bool)
            self.has_inc = np.array([bool(r and r.include) for r in rules], dtype=bool)
            for row, rule in enumerate(rules):
                for c in rule.include if rule else ():
                    self.inc[row, engine._codes[c]] = True
                for c in rule.exclude if rule else ():
                    self.exc[row, engine._codes[c]] = True


def _numbers(bounds: list) -> _Numbers:
    def low(b):  # noqa: ANN001, ANN202 - the stricter of min / above
        cands = [(v, s) for v, s in ((b.min, False), (b.above, True)) if v is not None] if b else []
        return max(cands) if cands else (_NAN, False)

    def high(b):  # noqa: ANN001, ANN202 - the stricter of max / below
        cands = [(v, not s) for v, s in ((b.max, False), (b.below, True)) if v is not None] if b else []
        v, loose = min(cands) if cands else (_NAN, True)
        return v, not loose

    lows, highs = [low(b) for b in bounds], [high(b) for b in bounds]
    return _Numbers(
        lo=np.array([v for v, _ in lows], dtype=float),
        lo_strict=np.array([s for _, s in lows], dtype=bool),
        hi=np.array([v for v, _ in highs], dtype=float),
        hi_strict=np.array([s for _, s in highs], dtype=bool),
        has=np.array([b is not None for b in bounds], dtype=bool),
    )


class PolicyEngine:
    """Built once per library; `statuses(view)` is the status of every policy; `match(view)` the ranked
    matches."""

    def __init__(self, library: PolicyLibrary, expiring_days: int = 30):
        self.library = library
        self.expiring_days = expiring_days
        self.policies: list[Policy] = list(library.policies.values())
        self._entities = {e: n for n, e in enumerate(ENTITIES)}
        self._sizes = {s: n for n, s in enumerate(SIZES)}
        self._taxpayers = {t: n for n, t in enumerate(TAXPAYERS)}
        self._recognitions = {r: n for n, r in enumerate(library.recognitions)}
        self._codes = {c: n for n, c in enumerate(library.industries.codes)}
        names = list(library.places)
        for p in self.policies:
            for group in groups_of(p):
                for c in group:
                    names += [q for q in c.place or () if q not in names]
        self._places = {q: n for n, q in enumerate(names)}
        ind = library.industries
        self._ancestors = {code: [self._codes[a] for a in ind.ancestors(code)] for code in self._codes}
        self._descendants: dict[str, list[int]] = {code: [] for code in self._codes}
        for code in self._codes:
            for a in ind.ancestors(code)[1:]:
                self._descendants[a].append(self._codes[code])
        rows = [(i, group) for i, p in enumerate(self.policies) for group in groups_of(p)]
        self.row_policy = np.array([i for i, _ in rows], dtype=np.int64)
        self.row_starts = (
            np.flatnonzero(np.r_[True, self.row_policy[1:] != self.row_policy[:-1]]) if rows else None
        )
        self.layers = [
            _Layer(self, [g[0] for _, g in rows]),
            _Layer(self, [g[1] if len(g) > 1 else None for _, g in rows]),
        ]
        self.start = np.array([p.valid.start.toordinal() for p in self.policies], dtype=np.int64)
        self.end = np.array(
            [p.valid.end.toordinal() if p.valid.end else np.iinfo(np.int64).max for p in self.policies],
            np.int64,
        )
        order = sorted(range(len(self.policies)), key=lambda i: rank_key(self.policies[i], 0))
        self.rank = np.empty(len(self.policies), dtype=np.int64)
        self.rank[order] = np.arange(len(self.policies))

    # -- judging ------------------------------------------------------------------------------------------
    def statuses(self, view: ProfileView) -> np.ndarray:
        """FAILED, POSSIBLE or ELIGIBLE for every policy (in library order) on the view's day."""
        npol = len(self.policies)
        if npol == 0 or view.conflict is not None:
            return np.zeros(npol, dtype=np.int8)
        failed = np.zeros(len(self.row_policy), dtype=bool)
        unknown = np.zeros_like(failed)
        for layer in self.layers:
            self._judge(layer, view, failed, unknown)
        row = np.where(failed, FAILED, np.where(unknown, 1, MET)).astype(np.int8)
        assert self.row_starts is not None  # rows exist whenever there are policies (npol > 0 here)
        status = np.maximum.reduceat(row, self.row_starts)
        today = view.today.toordinal()
        status[(self.start > today) | (self.end < today)] = FAILED
        return status

    def _judge(self, layer: _Layer, view: ProfileView, failed: np.ndarray, unknown: np.ndarray) -> None:
        p = view.profile

        def member(mask: np.ndarray | None, value: str | None, vocab: dict[str, int]) -> None:
            if mask is None:
                return
            has = mask != 0
            if value is None:
                unknown[:] |= has
            else:
                failed[:] |= has & ((mask & (1 << vocab[value])) == 0)

        member(layer.entity, p.entity, self._entities)
        member(layer.taxpayer, p.taxpayer, self._taxpayers)
        if layer.size is not None:
            has = layer.size != 0
            if view.sizes is None:
                unknown |= has
            else:
                s = _bits(sorted(view.sizes), self._sizes)
                disjoint = (layer.size & s) == 0
                subset = (s & ~layer.size) == 0
                failed |= has & disjoint
                unknown |= has & ~disjoint & ~subset
        if layer.recognition is not None:
            has = layer.recognition != 0
            held = _bits([r for r in p.recognitions if r in self._recognitions], self._recognitions)
            hit = (layer.recognition & held) != 0
            if p.recognitions_complete:
                failed |= has & ~hit
            else:
                unknown |= has & ~hit
        if layer.place is not None and layer.has_place is not None:
            if p.place is None:
                unknown |= layer.has_place
            else:
                lib = self.library
                met_cols = [n for q, n in self._places.items() if lib.place_within(p.place, q)]
                unk_cols = [
                    n for q, n in self._places.items() if n not in met_cols and lib.place_within(q, p.place)
                ]
                met = layer.place[:, met_cols].any(axis=1) if met_cols else np.zeros_like(failed)
                unk = layer.place[:, unk_cols].any(axis=1) if unk_cols else np.zeros_like(failed)
                failed |= layer.has_place & ~met & ~unk
                unknown |= layer.has_place & ~met & unk
        for key, want in layer.facts.items():
            has = want >= 0
            value = p.facts.get(key)
            if value is None:
                unknown |= has
            else:
                failed |= has & (want != int(value))
        for name, b in layer.numbers.items():
            iv = view.number(name)
            if iv is None:
                unknown |= b.has
                continue
            with np.errstate(invalid="ignore"):
                fail = (iv.hi < b.lo) | (b.lo_strict & (iv.hi <= b.lo))
                fail |= (iv.lo > b.hi) | (b.hi_strict & (iv.lo >= b.hi))
                ok_lo = np.isnan(b.lo) | np.where(b.lo_strict, iv.lo > b.lo, iv.lo >= b.lo)
                ok_hi = np.isnan(b.hi) | np.where(b.hi_strict, iv.hi < b.hi, iv.hi <= b.hi)
            failed |= fail
            unknown |= b.has & ~(ok_lo & ok_hi)
        if layer.has_ind is not None:
            if p.industry is None or p.industry not in self._codes:
                (unknown if p.industry is None else failed)[:] |= layer.has_ind
            else:
                anc = self._ancestors[p.industry]
                desc = self._descendants[p.industry]
                inc_in = layer.inc[:, anc].any(axis=1) | ~layer.has_inc
                exc_in = layer.exc[:, anc].any(axis=1)
                inc_part = layer.inc[:, desc].any(axis=1) if desc else np.zeros_like(failed)
                exc_part = layer.exc[:, desc].any(axis=1) if desc else np.zeros_like(failed)
                fail = layer.has_ind & (exc_in | (~inc_in & ~inc_part))
                met = layer.has_ind & inc_in & ~exc_in & ~exc_part
                failed |= fail
                unknown |= layer.has_ind & ~fail & ~met

    def match(self, view: ProfileView, *, possible: bool = True) -> list[Match]:
        """The policies for the profile, best first: eligible ones, then (when `possible`) possible ones."""
        status = self.statuses(view)
        floor = 1 if possible else MET
        idx = np.flatnonzero(status >= floor)
        order = idx[np.lexsort((self.rank[idx], -status[idx]))]
        return [
            Match(self.policies[i], view, self.library, int(status[i]), self.expiring_days) for i in order
        ]

    def explain(self, policy: Policy, view: ProfileView) -> Match:
        return assess(policy, view, self.library, self.expiring_days)
