"""The 派单目录 and the 属地 places as data: models and the validating loader.

Both live in the knowledge folder as YAML (`dispatch:` in dispatch.yaml, `places:` in places.yaml, any file
name works) and are read straight from the files, so `load_routing_data` can be called again at any time to
pick up an admin's edits (see `Routing.reload`). Every problem is reported with the file, the entry and the
field, all at once, like the rest of the knowledge base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.core.knowledge.loader import KnowledgeError
from bot.core.resources import parse_yaml

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# a top-level key of the 派单目录 or the places, as block YAML writes it (quoted or not)
_MAY_ROUTE = re.compile(r"""(?m)^["']?(?:dispatch|places)["']?\s*:""")


def _words(v: Any) -> list[str]:
    """A list of words; numbers written without quotes (12345) are words too, empty ones are an error."""
    if v is None:
        return []
    if not isinstance(v, list):
        raise ValueError("必须是列表")
    out = []
    for w in v:
        if isinstance(w, bool) or not isinstance(w, str | int):
            raise ValueError(f"「{w}」不是词语")
        s = str(w).strip()
        if not s:
            raise ValueError("不能有空词")
        out.append(s)
    return out


class DispatchEntry(_Strict):
    id: str
    matter: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    category: str = Field(min_length=1)
    local: bool = False
    keywords: list[str] = Field(min_length=1)
    exclusions: list[str] = []
    examples: list[str] = []

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("只能用小写字母、数字和短横线，且以字母或数字开头")
        return v

    @field_validator("keywords", "exclusions", "examples", mode="before")
    @classmethod
    def _list(cls, v: Any) -> list[str]:
        return _words(v)


class Territory(_Strict):
    """One 属地 unit (a 街道办事处 or 乡镇政府) and the places that belong to it."""

    unit: str = Field(min_length=1)
    names: list[str] = []
    communities: list[str] = []
    estates: list[str] = []
    roads: list[str] = []

    @field_validator("names", "communities", "estates", "roads", mode="before")
    @classmethod
    def _list(cls, v: Any) -> list[str]:
        return _words(v)

    def all_places(self) -> list[tuple[str, str]]:
        """(place, kind) for every place of the unit; kind is 街道/乡镇, 社区, 小区 or 道路."""
        return [
            *((n, "街道乡镇") for n in self.names),
            *((n, "社区") for n in self.communities),
            *((n, "小区") for n in self.estates),
            *((n, "道路") for n in self.roads),
        ]


@dataclass
class RoutingData:
    dispatcher: str
    entries: list[DispatchEntry]
    territories: list[Territory]
    files: list[Path] = field(default_factory=list)
    # the files' modification times when read: `changed()` tells whether a reload would read something new
    stamps: dict[Path, float] = field(default_factory=dict)

    def changed(self, root: Path) -> bool:
        return _stamps(root) != self.stamps


def _stamps(root: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in sorted(root.rglob("*.y*ml")) if p.suffix in {".yaml", ".yml"}}


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _fmt(err: ValidationError) -> list[str]:
    return [f"字段 {'.'.join(str(x) for x in e['loc']) or '(条目)'}: {e['msg']}" for e in err.errors()]


def _known_unit(kb: Any, name: str) -> bool:
    finder = getattr(kb, "department", None)
    return finder(name) is not None if finder else True


def entry_problems(entry: DispatchEntry, kb: Any) -> list[tuple[str, str]]:
    """(field, what is wrong) for an entry checked against the knowledge base: its unit must be a department,
    its category an appeal category, and no word both a keyword and an exclusion. The loader and the sheet
    import (sheet.py) say the same."""
    out: list[tuple[str, str]] = []
    if not _known_unit(kb, entry.unit):
        out.append(("unit", f"「{entry.unit}」未在 departments 中定义"))
    categories = set(getattr(kb, "appeal_categories", {}) or {})
    if categories and entry.category not in categories:
        out.append(("category", f"「{entry.category}」不是 appeals 中的诉求类别"))
    overlap = set(entry.keywords) & set(entry.exclusions)
    if overlap:
        out.append(("exclusions", f"「{'、'.join(sorted(overlap))}」同时是关键词"))
    return out


def load_routing_data(root: Path, kb: Any) -> RoutingData:
    """Read and check the 派单目录 and the places under the knowledge folder `root`, against the departments
    and appeal categories of `kb`. Raises KnowledgeError listing every problem."""
    problems: list[str] = []
    dispatcher: str | None = None
    dispatcher_file = ""
    entries: list[DispatchEntry] = []
    origin: dict[str, str] = {}
    territories: list[Territory] = []
    territory_origin: list[str] = []
    files: list[Path] = []
    stamps = _stamps(root)
    for path in stamps:
        try:
            text = path.read_text(encoding="utf-8")
            # most files of a base are items (an imported catalogue is thousands of them): parse only a file
            # with a top-level dispatch or places key, or a flow-style one that a line test cannot read
            if not _MAY_ROUTE.search(text) and not text.lstrip().startswith("{"):
                continue
            data = parse_yaml(text)
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # the knowledge loader reports unreadable files
        if not isinstance(data, dict) or not ({"dispatch", "places"} & set(data)):
            continue
        rel = _rel(path, root)
        files.append(path)
        if "dispatch" in data:
            body = data["dispatch"]
            if not isinstance(body, dict):
                problems.append(f"{rel}: dispatch 必须是映射（dispatcher 和 entries）")
            else:
                for key in set(body) - {"dispatcher", "entries"}:
                    problems.append(f"{rel}: dispatch: 未知字段 {key}")
                if "dispatcher" in body:
                    if dispatcher is not None:
                        problems.append(f"{rel}: dispatch.dispatcher 重复定义（已在 {dispatcher_file} 中）")
                    elif not isinstance(body["dispatcher"], str) or not body["dispatcher"].strip():
                        problems.append(f"{rel}: dispatch.dispatcher 必须是派单员所在单位的名称")
                    else:
                        dispatcher, dispatcher_file = body["dispatcher"].strip(), rel
                raw_entries = body.get("entries", [])
                if not isinstance(raw_entries, list):
                    problems.append(f"{rel}: dispatch.entries 必须是列表")
                    raw_entries = []
                for i, raw in enumerate(raw_entries):
                    label = (raw.get("id") if isinstance(raw, dict) else None) or f"第 {i + 1} 条"
                    if not isinstance(raw, dict):
                        problems.append(f"{rel}: 派单目录 {label}: 条目必须是映射")
                        continue
                    try:
                        entry = DispatchEntry.model_validate(raw)
                    except ValidationError as exc:
                        problems.extend(f"{rel}: 派单目录 {label}: {m}" for m in _fmt(exc))
                        continue
                    if entry.id in origin:
                        problems.append(f"{rel}: 派单目录 {entry.id}: id 重复（已在 {origin[entry.id]} 中）")
                        continue
                    origin[entry.id] = rel
                    entries.append(entry)
        if "places" in data:
            body = data["places"]
            if not isinstance(body, list):
                problems.append(f"{rel}: places 必须是列表")
                continue
            for i, raw in enumerate(body):
                label = (raw.get("unit") if isinstance(raw, dict) else None) or f"第 {i + 1} 条"
                if not isinstance(raw, dict):
                    problems.append(f"{rel}: 属地 {label}: 条目必须是映射")
                    continue
                try:
                    territories.append(Territory.model_validate(raw))
                    territory_origin.append(rel)
                except ValidationError as exc:
                    problems.extend(f"{rel}: 属地 {label}: {m}" for m in _fmt(exc))

    def known_unit(name: str) -> bool:
        return _known_unit(kb, name)

    for e in entries:
        problems.extend(f"{origin[e.id]}: 派单目录 {e.id}: 字段 {f}: {m}" for f, m in entry_problems(e, kb))
    seen_units: dict[str, str] = {}
    for t, rel in zip(territories, territory_origin, strict=True):
        if not known_unit(t.unit):
            problems.append(f"{rel}: 属地 {t.unit}: 字段 unit: 未在 departments 中定义")
        if t.unit in seen_units:
            problems.append(f"{rel}: 属地 {t.unit}: 重复（已在 {seen_units[t.unit]} 中）")
        seen_units[t.unit] = rel
        if not t.all_places():
            problems.append(
                f"{rel}: 属地 {t.unit}: 至少要列出一个地名（names、communities、estates 或 roads）"
            )
    if entries and dispatcher is None:
        problems.append(f"{_rel(files[0], root)}: dispatch.dispatcher: 必须写明派单员所在单位")
    elif dispatcher is not None and not known_unit(dispatcher):
        problems.append(f"{dispatcher_file}: dispatch.dispatcher: 「{dispatcher}」未在 departments 中定义")
    if problems:
        raise KnowledgeError(problems)
    return RoutingData(dispatcher or "", entries, territories, files, stamps)
