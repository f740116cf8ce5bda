"""Every 惠企政策 text through templates/policies/: reasons (plain text, templates/policies/reasons.txt.j2), the
list of matching policies, explanations, the questions the bot asks, the profile views and the push.

The code decides what is shown (which policies, which checks, whether a deadline is close); the templates say
it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core.texts import Texts

from .library import PolicyLibrary
from .match import FAILED, MET, Check, Match
from .models import NUMBERS
from .profile import Profile, ProfileView, size_words

REASONS = "policies/reasons.txt.j2"
LIST = "policies/list.html.j2"
EXPLAIN = "policies/explain.html.j2"
ASK = "policies/ask.html.j2"
PROFILE = "policies/profile.html.j2"
PUSH = "policies/push.html.j2"
REPORT = "policies/report.html.j2"
TEMPLATES = (REASONS, LIST, EXPLAIN, ASK, PROFILE, PUSH, REPORT)


class PolicyTexts:
    def __init__(self, texts: Texts, library: PolicyLibrary):
        self.texts = texts
        self.library = library

    def say(self, template: str, macro: str, /, **kwargs: Any) -> str:
        return self.texts.say(template, macro, **kwargs)

    # -- reasons ------------------------------------------------------------------------------------------
    def reason(self, check: Check) -> str:
        """One condition as a person reads it: met, failed or still to confirm."""
        status = {MET: "met", FAILED: "failed"}.get(check.status, "unknown")
        return self.texts.say(REASONS, status, **self._check_words(check))

    def _check_words(self, c: Check) -> dict[str, Any]:
        lib = self.library
        words: dict[str, Any] = {"field": c.field, "key": c.key, "need": c.need, "have": c.have}
        if c.field == "size":
            words["need"] = list(c.need)
            words["have"] = size_words(c.have) if c.have else ""
        elif c.field == "industry":
            words["include"] = [lib.industries.label(x) for x in c.need.include]
            words["exclude"] = [lib.industries.label(x) for x in c.need.exclude]
            words["excluded"] = bool(c.have and any(lib.industries.inside(c.have, x) for x in c.need.exclude))
            words["have"] = lib.industries.label(c.have) if c.have else ""
        elif c.field == "facts":
            spec = lib.facts[c.key]
            words.update(label=spec.label, negative=spec.negative, question=spec.question)
        elif c.field in NUMBERS:
            words["unit"] = NUMBERS[c.field]
            words["have"] = _interval(c.have)
            words["bound"] = {k: _num(v) for k, v in c.need.model_dump().items() if v is not None}
        elif c.field == "valid":
            words["start"], words["end"] = c.need.start, c.need.end
        return words

    def reasons(self, checks: list[Check]) -> list[str]:
        return [self.reason(c) for c in checks]

    # -- whole messages -----------------------------------------------------------------------------------
    def profile_lines(self, profile: Profile) -> list[tuple[str, str]]:
        """(label, value) of every known fact, in a fixed order, for summaries and /profile."""
        lib = self.library
        out: list[tuple[str, str]] = []
        for key, value in profile.to_json().items():
            if key == "规模已确认":
                continue
            if key == "行业":
                value = lib.industries.label(value)
            elif key == "资质":
                value = "、".join(value) if value else self.say(PROFILE, "none_held")
            elif isinstance(value, bool):
                spec = lib.facts.get(key)
                value = (spec.label if value else spec.negative) if spec else str(value)
                out.append(("", value))
                continue
            elif isinstance(value, list):
                value = self.say(PROFILE, "range", lo=value[0], hi=value[1])
            out.append((key, str(value)))
        return out

    def match_item(self, m: Match, today: dt.date) -> dict[str, Any]:
        """What a template needs of one matching policy."""
        return {
            "policy": m.policy,
            "eligible": m.status == MET,
            "reasons": self.reasons(m.met),
            "to_confirm": self.reasons(m.unknown),
            "days_left": m.days_left,
            "expiring": m.expiring,
            "end": m.policy.valid.end,
            "today": today,
        }

    def listing(
        self, view: ProfileView, matches: list[Match], *, shown: int, offset: int = 0, note: str = ""
    ) -> str:
        eligible = [m for m in matches if m.status == MET]
        possible = [m for m in matches if m.status != MET]
        page = eligible[offset : offset + shown]
        rest = max(0, len(eligible) - offset - shown)
        return self.texts.render(
            LIST,
            summary=self.profile_lines(view.profile),
            eligible=[self.match_item(m, view.today) for m in page],
            first_number=offset + 1,
            more=rest,
            possible=[self.match_item(m, view.today) for m in possible[:5]] if offset == 0 else [],
            possible_more=max(0, len(possible) - 5) if offset == 0 else 0,
            total=len(eligible),
            note=note,
        )

    def explain(self, m: Match, *, profile_known: bool) -> str:
        return self.texts.render(
            EXPLAIN,
            item=self.match_item(m, m.view.today),
            failed=self.reasons(m.failed),
            met=self.reasons(m.met),
            unknown=self.reasons(m.unknown),
            in_force=m.in_force,
            profile_known=profile_known,
        )


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else round(v, 2)


def _interval(iv: Any) -> Any:
    if iv is None:
        return None
    lo = _num(iv.lo)
    hi = None if iv.hi == float("inf") else _num(iv.hi)
    return {"lo": lo, "hi": hi, "exact": lo == hi}
