"""Load and validate the knowledge base from YAML.

Every problem is reported with the file, the entry and what is wrong; loading collects all of them so that
one run of `python -m bot check` shows everything to fix.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.core.policies.library import FOLDER as POLICY_FOLDER
from bot.core.policies.library import PolicyLibrary, load_policy_library
from bot.core.resources import data_dir, parse_yaml

from .boundaries import Boundaries, load_boundaries
from .models import (
    AppealCategory,
    Bundle,
    Department,
    Entry,
    Exemption,
    Faq,
    Hotline,
    ImportedItem,
    Item,
    ServiceCentre,
)

# libyaml's loader when PyYAML has it: a county's imported catalogue is thousands of entries, and the pure
# Python loader takes seconds over them (reloading a 5,000-item base must stay well under two)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Parsed YAML by the file's content: PyYAML builds its objects in Python even with libyaml, and that was most of
# the time of loading a base of 5,000 imported items. A reload (/reload, SIGHUP, after /teach) re-parses only the
# files whose content changed; the rest come back from a pickle, a fresh copy each time (nothing is shared with
# a base already serving).
_PARSED: OrderedDict[bytes, bytes] = OrderedDict()
_PARSED_FILES = 64
_PARSED_LOCK = threading.Lock()


def remember_yaml(text: str, data: Any) -> None:
    """Record that `text`, once written as UTF-8, parses to `data` (the writer of the text guarantees it): the
    validation that loads a freshly written file then does not parse it again."""
    packed = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    with _PARSED_LOCK:
        _PARSED[hashlib.sha256(text.encode("utf-8")).digest()] = packed
        while len(_PARSED) > _PARSED_FILES:
            _PARSED.popitem(last=False)


def read_knowledge_yaml(path: Path) -> Any:
    """The data of a YAML file (UTF-8), remembered by content; raises yaml.YAMLError and UnicodeDecodeError as
    resources.read_yaml would."""
    raw = path.read_bytes()
    key = hashlib.sha256(raw).digest()
    with _PARSED_LOCK:
        hit = _PARSED.get(key)
        if hit is not None:
            _PARSED.move_to_end(key)
    if hit is not None:
        return pickle.loads(hit)  # noqa: S301 - our own pickle of data we parsed, never read from outside
    data = parse_yaml(raw.decode("utf-8").replace("\r\n", "\n"))  # the text as read_text would give it
    packed = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    with _PARSED_LOCK:
        _PARSED[key] = packed
        while len(_PARSED) > _PARSED_FILES:
            _PARSED.popitem(last=False)
    return data


class KnowledgeError(Exception):
    """Raised when the knowledge base is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("知识库校验未通过：\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass
class KnowledgeBase:
    root: Path
    meta: dict[str, Any] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    exemptions: dict[str, Exemption] = field(default_factory=dict)
    # reviewed FAQ entries of the learned overlay (bot/core/knowledge/overlay.py), never from the files
    faqs: dict[str, Faq] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    appeal_categories: dict[str, AppealCategory] = field(default_factory=dict)
    service_centre: ServiceCentre | None = None
    hotlines: dict[str, Hotline] = field(default_factory=dict)  # name -> number, in file order
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    abbreviations: dict[str, str] = field(default_factory=dict)
    confusables: dict[str, str] = field(default_factory=dict)
    # Chinese term -> the English words or multi-word pinyin people type for it ("business license")
    latin: dict[str, list[str]] = field(default_factory=dict)
    # English words that name nothing ("i", "my", "how"), dropped before matching
    latin_stopwords: list[str] = field(default_factory=list)
    # raw YAML of files owned by other parts of the core (e.g. sla.yaml), keyed by file stem
    extra: dict[str, Any] = field(default_factory=dict)
    # the 街道/乡镇 of the district (boundaries/*.geojson): a map pin's 属地 unit, `boundaries.unit_at(lat, lon)`
    boundaries: Boundaries = field(default_factory=Boundaries)
    # the 政策库 of knowledge/policies/ (惠企政策), empty when the base has none
    policies: PolicyLibrary = field(default_factory=PolicyLibrary)
    # entry id -> the file (relative to the base's parent) that defines it
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def entries(self) -> dict[str, Entry]:
        return {**self.items, **self.bundles, **self.exemptions, **self.faqs}

    def get(self, entry_id: str) -> Entry | None:
        return (
            self.items.get(entry_id)
            or self.bundles.get(entry_id)
            or self.exemptions.get(entry_id)
            or self.faqs.get(entry_id)
        )

    def entry(self, entry_id: str) -> Entry:
        """The entry of an id taken from this base (an index, a candidate); KeyError if there is none."""
        got = self.get(entry_id)
        if got is None:
            raise KeyError(entry_id)
        return got

    def exemptions_for(self, item_id: str) -> list[Exemption]:
        return [e for e in self.exemptions.values() if item_id in e.items]

    def department(self, name: str) -> Department | None:
        if name in self.departments:
            return self.departments[name]
        for d in self.departments.values():
            if name in d.aliases:
                return d
        return None


_SECTIONS: dict[str, type[BaseModel]] = {
    "items": Item,
    "bundles": Bundle,
    "exemptions": Exemption,
    "departments": Department,
    "appeal_categories": AppealCategory,
    "hotlines": Hotline,
}
_TARGET = {
    "hotlines": "hotlines",
    "items": "items",
    "bundles": "bundles",
    "exemptions": "exemptions",
    "departments": "departments",
    "appeal_categories": "appeal_categories",
}
_MAPPINGS = {"synonyms", "abbreviations", "confusables", "latin"}


def _fmt_validation(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(条目)"
        out.append(f"字段 {loc}: {e['msg']}")
    return out


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def load_knowledge(root: Path | str | None = None, *, cross_check: bool = True) -> KnowledgeBase:
    root = Path(root) if root else data_dir("knowledge")
    if not root.is_dir():
        raise KnowledgeError([f"{root}: 知识库目录不存在"])
    kb = KnowledgeBase(root=root)
    problems: list[str] = []
    origin: dict[str, str] = {}  # entry key -> file, for duplicate reports

    files = sorted(p for p in root.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"})
    # knowledge/policies/ is the 政策库, read by its own loader below
    files = [p for p in files if p.relative_to(root).parts[0] != POLICY_FOLDER]
    if not files:
        problems.append(f"{root}: 没有找到任何 YAML 知识文件")
    for path in files:
        rel = _rel(path, root)
        try:
            data = read_knowledge_yaml(path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
            problems.append(f"{rel}: YAML 格式错误 {where}: {getattr(exc, 'problem', exc)}")
            continue
        except UnicodeDecodeError:
            problems.append(f"{rel}: 文件不是 UTF-8 编码")
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{rel}: 顶层必须是映射（如 items: [...]），实际是 {type(data).__name__}")
            continue
        for section, body in data.items():
            if section == "meta":
                if not isinstance(body, dict):
                    problems.append(f"{rel}: meta 必须是映射")
                else:
                    kb.meta.update(body)
                continue
            if section == "latin_stopwords":
                if not isinstance(body, list) or not all(isinstance(w, str) and w.strip() for w in body):
                    problems.append(f"{rel}: latin_stopwords 必须是非空字符串的列表")
                else:
                    kb.latin_stopwords.extend(w.strip().lower() for w in body)
                continue
            if section == "service_centre":
                if not isinstance(body, dict):
                    problems.append(f"{rel}: service_centre 必须是映射")
                    continue
                if kb.service_centre is not None:
                    problems.append(f"{rel}: service_centre 重复定义")
                    continue
                try:
                    kb.service_centre = ServiceCentre.model_validate(body)
                except ValidationError as exc:
                    problems.extend(f"{rel}: service_centre: {m}" for m in _fmt_validation(exc))
                continue
            if section in _MAPPINGS:
                if not isinstance(body, dict):
                    problems.append(f"{rel}: {section} 必须是映射")
                    continue
                target = getattr(kb, section)
                for k, v in body.items():
                    if section in ("synonyms", "latin"):
                        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                            problems.append(f"{rel}: synonyms.{k}: 必须是字符串列表")
                            continue
                        target.setdefault(str(k), []).extend(v)
                    else:
                        if not isinstance(v, str):
                            problems.append(f"{rel}: {section}.{k}: 必须是字符串")
                            continue
                        target[str(k)] = v
                continue
            model = _SECTIONS.get(section)
            if model is None:
                kb.extra.setdefault(section, body)
                continue
            if not isinstance(body, list):
                problems.append(f"{rel}: {section} 必须是列表")
                continue
            store: dict[str, Any] = getattr(kb, _TARGET[section])
            for i, raw in enumerate(body):
                label = raw.get("id") or raw.get("name") if isinstance(raw, dict) else None
                label = label or f"第 {i + 1} 条"
                if not isinstance(raw, dict):
                    problems.append(f"{rel}: {section} {label}: 条目必须是映射")
                    continue
                try:
                    # an item imported from a 办事指南 sheet may lack facts the sheet did not have
                    kind = ImportedItem if model is Item and "imported" in raw else model
                    obj = kind.model_validate(raw)
                except ValidationError as exc:
                    problems.extend(f"{rel}: 条目 {label}: {m}" for m in _fmt_validation(exc))
                    continue
                key = getattr(obj, "id", None) or obj.name  # type: ignore[attr-defined]
                if section in {"items", "bundles", "exemptions"} and key in origin:
                    problems.append(f"{rel}: 条目 {key}: id 重复（已在 {origin[key]} 中定义）")
                    continue
                if key in store:
                    problems.append(f"{rel}: {section} {key}: 名称重复")
                    continue
                origin[key] = rel
                store[key] = obj

    kb.origins = origin
    kb.boundaries, found = load_boundaries(root)
    problems.extend(found)
    if cross_check:
        problems.extend(_cross_check(kb, origin))
    if (root / POLICY_FOLDER).is_dir():
        kb.policies, found = load_policy_library(
            root / POLICY_FOLDER,
            rel=lambda p: _rel(p, root),
            department_known=(lambda d: kb.department(d) is not None) if kb.departments else None,
            item_known=lambda i: kb.get(i) is not None,
        )
        problems.extend(found)
    if problems:
        raise KnowledgeError(problems)
    return kb


def _cross_check(kb: KnowledgeBase, origin: dict[str, str]) -> list[str]:
    problems: list[str] = []
    entries = kb.entries
    have_departments = bool(kb.departments)

    def p(entry_id: str, msg: str) -> None:
        problems.append(f"{origin.get(entry_id, '?')}: 条目 {entry_id}: {msg}")

    for e in entries.values():
        if have_departments and kb.department(e.department) is None:
            p(e.id, f"department「{e.department}」未在 departments 中定义")
    for e in [*kb.items.values(), *kb.bundles.values()]:
        for m in e.materials:
            if m.exempted_by is None:
                continue
            ex = kb.exemptions.get(m.exempted_by)
            if ex is None:
                p(e.id, f"材料「{m.name}」的 exempted_by 引用了不存在的免证明条目 {m.exempted_by}")
            elif e.id not in ex.items and e.kind == "item":
                p(e.id, f"材料「{m.name}」标注由 {ex.id} 免除，但 {ex.id}.items 未列出本事项")
    for b in kb.bundles.values():
        for ref in b.items:
            if ref not in kb.items:
                p(b.id, f"items 引用了不存在的事项 {ref}")
        for m in b.materials:
            for ref in m.for_items:
                if ref not in b.items:
                    p(b.id, f"材料「{m.name}」的 for_items 中 {ref} 不属于本一件事")
    for ex in kb.exemptions.values():
        for ref in ex.items:
            target = kb.items.get(ref) or kb.bundles.get(ref)
            if target is None:
                p(ex.id, f"items 引用了不存在的事项 {ref}")
            elif not any(m.exempted_by == ex.id for m in target.materials):
                p(ex.id, f"适用事项 {ref} 的材料清单中没有标注 exempted_by: {ex.id} 的材料")
    for u in kb.boundaries.units:
        if u.department and have_departments and kb.department(u.department) is None:
            problems.append(f"{u.source}: 区域 {u.name}: department「{u.department}」未在 departments 中定义")
    for c in kb.appeal_categories.values():
        if have_departments and kb.department(c.department) is None:
            problems.append(
                f"appeal_categories {c.name}: department「{c.department}」未在 departments 中定义"
            )
    return problems
