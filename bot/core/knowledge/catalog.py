"""Import a centre's own 办事指南 sheet into a knowledge base, export a base to a workbook, and write an empty
template: so a centre can keep its catalogue in Excel and round-trip it.

`plan_import` reads the sheet, turns every row into an item (sheets.py reads the cells) and compares the result
with what the base holds; `apply_import` writes it. The imported items of one sheet live in one file,
`DIR/imported/<sheet name>.yaml`, next to the base's own files, which are never touched:
  - an item's id is its 事项编码, normalised into a valid id, or else a stable slug of its name and department;
  - re-importing updates the items the sheet controls (the columns it has) and keeps what was added by hand:
    aliases and keywords are merged, fields the sheet has no column for are kept, and an item whose facts did
    not change keeps its `updated` date — importing the same sheet twice changes nothing;
  - departments the base does not know are added to the same file (their facts are not in the sheet);
  - nothing is half-written: the new base is written into a temporary copy, validated whole, and only then
    swapped in (one file replaced, or for a new base one directory renamed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import ValidationError
from pypinyin import lazy_pinyin

from bot.core.resources import data_dir

from . import sheets
from .loader import YAML_LOADER, KnowledgeBase, KnowledgeError, load_knowledge, remember_yaml
from .models import ImportedItem, Item
from .sheets import HEADER, CellError, Row, Sheet
from .yaml_out import dump_block

Progress = Callable[[str, int, int], None]  # (phase, done, total)
IMPORTED = "imported"  # the folder of a base that holds imported sheets
# files of the shipped base a new base starts from (the example's items, 一件事 and 免证明 are left out)
FRAME_SKIP = ("items", "bundles.yaml", "exemptions.yaml")
ID_MAX = 40  # button data carries an id (64 bytes in all): long codes are shortened with a hash
YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# which item keys each column controls (a column the sheet lacks leaves those keys as they were)
_CONTROLS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "department": ("department",),
    "audience": ("audience",),
    "summary": ("summary",),
    "conditions": ("conditions",),
    "materials": ("materials",),
    "legal_limit": ("time_limit",),
    "promised_limit": ("time_limit",),
    "charged": ("fee",),
    "fee": ("fee",),
    "fee_basis": ("fee",),
    "place": ("locations",),
    "hours": ("locations",),
    "phone": ("phone",),
    "online": ("online",),
    "channel": ("online",),
    "url": ("online",),
    "guide_url": ("guide_url",),
    "process": ("process",),
    "visits": ("visits",),
    "commitment": ("commitment",),
    "tolerance": ("tolerance",),
    "legal_basis": ("legal_basis",),
}
# a model field -> the column to blame when the model refuses it
_BLAME = {
    "fee": ("fee", "charged"),
    "time_limit": ("promised_limit", "legal_limit"),
    "materials": ("materials",),
    "audience": ("audience",),
    "locations": ("place",),
    "online": ("url", "online"),
    "visits": ("visits",),
    "name": ("name",),
    "department": ("department",),
}
_ORDER = (
    "id name department audience aliases keywords summary conditions materials time_limit fee locations "
    "online process visits commitment tolerance phone guide_url legal_basis imported source updated"
).split()


@dataclass
class Change:
    id: str
    name: str
    fields: list[str] = field(default_factory=list)  # what changed (updates only)


@dataclass
class ImportPlan:
    source: Path
    into: Path
    file: Path  # the file of this sheet's items inside the base
    new_base: bool  # DIR does not hold a base yet: it is created from the shipped frame
    rows: int = 0
    recognised: dict[str, str] = field(default_factory=dict)  # field -> header
    unknown_columns: list[str] = field(default_factory=list)
    added: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: int = 0
    not_in_sheet: list[Change] = field(default_factory=list)  # kept (or removed with prune)
    pruned: bool = False
    new_departments: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    text: str = ""  # the new content of `file`

    @property
    def changes(self) -> bool:
        return bool(self.added or self.updated or self.new_departments or (self.pruned and self.not_in_sheet))


# -- ids -------------------------------------------------------------------------------------------------
def item_id(code: str, name: str, department: str) -> str:
    """The id of an imported item: its 事项编码 made into a valid id (lower case, runs of anything else than
    letters and digits as one dash; shortened with a hash when longer than ID_MAX), or, without a code, the
    initials of its name in pinyin and a hash of its department and name — stable across imports."""
    c = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKC", code).lower()).strip("-")
    if c:
        if len(c) > ID_MAX:
            c = c[: ID_MAX - 9].rstrip("-") + "-" + hashlib.sha1(code.encode()).hexdigest()[:8]
        return c
    initials = "".join(p[0] for p in lazy_pinyin(name) if p and p[0].isascii() and p[0].isalpha())
    digest = hashlib.sha1(f"{department}|{name}".encode()).hexdigest()[:6]
    return f"{initials.lower()[:16] or 'item'}-{digest}"


def sheet_stem(source: Path) -> str:
    """The file name an imported sheet gets in the base (its own name, made safe)."""
    stem = re.sub(r"[^\w.-]+", "-", unicodedata.normalize("NFKC", source.stem)).strip("-.")
    return stem or "catalogue"


# -- rows -> items ---------------------------------------------------------------------------------------
def row_item(
    row: Row, cols: dict[str, str], sheet: Sheet, unknown: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """The item of one row (as the YAML file holds it, without `updated` unless the sheet has it), and the
    errors of its cells, each naming the row and the column."""
    errors: list[str] = []
    item: dict[str, Any] = {}

    def cell(f: str) -> str:
        h = cols.get(f)
        return row.cells.get(h, "") if h else ""

    def fail(f: str, msg: str) -> None:
        errors.append(f"第 {row.number} 行「{cols.get(f) or HEADER[f]}」：{msg}")

    def read(f: str, parse: Callable[[str], Any]) -> Any:
        text = cell(f)
        if sheets.is_empty(text):
            return None
        try:
            return parse(text)
        except CellError as exc:
            fail(f, str(exc))
            return None

    name, department = cell("name"), cell("department")
    if not name:
        fail("name", "事项名称为空（每行都要有事项名称）")
    if not department:
        fail("department", "实施部门为空（每个事项都要写明实施主体或实施部门）")
    code = cell("code")
    item["id"] = item_id(code, name, department)
    item["name"] = name
    item["department"] = department
    if (aud := read("audience", sheets.audience)) is not None:
        item["audience"] = aud
    if aliases := sheets.words(cell("aliases")):
        item["aliases"] = aliases
    if keywords := sheets.words(cell("keywords")):
        item["keywords"] = keywords
    if (summary := cell("summary")) and not sheets.is_empty(summary):
        item["summary"] = summary
    for f in ("conditions", "process", "legal_basis"):
        if got := read(f, sheets.lines):
            item[f] = got
    materials = _materials(row, cols, sheet, code or name, fail)
    if materials:
        item["materials"] = materials
    limit = _time_limit(read("legal_limit", sheets.time_limit), read("promised_limit", sheets.time_limit))
    if limit:
        item["time_limit"] = limit
    fee = _fee(cell("charged"), cell("fee"), cell("fee_basis"), cols, fail)
    if fee is not None:
        item["fee"] = fee
    places = sheets.lines(cell("place")) if not sheets.is_empty(cell("place")) else []
    if places:
        hours = cell("hours")
        item["locations"] = [
            {"name": p, **({"hours": hours} if hours and not sheets.is_empty(hours) and i == 0 else {})}
            for i, p in enumerate(places)
        ]
    online = _online(cell("online"), cell("channel"), cell("url"), fail)
    if online is not None:
        item["online"] = online
    if (v := read("visits", sheets.visits)) is not None:
        item["visits"] = v
    for f in ("commitment", "tolerance"):
        if (yn := read(f, sheets.yes_no)) is not None:
            item[f] = yn
    if (phone := cell("phone")) and not sheets.is_empty(phone):
        item["phone"] = phone
    if (guide := cell("guide_url")) and not sheets.is_empty(guide):
        item["guide_url"] = guide
    provenance: dict[str, Any] = {"file": sheet.name}
    for f in ("code", "family", "item_type"):
        if (v := cell(f)) and not sheets.is_empty(v):
            provenance[f] = v
    extra = {h: row.cells[h] for h in unknown if row.cells.get(h)}
    if extra:
        provenance["extra"] = extra
    item["imported"] = provenance
    item["source"] = f"本地办事指南（{sheet.name}）"
    if (when := read("updated", sheets.date)) is not None:
        item["updated"] = when
    if not errors:
        errors += _validate(item, row, cols)
    return item, errors


def _materials(
    row: Row, cols: dict[str, str], sheet: Sheet, key: str, fail: Callable[[str, str], None]
) -> list:
    out: list[dict[str, Any]] = []
    text = row.cells.get(cols["materials"], "") if "materials" in cols else ""
    if text and not sheets.is_empty(text):
        for line in sheets.lines(text):
            try:
                out.append(_drop_none(sheets.material(line)))
            except CellError as exc:
                fail("materials", str(exc))
    lookup = key if sheet.materials_key == "code" else row.cells.get(cols.get("name", ""), "")
    for m in sheet.materials.get(lookup, []):
        try:
            out.append(_drop_none(sheets.material_row(m)))
        except CellError as exc:
            fail("materials", f"{m['_row']}：{exc}")
    return out


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    # form and copies stay absent (None) when the sheet does not say them; "None" is what the model defaults
    # to for an imported material only when written out, so write it
    return {k: v for k, v in d.items() if v is not None or k in ("form", "copies")}


def _time_limit(legal: tuple | None, promised: tuple | None) -> dict[str, Any] | None:
    if legal is None and promised is None:
        return None
    out: dict[str, Any] = {"legal": None, "promised": None}
    notes = []
    if legal is not None:
        out["legal"], out["legal_unit"] = legal[0], legal[1]
        notes.append(legal[2])
    if promised is not None:
        out["promised"], out["promised_unit"] = promised[0], promised[1]
        notes.append(promised[2])
    note = "；".join(n for n in notes if n)
    if note:
        out["note"] = note
    return out


def _fee(
    charged: str, text: str, basis: str, cols: dict[str, str], fail: Callable[[str, str], None]
) -> dict | None:
    try:
        yn = None if sheets.is_empty(charged) and charged.strip() != "无" else sheets.yes_no(charged)
    except CellError as exc:
        fail("charged", str(exc))
        return None
    text = "" if sheets.is_empty(text) and text.strip() != "无" else text
    bare = unicodedata.normalize("NFKC", text).strip() in ("不收费", "免费", "无", "0", "0元", "否")
    out: dict[str, Any]
    if yn is True:
        if not text or sheets.free_words(text):
            fail("fee" if "fee" in cols else "charged", "是否收费为“是”，但没有写明收费标准")
            return None
        out = {"free": False, "amount": text}
    elif yn is False:
        out = {"free": True, **({"note": text} if text and not bare else {})}
    elif not text:
        return None
    elif sheets.free_words(text):
        out = {"free": True, **({"note": text} if not bare else {})}
    else:
        out = {"free": False, "amount": text}
    if basis and not sheets.is_empty(basis):
        out["basis"] = basis
    return out


def _online(flag: str, channel: str, url: str, fail: Callable[[str, str], None]) -> dict | None:
    channel = "" if sheets.is_empty(channel) else channel
    url = "" if sheets.is_empty(url) else url
    fully = "全程" in flag
    available: bool | None
    try:
        available = True if fully else sheets.yes_no(flag) if flag.strip() else None
    except CellError as exc:
        fail("online", str(exc))
        return None
    if available is None:
        if not (channel or url):
            return None
        available = True
    out: dict[str, Any] = {"available": available}
    if channel:
        out["channel"] = channel
    if url:
        out["url"] = url
    if fully:
        out["fully_online"] = True
    return out


def _validate(item: dict[str, Any], row: Row, cols: dict[str, str]) -> list[str]:
    probe = {**item, "updated": item.get("updated", dt.date(2000, 1, 1))}
    try:
        ImportedItem.model_validate(probe)
    except ValidationError as exc:
        out = []
        for e in exc.errors():
            top = str(e["loc"][0]) if e["loc"] else ""
            blame = next((cols[f] for f in _BLAME.get(top, ()) if f in cols), None)
            where = f"「{blame}」" if blame else f"字段 {'.'.join(str(x) for x in e['loc'])}"
            out.append(f"第 {row.number} 行{where}：{e['msg']}")
        return out
    return []


# -- the plan --------------------------------------------------------------------------------------------
def plan_import(
    source: Path,
    into: Path,
    *,
    today: dt.date,
    prune: bool = False,
    progress: Progress | None = None,
) -> ImportPlan:
    """What importing `source` into the base at `into` would do (nothing is written)."""
    into = Path(into)
    new_base = not into.exists() or not any(into.rglob("*.y*ml"))
    file = into / IMPORTED / f"{sheet_stem(source)}.yaml"
    plan = ImportPlan(source=source, into=into, file=file, new_base=new_base, pruned=prune)
    try:
        sheet = sheets.read_sheet(source, progress)
    except CellError as exc:
        plan.errors.append(str(exc))
        return plan
    cols, unknown = sheets.recognise(sheet.headers)
    plan.recognised, plan.unknown_columns, plan.rows = cols, unknown, len(sheet.rows)
    if "name" not in cols:
        plan.errors.append("表头中没有“事项名称”列")
    if "department" not in cols:
        plan.errors.append("表头中没有实施部门列（实施主体、实施部门、实施机构或办理部门）")
    if plan.errors:
        return plan

    base = _current_base(into, new_base, plan)
    if plan.errors:
        return plan
    existing_items, existing_departments = _read_file(file) if file.exists() else ({}, [])
    here = _rel(file, into)

    incoming: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    total = len(sheet.rows)
    for n, row in enumerate(sheet.rows, start=1):
        item, errors = row_item(row, cols, sheet, unknown)
        plan.errors += errors
        if progress is not None and (n % 250 == 0 or n == total):
            progress("校验", n, total)
        if errors:
            continue
        iid = item["id"]
        if iid in incoming:
            plan.errors.append(
                f"第 {row.number} 行「{cols.get('code') or cols['name']}」：与第 {first_row[iid]} 行是同一事项"
                f"（id {iid}），同一事项只能出现一次"
            )
            continue
        elsewhere = base.origins.get(iid) if base is not None else None
        if elsewhere is not None and elsewhere != here:
            plan.errors.append(
                f"第 {row.number} 行「{cols.get('code') or cols['name']}」：id {iid} 已在 {elsewhere} 中定义，"
                "不能再由这张表导入"
            )
            continue
        incoming[iid], first_row[iid] = item, row.number
    if plan.errors:
        return plan

    controlled = {k for f in cols for k in _CONTROLS.get(f, ())}
    if sheet.materials:
        controlled.add("materials")
    merged = reconcile(
        incoming,
        existing_items,
        lambda old, new: _merge(old, new, controlled, today),
        plan,
        today=today,
        prune=prune,
    )

    departments = list(existing_departments)
    known = {d["name"] for d in departments}
    for item in merged.values():
        name = item["department"]
        if name in known or (base is not None and base.department(name) is not None):
            continue
        known.add(name)
        departments.append({"name": name, "imported": True})
        plan.new_departments.append(name)
    plan.text = _dump(
        source, departments, [_ordered(merged[i]) for i in sheet_order(merged, existing_items, incoming)]
    )
    return plan


def _current_base(into: Path, new_base: bool, plan: ImportPlan) -> KnowledgeBase | None:
    try:
        if new_base:
            # a new base starts from the shipped frame: its departments are known, none of its items is there
            kb = load_knowledge(data_dir("knowledge"))
            kb.origins = {}
            return kb
        return load_knowledge(into)
    except KnowledgeError as exc:
        plan.errors.append(f"知识库 {into} 本身校验未通过，请先修复再导入：")
        plan.errors += exc.problems
        return None


def _frame_copy(dst: Path) -> Path:
    src = data_dir("knowledge")
    shutil.copytree(
        src, dst, ignore=lambda d, names: [n for n in names if Path(d) == src and n in FRAME_SKIP]
    )
    return dst


def _rel(path: Path, into: Path) -> str:
    # KnowledgeBase.origins are relative to the base's parent (as the loader reports files)
    return str(Path(into.name) / path.relative_to(into))


def _read_file(path: Path) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}  # noqa: S506 - a safe loader
    items = {d["id"]: d for d in data.get("items") or [] if isinstance(d, dict) and "id" in d}
    return items, [d for d in data.get("departments") or [] if isinstance(d, dict)]


def _merge(
    old: dict[str, Any], new: dict[str, Any], controlled: set[str], today: dt.date
) -> tuple[dict, list[str]]:
    """The item after re-import, and the fields that changed. Columns the sheet has replace what was there;
    the rest (and every hand-added alias and keyword) stays."""
    out = dict(old)
    for key in controlled | {"name", "department", "imported", "source"}:
        if key in new:
            out[key] = new[key]
        else:
            out.pop(key, None)
    for key in ("aliases", "keywords"):
        merged = list(dict.fromkeys([*(old.get(key) or []), *(new.get(key) or [])]))
        if merged:
            out[key] = merged
    changed = [k for k in _ORDER if k != "updated" and _norm(out.get(k)) != _norm(old.get(k))]
    if "updated" in new:
        out["updated"] = new["updated"]
    elif changed:
        out["updated"] = today
    if _norm(out.get("updated")) != _norm(old.get("updated")):
        changed.append("updated")
    return out, changed


def _norm(v: Any) -> Any:
    return str(v) if isinstance(v, dt.date) else v


class Reconciled(Protocol):
    """What an import plan counts of a re-import (ImportPlan, the 政策清单's PolicyImportPlan)."""

    added: list[Change]
    updated: list[Change]
    unchanged: int
    not_in_sheet: list[Change]


def reconcile(
    incoming: dict[str, dict[str, Any]],
    existing: dict[str, dict[str, Any]],
    merge: Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], list[str]]],
    plan: Reconciled,
    *,
    today: dt.date,
    prune: bool,
) -> dict[str, dict[str, Any]]:
    """The records after re-importing a sheet, by id: a new one as the sheet has it (dated today unless it says),
    one already there `merge`d with its row; one not in the sheet kept unless `prune`. Counted on `plan`."""
    merged: dict[str, dict[str, Any]] = {}
    for rid, new in incoming.items():
        old = existing.get(rid)
        if old is None:
            merged[rid] = {**new, "updated": new.get("updated", today)}
            plan.added.append(Change(rid, new["name"]))
            continue
        record, changed = merge(old, new)
        merged[rid] = record
        if changed:
            plan.updated.append(Change(rid, new["name"], changed))
        else:
            plan.unchanged += 1
    for rid, old in existing.items():
        if rid not in incoming:
            plan.not_in_sheet.append(Change(rid, old.get("name", rid)))
            if not prune:
                merged[rid] = old
    return merged


