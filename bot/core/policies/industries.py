"""国民经济行业分类 (GB/T 4754-2017) as data (knowledge/policies/industries.yaml): the 20 sections (门类 A–T),
the divisions (大类, two digits) and the few groups and classes (591, 7010…) the size rules need, each with the
everyday words people use for it ("做软件的" → 65, "开饭馆" → 62).

A code's ancestors are found by its digits: 7010 → 70 → K. A profile names one code; a policy condition lists
codes; "inside" is the prefix relation, plus the section of a division.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field

from .models import Strict


class GroupSpec(Strict):
    code: str = Field(pattern=r"^[0-9]{3,4}$")
    name: str
    words: list[str] = []


class DivisionSpec(Strict):
    code: str = Field(pattern=r"^[0-9]{2}$")
    name: str
    words: list[str] = []
    groups: list[GroupSpec] = []


class SectionSpec(Strict):
    code: str = Field(pattern=r"^[A-T]$")
    name: str
    short: str = ""  # a short name for buttons ("软件信息" for I)
    words: list[str] = []
    divisions: list[DivisionSpec] = Field(min_length=1)


class IndustriesSpec(Strict):
    standard: str
    sections: list[SectionSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Industry:
    code: str
    name: str
    section: str  # the section letter (itself for a section)
    parent: str | None  # None for a section
    words: tuple[str, ...] = ()
    short: str = ""

    @property
    def level(self) -> str:
        if self.parent is None:
            return "section"
        return "division" if len(self.code) == 2 else "group"


@dataclass
class Industries:
    standard: str = ""
    codes: dict[str, Industry] = field(default_factory=dict)
    _phrases: list[tuple[str, str]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_spec(cls, spec: IndustriesSpec) -> tuple[Industries, list[str]]:
        out = cls(standard=spec.standard)
        problems: list[str] = []

        def add(node: Industry) -> None:
            if node.code in out.codes:
                problems.append(f"行业代码 {node.code} 重复")
            out.codes[node.code] = node

        for s in spec.sections:
            add(Industry(s.code, s.name, s.code, None, tuple(s.words), s.short or s.name))
            for d in s.divisions:
                add(Industry(d.code, d.name, s.code, s.code, tuple(d.words)))
                for g in d.groups:
                    if not g.code.startswith(d.code):
                        problems.append(f"行业代码 {g.code} 不属于大类 {d.code}")
                    add(Industry(g.code, g.name, s.code, d.code, tuple(g.words)))
        return out, problems

    def __bool__(self) -> bool:
        return bool(self.codes)

    def get(self, code: str) -> Industry | None:
        return self.codes.get(code)

    def node(self, code: str) -> Industry:
        """A code taken from this classification itself (a hit, a section, a nearest section): always there."""
        return self.codes[code]

    @property
    def sections(self) -> list[Industry]:
        return [i for i in self.codes.values() if i.parent is None]

    def divisions_of(self, section: str) -> list[Industry]:
        return [i for i in self.codes.values() if i.parent == section]

    def ancestors(self, code: str) -> list[str]:
        """The code itself and every code above it, nearest first: 7010 → [7010, 70, K]."""
        node = self.codes.get(code)
        out: list[str] = []
        while node is not None:
            out.append(node.code)
            node = self.codes.get(node.parent) if node.parent else None
        return out

    def inside(self, code: str, outer: str) -> bool:
        """Whether everything of `code` is inside `outer` (591 is inside 59 and G)."""
        return outer in self.ancestors(code)

    def overlaps(self, code: str, other: str) -> bool:
        """Whether the two codes share some industry (one contains the other)."""
        return self.inside(code, other) or self.inside(other, code)

    def phrases(self) -> list[tuple[str, str]]:
        """(phrase, code) for every name and everyday word, longest phrases first."""
        cached = self._phrases
        if cached is None:
            pairs: dict[str, str] = {}
            for node in self.codes.values():
                for phrase in (node.name, *node.words):
                    key = phrase.lower()
                    # a phrase two codes share belongs to the broader one (it says no more than that)
                    if key in pairs and self.inside(pairs[key], node.code):
                        continue
                    pairs[key] = node.code
            cached = sorted(pairs.items(), key=lambda kv: -len(kv[0]))
            self._phrases = cached
        return cached

    def resolve(self, text: str) -> Industry | None:
        """The industry a profile names: a code (65, C, 7010), a name of the standard, an everyday word, or a
        phrase containing one ("汽车零部件制造" → 36); None when nothing is recognised."""
        t = text.strip()
        if not t:
            return None
        code = t.upper() if len(t) == 1 else t
        if code in self.codes:
            return self.codes[code]
        low = t.lower()
        for phrase, c in self.phrases():
            if phrase == low:
                return self.codes[c]
        for phrase, c in self.phrases():
            if len(phrase) >= 2 and phrase in low:
                return self.codes[c]
        return None

    def nearest_sections(self, text: str, n: int = 3) -> list[str]:
        """The sections whose names and words are closest to an unrecognised industry, best first."""
        from rapidfuzz import fuzz

        scores: dict[str, float] = {}
        t = text.strip().lower()
        for node in self.codes.values():
            for phrase in (node.name, *node.words):
                score = fuzz.partial_ratio(t, phrase.lower()) if t else 0.0
                if score > scores.get(node.section, -1):
                    scores[node.section] = score
        ranked = sorted(scores, key=lambda s: (-scores[s], s))
        return ranked[:n]

    def label(self, code: str) -> str:
        node = self.codes.get(code)
        if node is None:
            return code
        if node.parent is None:
            return f"{node.code} {node.name}"
        return f"{node.name}（{node.code}）"
