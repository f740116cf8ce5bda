"""Reading an enterprise profile from a chat message: "我们是做软件的小微企业，30个人，去年营收800万" → industry
I/65, size 小微, 30 people, revenue 800 万元. Only what the message says; everything else stays unknown.

All the words are data: industries (knowledge/policies/industries.yaml), recognitions and facts
(knowledge/policies/profile.yaml), and the language cues (intents/policies.yaml: entity, size and taxpayer words,
units, money cues, founding phrases). The rules for hard calls are written down with the evaluation data
(bench/data/policy_README.md).

Order matters and is deliberate: names of policies and taxes are masked first (研发费用加计扣除 says nothing about
the enterprise, 企业所得税 is not "we are an enterprise"), then recognitions (so 中小企业 inside 科技型中小企业 is not
read again as a size), taxpayer type (小规模 is not a size), facts, numbers, founding, place, entity, size and
industry last (so 大宗商品仓库 is a fact, not the warehousing industry).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.knowledge import KnowledgeError
from bot.core.resources import data_dir, read_yaml
from bot.core.text.correct import Corrector
from bot.core.text.lexicon import everyday_words
from bot.core.text.normalize import MAX_ANALYSED_CHARS, fold

from .interval import Interval
from .library import PolicyLibrary
from .numbers import QUANTITY, percent, quantity
from .profile import SIZE_WORDS, Profile

_MASK = "□"
_CLAUSE = re.compile(r"[，,。．；;！!？?\s、：:（）()]+")
_CJK_WORD = r"[\u4e00-\u9fff]"


@dataclass
class ProfileCues:
    """The profile section of intents/policies.yaml."""

    confusables: dict[str, str]
    masked: list[str]
    entity: dict[str, list[str]]
    factory_suffix: str
    not_factory: list[str]
    sizes: dict[str, list[str]]
    size_questions: list[str]
    taxpayers: dict[str, list[str]]
    this_district: list[str]
    place_suffixes: list[str]
    place_prefixes: list[str]
    people_units: list[str]
    people_before: list[str]
    disabled_words: list[str]
    money_cues: dict[str, list[str]]
    money_skip: list[str]
    no_profit: list[str]
    no_layoff: list[str]
    layoff_cues: list[str]
    founded_verbs: list[str]
    just_founded: list[str]
    last_year: list[str]
    year_before: list[str]
    hiring_facts: list[str]
    hiring_verbs: list[str]
    sells: dict[str, Any]


def load_policy_cues(root: Path | str | None = None) -> dict[str, Any]:
    """intents/policies.yaml as a mapping (its `intent` and `profile` sections); a wrong file is a
    KnowledgeError naming it."""
    path = Path(root or data_dir("intents")) / "policies.yaml"
    try:
        data = read_yaml(path) or {}
    except FileNotFoundError:
        raise KnowledgeError([f"{path}: 文件不存在（惠企政策的对话线索）"]) from None
    except yaml.YAMLError as exc:
        raise KnowledgeError([f"{path.name}: YAML 格式错误: {exc}"]) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("intent"), dict)
        or not isinstance(data.get("profile"), dict)
    ):
        raise KnowledgeError([f"{path.name}: 应包含 intent 和 profile 两部分（映射）"])
    try:
        ProfileCues(**data["profile"])
    except TypeError as exc:
        raise KnowledgeError([f"{path.name}: profile 部分字段有误：{exc}"]) from None
    return data


@dataclass
class Extraction:
    """What a message says about the enterprise."""

    profile: Profile
    unknown_industry: str | None = None  # words that name a business the data does not know ("做直播带货的")
    facts_named: list[str] = field(default_factory=list)  # which profile keys were read (for evaluation)


def _alternation(words: list[str]) -> re.Pattern[str]:
    words = sorted({w.lower() for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else re.compile(r"(?!x)x")


class ProfileExtractor:
    def __init__(self, library: PolicyLibrary, cues: dict[str, Any]):
        self.library = library
        self.cues = c = ProfileCues(**cues["profile"])
        aliases = [a for p in library.policies.values() for a in (p.name, *p.aliases)]
        self._masked = _alternation([*aliases, *c.masked])
        self._recognitions = [
            (w.lower(), r.name) for r in library.recognitions.values() for w in (r.name, *r.words)
        ]
        self._recognitions.sort(key=lambda t: -len(t[0]))
        self._taxpayers = [(w, t) for t, ws in c.taxpayers.items() for w in ws]
        self._taxpayers.sort(key=lambda t: -len(t[0]))
        self._entities = [(w, e) for e, ws in c.entity.items() for w in ws]
        self._entities.sort(key=lambda t: -len(t[0]))
        self._sizes = [(w, s) for s, ws in c.sizes.items() for w in ws]
        self._sizes.sort(key=lambda t: -len(t[0]))
        self._size_questions = [
            re.compile(q.replace("{size}", f"(?:{'|'.join(re.escape(w) for w, _ in self._sizes)})"))
            for q in c.size_questions
        ]
        self._hiring = _alternation(c.hiring_verbs)
        self._people_after = re.compile(
            "^(?:" + "|".join(re.escape(u) for u in sorted(c.people_units, key=len, reverse=True)) + ")"
        )
        self._people_before = _alternation(c.people_before)
        self._disabled = _alternation(c.disabled_words)
        self._money = {k: _alternation(v) for k, v in c.money_cues.items()}
        self._money_skip = _alternation(c.money_skip)
        vocabulary = [
            *(w for n in library.industries.codes.values() for w in (n.name, *n.words)),
            *(w for w, _ in self._recognitions),
            *(w for f in library.facts.values() for w in (*f.words, *f.negated)),
            *(w for w, _ in self._entities),
            *(w for w, _ in self._sizes),
            *(w for w, _ in self._taxpayers),
        ]
        # typos that sound like a word of the profile vocabulary (个题户 → 个体户), as the matcher corrects
        self._corrector = Corrector(vocabulary, {}, {}, c.confusables)
        self._places = _alternation([w for p in library.places.values() for w in (p.name, *p.words)])

    # -- the steps ------------------------------------------------------------------------------------------
    def prepare(self, text: str) -> str:
        """Folded (width, case, traditional → simplified), typos fixed; punctuation kept for the clauses."""
        t = fold(text[: MAX_ANALYSED_CHARS * 2])[:MAX_ANALYSED_CHARS]
        return self._corrector.fix_homophones(self._corrector.fix_confusables(t))

    def extract(self, text: str, today: dt.date) -> Extraction:
        t = self.prepare(text)
        t = self._masked.sub(lambda m: _MASK * len(m.group(0)), t)
        values: dict[str, Any] = {"numbers": {}, "facts": {}}
        entity_hint: str | None = None

        # recognitions (a name that contains 企业 also says it is an enterprise)
        held = set()
        for word, name in self._recognitions:
            if word in t:
                held.add(name)
                if "企业" in word:
                    entity_hint = "企业"
                t = t.replace(word, _MASK * len(word))
        if held:
            values["recognitions"] = frozenset(held)
        for word, kind in self._taxpayers:
            if word in t:
                values.setdefault("taxpayer", kind)
                t = t.replace(word, _MASK * len(word))
        t = self._facts(t, values)
        t = self._numbers(t, values)
        self._founded(t, today, values)
        self._place(t, values)
        entity = self._entity(t) or entity_hint
        if entity:
            values["entity"] = entity
        sizes = self._size(t)
        if sizes:
            values["sizes"] = sizes
        code, unknown = self._industry(t)
        if code:
            values["industry"] = code
        profile = Profile(**values)
        return Extraction(profile, None if code else unknown, sorted(profile.to_json()))

    # facts: "没交社保" before "交社保"; hiring facts need a hiring verb in the same clause
    def _facts(self, t: str, values: dict[str, Any]) -> str:
        for key, spec in self.library.facts.items():
            for word in sorted(spec.negated, key=len, reverse=True):
                if word and word in t:
                    values["facts"][key] = False
                    t = t.replace(word, _MASK * len(word))
        for key, spec in self.library.facts.items():
            if key in values["facts"]:
                continue
            for word in sorted(spec.words, key=len, reverse=True):
                pos = t.find(word) if word else -1
                if pos < 0:
                    continue
                if key in self.cues.hiring_facts and not self._hiring.search(self._clause(t, pos)):
                    continue
                values["facts"][key] = True
                t = t.replace(word, _MASK * len(word))
                break
        return t

    @staticmethod
    def _clause(t: str, pos: int) -> str:
        start = max((m.end() for m in _CLAUSE.finditer(t, 0, pos)), default=0)
        m = _CLAUSE.search(t, pos)
        return t[start : m.start() if m else len(t)]

    def _numbers(self, t: str, values: dict[str, Any]) -> str:
        nums: dict[str, Interval] = values["numbers"]
        c = self.cues
        if any(w in t for w in c.no_profit):
            nums["taxable_income"] = Interval.exact(0)
        if any(w in t for w in c.no_layoff):
            nums["layoff_rate"] = Interval.exact(0)
        for cue in c.layoff_cues:
            pos = t.find(cue)
            if pos >= 0:
                got = percent(t[pos:])
                if got is not None:
                    nums["layoff_rate"] = Interval.exact(got)
                    t = t[:pos] + _MASK * len(cue) + t[pos + len(cue) :]
        for m in QUANTITY.finditer(t):
            clause = self._clause(t, m.start())
            after = t[m.end() :]
            before = t[max(0, m.start() - 6) : m.start()]
            unit = m.group("unit")
            people = self._people_after.match(after) or (
                # 员工三十多个, 职工120: the word for people right before, and nothing else after the number
                self._people_before.search(before) and re.match(r"^(?:[个名位]|$|[，,。；;！!？?\s])", after)
            )
            if unit is None and people:
                iv = quantity(m, money=False)
                if iv is None:
                    continue
                key = "disabled_count" if self._disabled.search(clause) else "employees"
                nums.setdefault(key, iv)
                continue
            if unit is None or self._money_skip.search(clause):
                continue
            iv = quantity(m, money=True)
            if iv is None:
                continue
            for key in ("quarterly_sales", "monthly_sales", "taxable_income", "assets", "revenue"):
                if self._money[key].search(clause):
                    if key == "quarterly_sales":
                        key, iv = "monthly_sales", iv.scaled(1 / 3)
                    nums.setdefault(key, iv)
                    break
        return t

    def _founded(self, t: str, today: dt.date, values: dict[str, Any]) -> None:
        c = self.cues
        verbs = "|".join(re.escape(v) for v in sorted(c.founded_verbs, key=len, reverse=True))
        year = today.year
        m = re.search(rf"((?:19|20)\d{{2}}|\d{{2}})\s*年\s*(?:{verbs})", t)
        if m:
            y = int(m.group(1))
            y = y + 2000 if y < 100 else y
            if 1950 <= y <= year:
                values["founded"] = Interval.exact(y)
                return
        # 去年刚开的: the year before "just"
        if any(re.search(rf"{re.escape(w)}\s*(?:才|刚|刚刚)?(?:{verbs})", t) for w in c.last_year):
            values["founded"] = Interval.exact(year - 1)
            return
        if any(re.search(rf"{re.escape(w)}\s*(?:才|刚|刚刚)?(?:{verbs})", t) for w in c.year_before):
            values["founded"] = Interval.exact(year - 2)
            return
        if any(w in t for w in c.just_founded):
            values["founded"] = Interval.exact(year)
            return
        m = re.search(rf"(\d+|[一二两三四五六七八九十几]+)\s*年前\s*(?:{verbs})", t)
        if m:
            got = _years(m.group(1))
            if got:
                values["founded"] = Interval(year - got[1], year - got[0])
                return
        m = re.search(
            rf"(?:{verbs})\s*(不到|不足|快|近)?\s*(\d+|[一二两三四五六七八九十几]+)\s*(?:个)?\s*年", t
        )
        if m:
            got = _years(m.group(2))
            if got:
                if m.group(1):
                    values["founded"] = Interval(year - (got[1] - 1), year)
                else:
                    values["founded"] = Interval(year - got[1], year - got[0])

    def _place(self, t: str, values: dict[str, Any]) -> None:
        c = self.cues
        m = self._places.search(t)
        if m:
            values["place"] = self.library.canonical_place(m.group(0))
            return
        if any(w in t for w in c.this_district) and self.library.places:
            # the district the assistant serves: the most local place of the library
            inner = [p for p in self.library.places.values() if p.within]
            values["place"] = (inner or list(self.library.places.values()))[0].name
            return
        prefixes = "|".join(re.escape(p) for p in c.place_prefixes)
        suffixes = "".join(c.place_suffixes)
        m = re.search(rf"(?:{prefixes})({_CJK_WORD}{{2,8}}?[{suffixes}])", t)
        if m:
            values["place"] = m.group(1)
            return
        words = everyday_words()
        for m in re.finditer(rf"(?:{prefixes})({_CJK_WORD}{{2,4}})", t):
            for n in range(len(m.group(1)), 1, -1):
                if words.get(m.group(1)[:n]) == "ns":
                    values["place"] = m.group(1)[:n]
                    return

    def _entity(self, t: str) -> str | None:
        found: dict[str, int] = {}
        for word, kind in self._entities:
            pos = t.find(word)
            if pos >= 0 and kind not in found:
                found[kind] = pos
                t = t.replace(word, _MASK * len(word))
        c = self.cues
        for m in re.finditer(rf"{_CJK_WORD}{re.escape(c.factory_suffix)}", t):
            if not any(t.startswith(w, m.start() + 1) for w in c.not_factory):  # 厂房 is a building
                found.setdefault("企业", m.start())
        # a specific kind (个体户, 合作社, 协会) says more than the general 企业/公司 beside it
        for kind in ("个体工商户", "农民专业合作社", "社会组织", "企业"):
            if kind in found:
                return kind
        return None

    def _size(self, t: str) -> frozenset[str] | None:
        for q in self._size_questions:
            t = q.sub(lambda m: _MASK * len(m.group(0)), t)
        out: set[str] = set()
        for word, kind in self._sizes:
            if word in t:
                out |= SIZE_WORDS[kind]
                t = t.replace(word, _MASK * len(word))
        return frozenset(out) or None

    def _industry(self, t: str) -> tuple[str | None, str | None]:
        ind = self.library.industries
        hits: list[tuple[int, int, str]] = []
        for phrase, code in ind.phrases():
            start = t.find(phrase)
            while start >= 0:
                hits.append((start, len(phrase), code))
                t = t[:start] + _MASK * len(phrase) + t[start + len(phrase) :]
                start = t.find(phrase)
        if not hits:
            sells = self.cues.sells
            words = everyday_words()
            for m in re.finditer(
                "(?:" + "|".join(map(re.escape, sells["words"])) + r")([\u4e00-\u9fff]{2,3})", t
            ):
                # 卖五金的, 卖水果: a shop, whatever it sells (a noun after 卖; not 卖个五六万)
                if any((words.get(m.group(1)[:n]) or "").startswith("n") for n in (3, 2)):
                    return str(sells["code"]), None
            return None, self._unknown_business(t)
        # the longest phrase decides the section; inside it, the most specific code all the hits agree on
        start, length, code = max(hits, key=lambda h: (h[1], -h[0]))
        section = ind.node(code).section
        same = [c for _, _, c in hits if ind.node(c).section == section]
        deepest = max(same, key=lambda c: len(ind.ancestors(c)))
        if all(ind.overlaps(c, deepest) for c in same):
            return deepest, None
        # two divisions of one section: only the section is sure
        common = [a for a in ind.ancestors(deepest) if all(ind.inside(c, a) for c in same)]
        return (common[0] if common else section), None

    @staticmethod
    def _unknown_business(t: str) -> str | None:
        """Words that name a business the data does not know: "做直播带货的", "新能源公司", "科技公司"."""
        m = re.search(r"(?:做|搞|干|从事|开)([\u4e00-\u9fffa-z]{2,8}?)(?:的|行业|生意|这块|这行|公司)", t)
        if m and _MASK not in m.group(1):
            return m.group(1)
        words = everyday_words()
        for m in re.finditer(r"([\u4e00-\u9fff]{2,4})(?:公司|企业|行业)", t):
            for n in range(len(m.group(1)) - 1):
                word = m.group(1)[n:]
                if (words.get(word) or "").startswith(("n", "vn")) and words.get(word) not in (
                    "nr",
                    "ns",
                    "nt",
                ):
                    return word
        return None


def _years(word: str) -> tuple[int, int] | None:
    from .numbers import core_range

    got = core_range(word)
    if got is None:
        return None
    return int(got[0]), int(got[1])