def sheet_order(merged: dict, existing: dict, incoming: dict) -> list[str]:
    """Records in sheet order; those kept from before but not in the sheet after them, in their old order."""
    return [
        *(i for i in incoming if i in merged),
        *(i for i in existing if i in merged and i not in incoming),
    ]


def _ordered(item: dict[str, Any]) -> dict[str, Any]:
    rank = {k: n for n, k in enumerate(_ORDER)}
    return dict(sorted(item.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def _dump(source: Path, departments: list[dict], items: list[dict]) -> str:
    head = (
        f"# 从《{source.name}》导入的办事指南（python -m bot kb import）。\n"
        "# 重新导入同一张表会更新这里的事项：表中有的列以表为准，手工添加的 aliases、keywords 和表中没有的字段会保留。\n"
    )
    body: dict[str, Any] = {}
    if departments:
        body["departments"] = departments
    body["items"] = items
    text = dump_block(body)  # the same YAML as yaml.dump, several times faster
    if text is None:
        return head + yaml.dump(body, Dumper=YAML_DUMPER, allow_unicode=True, sort_keys=False, width=1000)
    # dump_block writes only what loads back exactly as `body`: validating the written base need not parse it
    remember_yaml(head + text, body)
    return head + text


# -- writing ---------------------------------------------------------------------------------------------
def apply_import(plan: ImportPlan, *, write: bool = True) -> KnowledgeBase:
    """Write the plan's file into a temporary copy of the base, validate the whole base there, and (with
    `write`) swap it in. Raises KnowledgeError, leaving the base as it was, when the result does not validate.
    Returns the new base as loaded."""
    if plan.errors:
        raise KnowledgeError(plan.errors)
    into = plan.into
    into.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name}.import-", dir=into.parent))
    try:
        work = tmp / into.name
        if plan.new_base:
            _frame_copy(work)
        else:
            shutil.copytree(into, work, symlinks=True)
        target = work / plan.file.relative_to(into)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(plan.text, encoding="utf-8")
        kb = load_knowledge(work)
        if not write:
            return kb
        if plan.new_base:
            if into.exists():
                into.rmdir()  # empty (a base with files is never "new")
            os.rename(work, into)
        else:
            plan.file.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, plan.file)  # one file, replaced atomically
        kb.root = into
        return kb
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- export and template ---------------------------------------------------------------------------------
EXPORT_FIELDS = (
    "code name family department item_type audience summary aliases keywords conditions materials legal_limit "
    "promised_limit charged fee fee_basis place hours phone online channel url guide_url process visits "
    "commitment tolerance legal_basis updated"
).split()


