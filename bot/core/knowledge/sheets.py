"""办事指南 sheets: the columns a centre's catalogue uses, reading rows from .xlsx, .csv and .json, and turning
one row's cells into the facts of an item.

A sheet has one row per item. Columns are recognised by their usual Chinese headers (事项名称, 事项编码,
实施主体 …, see COLUMNS); a header the importer does not know is kept aside and listed in the report. Cells are
parsed strictly: a cell that cannot be read (a time limit of "很快", 是否收费 "是" with no 收费标准) is an error
naming the row and the column, never a guess. A fact with no cell stays absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

# field -> the headers that mean it; the first is what export and the template write
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("事项编码", "实施编码", "基本编码", "业务办理项编码", "编码"),
    "name": ("事项名称", "子项名称", "业务办理项名称", "实施清单名称", "办理事项", "服务事项", "名称"),
    "family": ("主项名称", "所属主项", "主项"),
    "department": (
        "实施主体",
        "实施部门",
        "实施机构",
        "办理部门",
        "受理部门",
        "责任部门",
        "所属部门",
        "部门",
    ),
    "item_type": ("事项类型", "事项类别"),
    "audience": ("服务对象", "办理对象"),
    "summary": ("事项简介", "事项概述", "简介", "概述"),
    "aliases": ("别名", "俗称", "常用名称"),
    "keywords": ("关键词", "关键字"),
    "conditions": ("办理条件", "受理条件", "申请条件", "受理标准"),
    "materials": ("申请材料", "材料清单", "所需材料", "提交材料"),
    "legal_limit": ("法定办结时限", "法定时限", "法定期限"),
    "promised_limit": ("承诺办结时限", "承诺时限", "承诺期限"),
    "charged": ("是否收费",),
    "fee": ("收费标准", "收费情况", "收费金额"),
    "fee_basis": ("收费依据",),
    "place": ("办理地点", "受理地点", "办事地点", "窗口地址"),
    "hours": ("办理时间", "受理时间", "办公时间"),
    "phone": ("咨询电话", "联系电话", "咨询方式"),
    "online": ("是否网办", "是否支持网上办理", "网上办理"),
    "channel": ("网办渠道", "网上办理渠道", "网办平台"),
    "url": ("网上办理地址", "网办地址", "在线办理地址", "网上办理链接"),
    "guide_url": ("办事指南链接", "指南链接", "详情链接", "办事指南地址"),
    "process": ("办理流程", "办事流程"),
    "visits": ("跑动次数", "到办事现场次数", "到现场次数"),
    "commitment": ("告知承诺", "是否告知承诺", "是否实行告知承诺"),
    "tolerance": ("容缺受理", "是否容缺受理", "是否支持容缺受理"),
    "legal_basis": ("设定依据", "法律依据", "实施依据", "法定依据"),
    "updated": ("更新日期", "更新时间", "最近核对"),
}
HEADER = {f: names[0] for f, names in COLUMNS.items()}  # field -> the header export writes
# the columns of a second sheet of materials, keyed by 事项编码 (or 事项名称)
MATERIAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": COLUMNS["code"],
    "item": ("事项名称",),
    "name": ("材料名称", "申请材料", "材料"),
    "form": ("材料形式", "材料类型", "提交形式", "材料形态"),
    "copies": ("份数", "数量", "材料份数"),
    "required": ("是否必需", "必要性", "是否必要", "必要性及描述"),
    "note": ("备注", "说明", "填报须知", "材料说明"),
}
MATERIAL_SHEET_NAMES = ("申请材料", "材料清单", "材料")

_FORMS = ("原件及复印件", "原件或电子证照", "电子证照", "复印件", "原件", "填写", "照片")
_FORM_WORDS = {
    "原件和复印件": "原件及复印件",
    "原件、复印件": "原件及复印件",
    "纸质原件": "原件",
    "电子": "电子证照",
}
_OPTIONAL = ("视情况提供", "非必需", "非必要", "容缺", "选填", "如有")
_REQUIRED = ("必需", "必要", "必须", "必填", "是")
_YES = {"是", "有", "支持", "√", "y", "yes", "true", "1"}
_NO = {"否", "无", "不支持", "×", "n", "no", "false", "0"}
_EMPTY = {"", "无", "-", "—", "--", "/", "／", "暂无", "空"}
_FREE_WORDS = ("不收费", "免费", "免收", "零收费", "0元", "无收费")
_CN_NUM = {c: i for i, c in enumerate("零一二三四五六七八九十")}
_NUMBERING = re.compile(
    r"^\s*(?:[(（]?\d{1,3}[)）.、．:：]|[①-⑳]|[一二三四五六七八九十]{1,3}[、.．]|第[一二三四五六七八九十\d]+步[:：、]?)\s*"
)


class CellError(ValueError):
    """A cell that cannot be read; the importer adds the row and the column."""


@dataclass
class Row:
    number: int  # the row number the person sees in the sheet (1 = the header)
    cells: dict[str, str]  # header -> text


@dataclass
class Sheet:
    """The rows of a catalogue in its own headers, and the materials of a second sheet by item key."""

    name: str  # the file name, for provenance
    headers: list[str]
    rows: list[Row]
    materials: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    materials_key: str = ""  # the header of the item key in the materials sheet


def clean(value: Any) -> str:
    """The text of a cell: NFKC-free (a name keeps its own brackets), stripped, newlines kept."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def header_key(header: str) -> str:
    """A header as compared: width-folded, without spaces, required marks or a bracketed note ("事项名称（必填）")."""
    h = unicodedata.normalize("NFKC", str(header or ""))
    h = re.sub(r"[（(][^（）()]*[）)]", "", h)
    return re.sub(r"[\s*＊※:：]", "", h)


