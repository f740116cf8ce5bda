"""Small catalogues written by the tests themselves, in the shapes `python -m bot kb import` reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from bot.core.knowledge.catalog import EXPORT_FIELDS
from bot.core.knowledge.sheets import HEADER

TODAY = dt.date(2026, 11, 26)

# a county catalogue grouped by department, as some provincial sites publish it (names and departments only)
DEPARTMENTS_SHAPE = [
    {
        "department": "县烟草专卖局",
        "items": [
            {
                "main_item": "烟草专卖零售许可证核发",
                "sub_items": [
                    {
                        "name": n,
                        "link": f"https://zwfw.example.gov.cn/detail?itemCode=YC{i:03d}-000&taskType=1",
                    }
                    for i, n in enumerate(
                        [
                            "烟草专卖零售许可证新办",
                            "烟草专卖零售许可证延续",
                            "烟草专卖零售许可证补办",
                            "烟草专卖零售许可证变更",
                            "烟草专卖零售许可证注销",
                        ]
                    )
                ],
            }
        ],
    },
    {
        "department": "县水务局",
        "items": [
            {
                "main_item": "未分类",
                "sub_items": [
                    {"name": "河道采砂许可", "link": "https://zwfw.example.gov.cn/detail?itemCode=SW001-000"},
                    {"name": "取水许可证新办审批（县级）", "link": ""},
                ],
            }
        ],
    },
    {
        "department": "县公安局",
        "items": [
            {
                "main_item": "未分类",
                "sub_items": [{"name": "犬类准养证核发", "link": ""}, {"name": "居住证办理", "link": ""}],
            }
        ],
    },
]


def write_departments_shape(path: Path, data: list[dict[str, Any]] | None = None) -> Path:
    path.write_text(json.dumps(data or DEPARTMENTS_SHAPE, ensure_ascii=False), encoding="utf-8")
    return path


def row(**cells: Any) -> dict[str, Any]:
    """A row by field name (see bot/core/knowledge/sheets.py COLUMNS)."""
    return cells


FULL_ROWS = [
    row(
        code="5116-XK-0001",
        name="食品经营许可（新办）",
        family="食品经营许可",
        department="县市场监督管理局",
        item_type="行政许可",
        audience="自然人、法人",
        summary="从事食品销售和餐饮服务，应当取得食品经营许可。",
        aliases="开饭店办证、食品经营许可证",
        keywords="开小吃店",
        conditions="有与经营的食品品种相适应的经营场所\n有食品安全管理人员",
        materials="食品经营许可申请书（填写 1份）\n营业执照（原件或电子证照）\n场所布局图（复印件 2份）：标明设备位置\n健康证明（视情况提供）",
        legal_limit="10个工作日",
        promised_limit="5个工作日",
        charged="否",
        fee="",
        fee_basis="",
        place="县政务服务中心市场监管窗口",
        hours="工作日 9:00-17:00",
        phone="0000-12315",
        online="是",
        channel="省政务服务网",
        url="https://zwfw.example.gov.cn",
        guide_url="",
        process="网上或窗口申请\n受理审查\n作出决定",
        visits=1,
        commitment="否",
        tolerance="是",
        legal_basis="《中华人民共和国食品安全法》第三十五条",
        updated=dt.date(2026, 11, 1),
    ),
    row(
        code="5116-XK-0002",
        name="河道采砂许可",
        department="县水务局",
        conditions="有符合要求的采砂设备",
        materials="采砂申请书\n采砂船舶证书（复印件）",
        legal_limit="20个工作日（不含专家评审时间）",
        charged="是",
        fee="按采砂量收取",
        place="县政务服务中心水务窗口",
        updated=dt.date(2026, 10, 15),
    ),
    row(name="居住证办理", department="县公安局"),
]


def write_xlsx(
    path: Path, rows: list[dict[str, Any]], fields: list[str] | None = None, extra: dict | None = None
) -> Path:
    """A workbook with the template's headers (or `fields`), one row each; `extra` adds columns by header."""
    from openpyxl import Workbook

    fields = fields or EXPORT_FIELDS
    extra = extra or {}
    wb = Workbook()
    ws = wb.active
    ws.title = "事项"
    ws.append([HEADER[f] for f in fields] + list(extra))
    for n, r in enumerate(rows):
        ws.append([r.get(f, "") for f in fields] + [v[n] for v in extra.values()])
    wb.save(path)
    return path


def read_xlsx(path: Path) -> list[dict[str, Any]]:
    """The first sheet's rows as {header: value}, empty cells as ""."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()
    head = rows[0]
    out = []
    for r in rows[1:]:
        cells = {}
        for h, v in zip(head, r, strict=False):
            if isinstance(v, dt.datetime):
                v = v.date()
            cells[h] = "" if v is None else v
        out.append(cells)
    return out
