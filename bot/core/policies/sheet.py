"""惠企政策 sheets: the columns of a 政策清单 workbook, one row a policy, and turning a row's cells into a policy
of the 政策库 (and a policy back into cells, which read back to the same policy).

The first sheet has one row per policy; a second sheet named 满足其一 (or 条件组) holds the `any_of` groups, one
row a group, keyed by 政策编号 (or 政策名称). Columns are recognised by their usual Chinese headers (see COLUMNS;
a bracketed note such as 营业收入（万元） is ignored). Cells are read strictly: a bound of "很多", an industry the
classification does not have, a 兑现方式 that is none of the three, is an error naming the row and the column,
never a guess. The conventions of a cell:
  - lists (别名, 主体类型, 属地, 资质 …) separated by lines, 、 ， or ；; 企业规模 may say 小微 or 中小微;
  - 行业 and 排除行业: 国民经济行业分类 codes (C, 65, 651, 6510), or the exact name of one (软件和信息技术服务业);
  - 情况: a fact of the profile vocabulary, meaning it must be so, or `事实：否` for must not be so;
  - numbers: ≤300, <300, ≥3, >100 (also 不超过, 低于, 不少于, 超过, or 300以下, 3以上), a range 1-3, several
    joined by ， or 且; units (人, 万元, %, 年) may be written and are those of the column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.knowledge import sheets
from bot.core.knowledge.sheets import CellError, Row, clean, header_key

from .library import PolicyLibrary
from .models import CLAIM_MODES, ENTITIES, NUMBERS, SIZES, TAXPAYERS, Bound, Conditions, Policy
from .profile import SIZE_WORDS

# field -> the headers that mean it; the first is what export and the template write
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("政策编号", "政策ID", "编号"),
    "name": ("政策名称", "名称"),
    "aliases": ("别名", "俗称", "简称", "常用名称"),
    "department": ("主管部门", "承办部门", "责任部门", "牵头部门", "部门"),
    "issuer": ("发文机关", "发文单位", "制发机关"),
    "document": ("文号", "发文字号", "政策文号"),
    "level": ("层级", "政策层级", "级别"),
    "summary": ("政策摘要", "政策内容", "摘要", "简介"),
    "amount": ("扶持标准", "补贴标准", "优惠标准", "支持标准", "金额"),
    "mode": ("兑现方式", "享受方式", "申报方式"),
    "how": ("办理方式", "兑现流程", "申报流程", "如何享受"),
    "channel": ("办理渠道", "申报渠道", "受理渠道"),
    "materials": ("申请材料", "申报材料", "所需材料"),
    "item": ("对应事项", "办事指南事项", "事项编号"),
    "start": ("开始日期", "执行开始", "生效日期", "起始日期"),
    "end": ("截止日期", "执行截止", "失效日期", "结束日期", "有效期至"),
    # conditions
    "entity": ("主体类型", "适用主体"),
    "size": ("企业规模", "规模"),
    "taxpayer": ("纳税人类型",),
    "industry": ("行业", "适用行业", "行业代码"),
    "industry_exclude": ("排除行业", "不含行业"),
    "place": ("属地", "注册地", "适用地区"),
    "recognitions": ("资质", "资质认定", "认定"),
    "facts": ("情况", "其他条件"),
    "employees": ("从业人数", "职工人数"),
    "revenue": ("营业收入", "年营业收入"),
    "assets": ("资产总额",),
    "taxable_income": ("应纳税所得额", "年应纳税所得额"),
    "monthly_sales": ("月销售额",),
    "years": ("成立年限",),
    "layoff_rate": ("裁员率", "上年度裁员率"),
    "disabled_count": ("残疾人人数", "安置残疾人人数"),
    "disabled_ratio": ("残疾人比例", "残疾人占比"),
    "new_hire_ratio": ("新招用比例", "新招用人员比例"),
    # the rest
    "notes": ("备注", "说明"),
    "source": ("来源", "政策来源", "原文出处"),
    "updated": ("更新日期", "核对日期", "更新时间"),
}
UNITS = {"employees": "人", "disabled_count": "人", "years": "年"} | {
    k: v for k, v in NUMBERS.items() if v in ("万元", "%")
}
HEADER = {
    f: names[0] + (f"（{UNITS[f]}）" if f in UNITS and UNITS[f] != "人" else "")
    for f, names in COLUMNS.items()
}
CONDITION_FIELDS = "entity size taxpayer industry industry_exclude place recognitions facts".split() + list(
    NUMBERS
)
GROUP_SHEET_NAMES = ("满足其一", "条件组", "任一条件")
GROUP_KEY = ("id", "name")  # what ties a group row to its policy
MAIN_SHEET = "政策"
_BOUND = re.compile(
    r"^(?P<op>≤|<=|＜=|≥|>=|＞=|<|＜|>|＞|不超过|不高于|不大于|不多于|低于|少于|小于|不足|未满|不少于|不低于|不小于|超过|高于|大于|多于)?"
    r"(?P<n>-?\d+(?:\.\d+)?)(?P<unit>人|万元|元|%|％|年)?(?P<suffix>以下|以内|以上|及以下|及以上)?$"
)
_OPS = {
    "≤": "max",
    "<=": "max",
    "不超过": "max",
    "不高于": "max",
    "不大于": "max",
    "不多于": "max",
    "以下": "max",
    "以内": "max",
    "及以下": "max",
    "<": "below",
    "低于": "below",
    "少于": "below",
    "小于": "below",
    "不足": "below",
    "未满": "below",
    "≥": "min",
    ">=": "min",
    "不少于": "min",
    "不低于": "min",
    "不小于": "min",
    "以上": "min",
    "及以上": "min",
    ">": "above",
    "超过": "above",
    "高于": "above",
    "大于": "above",
    "多于": "above",
}
_RANGE = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(?:-|~|～|至|到)\s*(-?\d+(?:\.\d+)?)(?:人|万元|%|年)?$")
_NO = ("否", "不", "无", "false", "no")
_YES = ("是", "有", "true", "yes")


@dataclass
class PolicySheet:
    """The rows of a 政策清单 in its own headers, and the rows of its 满足其一 sheet by policy key."""

    name: str
    headers: list[str]
    rows: list[Row]
    groups: dict[str, list[Row]] = field(default_factory=dict)
    group_headers: list[str] = field(default_factory=list)
    group_title: str = ""


def recognise(headers: list[str]) -> tuple[dict[str, str], list[str]]:
    return sheets.recognise(headers, COLUMNS)


def is_policy_sheet(path: Path) -> bool:
    """Whether a workbook is a 政策清单: one of its first ten rows names 政策名称 (an item sheet names 事项名称)."""
    if path.suffix.lower() != ".xlsx" or not path.is_file():
        return False
    try:
        raw = _first_sheet(path, limit=10)
    except CellError:
        return False
    names = {header_key("政策名称")}
    return any(header_key(clean(c)) in names for r in raw for c in r)


def _first_sheet(path: Path, limit: int | None = None) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise CellError(f"无法读取 Excel 文件 {path.name}：{exc}") from None
    try:
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True, max_row=limit)]
    finally:
        wb.close()


def read_policy_sheet(path: Path) -> PolicySheet:
    """The rows of a 政策清单 workbook (.xlsx) and of its 满足其一 sheet."""
    if path.suffix.lower() != ".xlsx":
        raise CellError(f"政策清单应为 Excel 文件（.xlsx），而不是 {path.suffix or '（无扩展名）'}")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise CellError(f"无法读取 Excel 文件 {path.name}：{exc}") from None
    try:
        sheets_ = wb.worksheets
        headers, rows = _rows([list(r) for r in sheets_[0].iter_rows(values_only=True)], "政策名称")
        out = PolicySheet(path.name, headers, rows)
        wanted = {header_key(n) for n in GROUP_SHEET_NAMES}
        for ws in sheets_[1:]:
            if header_key(ws.title) in wanted:
                _read_groups(out, [list(r) for r in ws.iter_rows(values_only=True)], ws.title)
        return out
    finally:
        wb.close()


def _rows(raw: list[list[Any]], must: str) -> tuple[list[str], list[Row]]:
    names = {header_key(n) for n in COLUMNS["name"][:1]} | {header_key(n) for n in COLUMNS["id"][:1]}
    at = next((i for i, r in enumerate(raw[:10]) if any(header_key(clean(c)) in names for c in r)), None)
    if at is None:
        raise CellError(f"找不到表头：前 10 行中没有“{must}”列")
    headers = [clean(c) for c in raw[at]]
    rows = []
    for i, r in enumerate(raw[at + 1 :], start=at + 2):
        cells = {h: clean(v) for h, v in zip(headers, r, strict=False) if h}
        if any(cells.values()):
            rows.append(Row(i, cells))
    return [h for h in headers if h], rows


def _read_groups(sheet: PolicySheet, raw: list[list[Any]], title: str) -> None:
    if not raw:
        return
    headers, rows = _rows(raw, "政策编号")
    found, _ = recognise(headers)
    key = next((found[k] for k in GROUP_KEY if k in found), None)
    if key is None:
        raise CellError(f"「{title}」表需要“政策编号”（或“政策名称”）列，以对应到政策")
    sheet.group_headers, sheet.group_title = headers, title
    for row in rows:
        policy = row.cells.get(key, "")
        if not policy:
            raise CellError(f"「{title}」表第 {row.number} 行「{key}」：为空，无法对应到政策")
        sheet.groups.setdefault(policy, []).append(row)


# -- cells -> a policy -----------------------------------------------------------------------------------
def policy_id(code: str, name: str) -> str:
    """The id of an imported policy: its 政策编号 made into a valid id, or else a stable slug of its name."""
    from bot.core.knowledge.catalog import item_id

    return item_id(code, name, "")


def _number(text: str) -> float | int:
    v = float(text)
    return int(v) if v.is_integer() else v


def bound(text: str) -> dict[str, float | int]:
    """A numeric condition from a cell: "≤300", "超过100人", "1-3", "≥1，≤3"."""
    t = unicodedata.normalize("NFKC", text).replace(" ", "")
    out: dict[str, float | int] = {}
    for part in re.split(r"[,，;；、]|且|并且", t):
        if not part:
            continue
        r = _RANGE.match(part)
        if r:
            out["min"], out["max"] = _number(r.group(1)), _number(r.group(2))
            continue
        m = _BOUND.match(part)
        op = (m.group("op") or m.group("suffix")) if m else None
        if m is None or op is None or (m.group("op") and m.group("suffix")):
            raise CellError(f"无法识别的数量条件“{sheets.short(text)}”：应写成 ≤300、<300、≥3、>100 或 1-3")
        key = _OPS[op]
        if key in out:
            raise CellError(f"“{sheets.short(text)}”中{'上' if key in ('max', 'below') else '下'}限写了两次")
        out[key] = _number(m.group("n"))
    if not out:
        raise CellError(f"无法识别的数量条件“{sheets.short(text)}”")
    return out


def bound_text(b: Bound) -> str:
    signs = (("min", "≥"), ("above", ">"), ("max", "≤"), ("below", "<"))
    return "，".join(f"{sign}{_plain(getattr(b, key))}" for key, sign in signs if getattr(b, key) is not None)


def _plain(v: float) -> str:
    # 1000000, not 1e+06; 5.5 as it is
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _choices(text: str, allowed: tuple[str, ...], what: str) -> list[str]:
    out: list[str] = []
    for w in sheets.words(text):
        got = [w] if w in allowed else None
        if got is None:
            raise CellError(f"未知的{what}“{sheets.short(w)}”：应为 {'、'.join(allowed)}")
        out += [g for g in got if g not in out]
    return out


def _sizes(text: str) -> list[str]:
    out: list[str] = []
    for w in sheets.words(text):
        w = w.removesuffix("企业")
        classes = SIZE_WORDS.get(w) or SIZE_WORDS.get(w.removesuffix("型") + "型")
        if classes is None:
            raise CellError(
                f"未知的企业规模“{sheets.short(w)}”：应为 大型、中型、小型、微型（或 小微、中小微）"
            )
        out += [s for s in SIZES if s in classes and s not in out]
    return out


def _industries(text: str, lib: PolicyLibrary) -> list[str]:
    out: list[str] = []
    for w in sheets.words(text):
        head = w.split()[0]
        # a division written as a number in Excel loses its leading zero (6 for 06); a section is one letter
        code = (
            head.zfill(2) if head.isdigit() and len(head) == 1 else head.upper() if len(head) == 1 else head
        )
        node = lib.industries.get(code)
        if node is None:
            low = w.lower()
            node = next(
                (lib.industries.node(c) for phrase, c in lib.industries.phrases() if phrase == low), None
            )
        if node is None:
            near = "、".join(lib.industries.label(s) for s in lib.industries.nearest_sections(w, 3))
            raise CellError(f"未知的行业“{sheets.short(w)}”：请写行业代码或标准名称（相近的门类：{near}）")
        if node.code not in out:
            out.append(node.code)
    return out


def _facts(text: str, lib: PolicyLibrary) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for w in sheets.words(text):
        parts = re.split(r"[:：=]", w, maxsplit=1)
        key = parts[0].strip()
        value = parts[1].strip().lower() if len(parts) > 1 else "是"
        if value.startswith(_NO):
            wanted = False
        elif value.startswith(_YES):
            wanted = True
        else:
            raise CellError(f"“{sheets.short(w)}”：情况后应写“是”或“否”，如“研发投入：是”")
        if key not in lib.facts:
            raise CellError(f"未知的情况“{sheets.short(key)}”（可用：{'、'.join(lib.facts)}）")
        out[key] = wanted
    return out


def conditions_of(cells: Callable[[str], str], lib: PolicyLibrary, fail: Callable[[str, str], None]) -> dict:
    """The conditions a row's cells state (only those with a cell), as the YAML file holds them."""
    out: dict[str, Any] = {}

    def read(f: str, parse: Callable[[str], Any]) -> Any:
        text = cells(f)
        if sheets.is_empty(text):
            return None
        try:
            return parse(text)
        except CellError as exc:
            fail(f, str(exc))
            return None

    for f, parse in (
        ("entity", lambda t: _choices(t, ENTITIES, "主体类型")),
        ("size", _sizes),
        ("taxpayer", lambda t: _choices(t, TAXPAYERS, "纳税人类型")),
        ("place", lambda t: [lib.canonical_place(w) for w in sheets.words(t)]),
        ("recognitions", lambda t: [lib.canonical_recognition(w) or w for w in sheets.words(t)]),
        ("facts", lambda t: _facts(t, lib)),
    ):
        if (v := read(f, parse)) is not None:
            out[f] = v
    include = read("industry", lambda t: _industries(t, lib))
    exclude = read("industry_exclude", lambda t: _industries(t, lib))
    if include or exclude:
        out["industry"] = {
            **({"include": include} if include else {}),
            **({"exclude": exclude} if exclude else {}),
        }
    for f in NUMBERS:
        if (v := read(f, bound)) is not None:
            out[f] = v
    return out


