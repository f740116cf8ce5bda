"""An enterprise profile: what is known about one enterprise, each fact known or not.

The same profile comes from three places: the JSON of `python -m bot policies --profile` (Chinese keys, as people
write them), the facts extracted from a chat message (bot/core/policies/extract.py), and the saved profile of a
person (/profile). Unknown is never false: a fact not given is unknown, and a policy that needs it is only
"possibly" for the enterprise.

`Profile.view(library, today)` derives what the conditions read: 月销售额 from 营业收入, 残疾人占比 from the
counts, years since founding, the size class from the numbers (统计上大中小微型企业划分办法), and whether a stated
size contradicts the numbers (then the profile is questioned, never matched).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from .interval import Interval, ratio
from .library import PolicyLibrary
from .models import ENTITIES, NUMBERS, SIZES, TAXPAYERS

# Chinese keys of a profile (and a few other ways to write them) -> attribute or number field
KEYS: dict[str, str] = {
    "主体类型": "entity",
    "主体": "entity",
    "行业": "industry",
    "规模": "sizes",
    "企业规模": "sizes",
    "属地": "place",
    "地区": "place",
    "成立年份": "founded",
    "成立时间": "founded",
    "纳税人类型": "taxpayer",
    "资质": "recognitions",
    "规模已确认": "size_confirmed",
}
NUMBER_KEYS: dict[str, str] = {
    "从业人数": "employees",
    "员工人数": "employees",
    "营业收入": "revenue",
    "资产总额": "assets",
    "应纳税所得额": "taxable_income",
    "月销售额": "monthly_sales",
    "裁员率": "layoff_rate",
    "残疾人人数": "disabled_count",
    "残疾人占比": "disabled_ratio",
    "新招用人员占比": "new_hire_ratio",
}
NUMBER_LABELS = {v: k for k, v in reversed(list(NUMBER_KEYS.items()))}
SIZE_WORDS: dict[str, frozenset[str]] = {
    "大型": frozenset({"大型"}),
    "中型": frozenset({"中型"}),
    "小型": frozenset({"小型"}),
    "微型": frozenset({"微型"}),
    "小微": frozenset({"小型", "微型"}),
    "中小": frozenset({"中型", "小型", "微型"}),
    "中小微": frozenset({"中型", "小型", "微型"}),
}
SIZE_ALIASES = {"大": "大型", "中": "中型", "小": "小型", "微": "微型", "小微型": "小微", "中小型": "中小"}


class ProfileError(ValueError):
    """A profile value that cannot be understood; the message (Chinese) names the key and the value.
    `choices` holds industry codes to offer when the industry was not recognised."""

    def __init__(self, message: str, *, key: str = "", choices: list[str] | None = None):
        super().__init__(message)
        self.key = key
        self.choices = choices or []


def size_words(sizes: frozenset[str] | None) -> str:
    """{小型, 微型} -> 小微; one class -> its name."""
    if not sizes:
        return ""
    for word, classes in SIZE_WORDS.items():
        if classes == sizes and word not in ("中小微",):
            return word
    return "、".join(s for s in SIZES if s in sizes)


def parse_sizes(raw: object) -> frozenset[str]:
    items = raw if isinstance(raw, list) else [raw]
    out: set[str] = set()
    for item in items:
        word = str(item).strip().removesuffix("企业")
        word = SIZE_ALIASES.get(word, word)
        if word not in SIZE_WORDS:
            raise ProfileError(
                f"规模「{item}」无法识别，可写：大型、中型、小型、微型、小微、中小", key="规模"
            )
        out |= SIZE_WORDS[word]
    return frozenset(out)


@dataclass(frozen=True)
class Profile:
    entity: str | None = None
    industry: str | None = None  # a 国民经济行业分类 code: section letter, division, group or class
    sizes: frozenset[str] | None = None  # as stated
    numbers: dict[str, Interval] = field(default_factory=dict)
    founded: Interval | None = None  # the founding year (a range when only roughly known)
    taxpayer: str | None = None
    place: str | None = None
    recognitions: frozenset[str] = frozenset()
    recognitions_complete: bool = False  # the list is the whole list: others are not held
    facts: dict[str, bool] = field(default_factory=dict)
    # the person confirmed the stated size when asked about numbers that point elsewhere: it stands
    size_confirmed: bool = False

    # -- JSON ---------------------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, data: dict[str, Any], library: PolicyLibrary) -> Profile:
        """A profile from its JSON object (Chinese keys). A value that cannot be understood raises
        ProfileError naming it; an industry that is not recognised carries the nearest sections."""
        if not isinstance(data, dict):
            raise ProfileError('企业画像应为 JSON 对象，如 {"规模": "小微", "行业": "软件和信息技术服务业"}')
        values: dict[str, Any] = {"numbers": {}, "facts": {}}
        for key, raw in data.items():
            if raw is None:
                continue
            if key in KEYS:
                attr = KEYS[key]
                values[attr] = _parse(attr, key, raw, library)
                if attr == "recognitions":
                    values["recognitions_complete"] = True
            elif key in NUMBER_KEYS:
                try:
                    iv = Interval.parse(raw)
                except ValueError as exc:
                    raise ProfileError(f"{key}「{raw}」{exc}", key=key) from None
                if iv.lo < 0:
                    raise ProfileError(f"{key}不能为负数", key=key)
                values["numbers"][NUMBER_KEYS[key]] = iv
            elif key in library.facts:
                if not isinstance(raw, bool):
                    raise ProfileError(f"{key}应为 true 或 false", key=key)
                values["facts"][key] = raw
            else:
                known = "、".join([*KEYS, *NUMBER_KEYS, *library.facts])
                raise ProfileError(f"不认识的字段「{key}」（可用：{known}）", key=key)
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.entity:
            out["主体类型"] = self.entity
        if self.industry:
            out["行业"] = self.industry
        if self.sizes:
            out["规模"] = size_words(self.sizes)
        for name, iv in self.numbers.items():
            out[NUMBER_LABELS[name]] = iv.json()
        if self.founded is not None:
            out["成立年份"] = self.founded.json()
        if self.place:
            out["属地"] = self.place
        if self.taxpayer:
            out["纳税人类型"] = self.taxpayer
        if self.recognitions_complete or self.recognitions:
            out["资质"] = sorted(self.recognitions)
        out.update(self.facts)
        if self.size_confirmed and self.sizes:
            out["规模已确认"] = True
        return out

    def is_empty(self) -> bool:
        return not self.to_json()

    def merged(self, newer: Profile) -> Profile:
        """This profile updated with what `newer` says (a later message: its facts win)."""
        return replace(
            self,
            entity=newer.entity or self.entity,
            industry=newer.industry or self.industry,
            sizes=newer.sizes or self.sizes,
            numbers={**self.numbers, **newer.numbers},
            founded=newer.founded if newer.founded is not None else self.founded,
            taxpayer=newer.taxpayer or self.taxpayer,
            place=newer.place or self.place,
            recognitions=self.recognitions | newer.recognitions
            if not newer.recognitions_complete
            else newer.recognitions,
            recognitions_complete=self.recognitions_complete or newer.recognitions_complete,
            facts={**self.facts, **newer.facts},
            size_confirmed=newer.size_confirmed if newer.sizes else self.size_confirmed,
        )

    def view(self, library: PolicyLibrary, today: dt.date) -> ProfileView:
        return ProfileView.of(self, library, today)


def _parse(attr: str, key: str, raw: Any, library: PolicyLibrary) -> Any:
    # the text of a one-value field; a list where one value belongs is refused below, naming what was given
    text = "" if isinstance(raw, list) else str(raw).strip()
    if attr == "entity":
        if text == "个体户":
            text = "个体工商户"
        if text in ("公司", "有限公司"):
            text = "企业"
        if text not in ENTITIES:
            raise ProfileError(f"主体类型「{raw}」无法识别，可写：{'、'.join(ENTITIES)}", key=key)
        return text
    if attr == "taxpayer":
        text = {"小规模": "小规模纳税人", "一般": "一般纳税人"}.get(text, text)
        if text not in TAXPAYERS:
            raise ProfileError(f"纳税人类型「{raw}」无法识别，可写：{'、'.join(TAXPAYERS)}", key=key)
        return text
    if attr == "sizes":
        return parse_sizes(raw)
    if attr == "industry":
        node = library.industries.resolve(text)
        if node is None:
            near = library.industries.nearest_sections(text)
            names = "、".join(library.industries.label(c) for c in near)
            raise ProfileError(
                f"行业「{raw}」无法识别，最接近的门类：{names}；也可以直接写国民经济行业分类代码（如 65、C）",
                key=key,
                choices=near,
            )
        return node.code
    if attr == "founded":
        try:
            if isinstance(raw, str) and len(raw) >= 4 and raw[:4].isdigit():
                return Interval.exact(float(raw[:4]))
            return Interval.parse(raw)
        except ValueError:
            raise ProfileError(f"成立年份「{raw}」应为年份，如 2021", key=key) from None
    if attr == "place":
        return library.canonical_place(text)
    if attr == "size_confirmed":
        if not isinstance(raw, bool):
            raise ProfileError(f"{key}应为 true 或 false", key=key)
        return raw
    if attr == "recognitions":
        items = raw if isinstance(raw, list) else [raw]
        out = set()
        for item in items:
            name = library.canonical_recognition(str(item).strip())
            if name is None:
                raise ProfileError(
                    f"资质「{item}」无法识别，可写：{'、'.join(library.recognitions)}", key=key
                )
            out.add(name)
        return frozenset(out)
    raise AssertionError(attr)


@dataclass(frozen=True)
class ProfileView:
    """What the conditions read: the profile with everything that can be derived from it."""

    profile: Profile
    today: dt.date
    numbers: dict[str, Interval]  # given and derived (monthly_sales, disabled_ratio, years)
    sizes: frozenset[str] | None  # stated ∩ derived, or whichever is known
    derived_sizes: frozenset[str] | None
    conflict: str | None = None  # why the stated size cannot be right (then nothing is matched)
    indicated: frozenset[str] | None = None

    @classmethod
    def of(cls, profile: Profile, library: PolicyLibrary, today: dt.date) -> ProfileView:
        nums = dict(profile.numbers)
        if "monthly_sales" not in nums and "revenue" in nums:
            nums["monthly_sales"] = nums["revenue"].scaled(1 / 12)
        if "disabled_ratio" not in nums and "disabled_count" in nums:
            count = nums["disabled_count"]
            if count.hi == 0:
                nums["disabled_ratio"] = Interval.exact(0)  # nobody: 0% whatever the number of employees
            elif "employees" in nums:
                r = ratio(count, nums["employees"])
                if r is not None:
                    nums["disabled_ratio"] = r
        if profile.founded is not None:
            f = profile.founded
            lo = max(0.0, today.year - f.hi) if f.hi != float("inf") else 0.0
            nums["years"] = Interval(lo, max(lo, today.year - f.lo))
        derived = indicated = None
        if library.sizes:
            size_numbers = {i: nums.get(i) for i in ("employees", "revenue", "assets")}
            d = library.sizes.possible(library.industries, profile.industry, size_numbers)
            derived = frozenset(d) if d is not None else None
            ind = library.sizes.indicated(library.industries, profile.industry, size_numbers)
            uncovered = profile.industry is not None and library.sizes.uncovered(
                library.industries, profile.industry
            )
            indicated = frozenset(ind) if ind is not None and not uncovered else None
        stated = profile.sizes
        conflict = None
        sizes = stated or derived
        if stated and derived is not None:
            both = stated & derived
            if not both and not profile.size_confirmed:
                conflict = "derived"
            sizes = both or stated
        if stated and conflict is None and indicated is not None and not stated & indicated:
            conflict = None if profile.size_confirmed else "indicated"
        return cls(profile, today, nums, sizes, derived, conflict, indicated)

    def number(self, name: str) -> Interval | None:
        return self.numbers.get(name)

    def years(self) -> Interval | None:
        return self.numbers.get("years")


NUMBER_UNITS = NUMBERS