def item_row(item: Item) -> dict[str, Any]:
    """The cells of one item, by field (what `row_item` reads back to the same item)."""
    prov = getattr(item, "imported", None)
    t, fee, online = item.time_limit, item.fee, item.online
    first = item.locations[0] if item.locations else None
    out: dict[str, Any] = {
        "code": (prov.code if prov else "") or (item.id if prov is None else ""),
        "name": item.name,
        "family": prov.family if prov else "",
        "department": item.department,
        "item_type": prov.item_type if prov else "",
        "audience": {"个人": "自然人", "法人": "法人", "个人/法人": "自然人、法人"}.get(
            item.audience or "", ""
        ),
        "summary": item.summary,
        "aliases": "、".join(item.aliases),
        "keywords": "、".join(item.keywords),
        "conditions": "\n".join(item.conditions),
        "materials": "\n".join(sheets.material_text(m) for m in item.materials),
        "legal_limit": _limit_cell(t.legal, t.legal_unit, t.note if t and t.promised is None else "")
        if t
        else "",
        "promised_limit": _limit_cell(t.promised, t.promised_unit, t.note if t.promised is not None else "")
        if t
        else "",
        "charged": "" if fee is None else ("否" if fee.free else "是"),
        "fee": "" if fee is None else (fee.note if fee.free else fee.amount),
        "fee_basis": fee.basis if fee else "",
        "place": "\n".join(loc.name for loc in item.locations),
        "hours": first.hours if first else "",
        "phone": getattr(item, "phone", "") or (first.phone if first else ""),
        "online": ""
        if online is None
        else ("全程网办" if online.fully_online else "是" if online.available else "否"),
        "channel": online.channel if online else "",
        "url": online.url if online else "",
        "guide_url": getattr(item, "guide_url", ""),
        "process": "\n".join(item.process),
        "visits": "" if item.visits is None else item.visits,
        "commitment": "是" if item.commitment else ("否" if prov is None else ""),
        "tolerance": "是" if item.tolerance else ("否" if prov is None else ""),
        "legal_basis": "\n".join(item.legal_basis),
        "updated": item.updated,
    }
    if prov is not None:
        # what the sheet said, not what the model defaults to: an imported item without those columns
        # gets none back
        out["commitment"] = (
            "是" if item.commitment else ("否" if "commitment" in item.model_fields_set else "")
        )
        out["tolerance"] = "是" if item.tolerance else ("否" if "tolerance" in item.model_fields_set else "")
    return out