def recognise(
    headers: Iterable[str], columns: dict[str, tuple[str, ...]] = COLUMNS
) -> tuple[dict[str, str], list[str]]:
    """field -> the sheet's header for it, and the headers that mean nothing known (in sheet order)."""
    wanted = {header_key(n): f for f, names in columns.items() for n in names}
    found: dict[str, str] = {}
    unknown: list[str] = []
    for h in headers:
        if not clean(h):
            continue
        f = wanted.get(header_key(h))
        if f is None or f in found:
            unknown.append(h)
        else:
            found[f] = h
    return found, unknown


# -- reading files ---------------------------------------------------------------------------------------
def read_sheet(path: Path, progress: Callable[[str, int, int], None] | None = None) -> Sheet:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path, progress)
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".json":
        return _read_json(path)
    raise CellError(f"不支持的文件类型 {path.suffix or '（无扩展名）'}：请使用 .xlsx、.csv 或 .json")


def _header_row(rows: list[list[Any]]) -> int:
    """The index of the header row: the first of the first ten rows that names an item (a title line may come
    before it)."""
    names = {header_key(n) for n in COLUMNS["name"]}
    for i, r in enumerate(rows[:10]):
        if any(header_key(clean(c)) in names for c in r):
            return i
    raise CellError("找不到表头：前 10 行中没有“事项名称”列")


def _rows(raw: list[list[Any]], first_number: int) -> tuple[list[str], list[Row]]:
    at = _header_row(raw)
    headers = [clean(c) for c in raw[at]]
    rows = []
    for i, r in enumerate(raw[at + 1 :], start=at + 1):
        cells = {h: clean(v) for h, v in zip(headers, r, strict=False) if h}
        if any(cells.values()):
            rows.append(Row(first_number + i, cells))
    return [h for h in headers if h], rows


def _read_xlsx(path: Path, progress: Callable[[str, int, int], None] | None) -> Sheet:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise CellError(f"无法读取 Excel 文件 {path.name}：{exc}") from None
    try:
        sheets = wb.worksheets
        main = sheets[0]
        total = main.max_row or 0
        raw: list[list[Any]] = []
        for n, r in enumerate(main.iter_rows(values_only=True), start=1):
            raw.append(list(r))
            if progress is not None and n % 500 == 0:
                progress("读取", n, total)
        if progress is not None:
            progress("读取", len(raw), len(raw))
        headers, rows = _rows(raw, 1)
        sheet = Sheet(path.name, headers, rows)
        for ws in sheets[1:]:
            if header_key(ws.title) in {header_key(n) for n in MATERIAL_SHEET_NAMES}:
                _read_materials(sheet, [list(r) for r in ws.iter_rows(values_only=True)], ws.title)
        return sheet
    finally:
        wb.close()


