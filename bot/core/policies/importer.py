"""Import a 政策清单 workbook into the 政策库 of a knowledge base, export the 政策库 to a workbook, and write an
empty template: so a centre can keep its 惠企政策 in Excel and round-trip them (`python -m bot kb import`,
`kb export --policies`, `kb template --policies`).

Like the import of 办事指南 sheets (bot/core/knowledge/catalog.py): the policies of one sheet live in one file,
`DIR/policies/imported/<sheet name>.yaml`, beside the base's own files, which are never touched; a policy's id is
its 政策编号 (or a stable slug of its name); re-importing updates what the sheet's columns control and keeps what
was added by hand (aliases are merged, fields the sheet has no column for are kept), and a policy whose facts did
not change keeps its `updated` date, so importing the same sheet twice changes nothing. Every bad cell is named by
its row and column; nothing is half-written: the new file is written into a copy of the base, the whole base is
validated there, and only then is the one file replaced.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.knowledge.catalog import Change, reconcile, sheet_order, sheet_stem
from bot.core.knowledge.loader import KnowledgeBase, KnowledgeError, load_knowledge
from bot.core.knowledge.sheets import CellError
from bot.core.knowledge.yaml_out import dump_block
from bot.core.problems import CHINESE

from .library import FOLDER, PolicyLibrary, check_policy
from .models import NUMBERS, Policy
from .sheet import (
    COLUMNS,
    CONDITION_FIELDS,
    EXPORT_FIELDS,
    GROUP_SHEET_NAMES,
    HEADER,
    MAIN_SHEET,
    PolicySheet,
    condition_cells,
    policy_cells,
    read_policy_sheet,
    recognise,
    row_policy,
)

IMPORTED = "imported"  # the folder of the 政策库 that holds imported sheets
YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_ORDER = (
    "id name aliases department issuer document level summary amount claim valid conditions any_of notes source "
    "updated"
).split()
# a column -> the (key, sub-key) of the policy it controls
_CONTROLS: dict[str, tuple[str, str | None]] = {
    "name": ("name", None),
    "department": ("department", None),
    "issuer": ("issuer", None),
    "document": ("document", None),
    "level": ("level", None),
    "summary": ("summary", None),
    "amount": ("amount", None),
    "mode": ("claim", "mode"),
    "how": ("claim", "how"),
    "channel": ("claim", "channel"),
    "materials": ("claim", "materials"),
    "item": ("claim", "item"),
    "start": ("valid", "start"),
    "end": ("valid", "end"),
    "industry": ("conditions", "industry"),
    "industry_exclude": ("conditions", "industry"),
    "notes": ("notes", None),
    "source": ("source", None),
} | {f: ("conditions", f) for f in CONDITION_FIELDS if f not in ("industry", "industry_exclude")}
# a field of the model -> the column to blame when the model or the cross-check refuses it
_BLAME = {
    "claim": ("mode", "materials", "channel"),
    "claim.mode": ("mode",),
    "claim.how": ("how",),
    "claim.channel": ("channel",),
    "claim.materials": ("materials",),
    "claim.item": ("item",),
    "valid": ("end", "start"),
    "valid.start": ("start",),
    "valid.end": ("end",),
    "conditions.industry.include": ("industry",),
    "conditions.industry.exclude": ("industry_exclude",),
    "conditions.industry": ("industry", "industry_exclude"),
} | {f: (f,) for f in COLUMNS}


@dataclass
class PolicyImportPlan:
    source: Path
    into: Path
    file: Path  # the file of this sheet's policies inside the base
    rows: int = 0
    recognised: dict[str, str] = field(default_factory=dict)  # field -> header
    unknown_columns: list[str] = field(default_factory=list)
    added: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: int = 0
    not_in_sheet: list[Change] = field(default_factory=list)  # kept (or removed with prune)
    pruned: bool = False
    errors: list[str] = field(default_factory=list)
    text: str = ""  # the new content of `file`

    @property
    def changes(self) -> bool:
        return bool(self.added or self.updated or (self.pruned and self.not_in_sheet))


def plan_policy_import(source: Path, into: Path, *, today: dt.date, prune: bool = False) -> PolicyImportPlan:
    """What importing the 政策清单 `source` into the base at `into` would do (nothing is written)."""
    into = Path(into)
    file = into / FOLDER / IMPORTED / f"{sheet_stem(source)}.yaml"
    plan = PolicyImportPlan(source=source, into=into, file=file, pruned=prune)
    try:
        sheet = read_policy_sheet(source)
    except CellError as exc:
        plan.errors.append(str(exc))
        return plan
    cols, unknown = recognise(sheet.headers)
    plan.recognised, plan.unknown_columns, plan.rows = cols, unknown, len(sheet.rows)
    if "name" not in cols:
        plan.errors.append("表头中没有“政策名称”列")
    kb = _current_base(into, plan)
    if plan.errors or kb is None:
        return plan
    lib = kb.policies
    existing = _read_file(file) if file.exists() else {}
    here = str(Path(into.name) / file.relative_to(into))

    incoming: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for row in sheet.rows:
        policy, errors = row_policy(row, cols, sheet, lib)
        if not errors:
            errors = _validate(policy, row.number, cols, sheet, kb, lib)
        plan.errors += errors
        if errors:
            continue
        pid = policy["id"]
        where = cols.get("id") or cols["name"]
        if pid in incoming:
            plan.errors.append(
                f"第 {row.number} 行「{where}」：与第 {first_row[pid]} 行是同一条政策（id {pid}），同一政策只能出现一次"
            )
            continue
        elsewhere = lib.origin.get(pid)
        if elsewhere is not None and elsewhere != here:
            plan.errors.append(
                f"第 {row.number} 行「{where}」：id {pid} 已在 {elsewhere} 中定义，不能再由这张表导入"
            )
            continue
        incoming[pid], first_row[pid] = policy, row.number
    keys = {k for k in (cols.get("id"), cols.get("name")) if k}
    known = {p.get(f) for p in incoming.values() for f in ("id", "name")}
    for key, rows in sheet.groups.items():
        if key not in known and not any(r.cells.get(k) == key for r in sheet.rows for k in keys):
            plan.errors.append(f"「{sheet.group_title}」表第 {rows[0].number} 行：主表中没有政策「{key}」")
    if plan.errors:
        return plan

    controlled = {_CONTROLS[f] for f in cols if f in _CONTROLS}
    if sheet.groups:
        controlled.add(("any_of", None))
    merged = reconcile(
        incoming,
        existing,
        lambda old, new: _merge(old, new, controlled, today),
        plan,
        today=today,
        prune=prune,
    )
    plan.text = _dump(source, [_ordered(merged[p]) for p in sheet_order(merged, existing, incoming)])
    return plan


def _current_base(into: Path, plan: PolicyImportPlan) -> KnowledgeBase | None:
    if not (into / FOLDER).is_dir():
        plan.errors.append(
            f"{into} 不是含政策库的知识库（没有 {FOLDER}/ 目录）：政策要导入到已有的知识库中，"
            "它的 policies/ 提供行业分类、规模标准和画像词表（可先复制示例知识库）"
        )
        return None
    try:
        return load_knowledge(into)
    except KnowledgeError as exc:
        plan.errors.append(f"知识库 {into} 本身校验未通过，请先修复再导入：")
        plan.errors += exc.problems
        return None


def _validate(
    policy: dict[str, Any],
    number: int,
    cols: dict[str, str],
    sheet: PolicySheet,
    kb: KnowledgeBase,
    lib: PolicyLibrary,
) -> list[str]:
    """What the model and the cross-check refuse, each named by the row and the column."""
    probe = {**policy, "updated": policy.get("updated", dt.date(2000, 1, 1))}
    found: list[tuple[str, str]] = []
    try:
        model = Policy.model_validate(probe)
    except ValidationError as exc:
        for e in exc.errors():
            msg = CHINESE.get(e["type"], e["msg"]).removeprefix("Value error, ")
            path = ".".join(str(x) for x in e["loc"])
            if path == "claim":  # the claim's own check says which of its fields is missing
                path = next((f"claim.{f}" for f in ("materials", "channel") if f in msg), path)
            found.append((path, msg))
    else:
        found = check_policy(
            model,
            lib,
            department_known=(lambda d: kb.department(d) is not None) if kb.departments else None,
            item_known=lambda i: kb.get(i) is not None,
        )
    return [_where(path, number, cols, sheet) + msg for path, msg in found]


def _where(path: str, number: int, cols: dict[str, str], sheet: PolicySheet) -> str:
    parts = path.split(".")
    if parts[0] == "any_of":
        group = f"第 {int(parts[1]) + 1} 组" if len(parts) > 1 and parts[1].isdigit() else ""
        rest = ".".join(parts[2:])
        return f"第 {number} 行的「{sheet.group_title or GROUP_SHEET_NAMES[0]}」{group}{f' {rest}' if rest else ''}："
    candidates = [path, ".".join(parts[:2]), parts[-1] if parts[0] == "conditions" else parts[0], parts[0]]
    for key in candidates:
        for f in _BLAME.get(key, ()):
            if f in cols:
                return f"第 {number} 行「{cols[f]}」："
    return f"第 {number} 行（字段 {path}）："


def _read_file(path: Path) -> dict[str, dict[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 - a safe loader
    return {d["id"]: d for d in data.get("policies") or [] if isinstance(d, dict) and "id" in d}


def _merge(
    old: dict[str, Any], new: dict[str, Any], controlled: set[tuple[str, str | None]], today: dt.date
) -> tuple[dict[str, Any], list[str]]:
    """The policy after re-import, and the fields that changed. Columns the sheet has replace what was there;
    the rest (and every hand-added alias) stays."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in old.items()}
    for key, sub in controlled | {("id", None), ("name", None)}:
        if sub is None:
            if key in new:
                out[key] = new[key]
            else:
                out.pop(key, None)
            continue
        inner = dict(out.get(key) or {})
        if sub in (new.get(key) or {}):
            inner[sub] = new[key][sub]
        else:
            inner.pop(sub, None)
        if inner:
            out[key] = inner
        else:
            out.pop(key, None)
    out["aliases"] = list(dict.fromkeys([*(old.get("aliases") or []), *(new.get("aliases") or [])]))
    changed = [k for k in _ORDER if k != "updated" and _norm(out.get(k)) != _norm(old.get(k))]
    if "updated" in new:
        out["updated"] = new["updated"]
    elif changed:
        out["updated"] = today
    if _norm(out.get("updated")) != _norm(old.get("updated")):
        changed.append("updated")
    return out, changed


