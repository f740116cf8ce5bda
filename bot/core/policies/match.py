"""Matching one enterprise profile against the 政策库, with the reason for every condition.

Every condition is judged three ways: met, failed, or unknown (the profile does not say). A policy is
- 符合 (ELIGIBLE) when every condition of some group is met,
- 可能符合 (POSSIBLE) when no condition of some group failed but some is unknown,
- 不符合 (FAILED) otherwise, or when it is not in force on the day (expired, not started).

`Check` carries what a reason needs (the field, what the policy needs, what the profile has) and the template
templates/policies/reasons.txt.j2 says it, so "为什么没有研发加计扣除" is answered with the condition that is not
met. The fast path (bot/core/policies/engine.py) computes the same statuses for a whole library at once; this
module is the definition, and the reasons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .library import PolicyLibrary
from .models import Bound, Conditions, IndustryRule, Policy
from .profile import ProfileView

FAILED, UNKNOWN, MET = 0, 1, 2
ELIGIBLE, POSSIBLE = MET, UNKNOWN
CLAIM_ORDER = {"免申即享": 0, "即申即享": 1, "依申请": 2}


@dataclass(frozen=True)
class Check:
    field: str  # a Conditions field, or "valid" for the policy's dates
    status: int
    need: Any = None  # what the policy needs (a list, a Bound, an IndustryRule, True/False, dates)
    have: Any = None  # what the profile has (a value, an Interval, a set), None when unknown
    key: str = ""  # the fact's name for field "facts"


def in_force(policy: Policy, today: dt.date) -> bool:
    return policy.valid.start <= today and (policy.valid.end is None or today <= policy.valid.end)


def days_left(policy: Policy, today: dt.date) -> int | None:
    return None if policy.valid.end is None else (policy.valid.end - today).days


def _bound(bound: Bound, iv: Any) -> int:
    if iv is None:
        return UNKNOWN
    met = failed = False
    lows = [(bound.min, False), (bound.above, True)]
    highs = [(bound.max, False), (bound.below, True)]
    ok = True
    for v, strict in lows:
        if v is None:
            continue
        if (iv.hi < v) or (strict and iv.hi <= v):
            failed = True
        if not ((iv.lo > v) if strict else (iv.lo >= v)):
            ok = False
    for v, strict in highs:
        if v is None:
            continue
        if (iv.lo > v) or (strict and iv.lo >= v):
            failed = True
        if not ((iv.hi < v) if strict else (iv.hi <= v)):
            ok = False
    met = ok and not failed
    return FAILED if failed else MET if met else UNKNOWN


def industry_status(rule: IndustryRule, code: str | None, library: PolicyLibrary) -> int:
    if code is None:
        return UNKNOWN
    ind = library.industries
    inc_in = not rule.include or any(ind.inside(code, c) for c in rule.include)
    inc_part = any(ind.inside(c, code) for c in rule.include)
    exc_in = any(ind.inside(code, c) for c in rule.exclude)
    exc_part = any(ind.inside(c, code) and c != code for c in rule.exclude)
    if exc_in or (not inc_in and not inc_part):
        return FAILED
    if inc_in and not exc_part:
        return MET
    return UNKNOWN


def place_status(places: list[str], place: str | None, library: PolicyLibrary) -> int:
    if place is None:
        return UNKNOWN
    if any(library.place_within(place, q) for q in places):
        return MET
    if any(library.place_within(q, place) for q in places):
        return UNKNOWN  # the profile names a larger place (示例市): which part is not said
    return FAILED


def check_group(c: Conditions, view: ProfileView, library: PolicyLibrary) -> list[Check]:
    """The checks of one group of conditions, in the order of the model's fields."""
    p = view.profile
    out: list[Check] = []
    for name in c.fields():
        need = getattr(c, name)
        if name == "entity":
            st = UNKNOWN if p.entity is None else MET if p.entity in need else FAILED
            out.append(Check(name, st, need, p.entity))
        elif name == "taxpayer":
            st = UNKNOWN if p.taxpayer is None else MET if p.taxpayer in need else FAILED
            out.append(Check(name, st, need, p.taxpayer))
        elif name == "size":
            s = view.sizes
            st = UNKNOWN if s is None else MET if s <= set(need) else FAILED if not s & set(need) else UNKNOWN
            out.append(Check(name, st, need, s))
        elif name == "industry":
            out.append(Check(name, industry_status(need, p.industry, library), need, p.industry))
        elif name == "place":
            out.append(Check(name, place_status(need, p.place, library), need, p.place))
        elif name == "recognitions":
            held = p.recognitions & set(need)
            st = MET if held else FAILED if p.recognitions_complete else UNKNOWN
            out.append(Check(name, st, need, sorted(held) or sorted(p.recognitions)))
        elif name == "facts":
            for key, want in need.items():
                have = p.facts.get(key)
                st = UNKNOWN if have is None else MET if have == want else FAILED
                out.append(Check(name, st, want, have, key=key))
        else:
            iv = view.number(name)
            out.append(Check(name, _bound(need, iv), need, iv))
    return out