def _limit_cell(days: int | None, unit: str, note: str) -> str:
    text = sheets.limit_text(days, unit)
    return f"{text}（{note}）" if text and note else text


def export_base(kb: KnowledgeBase, path: Path) -> int:
    """Write every item of the base (hand-written and imported; 一件事 and 免证明 are not items of a sheet)
    into a workbook with the template's columns and any extra columns the imported sheets had. Returns the
    number of rows."""
    from openpyxl import Workbook

    items = list(kb.items.values())
    extras: list[str] = []
    for it in items:
        prov = getattr(it, "imported", None)
        for h in prov.extra if prov else {}:
            if h not in extras:
                extras.append(h)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("事项")
    ws.append([HEADER[f] for f in EXPORT_FIELDS] + extras)
    for it in items:
        cells = item_row(it)
        prov = getattr(it, "imported", None)
        ws.append(
            [cells[f] for f in EXPORT_FIELDS] + [(prov.extra.get(h, "") if prov else "") for h in extras]
        )
    _guide_sheet(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return len(items)


EXAMPLE_ROW: dict[str, Any] = {
    "code": "11510000MB0000000X-XK-0001",
    "name": "食品经营许可（新办）",
    "family": "食品经营许可",
    "department": "市场监督管理局",
    "item_type": "行政许可",
    "audience": "自然人、法人",
    "summary": "从事食品销售和餐饮服务活动，应当依法取得食品经营许可。",
    "aliases": "开饭店办证、食品经营许可证",
    "keywords": "开小吃店、开超市卖食品",
    "conditions": "有与经营的食品品种、数量相适应的经营场所\n有食品安全管理人员和保证食品安全的规章制度",
    "materials": "食品经营许可申请书（填写 1份）\n营业执照（原件或电子证照）\n与食品经营相适应的主要设备设施布局、操作流程等文件（复印件 1份）",
    "legal_limit": "10个工作日",
    "promised_limit": "5个工作日",
    "charged": "否",
    "fee": "",
    "fee_basis": "",
    "place": "政务服务中心市场监管窗口",
    "hours": "工作日 9:00-12:00，13:30-17:00",
    "phone": "0000-12315",
    "online": "是",
    "channel": "省政务服务网",
    "url": "https://zwfw.example.gov.cn",
    "guide_url": "",
    "process": "网上或窗口提交申请\n受理审查\n现场核查（需要时）\n作出决定，发放许可证",
    "visits": 1,
    "commitment": "否",
    "tolerance": "是",
    "legal_basis": "《中华人民共和国食品安全法》第三十五条",
    "updated": dt.date(2026, 11, 1),
}
_COLUMN_NOTES = {
    "code": "可选。有编码时用作条目 id，重新导入按它更新",
    "name": "必填",
    "department": "必填（也可写作实施主体、实施部门、实施机构）。知识库中没有的部门会自动添加",
    "audience": "自然人、法人，或两者",
    "aliases": "群众常用说法，用顿号或逗号分隔；重新导入时手工添加的会保留",
    "conditions": "每行一条",
    "materials": "每行一种，可在末尾括号中写形式和份数，如“营业执照（复印件 1份）”；也可放在名为“申请材料”的第二张表中（事项编码、材料名称、材料形式、份数、是否必需、备注）",
    "legal_limit": "如“20个工作日”“60日”“即办”",
    "promised_limit": "如“5个工作日”“即办”",
    "charged": "是 / 否",
    "fee": "收费时写明标准，如“20元/证”",
    "online": "是 / 否 / 全程网办",
    "visits": "数字，0 表示零跑动",
    "commitment": "是 / 否",
    "tolerance": "是 / 否",
    "updated": "如 2026-11-01；不填时，内容有变化的事项记为导入当天",
}


def _guide_sheet(wb: Any) -> None:
    ws = wb.create_sheet("填写说明")
    ws.append(["列名", "也可以写作", "说明"])
    for f in EXPORT_FIELDS:
        ws.append(
            [HEADER[f], "、".join(sheets.COLUMNS[f][1:]), _COLUMN_NOTES.get(f, "可选；一格多条时每行一条")]
        )
    ws.append([])
    ws.append(
        [
            "只有“事项名称”和实施部门必填。表中没有的信息不会被编造：回答时会说明办事指南未写明，并给出部门的电话和地点。"
        ]
    )


def write_template(path: Path) -> None:
    """An empty workbook with the columns and one example row."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("事项")
    ws.append([HEADER[f] for f in EXPORT_FIELDS])
    ws.append([EXAMPLE_ROW.get(f, "") for f in EXPORT_FIELDS])
    _guide_sheet(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