def _read_materials(sheet: Sheet, raw: list[list[Any]], title: str) -> None:
    if not raw:
        return
    headers = [clean(c) for c in raw[0]]
    found, _ = recognise(headers, MATERIAL_COLUMNS)
    key = found.get("code") or found.get("item")
    if key is None or "name" not in found:
        raise CellError(f"材料表「{title}」需要“事项编码”（或“事项名称”）和“材料名称”两列")
    sheet.materials_key = "code" if "code" in found else "name"
    for n, r in enumerate(raw[1:], start=2):
        cells = {h: clean(v) for h, v in zip(headers, r, strict=False) if h}
        if not any(cells.values()):
            continue
        item = cells.get(key, "")
        if not item:
            raise CellError(f"材料表「{title}」第 {n} 行「{key}」：为空，无法对应到事项")
        one = {f: cells.get(h, "") for f, h in found.items()}
        one["_row"] = f"材料表「{title}」第 {n} 行"
        sheet.materials.setdefault(item, []).append(one)


def _read_csv(path: Path) -> Sheet:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CellError(f"{path.name} 既不是 UTF-8 也不是 GBK 编码")
    raw = [list(r) for r in csv.reader(io.StringIO(text))]
    headers, rows = _rows(raw, 1)
    return Sheet(path.name, headers, rows)


def _read_json(path: Path) -> Sheet:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CellError(f"{path.name} 不是有效的 JSON：{exc}") from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        raise CellError(f"{path.name}：JSON 顶层应为事项列表")
    if data and all(isinstance(d, dict) and "department" in d and "items" in d for d in data):
        return departments_shape(path.name, data)
    rows, headers = [], {}
    for i, obj in enumerate(data, start=1):
        if not isinstance(obj, dict):
            raise CellError(f"{path.name} 第 {i} 个事项：应为对象（表头: 值）")
        cells = {clean(k): _json_cell(v) for k, v in obj.items()}
        headers.update(dict.fromkeys(cells))
        rows.append(Row(i, cells))
    return Sheet(path.name, list(headers), rows)


def _json_cell(v: Any) -> str:
    if isinstance(v, list):
        return "\n".join(clean(x) for x in v)
    return clean(v)


def departments_shape(name: str, data: list[dict[str, Any]]) -> Sheet:
    """A catalogue grouped by department, as some provincial sites publish it: [{department, items: [{main_item,
    sub_items: [{name, link}]}]}]. Each sub-item is a row: its name, its department, its main item as 主项名称
    (unless 未分类), and from its link the item code (itemCode) and the guide's address."""
    rows: list[Row] = []
    n = 0
    for dep in data:
        for main in dep.get("items") or []:
            family = clean(main.get("main_item"))
            for sub in main.get("sub_items") or []:
                n += 1
                link = clean(sub.get("link"))
                code = (parse_qs(urlparse(link).query).get("itemCode") or [""])[0] if link else ""
                cells = {
                    HEADER["name"]: clean(sub.get("name")),
                    HEADER["department"]: clean(dep.get("department")),
                    HEADER["family"]: "" if family in ("", "未分类") else family,
                    HEADER["code"]: code,
                    HEADER["guide_url"]: link,
                }
                rows.append(Row(n, cells))
    headers = [HEADER[f] for f in ("code", "name", "family", "department", "guide_url")]
    return Sheet(name, headers, rows)


# -- cells -----------------------------------------------------------------------------------------------
def lines(text: str) -> list[str]:
    """A cell of several entries, one per line (or numbered on one line: "1.… 2.…"), numbering removed."""
    if not text:
        return []
    parts = text.split("\n")
    if len(parts) == 1:
        parts = re.split(r"(?<=[；;。])\s*(?=\d{1,2}[.、．])|\s+(?=\d{1,2}[.、．])", text)
    out = []
    for p in parts:
        p = _NUMBERING.sub("", p).strip().rstrip("；;")
        if p:
            out.append(p)
    return out


