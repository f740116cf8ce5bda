"""属地: find the place a message or an intake answer names, and the 属地 unit it belongs to.

Names come from places.yaml (街道/乡镇, 社区/村, 小区, roads). The longest known name in the text wins; a name
listed under two units (a road crossing two streets) decides nothing. `mentions_place` tells whether the text
names some place at all, known or not ("XX小区", "XX路", "XX村"), so the intake does not ask for a place the
person already gave.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.tickets.classify import normalise

from .catalogue import Territory

# a name (two or more characters, not starting with a pronoun or a number word) and a place suffix
_PLACE_LIKE = re.compile(
    r"(?<![这那哪此该某一每])(?:(?![的了在我你他她家里门口上下是有和与就都也还又很太被把给从到对])[\u4e00-\u9fff0-9a-z]){2,10}?"
    r"(?:小区|社区|街道|花园|家园|新村|公寓|大厦|大道|大街|号楼|路(?![灯口面边上])|街(?![道头边上])|巷|村|镇|苑)"
)
_NOT_A_NAME = re.compile(r"^[这那哪此该某一每几条个]")


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # 街道乡镇 | 社区 | 小区 | 道路
    unit: str


class PlaceIndex:
    def __init__(self, territories: Sequence[Territory]):
        owners: dict[str, set[tuple[str, str]]] = {}
        for t in territories:
            for name, kind in t.all_places():
                owners.setdefault(normalise(name), set()).add((t.unit, kind))
        self._places: dict[str, Place] = {}
        self.ambiguous: frozenset[str] = frozenset(k for k, v in owners.items() if len({u for u, _ in v}) > 1)
        for name, v in owners.items():
            if name not in self.ambiguous:
                unit, kind = sorted(v)[0]
                self._places[name] = Place(name, kind, unit)
        lengths: dict[str, set[int]] = {}
        for name in owners:
            if len(name) >= 2:
                lengths.setdefault(name[:2], set()).add(len(name))
        self._prefix = {p: tuple(sorted(ls, reverse=True)) for p, ls in lengths.items()}

    def __bool__(self) -> bool:
        return bool(self._places)

    def find(self, text: str | None) -> Place | None:
        """The most specific known place named in the text (longest name; 小区 over 社区 over 街道)."""
        if not text:
            return None
        t = normalise(text[:2000])
        best: Place | None = None
        for i in range(len(t) - 1):
            for n in self._prefix.get(t[i : i + 2], ()):
                name = t[i : i + n]
                if name in self._places or name in self.ambiguous:
                    place = self._places.get(name)
                    if place is not None and (best is None or _rank(place) > _rank(best)):
                        best = place
                    break
        return best


_KIND_RANK = {"小区": 3, "社区": 2, "道路": 1, "街道乡镇": 0}


def _rank(p: Place) -> tuple[int, int]:
    return (_KIND_RANK.get(p.kind, 0), len(p.name))


def mentions_place(text: str | None) -> bool:
    """Does the text name a place at all (a compound, road, village…), whether or not it is in places.yaml?"""
    if not text:
        return False
    return any(not _NOT_A_NAME.match(m.group(0)) for m in _PLACE_LIKE.finditer(normalise(text)))
