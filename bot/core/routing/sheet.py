"""The 派单目录 as a workbook: export it, and import an edited one (`python -m bot routing import|export`).

A centre keeps its 派单目录 in a sheet as often as in YAML: one row per entry, with the columns of `COLUMNS`
(编号, 事项, 承办单位, 诉求类别, 属地事项, 关键词, 排除词, 例句). Keywords and exclusions are separated by 、,
commas, semicolons or lines; examples are one per line. The import is all or nothing: every bad row is named
with its row number, its 编号 and the column, and nothing is written while one is wrong. What is written is
the `dispatch:` part of the knowledge folder (the file that holds it, or dispatch.yaml), other parts of that
file kept; the whole folder is checked again afterwards and the old file put back if it does not load.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.knowledge.loader import KnowledgeError
from bot.core.knowledge.sheets import CellError, clean, header_key, recognise, words, yes_no
from bot.core.knowledge.yaml_out import dump_block
from bot.core.resources import read_yaml

from .catalogue import DispatchEntry, entry_problems, load_routing_data

# field -> the headers that mean it (the first is the one export writes)
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("编号", "条目编号", "id"),
    "matter": ("事项", "事项名称", "matter"),
    "unit": ("承办单位", "承办部门", "unit"),
    "category": ("诉求类别", "类别", "category"),
    "local": ("属地事项", "属地", "local"),
    "keywords": ("关键词", "keywords"),
    "exclusions": ("排除词", "exclusions"),
    "examples": ("例句", "典型诉求", "examples"),
}
REQUIRED = ("id", "matter", "unit", "category", "keywords")
HEADER = {f: names[0] for f, names in COLUMNS.items()}
GUIDE = [
    ("编号", "必填。唯一编号：小写字母、数字和短横线，例如 street-lights。再次导入时按编号对应。"),
    ("事项", "必填。事项名称，派单员看的。"),
    ("承办单位", "必填。必须是 departments.yaml 中的部门名称。"),
    ("诉求类别", "必填。必须是 appeals.yaml 中的诉求类别（统计、时限策略用）。"),
    ("属地事项", "是/否。是：知道地点时派给所在街道/乡镇（places.yaml），如环卫、路灯、物业小区。"),
    ("关键词", "必填。群众常用的说法，用顿号、逗号或换行分隔；词越长越有区分度。"),
    ("排除词", "出现这些词时本条目不适用，分隔同关键词；不能同时是关键词。"),
    ("例句", "典型诉求，每行一句（自己写的句子，不抄真实留言）。"),
]
FILE_HEAD = (
    "# 派单目录：哪类事项由哪个单位承办（字段说明见 python -m bot routing export 导出的表格第二页）。\n"
    "# 可以直接编辑本文件，也可以编辑表格后用 python -m bot routing import 导入；重新加载后生效。\n"
)


@dataclass
class DispatchImport:
    """What importing a sheet would do, or why it cannot."""

    source: Path
    target: Path
    rows: int = 0
    entries: list[DispatchEntry] = field(default_factory=list)
    dispatcher: str = ""
    problems: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    written: bool = False


def _header_row(raw: list[list[Any]]) -> int:
    names = {header_key(n) for n in COLUMNS["id"]} | {header_key(n) for n in COLUMNS["unit"]}
    for i, r in enumerate(raw[:10]):
        if any(header_key(clean(c)) in names for c in r):
            return i
    raise CellError("找不到表头：前 10 行中没有“编号”或“承办单位”列")


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(row number as the sheet shows it, field -> text) for every non-empty row of the first sheet.
    Raises CellError for a file that is not a workbook, a missing header or an unknown column."""
    if path.suffix.lower() != ".xlsx":
        raise CellError(f"不支持的文件类型 {path.suffix or '（无扩展名）'}：派单目录请使用 .xlsx 表格")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise CellError(f"无法读取 Excel 文件 {path.name}：{exc}") from None
    try:
        raw = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()
    at = _header_row(raw)
    headers = [clean(c) for c in raw[at]]
    found, unknown = recognise(headers, COLUMNS)
    if unknown:
        known = "、".join(HEADER.values())
        raise CellError(f"第 {at + 1} 行有不认识的列「{'」「'.join(unknown)}」（可用的列：{known}）")
    missing = [HEADER[f] for f in REQUIRED if f not in found]
    if missing:
        raise CellError(f"缺少必填的列：{'、'.join(missing)}")
    by_header = {h: f for f, h in found.items()}
    out = []
    for number, r in enumerate(raw[at + 1 :], start=at + 2):
        cells = {by_header[h]: clean(v) for h, v in zip(headers, r, strict=False) if h in by_header}
        if any(cells.values()):
            out.append((number, cells))
    return out


def _entry(cells: dict[str, str]) -> dict[str, Any]:
    local = yes_no(cells.get("local", ""))
    return {
        "id": cells.get("id", ""),
        "matter": cells.get("matter", ""),
        "unit": cells.get("unit", ""),
        "category": cells.get("category", ""),
        "local": bool(local),
        "keywords": words(cells.get("keywords", "")),
        "exclusions": words(cells.get("exclusions", "")),
        "examples": [x.strip() for x in cells.get("examples", "").split("\n") if x.strip()],
    }