def words(text: str) -> list[str]:
    """A cell of short words (aliases, keywords): separated by lines, commas, 、 or semicolons."""
    return [w.strip() for w in re.split(r"[\n,，、;；]", text or "") if w.strip()]


def is_empty(text: str) -> bool:
    return text.strip() in _EMPTY


def yes_no(text: str) -> bool | None:
    t = unicodedata.normalize("NFKC", text).strip().lower()
    if t in _EMPTY - {"无"} or not t:
        return None
    if t in _YES or t.startswith("是"):
        return True
    if t in _NO or t.startswith(("否", "不")):
        return False
    raise CellError(f"“{short(text)}”应为“是”或“否”")


def short(text: str, n: int = 20) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def number(text: str) -> int:
    t = unicodedata.normalize("NFKC", text).strip()
    if t.isdigit():
        return int(t)
    if t and all(c in _CN_NUM for c in t):
        if t == "十":
            return 10
        if len(t) == 2 and t[0] == "十":
            return 10 + _CN_NUM[t[1]]
        if len(t) == 1:
            return _CN_NUM[t]
    raise CellError(f"“{short(text)}”不是数字")


_LIMIT = re.compile(
    r"^(?P<n>\d+|[零一二三四五六七八九十]{1,3})\s*(?:个)?\s*(?P<unit>工作日|自然日|日|天)(?P<rest>.*)$", re.S
)
_ON_THE_SPOT = ("即办", "当场办结", "立即办结", "即时办结", "当场")


def time_limit(text: str) -> tuple[int, str, str]:
    """(days, unit, note) of a time limit cell: "20个工作日", "即办", "60日（不含公示期）"."""
    t = unicodedata.normalize("NFKC", text).strip()
    if any(t.startswith(w) for w in _ON_THE_SPOT):
        rest = t
        for w in _ON_THE_SPOT:
            if rest.startswith(w):
                rest = rest[len(w) :]
                break
        return 0, "工作日", _note(rest)
    m = _LIMIT.match(t)
    if not m:
        raise CellError(f"无法识别的时限“{short(text)}”：应写成“20个工作日”“60日”或“即办”")
    unit = "工作日" if m.group("unit") == "工作日" else "日"
    return number(m.group("n")), unit, _note(m.group("rest"))


def _note(rest: str) -> str:
    rest = rest.strip()
    if rest.startswith(("（", "(")) and rest.endswith(("）", ")")):
        rest = rest[1:-1]
    return rest.strip(" ，,；;。")


def visits(text: str) -> int:
    t = unicodedata.normalize("NFKC", text).strip()
    t = re.sub(r"^(?:最多跑|跑|到现场)", "", t)
    t = re.sub(r"次$", "", t).strip()
    if t in ("零", "0", "不用跑"):
        return 0
    return number(t)


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def date(value: str) -> dt.date:
    t = unicodedata.normalize("NFKC", value).strip()
    t = t.split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2} \d", t) else t
    m = _DATE.match(t)
    if not m:
        raise CellError(f"无法识别的日期“{short(value)}”：应写成 2026-11-01")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise CellError(f"日期“{short(value)}”不存在") from None


_PERSON = (
    "自然人",
    "个人",
    "公民",
    "居民",
    "群众",
    "市民",
    "农民",
    "职工",
    "老年人",
    "残疾人",
    "学生",
    "儿童",
)
_ORGANISATION = ("法人", "企业", "单位", "组织", "机关", "机构", "个体工商户", "社会团体", "合作社", "非法人")


def audience(text: str) -> str:
    person = any(w in text for w in _PERSON)
    org = any(w in text for w in _ORGANISATION)
    if person and org:
        return "个人/法人"
    if person:
        return "个人"
    if org:
        return "法人"
    raise CellError(f"无法识别的服务对象“{short(text)}”：应写“自然人”“法人”或两者")


