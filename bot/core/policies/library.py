"""Load and validate the 政策库 (knowledge/policies/*.yaml).

Files hold one or more of these top-level keys:
- `policies:` a list of policies (bot/core/policies/models.py);
- `industries:` 国民经济行业分类 sections, divisions and the groups the size rules need;
- `size_classes:` 统计上大中小微型企业划分办法 thresholds per industry group;
- `profile:` the vocabulary of a profile: recognitions (资质) and facts (情况) conditions may name.

Every problem names the file, the policy and the field, e.g. `knowledge/policies/tax.yaml: 政策 rd-super:
字段 conditions.industry.exclude: 未知的行业代码「99」`; loading collects all of them, so one run of
`python -m bot check` shows everything to fix. The library's fingerprint (a hash of the policies as loaded)
tells the push which policies are new or changed since it last looked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from bot.core.problems import field_problems, read_mapping
from bot.core.resources import read_yaml

from .industries import Industries, IndustriesSpec
from .models import Conditions, Policy, Strict
from .sizes import SizeRules, SizesSpec

FOLDER = "policies"


class RecognitionSpec(Strict):
    name: str
    words: list[str] = []  # what people call it: 国高, 高企, 小巨人


class FactSpec(Strict):
    key: str  # the name conditions and profiles use: 研发投入
    label: str  # how a reason says it: 有研发投入
    negative: str  # how a reason says it is not so: 没有研发投入
    question: str  # how the bot asks it
    words: list[str] = []  # phrases that state it in a message
    negated: list[str] = []  # phrases that state it is not so


class PlaceSpec(Strict):
    name: str  # as policies write it: 示例区
    within: str | None = None  # the larger place it belongs to: 示例市
    words: list[str] = []  # other ways to write it: 示例市示例区


class ProfileSpec(Strict):
    recognitions: list[RecognitionSpec] = Field(min_length=1)
    facts: list[FactSpec] = Field(min_length=1)
    places: list[PlaceSpec] = []


@dataclass
class PolicyLibrary:
    """Every policy of the base with the reference data its conditions use."""

    policies: dict[str, Policy] = field(default_factory=dict)
    industries: Industries = field(default_factory=Industries)
    sizes: SizeRules = field(default_factory=SizeRules)
    recognitions: dict[str, RecognitionSpec] = field(default_factory=dict)
    facts: dict[str, FactSpec] = field(default_factory=dict)
    places: dict[str, PlaceSpec] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # policy id -> file

    def __bool__(self) -> bool:
        return bool(self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def get(self, policy_id: str) -> Policy | None:
        return self.policies.get(policy_id)

    def canonical_place(self, text: str) -> str:
        """A place as the library names it (示例市示例区 → 示例区); other places as written."""
        t = text.strip().removeprefix("在")
        for p in self.places.values():
            if t == p.name or t in p.words:
                return p.name
        return t

    def canonical_recognition(self, text: str) -> str | None:
        t = text.strip()
        if t in self.recognitions:
            return t
        for r in self.recognitions.values():
            if t in r.words:
                return r.name
        return None

    def place_within(self, inner: str, outer: str) -> bool:
        """Whether `inner` is `outer` or lies inside it (示例区 is within 示例市)."""
        seen = set()
        while inner and inner not in seen:
            if inner == outer:
                return True
            seen.add(inner)
            spec = self.places.get(inner)
            inner = spec.within if spec is not None else None  # type: ignore[assignment]
        return False

    @staticmethod
    def policy_fingerprint(policy: Policy) -> str:
        """A short hash of everything a person reads or a condition checks: a change to any of it is news
        (not the date it was last checked)."""
        raw = json.dumps(
            policy.model_dump(mode="json", exclude={"updated"}), ensure_ascii=False, sort_keys=True
        )
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]

    def fingerprints(self) -> dict[str, str]:
        return {pid: self.policy_fingerprint(p) for pid, p in sorted(self.policies.items())}

    def fingerprint(self) -> str:
        raw = json.dumps(self.fingerprints(), sort_keys=True)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def _groups(policy: Policy) -> list[Conditions]:
    return [policy.conditions, *policy.any_of]


def load_policy_library(
    root: Path,
    *,
    rel: Callable[[Path], str] = str,
    department_known: Callable[[str], bool] | None = None,
    item_known: Callable[[str], bool] | None = None,
) -> tuple[PolicyLibrary, list[str]]:
    """Read every YAML file under `root` (knowledge/policies/). Returns the library and the problems found;
    the library holds only the entries that were valid."""
    lib = PolicyLibrary()
    problems: list[str] = []
    raw_policies: list[tuple[str, int, Any]] = []
    industries_spec: list[tuple[str, Any]] = []
    sizes_spec: list[tuple[str, Any]] = []
    profile_spec: list[tuple[str, Any]] = []
    for path in sorted(p for p in root.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"}):
        name = rel(path)
        data = read_mapping(path, name, read_yaml, problems, "policies: [...]")
        if data is None:
            continue
        for key, body in data.items():
            if key == "policies":
                if not isinstance(body, list):
                    problems.append(f"{name}: policies 必须是列表")
                    continue
                raw_policies += [(name, i, raw) for i, raw in enumerate(body)]
            elif key == "industries":
                industries_spec.append((name, body))
            elif key == "size_classes":
                sizes_spec.append((name, body))
            elif key == "profile":
                profile_spec.append((name, body))
            elif key != "meta":
                problems.append(
                    f"{name}: 未知的顶层字段「{key}」（政策库文件可含 policies、industries、size_classes、profile、meta）"
                )

    def one(specs: list[tuple[str, Any]], label: str, model: type[Strict]) -> Any:
        if len(specs) > 1:
            problems.append(f"{specs[1][0]}: {label} 重复定义（已在 {specs[0][0]} 中定义）")
        if not specs:
            return None
        name, body = specs[0]
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            problems.extend(f"{name}: {label}: {m}" for m in field_problems(exc))
            return None

    if raw_policies and not industries_spec:
        problems.append(f"{rel(root)}: 缺少 industries（国民经济行业分类），政策的行业条件无从校验")
    ind = one(industries_spec, "industries", IndustriesSpec)
    if ind is not None:
        lib.industries, ind_problems = Industries.from_spec(ind)
        problems += [f"{industries_spec[0][0]}: industries: {p}" for p in ind_problems]
    sizes = one(sizes_spec, "size_classes", SizesSpec)
    if sizes is not None:
        lib.sizes = SizeRules.from_spec(sizes)
        problems += _check_size_codes(lib, sizes_spec[0][0])
    prof = one(profile_spec, "profile", ProfileSpec)
    if prof is not None:
        lib.recognitions = {r.name: r for r in prof.recognitions}
        lib.facts = {f.key: f for f in prof.facts}
        lib.places = {p.name: p for p in prof.places}
        for p in prof.places:
            if p.within is not None and p.within not in lib.places:
                problems.append(f"{profile_spec[0][0]}: profile.places {p.name}: within「{p.within}」未定义")

    for name, i, raw in raw_policies:
        label = (raw.get("id") if isinstance(raw, dict) else None) or f"第 {i + 1} 条"
        if not isinstance(raw, dict):
            problems.append(f"{name}: 政策 {label}: 条目必须是映射")
            continue
        try:
            policy = Policy.model_validate(raw)
        except ValidationError as exc:
            problems.extend(f"{name}: 政策 {label}: {m}" for m in field_problems(exc))
            continue
        if policy.id in lib.policies:
            problems.append(f"{name}: 政策 {policy.id}: id 重复（已在 {lib.origin[policy.id]} 中定义）")
            continue
        found = check_policy(policy, lib, department_known, item_known)
        if found:
            problems.extend(f"{name}: 政策 {policy.id}: 字段 {where}: {m}" for where, m in found)
            continue
        lib.policies[policy.id] = policy
        lib.origin[policy.id] = name
    return lib, problems


def _check_size_codes(lib: PolicyLibrary, name: str) -> list[str]:
    out = []
    for g in lib.sizes.groups:
        for code in (*g.industries, *g.exclude):
            if lib.industries and lib.industries.get(code) is None:
                out.append(f"{name}: size_classes {g.name}: 未知的行业代码「{code}」")
    for code in lib.sizes.not_covered:
        if lib.industries and lib.industries.get(code) is None:
            out.append(f"{name}: size_classes not_covered: 未知的行业代码「{code}」")
    return out


def check_policy(
    policy: Policy,
    lib: PolicyLibrary,
    department_known: Callable[[str], bool] | None = None,
    item_known: Callable[[str], bool] | None = None,
) -> list[tuple[str, str]]:
    """What the model alone cannot check: codes, recognitions and facts against the reference data, the
    department and the 办事指南 entry against the knowledge base. (field path, problem) pairs: the loader names
    the file, the importer the row and the column."""
    out: list[tuple[str, str]] = []
    if department_known is not None and not department_known(policy.department):
        out.append(("department", f"部门「{policy.department}」未在 departments 中定义"))
    if policy.claim.item is not None and item_known is not None and not item_known(policy.claim.item):
        out.append(("claim.item", f"知识库中没有事项「{policy.claim.item}」"))
    groups = [("conditions", policy.conditions)] + [(f"any_of.{n}", c) for n, c in enumerate(policy.any_of)]
    for where, c in groups:
        if c.industry is not None:
            for part in ("include", "exclude"):
                for code in getattr(c.industry, part):
                    if lib.industries.get(code) is None:
                        out.append((f"{where}.industry.{part}", f"未知的行业代码「{code}」"))
        for r in c.recognitions or ():
            if r not in lib.recognitions:
                known = "、".join(lib.recognitions) or "（profile 中未定义任何资质）"
                out.append((f"{where}.recognitions", f"未知的资质「{r}」（可用：{known}）"))
        for p in c.place or ():
            if p not in lib.places:
                known = "、".join(lib.places) or "（profile 中未定义任何地区）"
                out.append((f"{where}.place", f"未知的地区「{p}」（可用：{known}）"))
        for f in c.facts or {}:
            if f not in lib.facts:
                known = "、".join(lib.facts) or "（profile 中未定义任何情况）"
                out.append((f"{where}.facts", f"未知的情况「{f}」（可用：{known}）"))
    return out


def active(policies: Iterable[Policy], today: dt.date) -> list[Policy]:
    """The policies in force on `today` (started, not ended)."""
    return [p for p in policies if p.valid.start <= today and (p.valid.end is None or p.valid.end >= today)]