def row_policy(
    row: Row, cols: dict[str, str], sheet: PolicySheet, lib: PolicyLibrary
) -> tuple[dict[str, Any], list[str]]:
    """The policy of one row (as the YAML file holds it, `updated` only when the sheet has it), and the errors of
    its cells, each naming the row and the column."""
    errors: list[str] = []
    policy: dict[str, Any] = {}

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

    name = cell("name")
    for f, what in (
        ("name", "政策名称"),
        ("department", "主管部门"),
        ("issuer", "发文机关"),
        ("document", "文号"),
        ("level", "层级"),
        ("summary", "政策摘要"),
        ("amount", "扶持标准"),
        ("mode", "兑现方式"),
        ("how", "办理方式"),
        ("start", "开始日期"),
        ("source", "来源"),
    ):
        if sheets.is_empty(cell(f)):
            fail(f, f"{what}为空（每条政策都要写明）")
    policy["id"] = policy_id(cell("id"), name)
    policy["name"] = name
    aliases = sheets.words(cell("aliases"))
    policy["aliases"] = aliases or [name]  # "为什么没有…" finds a policy by its name and aliases
    for f in ("department", "issuer", "document", "level", "summary", "amount"):
        policy[f] = cell(f)
    mode = cell("mode")
    if mode and mode not in CLAIM_MODES:
        fail("mode", f"“{sheets.short(mode)}”应为 {'、'.join(CLAIM_MODES)} 之一")
    claim: dict[str, Any] = {"mode": mode, "how": cell("how")}
    if not sheets.is_empty(cell("channel")):
        claim["channel"] = cell("channel")
    if materials := read("materials", sheets.lines):
        claim["materials"] = materials
    if not sheets.is_empty(cell("item")):
        claim["item"] = cell("item")
    policy["claim"] = claim
    valid: dict[str, Any] = {"start": read("start", sheets.date)}
    if (end := read("end", sheets.date)) is not None:
        valid["end"] = end
    policy["valid"] = valid
    conditions = conditions_of(cell, lib, fail)
    if conditions:
        policy["conditions"] = conditions
    groups = _groups(row, cols, sheet, lib, policy["id"], name, errors)
    if groups:
        policy["any_of"] = groups
    if notes := read("notes", sheets.lines):
        policy["notes"] = notes
    policy["source"] = cell("source")
    if (when := read("updated", sheets.date)) is not None:
        policy["updated"] = when
    return policy, errors


