"""Where a 诉求 goes: the 派单目录's rules, the model learned from the centre's tickets, and 属地.

1. The rules score every entry of the 派单目录 (rules.py). When they are sure — the best unit holds at least
   `RULE_SURE_SHARE` of the evidence and there is at least `RULE_SURE_TOTAL` of it — the rules decide.
2. Otherwise, when the deployment has learned a model (learned.py), the two are mixed: each unit's rule share,
   weighted by how much rule evidence there is, plus the model's probability. The mix decides when its best
   unit reaches `MIX_SURE` and leads the runner-up by `MIX_GAP`. When the mix is unsure but the rules pass the
   lower bar of step 3, the rules decide unless the model is confident (`MODEL_VETO`) in another unit: a model
   never makes routing less sure than the rules alone.
3. Without a model, the rules alone decide at the lower bar `RULE_GUESS_SHARE` / `RULE_GUESS_TOTAL`.
4. Anything else is unsure: it goes to the dispatcher's queue (the 派单目录's `dispatcher`) instead of a guess.
5. 属地: when the deciding entry is marked `local` and the message (or the place given at intake) names a
   place of places.yaml, the 属地 unit of that place handles it; otherwise the line department does.

`Routing` holds the current data and model; `reload()` reads the files again (an admin's edits take effect),
`set_model()` switches in a newly trained model. Both replace whole objects, so a route in progress is never
half old, half new.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalogue import DispatchEntry, RoutingData, load_routing_data
from .learned import NgramModel
from .places import Place, PlaceIndex, mentions_place
from .rules import RuleResult, RuleScorer

RULE_SURE_SHARE, RULE_SURE_TOTAL = 0.6, 2.0
RULE_GUESS_SHARE, RULE_GUESS_TOTAL = 0.3, 0.9
MIX_SURE, MIX_GAP = 0.45, 0.1
MODEL_VETO = 0.5
CURRENT = object()  # route() with the model in use


@dataclass(frozen=True)
class Decision:
    unit: str  # where the ticket goes: the line department, the 属地 unit, or the dispatcher when unsure
    line_unit: str | None  # the best functional department (None: no evidence at all)
    sure: bool
    confidence: float  # of line_unit, in [0, 1]
    source: str  # rules | rules+model | model | none
    entry: DispatchEntry | None  # the 派单目录 entry behind it, when one matched
    local: bool  # the matter is one the 属地 handles
    place: Place | None  # the known place named
    needs_place: bool  # a local matter with no place named: the intake asks for it
    runner_up: tuple[str, float] | None
    rules: RuleResult
    model: list[tuple[str, float]] | None = None
    scores: list[tuple[str, float]] = field(default_factory=list)  # the deciding scores, best first

    @property
    def category(self) -> str | None:
        return self.entry.category if self.entry is not None else None


def _fallback_entries(kb: Any) -> list[DispatchEntry]:
    """A knowledge base without a 派单目录 routes as before: one entry per appeal category."""
    out = []
    for i, c in enumerate((getattr(kb, "appeal_categories", {}) or {}).values()):
        out.append(
            DispatchEntry(
                id=f"category-{i}",
                matter=c.name,
                unit=c.department,
                category=c.name,
                keywords=[c.name, *c.keywords],
            )
        )
    return out


@dataclass
class _Parts:
    data: RoutingData
    scorer: RuleScorer
    places: PlaceIndex


class Routing:
    def __init__(self, kb: Any, root: Path | None = None, model: NgramModel | None = None):
        self.kb = kb
        self.root = Path(root) if root is not None else Path(kb.root)
        self.model = model
        self._parts = self._build()

    # ------------------------------------------------------------------ data
    def _build(self) -> _Parts:
        data = load_routing_data(self.root, self.kb)
        entries = data.entries or _fallback_entries(self.kb)
        return _Parts(data, RuleScorer(entries), PlaceIndex(data.territories))

    def reload(self) -> bool:
        """Read the 派单目录 and the places again. Raises KnowledgeError (and keeps the old data) when the
        files are wrong. Returns True when something was read anew."""
        if not self._parts.data.changed(self.root):
            return False
        self._parts = self._build()
        return True

    def set_model(self, model: NgramModel | None) -> None:
        self.model = model

    @property
    def data(self) -> RoutingData:
        return self._parts.data

    @property
    def dispatcher(self) -> str:
        return self._parts.data.dispatcher

    @property
    def entries(self) -> list[DispatchEntry]:
        return self._parts.scorer.entries

    def find_place(self, text: str | None) -> Place | None:
        return self._parts.places.find(text)

    # ------------------------------------------------------------------ routing
    @staticmethod
    def _rules_guess(rules: RuleResult) -> bool:
        return bool(rules.units) and rules.units[0][1] >= RULE_GUESS_SHARE and rules.total >= RULE_GUESS_TOTAL

    def route(self, text: str, place: str | None = None, *, model: Any = CURRENT) -> Decision:
        """Where the message goes; `place` is what the person gave at the intake's place step. `model`
        replaces the current model for this call (None: the rules alone), to compare candidates."""
        parts = self._parts
        model = self.model if model is CURRENT else model
        rules = parts.scorer.score(text)
        predicted = model.predict(text) if model is not None else None
        share = dict(rules.units)
        if rules.units and rules.units[0][1] >= RULE_SURE_SHARE and rules.total >= RULE_SURE_TOTAL:
            scores, source, sure = list(rules.units), "rules", True
        elif predicted is not None:
            w = rules.strength
            units = set(share) | {u for u, _ in predicted}
            p = dict(predicted)
            mixed = {u: (w * share.get(u, 0.0) + p.get(u, 0.0)) / (1.0 + w) for u in units}
            scores = sorted(mixed.items(), key=lambda kv: -kv[1])
            gap = scores[0][1] - (scores[1][1] if len(scores) > 1 else 0.0)
            sure = scores[0][1] >= MIX_SURE and gap >= MIX_GAP
            source = "rules+model" if rules.units else "model"
            if not sure and self._rules_guess(rules):
                # the model is unsure too: it overrules the rules' guess only when it is confident elsewhere
                if predicted[0][0] == rules.units[0][0] or predicted[0][1] < MODEL_VETO:
                    scores, source, sure = list(rules.units), "rules", True
        elif rules.units:
            scores, source, sure = list(rules.units), "rules", self._rules_guess(rules)
        else:
            scores, source, sure = [], "none", False
        line = scores[0][0] if scores else None
        confidence = scores[0][1] * (rules.strength if source == "rules" else 1.0) if scores else 0.0
        entry = next((s.entry for s in rules.entries if s.entry.unit == line), None)
        local = bool(entry and entry.local)
        found = parts.places.find(place) or parts.places.find(text)
        unit = line if sure and line else (parts.data.dispatcher or line or "")
        if sure and local and found is not None:
            unit = found.unit
        runner = scores[1] if len(scores) > 1 else None
        needs_place = local and found is None and not mentions_place(place) and not mentions_place(text)
        return Decision(
            unit=unit,
            line_unit=line,
            sure=sure and line is not None,
            confidence=confidence,
            source=source,
            entry=entry,
            local=local,
            place=found,
            needs_place=needs_place,
            runner_up=runner,
            rules=rules,
            model=predicted,
            scores=scores[:5],
        )


_CACHE: dict[int, tuple[weakref.ref, Routing]] = {}


def router_for(kb: Any) -> Routing:
    """The rules-only Routing of a knowledge base, built once (benchmarks, the CLI, tests)."""
    key = id(kb)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is kb:
        return hit[1]
    routing = Routing(kb)
    try:
        _CACHE[key] = (weakref.ref(kb, lambda _r: _CACHE.pop(key, None)), routing)
    except TypeError:  # objects without weakref support: not cached
        pass
    return routing
