"""大/中/小/微 by 统计上大中小微型企业划分办法（2017）, as data (knowledge/policies/sizes.yaml).

Each industry group lists, per indicator (从业人员 employees, 营业收入 revenue, 资产总额 assets), the lower bounds
of 大型, 中型 and 小型. The rule of the 办法: 大型、中型、小型 must reach the lower bound of every listed indicator,
otherwise the enterprise falls one class; 微型 needs only one indicator below the 小型 bound.

Numbers are intervals (a person says "三十多人"): `possible` gives every class some value of the intervals could
give; `indicated` gives, for the indicators that are known, the class each points to (used to question a stated
size the numbers contradict: "微型" with 500 people).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, model_validator

from .industries import Industries
from .interval import Interval
from .models import SIZES, Strict

Indicator = Literal["employees", "revenue", "assets"]
INDICATORS: tuple[Indicator, ...] = ("employees", "revenue", "assets")


class SizeGroupSpec(Strict):
    name: str
    industries: list[str] = Field(min_length=1)
    exclude: list[str] = []
    # lower bounds of 大型, 中型, 小型 (people or 万元)
    employees: list[float] | None = None
    revenue: list[float] | None = None
    assets: list[float] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> SizeGroupSpec:
        given = [i for i in INDICATORS if getattr(self, i) is not None]
        if not given:
            raise ValueError("至少写明 employees、revenue、assets 之一的划分下限")
        for i in given:
            bounds = getattr(self, i)
            if len(bounds) != 3 or not bounds[0] > bounds[1] > bounds[2] > 0:
                raise ValueError(f"{i} 应为大型、中型、小型的下限，三个递减的正数")
        return self


class SizesSpec(Strict):
    standard: str
    groups: list[SizeGroupSpec] = Field(min_length=1)
    # sections and divisions the 办法 leaves to other standards (金融业) or does not cover
    not_covered: list[str] = []


@dataclass(frozen=True)
class SizeGroup:
    name: str
    industries: tuple[str, ...]
    exclude: tuple[str, ...]
    bounds: dict[str, tuple[float, float, float]]


def _class_of(value: float, bounds: tuple[float, float, float]) -> int:
    """0 大型 … 3 微型 for one indicator's value."""
    for n, low in enumerate(bounds):
        if value >= low:
            return n
    return 3


def _classes_of(iv: Interval | None, bounds: tuple[float, float, float]) -> tuple[int, int]:
    """The classes some value in the interval falls in, as (largest enterprise, smallest) class numbers; an
    unknown indicator may be anything."""
    if iv is None:
        return 0, 3
    return _class_of(iv.hi, bounds), _class_of(iv.lo, bounds)


@dataclass
class SizeRules:
    standard: str = ""
    groups: list[SizeGroup] = field(default_factory=list)
    not_covered: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, spec: SizesSpec) -> SizeRules:
        return cls(
            standard=spec.standard,
            groups=[
                SizeGroup(
                    g.name,
                    tuple(g.industries),
                    tuple(g.exclude),
                    {i: tuple(getattr(g, i)) for i in INDICATORS if getattr(g, i) is not None},
                )
                for g in spec.groups
            ],
            not_covered=tuple(spec.not_covered),
        )

    def __bool__(self) -> bool:
        return bool(self.groups)

    def groups_for(self, industries: Industries, code: str | None) -> list[SizeGroup]:
        """The groups the enterprise may belong to: one for a precise code, several when the code is broader than
        the groups (a section, or 59 which is split between 交通运输业 and 仓储业), every group when unknown."""
        if code is None:
            return list(self.groups)
        out = []
        for g in self.groups:
            inside = any(industries.inside(code, c) for c in g.industries) and not any(
                industries.inside(code, c) for c in g.exclude
            )
            partly = any(industries.inside(c, code) for c in g.industries)
            if inside or partly:
                out.append(g)
        return out

    @staticmethod
    def classify(group: SizeGroup, numbers: dict[str, Interval | None]) -> set[str]:
        """Every class the known numbers allow in this group.

        With exact values the class is the smallest enterprise any indicator points to (every indicator must
        reach a class's bound; one below the 小型 bound makes it 微型), i.e. the largest class number. With
        intervals each indicator spans a range of class numbers, and every number from the largest of their
        lower ends to the largest of their upper ends can be reached."""
        spans = [_classes_of(numbers.get(i), b) for i, b in group.bounds.items()]
        low, high = max(s[0] for s in spans), max(s[1] for s in spans)
        return {SIZES[n] for n in range(low, high + 1)}

    def possible(
        self, industries: Industries, code: str | None, numbers: dict[str, Interval | None]
    ) -> set[str] | None:
        """The classes the numbers allow, over every group the industry may be in; None when no number is known
        or the industry is one the 办法 does not cover."""
        groups = self.groups_for(industries, code)
        usable = [g for g in groups if any(numbers.get(i) is not None for i in g.bounds)]
        if not usable or (code is not None and self.uncovered(industries, code)):
            return None
        out: set[str] = set()
        for g in groups:
            out |= self.classify(g, numbers)
        return out

    def indicated(
        self, industries: Industries, code: str | None, numbers: dict[str, Interval | None]
    ) -> set[str] | None:
        """The classes the known indicators point to, each on its own (what a person would call the size from
        the numbers they gave); None when none is known."""
        out: set[str] = set()
        seen = False
        for g in self.groups_for(industries, code):
            for i, b in g.bounds.items():
                iv = numbers.get(i)
                if iv is None:
                    continue
                seen = True
                low, high = _classes_of(iv, b)
                out |= {SIZES[n] for n in range(low, high + 1)}
        return out if seen else None

    def uncovered(self, industries: Industries, code: str) -> bool:
        return any(industries.inside(code, c) for c in self.not_covered)