def _groups(
    row: Row,
    cols: dict[str, str],
    sheet: PolicySheet,
    lib: PolicyLibrary,
    pid: str,
    name: str,
    errors: list[str],
) -> list[dict[str, Any]]:
    if not sheet.groups:
        return []
    gcols, _ = recognise(sheet.group_headers)
    key_field = next(k for k in GROUP_KEY if k in gcols)
    key = row.cells.get(cols.get(key_field, ""), "") if key_field in cols else ""
    key = key or (pid if key_field == "id" else name)
    out = []
    for g in sheet.groups.get(key, []):

        def gcell(f: str, g: Row = g) -> str:
            h = gcols.get(f)
            return g.cells.get(h, "") if h else ""

        def gfail(f: str, msg: str, g: Row = g) -> None:
            errors.append(f"「{sheet.group_title}」表第 {g.number} 行「{gcols.get(f) or HEADER[f]}」：{msg}")

        out.append(conditions_of(gcell, lib, gfail))
    return out


# -- a policy -> cells -----------------------------------------------------------------------------------
EXPORT_FIELDS = (
    "id name aliases department issuer document level summary amount mode how channel materials item start end "
    "entity size taxpayer industry industry_exclude place recognitions facts".split()
    + list(NUMBERS)
    + ["notes", "source", "updated"]
)


