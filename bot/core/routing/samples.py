"""Sample routing decisions and results, for `python -m bot check` to render every routing text."""

from __future__ import annotations

from .catalogue import DispatchEntry, Territory
from .learning import RetrainResult
from .places import PlaceIndex
from .router import Decision
from .rules import RuleResult, RuleScorer

_LAMPS = DispatchEntry(
    id="street-lights",
    matter="路灯维护",
    unit="城市管理局",
    category="城乡建设",
    local=True,
    keywords=["路灯"],
)
_HOUSING = DispatchEntry(
    id="property",
    matter="物业服务",
    unit="住房和城乡建设局",
    category="城乡建设",
    local=True,
    keywords=["物业"],
)
_PLACES = PlaceIndex([Territory(unit="东城街道办事处", estates=["阳光花园"])])


def sample_decisions() -> list[Decision]:
    scorer = RuleScorer([_LAMPS, _HOUSING])
    sure = scorer.score("阳光花园门口的路灯坏了")
    mixed = scorer.score("物业不管路灯")
    none = RuleResult([], [], 0.0, 0.0)
    place = _PLACES.find("阳光花园")
    return [
        Decision("东城街道办事处", "城市管理局", True, 0.53, "rules", _LAMPS, True, place, False, None, sure),
        Decision(
            "派单中心",
            "城市管理局",
            False,
            0.4,
            "rules+model",
            _LAMPS,
            True,
            None,
            True,
            ("住房和城乡建设局", 0.38),
            mixed,
            [("城市管理局", 0.41), ("住房和城乡建设局", 0.38)],
            [("城市管理局", 0.41), ("住房和城乡建设局", 0.38)],
        ),
        Decision("派单中心", None, False, 0.0, "none", None, False, None, False, None, none),
        Decision(
            "公安局",
            "公安局",
            True,
            0.8,
            "model",
            None,
            False,
            place,
            False,
            None,
            none,
            [("公安局", 0.8)],
            [("公安局", 0.8)],
        ),
    ]


def sample_results() -> list[RetrainResult]:
    return [
        RetrainResult("switched", 1200, 120, 0.86, 0.81, 4.2, 3),
        RetrainResult("rejected", 1300, 130, 0.79, 0.84, 4.5, 4),
        RetrainResult("too_few", 12),
    ]