def _label(field_name: str) -> str:
    return HEADER.get(field_name, field_name)


def plan_import(source: Path, root: Path, kb: Any, *, dispatcher: str | None = None) -> DispatchImport:
    """Read and check the sheet against the knowledge base `kb` of the folder `root`; nothing is written."""
    current = load_routing_data(root, kb)
    holder = next((p for p in current.files if "dispatch" in _load(p)), None)
    plan = DispatchImport(source, holder or root / "dispatch.yaml")
    try:
        rows = read_rows(source)
    except CellError as exc:
        plan.problems.append(str(exc))
        return plan
    plan.rows = len(rows)
    first: dict[str, int] = {}
    for number, cells in rows:
        where = f"第 {number} 行" + (f"（编号 {cells['id']}）" if cells.get("id") else "")
        empty = [HEADER[f] for f in REQUIRED if not cells.get(f)]
        if empty:
            plan.problems.append(f"{where}：{'、'.join(empty)} 不能为空")
            continue
        try:
            entry = DispatchEntry.model_validate(_entry(cells))
        except CellError as exc:
            plan.problems.append(f"{where}：列「{HEADER['local']}」：{exc}")
            continue
        except ValidationError as exc:
            for err in exc.errors():
                column = _label(str(err["loc"][0])) if err["loc"] else "（整行）"
                plan.problems.append(f"{where}：列「{column}」：{err['msg'].removeprefix('Value error, ')}")
            continue
        if entry.id in first:
            plan.problems.append(f"{where}：编号与第 {first[entry.id]} 行重复")
            continue
        first[entry.id] = number
        plan.problems.extend(f"{where}：列「{_label(f)}」：{m}" for f, m in entry_problems(entry, kb))
        plan.entries.append(entry)
    if not rows:
        plan.problems.append("表格中没有任何条目")
    plan.dispatcher = (dispatcher or current.dispatcher or "").strip()
    if not plan.dispatcher:
        plan.problems.append("知识库中还没有派单员所在单位：请用 --dispatcher 写明（departments 中的名称）")
    elif dispatcher and kb.department(plan.dispatcher) is None:
        plan.problems.append(f"--dispatcher：「{plan.dispatcher}」未在 departments 中定义")
    old = {e.id: e for e in current.entries}
    for e in plan.entries:
        if e.id not in old:
            plan.added.append(e.id)
        elif old[e.id] != e:
            plan.changed.append(e.id)
        else:
            plan.unchanged += 1
    new_ids = {e.id for e in plan.entries}
    plan.removed = [i for i in old if i not in new_ids]
    return plan


def _load(path: Path) -> dict[str, Any]:
    try:
        data = read_yaml(path)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _entry_data(e: DispatchEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"id": e.id, "matter": e.matter, "unit": e.unit, "category": e.category}
    if e.local:
        out["local"] = True
    out["keywords"] = list(e.keywords)
    for name in ("exclusions", "examples"):
        value = getattr(e, name)
        if value:
            out[name] = list(value)
    return out


def apply_import(plan: DispatchImport, root: Path, kb: Any) -> None:
    """Write the planned 派单目录; raises KnowledgeError (and puts the old file back) when the folder does not
    load afterwards."""
    if plan.problems:
        raise ValueError("a plan with problems is not written")
    target = plan.target
    before = target.read_text(encoding="utf-8") if target.exists() else None
    body = {k: v for k, v in _load(target).items() if k != "dispatch"}
    body["dispatch"] = {"dispatcher": plan.dispatcher, "entries": [_entry_data(e) for e in plan.entries]}
    text = dump_block(body)
    if text is None:  # a value the direct writer does not write (another part of a shared file)
        text = yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
    _write(target, FILE_HEAD + f"# 最近一次从《{plan.source.name}》导入。\n" + text)
    try:
        load_routing_data(root, kb)
    except KnowledgeError:
        if before is None:
            target.unlink()
        else:
            _write(target, before)
        raise
    plan.written = True


def _write(path: Path, text: str) -> None:
    # a reader (another process reloading) sees the old file or the new one, never half of it
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def export_sheet(entries: Sequence[DispatchEntry], path: Path) -> int:
    """Write the entries as a workbook import reads back the same; a second sheet explains the columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "派单目录"
    ws.append(list(HEADER.values()))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for e in entries:
        ws.append(
            [
                e.id,
                e.matter,
                e.unit,
                e.category,
                "是" if e.local else "否",
                "、".join(e.keywords),
                "、".join(e.exclusions),
                "\n".join(e.examples),
            ]
        )
    for col, width in zip("ABCDEFGH", (24, 30, 20, 14, 10, 60, 24, 50), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    guide = wb.create_sheet("填写说明")
    guide.append(["列", "怎么填"])
    for name, how in GUIDE:
        guide.append([name, how])
    guide.column_dimensions["A"].width = 12
    guide.column_dimensions["B"].width = 90
    wb.save(path)
    return len(entries)