def _status(checks: list[Check]) -> int:
    return min((c.status for c in checks), default=MET)


def groups_of(policy: Policy) -> list[list[Conditions]]:
    """The alternatives: the base conditions with each any_of group (or alone)."""
    if not policy.any_of:
        return [[policy.conditions]]
    return [[policy.conditions, g] for g in policy.any_of]


@dataclass
class Match:
    """One policy judged against one profile."""

    policy: Policy
    view: ProfileView
    library: PolicyLibrary
    status: int
    expiring_days: int = 30

    @cached_property
    def checks(self) -> list[Check]:
        """The checks of the best alternative: all met for an eligible policy; for the others, the alternative
        with the fewest failed (then unknown) conditions — the one worth explaining."""
        best: list[Check] | None = None
        best_key: tuple[int, int, int] | None = None
        for group in groups_of(self.policy):
            checks = [c for cond in group for c in check_group(cond, self.view, self.library)]
            key = (
                _status(checks),
                -sum(c.status == FAILED for c in checks),
                -sum(c.status == UNKNOWN for c in checks),
            )
            if best_key is None or key > best_key:
                best, best_key = checks, key
        return best or []

    @property
    def met(self) -> list[Check]:
        return [c for c in self.checks if c.status == MET]

    @property
    def unknown(self) -> list[Check]:
        return [c for c in self.checks if c.status == UNKNOWN]

    @property
    def failed(self) -> list[Check]:
        out = [c for c in self.checks if c.status == FAILED]
        if not in_force(self.policy, self.view.today):
            out.insert(0, Check("valid", FAILED, self.policy.valid, self.view.today))
        return out

    @property
    def days_left(self) -> int | None:
        return days_left(self.policy, self.view.today)

    @property
    def expiring(self) -> bool:
        left = self.days_left
        return left is not None and 0 <= left <= self.expiring_days

    @property
    def in_force(self) -> bool:
        return in_force(self.policy, self.view.today)


def assess(policy: Policy, view: ProfileView, library: PolicyLibrary, expiring_days: int = 30) -> Match:
    """One policy against one profile (the slow, explaining path)."""
    status = FAILED
    if in_force(policy, view.today) and view.conflict is None:
        for group in groups_of(policy):
            checks = [c for cond in group for c in check_group(cond, view, library)]
            status = max(status, _status(checks))
            if status == MET:
                break
    return Match(policy, view, library, status, expiring_days)


def rank_key(policy: Policy, status: int) -> tuple[Any, ...]:
    """Best first: eligible before possible, the more conditions (the more tailored) first, what needs no
    application before what does, then by name."""
    fields = len(policy.conditions.fields()) + min((len(g.fields()) for g in policy.any_of), default=0)
    return (-status, -fields, CLAIM_ORDER[policy.claim.mode], policy.name)
