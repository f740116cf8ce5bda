"""The 派单目录 as a workbook (issue 14): exported and imported back unchanged, an edited row taking effect on
reload, and every bad row named with its number, 编号 and column while nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.cli.main import main
from bot.core.knowledge import load_knowledge
from bot.core.routing import Routing, load_routing_data

ROOT = Path(__file__).resolve().parents[1]
DRONE = "小区上空总有无人机飞来飞去，还对着窗户拍"


@pytest.fixture
def kb_dir(tmp_path):
    d = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", d)
    return d


def run(kb_dir: Path, *argv: str) -> int:
    return main(["--knowledge", str(kb_dir), "routing", *argv])


def test_export_then_import_gives_back_the_same_catalogue(kb_dir, tmp_path, capsys):
    kb = load_knowledge(kb_dir)
    before = load_routing_data(kb_dir, kb)
    sheet = tmp_path / "派单目录.xlsx"
    assert run(kb_dir, "export", "--to", str(sheet)) == 0
    assert load_workbook(sheet).sheetnames == ["派单目录", "填写说明"]

    assert run(kb_dir, "import", str(sheet)) == 0
    out = capsys.readouterr().out
    assert (
        f"{len(before.entries)} 行，新增 0 个条目，更新 0 个，删除 0 个，未变 {len(before.entries)} 个" in out
    )
    after = load_routing_data(kb_dir, load_knowledge(kb_dir))
    assert after.entries == before.entries and after.dispatcher == before.dispatcher
    assert after.territories == before.territories  # places.yaml is left alone


def test_an_imported_row_takes_effect_on_reload(kb_dir, tmp_path, capsys):
    routing = Routing(load_knowledge(kb_dir), kb_dir)
    assert not routing.route(DRONE).sure
    sheet = tmp_path / "d.xlsx"
    assert run(kb_dir, "export", "--to", str(sheet)) == 0
    wb = load_workbook(sheet)
    wb.active.append(
        [
            "drones",
            "无人机扰民、偷拍",
            "公安局",
            "公安政法",
            "否",
            "无人机，航拍、飞手",
            "",
            "无人机对着窗户拍",
        ]
    )
    wb.save(sheet)

    assert run(kb_dir, "import", str(sheet), "--dry-run") == 0
    assert "（试运行，未写入）" in capsys.readouterr().out
    assert routing.reload() is False  # a dry run writes nothing

    assert run(kb_dir, "import", str(sheet)) == 0
    assert "新增：drones" in capsys.readouterr().out
    assert routing.reload() is True
    d = routing.route(DRONE)
    assert (
        d.sure
        and d.unit == "公安局"
        and d.entry is not None
        and d.entry.keywords == ["无人机", "航拍", "飞手"]
    )


def test_bad_rows_are_each_named_and_nothing_is_written(kb_dir, tmp_path, capsys):
    sheet = tmp_path / "d.xlsx"
    assert run(kb_dir, "export", "--to", str(sheet)) == 0
    wb = load_workbook(sheet)
    ws = wb.active
    first_id = ws["A2"].value
    ws["C3"] = "无人机管理局"  # not a department
    ws["A5"] = first_id  # the id of row 2 again
    ws["E6"] = "也许"  # not 是/否
    ws["F7"] = ""  # no keywords
    ws["G8"] = ws["F8"].value.split("、")[0]  # an exclusion that is also a keyword
    ws["A9"] = "Bad Id"
    ws["D10"] = "无人机类"  # not an appeal category
    wb.save(sheet)
    before = (kb_dir / "dispatch.yaml").read_bytes()

    assert run(kb_dir, "import", str(sheet)) == 1
    out = capsys.readouterr().out
    assert "导入失败，派单目录没有任何改动" in out
    ids = {n: ws[f"A{n}"].value for n in range(2, 11)}
    assert f"第 3 行（编号 {ids[3]}）：列「承办单位」：「无人机管理局」未在 departments 中定义" in out
    assert f"第 5 行（编号 {first_id}）：编号与第 2 行重复" in out
    assert f"第 6 行（编号 {ids[6]}）：列「属地事项」：“也许”应为“是”或“否”" in out
    assert f"第 7 行（编号 {ids[7]}）：关键词 不能为空" in out
    assert f"第 8 行（编号 {ids[8]}）：列「排除词」：" in out and "同时是关键词" in out
    assert "第 9 行（编号 Bad Id）：列「编号」：只能用小写字母" in out
    assert f"第 10 行（编号 {ids[10]}）：列「诉求类别」：「无人机类」不是 appeals 中的诉求类别" in out
    assert (kb_dir / "dispatch.yaml").read_bytes() == before


def test_a_sheet_that_is_not_a_dispatch_catalogue_is_refused_by_name(kb_dir, tmp_path, capsys):
    sheet = tmp_path / "x.xlsx"
    wb = Workbook()
    wb.active.append(["编号", "事项", "承办单位", "诉求类别", "关键词", "备注"])
    wb.save(sheet)
    assert run(kb_dir, "import", str(sheet)) == 1
    assert "不认识的列「备注」" in capsys.readouterr().out

    (tmp_path / "x.csv").write_text("编号,事项\n", encoding="utf-8")
    assert run(kb_dir, "import", str(tmp_path / "x.csv")) == 1
    assert "派单目录请使用 .xlsx 表格" in capsys.readouterr().out
    assert run(kb_dir, "import", str(tmp_path / "missing.xlsx")) == 2
