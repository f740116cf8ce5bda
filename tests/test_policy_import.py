"""`python -m bot kb import 政策清单.xlsx --into DIR`: a centre's 惠企政策 in Excel become policies of its 政策库;
every bad row and cell is named and nothing is written; importing the same sheet again changes nothing; the
政策库 exported to a workbook imports back to the very same policies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.knowledge import load_knowledge
from bot.core.knowledge.sheets import Row
from bot.core.policies.importer import (
    GROUP_FIELDS,
    apply_policy_import,
    export_policies,
    plan_policy_import,
)
from bot.core.policies.models import Policy
from bot.core.policies.sheet import EXPORT_FIELDS, HEADER, read_policy_sheet, recognise, row_policy
from bot.core.resources import data_dir

from .catalog_helpers import TODAY

RENT = {
    "id": "local-rent-2026",
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
    "start": "2026-01-01",
    "end": "2026-12-31",
    "size": "小微",
    "place": "示例区",
    "years": "≤3",
    "industry": "I、软件和信息技术服务业",
    "source": "示例区财政局网站（示例）",
}
STAMP = {
    "name": "示例区科技型企业研发奖励",
    "department": "科学技术局",
    "issuer": "示例区科学技术局",
    "document": "示例科〔2026〕2号（示例）",
    "level": "示例区",
    "summary": "研发投入达到一定规模的科技型中小企业，按研发投入的10%奖励。",
    "amount": "研发投入的10%，最高20万元",
    "mode": "免申即享",
    "how": "区科技局根据税务部门的加计扣除数据直接拨付",
    "start": "2026-01-01",
    "recognitions": "科技型中小企业",
    "facts": "研发投入",
    "employees": "不超过500人",
    "revenue": "1-20000",
    "source": "示例区科学技术局（示例）",
}
GROUPS = [
    {"id": "local-rent-2026", "entity": "企业", "employees": "≤100"},
    {"id": "local-rent-2026", "entity": "个体工商户"},
]


def write_sheet(path: Path, rows: list[dict], groups: list[dict] | None = None) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "政策"
    ws.append(["示例区惠企政策清单（2026年）"])  # a title line above the header, as real sheets have
    ws.append([HEADER[f] for f in EXPORT_FIELDS])
    for r in rows:
        ws.append([r.get(f, "") for f in EXPORT_FIELDS])
    if groups:
        g = wb.create_sheet("满足其一")
        g.append([HEADER[f] for f in GROUP_FIELDS])
        for r in groups:
            g.append([r.get(f, "") for f in GROUP_FIELDS])
    wb.save(path)
    return path


@pytest.fixture
def base(tmp_path) -> Path:
    """A copy of the shipped base; its 政策库 keeps only the reference data when `bare` is asked."""
    dst = tmp_path / "kb"
    shutil.copytree(data_dir("knowledge"), dst)
    return dst


def bare(base: Path) -> Path:
    for name in ("tax.yaml", "employment.yaml", "local.yaml"):
        (base / "policies" / name).unlink()
    return base


def kb_import(capsys, *args) -> tuple[int, str]:
    code = main(["kb", "import", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out + err


def test_a_policy_sheet_is_imported_and_answers_the_same_again_changes_nothing(tmp_path, base, capsys):
    sheet = write_sheet(tmp_path / "惠企政策清单.xlsx", [RENT, STAMP], GROUPS)
    code, out = kb_import(capsys, sheet, "--into", base)  # recognised by its 政策名称 column, no flag needed
    assert code == 0, out
    assert "新增 2 条政策" in out and "示例区小微企业房租补贴 [local-rent-2026]" in out
    written = base / "policies" / "imported" / "惠企政策清单.yaml"
    lib = load_knowledge(base).policies
    rent = lib.get("local-rent-2026")
    assert (
        rent is not None
        and rent.claim.mode == "依申请"
        and rent.claim.materials[1].startswith("房屋租赁合同")
    )
    assert rent.conditions.size == ["小型", "微型"] and rent.conditions.years.max == 3
    assert rent.conditions.industry.include == ["I", "65"]
    assert [g.entity for g in rent.any_of] == [["企业"], ["个体工商户"]] and rent.any_of[
        0
    ].employees.max == 100
    stamp = next(p for p in lib.policies.values() if p.name == STAMP["name"])
    assert stamp.aliases == [stamp.name] and stamp.conditions.facts == {"研发投入": True}
    assert stamp.conditions.employees.max == 500 and stamp.conditions.revenue.min == 1
    assert stamp.updated == rent.updated  # today's date, as the sheet gave none
    before = written.read_bytes()
    code, out = kb_import(capsys, sheet, "--into", base)
    assert code == 0 and "没有任何变化" in out and "未变 2 条" in out
    assert written.read_bytes() == before


def test_bad_rows_and_cells_are_named_and_nothing_is_written(tmp_path, base, capsys):
    rows = [
        {**RENT, "years": "很多年"},
        {**RENT, "id": "b", "industry": "99、直播带货"},
        {**RENT, "id": "c", "mode": "自动兑现"},
        {**RENT, "id": "d", "name": ""},
        {**RENT, "id": "e", "place": "火星"},
        {**RENT, "id": "f", "department": "宇宙局"},
        {**RENT, "id": "g", "mode": "依申请", "materials": ""},
        {**RENT, "id": "h", "end": "2025-01-01"},
        {**RENT, "id": "i", "facts": "会飞：是"},
    ]
    sheet = write_sheet(tmp_path / "bad.xlsx", rows, [{"id": "i", "employees": "很多"}])
    code, out = kb_import(capsys, sheet, "--into", base, "--policies")
    assert code == 1 and "导入失败，政策库没有任何改动" in out
    expected = [
        "第 3 行「成立年限（年）」：无法识别的数量条件“很多年”",
        "第 4 行「行业」：未知的行业“99”",
        "第 5 行「兑现方式」：“自动兑现”应为 免申即享、即申即享、依申请 之一",
        "第 6 行「政策名称」：政策名称为空",
        "第 7 行「属地」：未知的地区「火星」",
        "第 8 行「主管部门」：部门「宇宙局」未在 departments 中定义",
        "第 9 行「申请材料」：依申请的政策必须写明 materials",
        "第 10 行「截止日期」：end 2025-01-01 早于 start 2026-01-01",
        "第 11 行「情况」：未知的情况“会飞”",
        "「满足其一」表第 2 行「从业人数」：无法识别的数量条件“很多”",
    ]
    for line in expected:
        assert line in out, (line, out)
    assert not (base / "policies" / "imported").exists()


def test_a_sheet_without_a_base_or_with_a_clashing_id_is_refused(tmp_path, base, capsys):
    sheet = write_sheet(tmp_path / "p.xlsx", [{**RENT, "id": "rd-super-deduction"}])
    code, out = kb_import(capsys, sheet, "--into", base)
    assert code == 1 and "id rd-super-deduction 已在 kb/policies/tax.yaml 中定义" in out
    code, out = kb_import(capsys, sheet, "--into", tmp_path / "nothing-here", "--policies")
    assert code == 1 and "不是含政策库的知识库" in out


def test_reimport_keeps_hand_added_aliases_and_updates_only_what_changed(tmp_path, base, capsys):
    sheet = write_sheet(tmp_path / "p.xlsx", [RENT, STAMP], GROUPS)
    plan = plan_policy_import(sheet, base, today=TODAY)
    apply_policy_import(plan)
    text = plan.file.read_text(encoding="utf-8").replace("- 租金补贴", "- 租金补贴\n  - 房补", 1)
    plan.file.write_text(text, encoding="utf-8")
    write_sheet(sheet, [{**RENT, "amount": "按实际支付房租的50%补贴"}, STAMP], GROUPS)
    later = TODAY.replace(day=28)
    plan = plan_policy_import(sheet, base, today=later)
    assert [c.id for c in plan.updated] == ["local-rent-2026"] and plan.unchanged == 1
    assert plan.updated[0].fields == ["amount", "updated"]
    apply_policy_import(plan)
    rent = load_knowledge(base).policies.get("local-rent-2026")
    assert rent.amount == "按实际支付房租的50%补贴" and "房补" in rent.aliases and rent.updated == later


def test_every_shipped_policy_reads_back_from_its_cells_as_the_same_policy(tmp_path, real_kb):
    """The cell conventions cover every condition the 政策库 uses: each policy exported reads back equal."""
    lib = real_kb.policies
    path = export_policies(lib, tmp_path / "all.xlsx") and tmp_path / "all.xlsx"
    sheet = read_policy_sheet(path)
    cols, unknown = recognise(sheet.headers)
    assert not unknown and len(sheet.rows) == len(lib)
    for row in sheet.rows:
        data, errors = row_policy(row, cols, sheet, lib)
        assert not errors, errors
        original = lib.get(data["id"])
        assert Policy.model_validate(data) == original, data["id"]


def test_export_then_import_into_a_bare_library_round_trips(tmp_path, base, real_kb, capsys):
    bare(base)
    exported = tmp_path / "政策库.xlsx"
    assert (
        main(["--knowledge", str(data_dir("knowledge")), "kb", "export", "--policies", "--to", str(exported)])
        == 0
    )
    capsys.readouterr()
    code, out = kb_import(capsys, exported, "--into", base)
    assert code == 0 and f"新增 {len(real_kb.policies)} 条政策" in out, out
    lib = load_knowledge(base).policies
    assert lib.fingerprints() == real_kb.policies.fingerprints()
    again = tmp_path / "again.xlsx"
    assert main(["--knowledge", str(base), "kb", "export", "--policies", "--to", str(again)]) == 0
    capsys.readouterr()
    shutil.copy(again, exported)
    written = base / "policies" / "imported" / "政策库.yaml"
    before = written.read_bytes()
    code, out = kb_import(capsys, exported, "--into", base)
    assert code == 0 and "没有任何变化" in out and written.read_bytes() == before


def test_the_template_imports_as_its_example(tmp_path, base, capsys):
    template = tmp_path / "t.xlsx"
    assert main(["kb", "template", "--policies", "--to", str(template)]) == 0
    capsys.readouterr()
    code, out = kb_import(capsys, template, "--into", base, "--dry-run")
    assert code == 0 and "（试运行，未写入）" in out and "新增 1 条政策" in out
    assert not (base / "policies" / "imported").exists()


def test_a_row_object_of_the_sheet_is_what_the_reader_gives(tmp_path):
    sheet = read_policy_sheet(write_sheet(tmp_path / "p.xlsx", [RENT]))
    assert isinstance(sheet.rows[0], Row) and sheet.rows[0].number == 3  # the title line and the header above


def test_a_division_typed_as_a_number_keeps_its_leading_zero(tmp_path, base):
    sheet = write_sheet(tmp_path / "p.xlsx", [{**RENT, "industry": 3}])  # Excel stores 03 as the number 3
    plan = plan_policy_import(sheet, base, today=TODAY)
    assert not plan.errors
    apply_policy_import(plan)
    rent = load_knowledge(base).policies.get("local-rent-2026")
    assert rent.conditions.industry.include == ["03"]