def condition_cells(c: Conditions) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in ("entity", "size", "taxpayer", "place", "recognitions"):
        v = getattr(c, f)
        if v is not None:
            out[f] = "、".join(v)
    if c.industry is not None:
        out["industry"] = "、".join(c.industry.include)
        out["industry_exclude"] = "、".join(c.industry.exclude)
    if c.facts:
        out["facts"] = "、".join(k if v else f"{k}：否" for k, v in c.facts.items())
    for f in NUMBERS:
        b = getattr(c, f)
        if b is not None:
            out[f] = bound_text(b)
    return out


def policy_cells(p: Policy) -> dict[str, Any]:
    """The cells of one policy, by field (what `row_policy` reads back to the same policy)."""
    aliases = p.aliases if p.aliases != [p.name] else []
    out: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "aliases": "、".join(aliases),
        "department": p.department,
        "issuer": p.issuer,
        "document": p.document,
        "level": p.level,
        "summary": p.summary,
        "amount": p.amount,
        "mode": p.claim.mode,
        "how": p.claim.how,
        "channel": p.claim.channel,
        "materials": "\n".join(p.claim.materials),
        "item": p.claim.item or "",
        "start": p.valid.start,
        "end": p.valid.end or "",
        "notes": "\n".join(p.notes),
        "source": p.source,
        "updated": p.updated,
    }
    return {**{f: "" for f in EXPORT_FIELDS}, **out, **condition_cells(p.conditions)}
