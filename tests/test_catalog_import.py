"""`python -m bot kb import|export|template`: a centre's own 办事指南 sheet becomes a knowledge base, round-trips
through Excel, re-imports without change, and a bad cell is an error naming its row and column with nothing
written."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys

import pytest
import yaml

from bot.core.knowledge import load_knowledge
from bot.core.knowledge.catalog import apply_import, export_base, item_id, plan_import, write_template
from bot.core.knowledge.sheets import HEADER

from .catalog_helpers import FULL_ROWS, TODAY, read_xlsx, write_departments_shape, write_xlsx
from .conftest import ROOT, SHARED

GUANGAN = SHARED / "research-data" / "guangan-zwfw-items" / "bszl-data.json"


def imported(path, into, **kw):
    plan = plan_import(path, into, today=TODAY, **kw)
    assert plan.errors == []
    return plan, apply_import(plan)


def bot(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_xlsx_to_base_to_xlsx_round_trip(tmp_path):
    source = write_xlsx(tmp_path / "办事指南.xlsx", FULL_ROWS)
    _, kb = imported(source, tmp_path / "kb")
    assert len(kb.items) == 3
    out = tmp_path / "export.xlsx"
    export_base(kb, out)
    want, got = read_xlsx(source), read_xlsx(out)
    assert len(got) == len(want)
    for w, g in zip(want, got, strict=True):
        for header, value in w.items():
            if header == HEADER["updated"] and value == "":
                assert g[header] == TODAY  # the base records when an item without a date was imported
                continue
            assert g[header] == value, (w[HEADER["name"]], header)
    # and the exported workbook imports to the very same base
    _, again = imported(out, tmp_path / "kb2")
    for item_id_ in kb.items:
        a, b = kb.items[item_id_], again.items[item_id_]
        assert a.model_dump(exclude={"imported", "source"}) == b.model_dump(exclude={"imported", "source"})


def test_imported_facts_are_read_exactly_and_absent_ones_stay_absent(tmp_path):
    _, kb = imported(write_xlsx(tmp_path / "guide.xlsx", FULL_ROWS), tmp_path / "kb")
    food = kb.items[item_id("5116-XK-0001", "", "")]
    assert food.id == "5116-xk-0001" and food.audience == "个人/法人"
    assert [m.name for m in food.materials] == ["食品经营许可申请书", "营业执照", "场所布局图", "健康证明"]
    assert (food.materials[0].form, food.materials[0].copies) == ("填写", 1)
    assert (food.materials[2].form, food.materials[2].copies, food.materials[2].note) == (
        "复印件",
        2,
        "标明设备位置",
    )
    assert food.materials[3].required is False and food.materials[3].form is None
    assert (food.time_limit.legal, food.time_limit.promised) == (10, 5)
    assert food.fee.free and food.online.available and food.visits == 1 and food.tolerance
    sand = next(i for i in kb.items.values() if i.name == "河道采砂许可")
    assert sand.time_limit.promised is None and sand.time_limit.note == "不含专家评审时间"
    assert sand.fee.amount == "按采砂量收取" and sand.online is None and sand.visits is None
    bare = next(i for i in kb.items.values() if i.name == "居住证办理")
    assert bare.materials == [] and bare.time_limit is None and bare.fee is None and bare.locations == []
    assert bare.id == item_id("", "居住证办理", "县公安局")  # a stable slug without a code
    assert kb.department("县公安局").imported  # a department the base did not have was added


def test_an_absent_fact_is_never_invented_the_answer_says_where_to_ask(tmp_path, clock):
    from bot.app import DataPaths, load_answering
    from bot.core.assistant import Assistant
    from bot.core.messages import Incoming
    from bot.core.text.markup import html_to_text

    from .conftest import make_settings

    imported(write_xlsx(tmp_path / "guide.xlsx", FULL_ROWS), tmp_path / "kb")
    answering = load_answering(DataPaths.resolve(make_settings(knowledge_dir=tmp_path / "kb")))
    bare = next(i for i in answering.kb.items.values() if i.name == "居住证办理")
    for aspect, label in (
        ("materials", "申请材料"),
        ("fee", "收费"),
        ("time", "办理时限"),
        ("location", "办理地点"),
    ):
        text = html_to_text(answering.renderer.answer(bare, aspect))
        assert f"没有写明{label}" in text, aspect
        assert "请向" in text and "咨询" in text and "电话" in text  # where to ask instead
    assert "元" not in html_to_text(answering.renderer.answer(bare, "fee"))
    sand = next(i for i in answering.kb.items.values() if i.name == "河道采砂许可")
    text = html_to_text(answering.renderer.answer(sand, "materials"))
    assert "采砂申请书" in text and "没有写明" not in text
    [reply] = asyncio_run(Assistant(answering, clock).handle(Incoming("c", "c", text="居住证怎么办理")))
    assert "居住证办理" in reply.html and "没有写明" in reply.html


def asyncio_run(coro):
    import asyncio

    return asyncio.run(coro)


def test_reimporting_the_same_sheet_changes_nothing_and_keeps_hand_added_words(tmp_path):
    source = write_xlsx(tmp_path / "guide.xlsx", FULL_ROWS)
    plan, _ = imported(source, tmp_path / "kb")
    path = plan.file
    first = path.read_bytes()
    again = plan_import(source, tmp_path / "kb", today=TODAY + dt.timedelta(days=30))
    assert (len(again.added), len(again.updated), again.unchanged, again.changes) == (0, 0, 3, False)
    apply_import(again)
    assert path.read_bytes() == first  # not even the `updated` dates moved
    # an alias and a keyword added by hand survive a re-import; a changed cell updates the item and its date
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sand = next(d for d in data["items"] if d["name"] == "河道采砂许可")
    sand["aliases"] = ["挖沙许可"]
    sand["keywords"] = ["河里挖沙"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    rows = [dict(r) for r in FULL_ROWS]
    rows[1]["promised_limit"] = "15个工作日"
    later = TODAY + dt.timedelta(days=40)
    plan = plan_import(write_xlsx(tmp_path / "guide.xlsx", rows), tmp_path / "kb", today=later)
    assert [c.name for c in plan.updated] == ["河道采砂许可"] and "time_limit" in plan.updated[0].fields
    kb = apply_import(plan)
    item = next(i for i in kb.items.values() if i.name == "河道采砂许可")
    assert item.aliases == ["挖沙许可"] and item.keywords == ["河里挖沙"]
    assert item.time_limit.promised == 15
    assert item.updated == dt.date(2026, 10, 15)  # the sheet says when it was checked


def test_bad_rows_and_cells_name_row_and_column_and_nothing_is_written(tmp_path):
    kb_dir = tmp_path / "kb"
    imported(write_xlsx(tmp_path / "good.xlsx", FULL_ROWS), kb_dir)
    before = {p: p.read_bytes() for p in kb_dir.rglob("*") if p.is_file()}
    rows = [
        dict(FULL_ROWS[0], legal_limit="很快"),  # row 2
        dict(FULL_ROWS[1], charged="是", fee=""),  # row 3: charged, with no amount
        dict(name="", department="县公安局", summary="名字忘写了"),  # row 4
        dict(name="犬类准养证核发", department=""),  # row 5
        dict(FULL_ROWS[2], visits="好几次"),  # row 6
        dict(FULL_ROWS[0], name="食品经营许可（延续）"),  # row 7: the same 事项编码 as row 2
        dict(name="养犬登记", department="县公安局", audience="小猫"),  # row 8
        dict(name="临时身份证明", department="县公安局", updated="上个月"),  # row 9
    ]
    plan = plan_import(write_xlsx(tmp_path / "good.xlsx", rows), kb_dir, today=TODAY)
    errors = "\n".join(plan.errors)
    assert "第 2 行「法定办结时限」" in errors and "很快" in errors
    assert "第 3 行「收费标准」" in errors
    assert "第 4 行「事项名称」" in errors
    assert "第 5 行「实施主体」" in errors
    assert "第 6 行「跑动次数」" in errors
    assert "第 8 行「服务对象」" in errors and "第 9 行「更新日期」" in errors
    with pytest.raises(Exception):  # noqa: B017 - the plan refuses to be written, whatever the kind
        apply_import(plan)
    after = {p: p.read_bytes() for p in kb_dir.rglob("*") if p.is_file()}
    assert after == before
    # a duplicate is reported only once the cells are right
    dup = plan_import(
        write_xlsx(tmp_path / "dup.xlsx", [FULL_ROWS[0], dict(FULL_ROWS[0], name="食品经营许可（延续）")]),
        tmp_path / "fresh",
        today=TODAY,
    )
    assert any("第 3 行" in e and "与第 2 行是同一事项" in e for e in dup.errors)


def test_a_base_that_fails_validation_after_the_import_is_left_as_it_was(tmp_path):
    kb_dir = tmp_path / "kb"
    imported(write_xlsx(tmp_path / "a.xlsx", FULL_ROWS[:1]), kb_dir)
    # another sheet naming the same 事项编码 may not take over an item of the first
    plan = plan_import(write_xlsx(tmp_path / "b.xlsx", FULL_ROWS[:1]), kb_dir, today=TODAY)
    assert any("已在" in e and "a.yaml" in e for e in plan.errors)
    assert not (kb_dir / "imported" / "b.yaml").exists()


def test_unknown_columns_are_listed_and_kept(tmp_path):
    source = write_xlsx(tmp_path / "g.xlsx", FULL_ROWS, extra={"办件类型": ["承诺件", "即办件", ""]})
    plan, kb = imported(source, tmp_path / "kb")
    assert plan.unknown_columns == ["办件类型"]
    food = kb.items["5116-xk-0001"]
    assert food.imported.extra == {"办件类型": "承诺件"}
    export_base(kb, tmp_path / "out.xlsx")
    assert read_xlsx(tmp_path / "out.xlsx")[0]["办件类型"] == "承诺件"


def test_dry_run_and_the_command_report(tmp_path):
    source = write_xlsx(tmp_path / "guide.xlsx", FULL_ROWS)
    done = bot("kb", "import", str(source), "--into", str(tmp_path / "kb"), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "试运行" in done.stdout and "新增 3 个事项" in done.stdout and "新增部门" in done.stdout
    assert not (tmp_path / "kb").exists()
    done = bot("kb", "import", str(source), "--into", str(tmp_path / "kb"))
    assert done.returncode == 0 and (tmp_path / "kb" / "imported" / "guide.yaml").exists()
    done = bot("kb", "import", str(source), "--into", str(tmp_path / "kb"))
    assert "没有任何变化" in done.stdout
    bad = write_xlsx(tmp_path / "bad.xlsx", [dict(FULL_ROWS[0], promised_limit="尽快")])
    done = bot("kb", "import", str(bad), "--into", str(tmp_path / "kb"))
    assert done.returncode == 1 and "第 2 行「承诺办结时限」" in done.stdout and "没有任何改动" in done.stdout


def test_csv_in_gbk_and_json_rows_import(tmp_path):
    import csv
    import json

    path = tmp_path / "guide.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        w = csv.writer(f)
        w.writerow(["序号", "事项名称（必填）", "实施部门", "申请材料", "承诺办结时限"])
        w.writerow(["1", "居住证办理", "县公安局", "1.居民身份证（原件） 2.居住证明", "即办"])
    _, kb = imported(path, tmp_path / "kb")
    item = next(iter(kb.items.values()))
    assert [m.name for m in item.materials] == ["居民身份证", "居住证明"] and item.time_limit.promised == 0
    rows = tmp_path / "guide.json"
    rows.write_text(
        json.dumps(
            [{"事项名称": "河道采砂许可", "实施主体": "县水务局", "申请材料": ["申请书", "船舶证书"]}],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    _, kb = imported(rows, tmp_path / "kb2")
    assert [m.name for m in next(iter(kb.items.values())).materials] == ["申请书", "船舶证书"]


def test_materials_on_a_second_sheet_keyed_by_code(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["事项编码", "事项名称", "实施部门"])
    ws.append(["A-1", "河道采砂许可", "县水务局"])
    ms = wb.create_sheet("申请材料")
    ms.append(["事项编码", "材料名称", "材料形式", "份数", "是否必需", "备注"])
    ms.append(["A-1", "采砂申请书", "原件", 1, "必需", ""])
    ms.append(["A-1", "船舶证书", "复印件", 2, "非必需", "有船舶的提供"])
    wb.save(tmp_path / "g.xlsx")
    _, kb = imported(tmp_path / "g.xlsx", tmp_path / "kb")
    mats = kb.items["a-1"].materials
    assert [(m.name, m.form, m.copies, m.required) for m in mats] == [
        ("采砂申请书", "原件", 1, True),
        ("船舶证书", "复印件", 2, False),
    ]
    assert mats[1].note == "有船舶的提供"


def test_template_workbook_has_the_columns_and_an_example_row_that_imports(tmp_path):
    write_template(tmp_path / "t.xlsx")
    rows = read_xlsx(tmp_path / "t.xlsx")
    assert len(rows) == 1 and rows[0][HEADER["name"]] == "食品经营许可（新办）"
    _, kb = imported(tmp_path / "t.xlsx", tmp_path / "kb")
    (item,) = kb.items.values()
    assert item.materials and item.time_limit.promised == 5
    done = bot("kb", "template", "--to", str(tmp_path / "cmd.xlsx"))
    assert done.returncode == 0 and (tmp_path / "cmd.xlsx").exists()


def test_departments_shape_imports_and_check_passes(tmp_path):
    source = write_departments_shape(tmp_path / "catalogue.json")
    plan, kb = imported(source, tmp_path / "kb")
    assert len(kb.items) == 9 and set(plan.recognised) >= {
        "name",
        "department",
        "family",
        "code",
        "guide_url",
    }
    renew = next(i for i in kb.items.values() if i.name == "烟草专卖零售许可证延续")
    assert renew.id == "yc001-000" and renew.imported.family == "烟草专卖零售许可证核发"
    assert renew.guide_url.startswith("https://") and renew.department == "县烟草专卖局"
    done = bot("--knowledge", str(tmp_path / "kb"), "check")
    assert done.returncode == 0, done.stderr
    assert "事项 9 个" in done.stdout


@pytest.mark.skipif(not GUANGAN.exists(), reason="../shared/research-data/guangan-zwfw-items is not present")
def test_the_real_guangan_catalogue_imports_beside_the_example_base_and_check_passes(tmp_path):
    into = tmp_path / "kb"
    shutil.copytree(ROOT / "knowledge", into)
    done = bot("kb", "import", str(GUANGAN), "--into", str(into))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "新增 1135 个事项" in done.stdout and "新增部门 34 个" in done.stdout
    done = bot("--knowledge", str(into), "check")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "事项 1250 个" in done.stdout
    kb = load_knowledge(into)
    assert len(kb.items) == 1250 and len({i.id for i in kb.items.values()}) == 1250


def test_the_imported_file_is_written_as_yaml_dump_would_and_reads_back_the_same(tmp_path):
    from bot.core.knowledge.catalog import YAML_DUMPER
    from bot.core.knowledge.loader import YAML_LOADER
    from bot.core.knowledge.yaml_out import dump_block

    # what a sheet may hold: words YAML would read as something else, marks, line breaks, dates, empty lists
    tricky = [
        "yes",
        "no",
        "ON",
        "null",
        "~",
        "1.0",
        "-1",
        "0x1F",
        "1_000",
        ".inf",
        "=",
        "<<",
        "12:30",
        "2026-01-01",
        ": x #y",
        "a: b",
        "a #b",
        "x:",
        "  前后空格 ",
        "多\n行",
        "tab\there",
        "\u2028行",
        "",
        "“引号”开头",
        "、开头",
        "《书名》",
        "0826-2411423",
        "https://x.y/z?a=1#f",
        "工作日 9:00-12:00，13:30-17:00",
        "个人/法人",
    ]
    body = {
        "departments": [{"name": "县水务局", "imported": True}],
        "items": [
            {
                "id": f"x-{n}",
                "name": text,
                "conditions": [text, "申请人"],
                "materials": [{"name": text, "copies": 2, "note": None}],
                "fee": {"free": False, "amount": 1.5},
                "process": [],
                "imported": {"extra": {"备注 列": text}},
                "updated": dt.date(2026, 11, 26),
            }
            for n, text in enumerate(tricky)
        ],
    }
    text = dump_block(body)
    assert text is not None
    assert yaml.load(text, Loader=YAML_LOADER) == body == yaml.safe_load(text)
    plain = {
        "items": [{"id": "a-1", "name": "烟草专卖零售许可证新办", "conditions": ["年满18周岁"], "visits": 0}]
    }
    assert dump_block(plain) == yaml.dump(
        plain, Dumper=YAML_DUMPER, allow_unicode=True, sort_keys=False, width=1000
    )
    assert (
        dump_block({"items": [{"when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}]}) is None
    )  # yaml.dump writes it


def test_a_base_loaded_from_parsed_files_it_remembers_is_the_base_parsed_afresh(tmp_path):
    from bot.core.knowledge import loader

    into = tmp_path / "kb"
    apply_import(plan_import(write_xlsx(tmp_path / "guide.xlsx", FULL_ROWS), into, today=TODAY))
    remembered = load_knowledge(into)  # the imported file comes from what the import remembered writing it
    loader._PARSED.clear()
    fresh = load_knowledge(into)
    assert {k: e.model_dump() for k, e in remembered.entries.items()} == {
        k: e.model_dump() for k, e in fresh.entries.items()
    }
    # a changed file is parsed again, never served from what was remembered
    file = next((into / "imported").glob("*.yaml"))
    file.write_text(
        file.read_text(encoding="utf-8").replace("食品经营许可", "食品经营许可改"), encoding="utf-8"
    )
    assert any("食品经营许可改" in e.name for e in load_knowledge(into).entries.values())