def _norm(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return str(v) if isinstance(v, dt.date) else v


def _ordered(policy: dict[str, Any]) -> dict[str, Any]:
    rank = {k: n for n, k in enumerate(_ORDER)}
    return dict(sorted(policy.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def _dump(source: Path, policies: list[dict[str, Any]]) -> str:
    head = (
        f"# 从《{source.name}》导入的惠企政策（python -m bot kb import）。\n"
        "# 重新导入同一张表会更新这里的政策：表中有的列以表为准，手工添加的 aliases 和表中没有的字段会保留。\n"
    )
    body = {"policies": policies}
    text = dump_block(body)
    if text is None:
        text = yaml.dump(body, Dumper=YAML_DUMPER, allow_unicode=True, sort_keys=False, width=1000)
    return head + text


def apply_policy_import(plan: PolicyImportPlan, *, write: bool = True) -> KnowledgeBase:
    """Write the plan's file into a temporary copy of the base, validate the whole base there, and (with `write`)
    replace the one file. Raises KnowledgeError, leaving the base as it was, when the result does not validate."""
    if plan.errors:
        raise KnowledgeError(plan.errors)
    into = plan.into
    tmp = Path(tempfile.mkdtemp(prefix=f".{into.name}.policies-", dir=into.parent))
    try:
        work = tmp / into.name
        shutil.copytree(into, work, symlinks=True)
        target = work / plan.file.relative_to(into)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(plan.text, encoding="utf-8")
        kb = load_knowledge(work)
        if not write:
            return kb
        plan.file.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, plan.file)  # one file, replaced atomically
        kb.root = into
        return kb
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- export and template ---------------------------------------------------------------------------------
GROUP_FIELDS = ["id", *CONDITION_FIELDS]
_NOTES = {
    "id": "可选，小写字母、数字和连字符；有编号时用作政策 id，重新导入按它更新",
    "name": "必填",
    "aliases": "群众常用说法，用顿号分隔（“为什么没有…”按名称和别名找政策）；重新导入时手工添加的会保留",
    "department": "必填，知识库 departments 中的部门",
    "level": "必填，如 国家、示例区",
    "mode": "必填：免申即享 / 即申即享 / 依申请",
    "how": "必填，怎样享受或申报",
    "channel": "即申即享和依申请必填",
    "materials": "依申请必填，每行一种",
    "item": "可选，知识库中办理它的办事指南事项 id",
    "start": "必填，如 2026-01-01",
    "end": "可选，不填为长期执行",
    "entity": "企业、个体工商户、农民专业合作社、社会组织",
    "size": "大型、中型、小型、微型（或 小微、中小微），按统计上大中小微型企业划分办法",
    "taxpayer": "一般纳税人、小规模纳税人",
    "industry": "国民经济行业分类代码（C、65、651）或标准名称，多个用顿号分隔",
    "industry_exclude": "同上，不适用的行业",
    "place": "企业注册地，知识库 policies/profile.yaml 中的地区",
    "recognitions": "持有其中之一即可，如 高新技术企业、专精特新中小企业",
    "facts": "须满足的情况，如“研发投入”；须不满足时写“研发投入：否”",
    "notes": "每行一条",
    "source": "必填，政策原文出处",
    "updated": "如 2026-11-01；不填时，内容有变化的政策记为导入当天",
} | {f: "数量条件，如 ≤300、<300、≥3、>100、1-3，多个用逗号分隔" for f in NUMBERS}


def export_policies(lib: PolicyLibrary, path: Path) -> int:
    """Write every policy of the 政策库 (hand-written and imported) into a workbook with the template's columns;
    the `any_of` groups go to the 满足其一 sheet. Returns the number of policies."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(MAIN_SHEET)
    ws.append([HEADER[f] for f in EXPORT_FIELDS])
    groups = wb.create_sheet(GROUP_SHEET_NAMES[0])
    groups.append([HEADER[f] for f in GROUP_FIELDS])
    for p in lib.policies.values():
        cells = policy_cells(p)
        ws.append([cells[f] for f in EXPORT_FIELDS])
        for c in p.any_of:
            gcells = {"id": p.id, **condition_cells(c)}
            groups.append([gcells.get(f, "") for f in GROUP_FIELDS])
    _guide_sheet(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return len(lib.policies)


EXAMPLE_ROW: dict[str, Any] = {
    "id": "local-example-rent",
    "name": "示例区小微企业房租补贴",
    "aliases": "房租补贴、租金补贴",
    "department": "财政局",
    "issuer": "示例区财政局",
    "document": "示例财〔2026〕1号（示例）",
    "level": "示例区",
    "summary": "本区新设立的小微企业，按实际支付房租的30%给予补贴。",
    "amount": "按实际支付房租的30%补贴，每户每年最高3万元",
    "mode": "依申请",
    "how": "每年第四季度向区财政局申报，审核通过后拨付",
    "channel": "“示例办”APP 惠企政策专区",
    "materials": "营业执照\n房屋租赁合同和租金支付凭证",
    "start": dt.date(2026, 1, 1),
    "end": dt.date(2026, 12, 31),
    "size": "小微",
    "place": "示例区",
    "years": "≤3",
    "source": "示例区财政局网站（示例）",
    "updated": dt.date(2026, 11, 1),
}
EXAMPLE_GROUPS = [
    {"id": "local-example-rent", "entity": "企业", "employees": "≤100"},
    {"id": "local-example-rent", "entity": "个体工商户"},
]


def _guide_sheet(wb: Any) -> None:
    ws = wb.create_sheet("填写说明")
    ws.append(["列名", "也可以写作", "说明"])
    for f in EXPORT_FIELDS:
        ws.append([HEADER[f], "、".join(COLUMNS[f][1:]), _NOTES.get(f, "必填" if f in _REQUIRED else "可选")])
    ws.append([])
    ws.append(
        [
            f"一行一条政策；主表的条件须全部满足。“{GROUP_SHEET_NAMES[0]}”表的每一行是一组条件（用政策编号对应），"
            "一条政策有两组以上时，至少满足其中一组。"
        ]
    )


_REQUIRED = {"issuer", "document", "summary", "amount", "source"}


def write_policy_template(path: Path) -> None:
    """An empty 政策清单 with the columns, one example row and its two groups."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(MAIN_SHEET)
    ws.append([HEADER[f] for f in EXPORT_FIELDS])
    ws.append([EXAMPLE_ROW.get(f, "") for f in EXPORT_FIELDS])
    groups = wb.create_sheet(GROUP_SHEET_NAMES[0])
    groups.append([HEADER[f] for f in GROUP_FIELDS])
    for g in EXAMPLE_GROUPS:
        groups.append([g.get(f, "") for f in GROUP_FIELDS])
    _guide_sheet(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