def material(line: str) -> dict[str, Any]:
    """One material from a line of a 申请材料 cell: "居民身份证（原件 1份）：本人到场时出示". Only a final
    bracket made of known words (原件, 复印件, N份, 视情况提供…) says the form and copies; any other bracket is
    part of the name ("公司登记（备案）申请书")."""
    note = ""
    body = line.strip()
    m = re.match(r"^(.*?[）)])\s*[:：]\s*(.+)$", body) or re.match(r"^([^:：（(]+)\s*[:：]\s*(.+)$", body)
    if m and _spec(_last_bracket(m.group(1))[1]) is not None:
        body, note = m.group(1).strip(), m.group(2).strip()
    elif m and "（" not in m.group(1) and "(" not in m.group(1):
        body, note = m.group(1).strip(), m.group(2).strip()
    out: dict[str, Any] = {"name": body, "form": None, "copies": None}
    name, spec = _last_bracket(body)
    parsed = _spec(spec) if spec else None
    if parsed is not None:
        out["name"] = name
        out.update(parsed)
    if note:
        out["note"] = note
    if not out["name"]:
        raise CellError(f"材料“{short(line)}”没有名称")
    return out


def _last_bracket(text: str) -> tuple[str, str]:
    m = re.match(r"^(.*)[（(]([^（）()]*)[）)]$", text.strip())
    return (m.group(1).strip(), m.group(2)) if m else (text.strip(), "")


def _spec(spec: str) -> dict[str, Any] | None:
    """Form, copies and whether required, from a bracket of known words; None when it holds anything else."""
    out: dict[str, Any] = {}
    rest = spec
    for w, form in sorted([*_FORM_WORDS.items(), *((f, f) for f in _FORMS)], key=lambda wf: -len(wf[0])):
        if w in rest:
            out["form"] = form
            rest = rest.replace(w, " ", 1)
            break
    m = re.search(r"(\d+|[一二三四五六七八九十])\s*份", rest)
    if m:
        out["copies"] = number(m.group(1))
        rest = rest[: m.start()] + " " + rest[m.end() :]
    for w in _OPTIONAL:
        if w in rest:
            out["required"] = False
            rest = rest.replace(w, " ", 1)
            break
    if not out or re.sub(r"[\s,，、;；]", "", rest):
        return None
    return out


def material_row(cells: dict[str, str]) -> dict[str, Any]:
    """One material from a row of the second sheet."""
    out: dict[str, Any] = {"name": cells.get("name", "").strip(), "form": None, "copies": None}
    if not out["name"]:
        raise CellError("材料名称为空")
    form = cells.get("form", "").strip()
    if form and not is_empty(form):
        got = _spec(form)
        if got is None or "form" not in got:
            raise CellError(f"无法识别的材料形式“{short(form)}”：应为 {'、'.join(_FORMS)} 之一")
        out["form"] = got["form"]
    copies = cells.get("copies", "").strip()
    if copies and not is_empty(copies):
        out["copies"] = number(re.sub(r"份$", "", copies))
    req = cells.get("required", "").strip()
    if req:
        if any(w in req for w in _OPTIONAL) or req.startswith(("否", "非")):
            out["required"] = False
        elif not any(req.startswith(w) for w in _REQUIRED):
            raise CellError(f"“{short(req)}”应为“必需”或“非必需”")
    if cells.get("note", "").strip():
        out["note"] = cells["note"].strip()
    return out


def material_text(m: Any) -> str:
    """The line export writes for a material, which `material` reads back to the same material."""
    spec = []
    if m.form:
        spec.append(m.form)
    if m.copies is not None:
        spec.append(f"{m.copies}份")
    if not m.required:
        spec.append("视情况提供")
    text = m.name + (f"（{' '.join(spec)}）" if spec else "")
    return text + (f"：{m.note}" if m.note else "")


def limit_text(days: int | None, unit: str) -> str:
    if days is None:
        return ""
    if days == 0:
        return "即办"
    return f"{days}个工作日" if unit == "工作日" else f"{days}日"


def free_words(text: str) -> bool:
    t = unicodedata.normalize("NFKC", text).strip()
    return t in ("0", "0元", "否", "无") or any(t.startswith(w) for w in _FREE_WORDS)
