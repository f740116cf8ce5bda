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
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert [r["number"] for r in rows] == [number] and rows[0]["state"] == "办理中"
    out_jsonl = tmp_path / "t.jsonl"
    run, args = _parse(
        ["tickets", "export", "--format", "jsonl", "--mask", "-o", str(out_jsonl), "--db", str(db)]
    )
    assert await _in_thread(run, args) == 0
    row = json.loads(out_jsonl.read_text(encoding="utf-8").splitlines()[0])
    assert row["phone"] == "138****5678"


async def test_missing_database_is_a_clear_error(tmp_path, capsys):
    run, args = _parse(["tickets", "list", "--db", str(tmp_path / "none.db")])
    assert await _in_thread(run, args) == 2
    assert "找不到诉求数据库" in capsys.readouterr().err


async def _in_thread(run, argv):
    # the commands start their own event loop, as they do under python -m bot
    import asyncio

    return await asyncio.to_thread(run, argv)
