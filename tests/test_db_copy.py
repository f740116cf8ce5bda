"""python -m bot db copy: a whole SQLite database into another database (PostgreSQL, or another SQLite file),
checked table by table, safe to run again, refusing a target already in use; and back from PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.media import Media
from bot.core.messages import Incoming
from bot.core.storage.copying import canonical
from tests.store_engines import requires_postgres
from tests.test_assistant_flow import STAFF, as_citizen, as_staff, button, drain, file_ticket

TABLES = {
    "attachments",
    "drafts",
    "leases",
    "meta",
    "outbox",
    "questions",
    "reminders_sent",
    "routing_examples",
    "routing_models",
    "seen_updates",
    "staff",
    "staff_log",
    "ticket_counters",
    "ticket_events",
    "tickets",
}


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def live_deployment(path: Path, clock, build_app) -> dict[str, str]:
    """An SQLite database as a deployment leaves it: tickets in every state with their history, a staff photo (an
    attachment), reminders sent, notifications sent, waiting and parked, an intake half done, an awaited comment,
    staff, logged questions, seen updates, leases and the calendar fingerprint. Returns what the tests look for."""
    app = await build_app(path, clock, extra_admins={STAFF})
    a = app.assistant
    await as_staff(a, "/staff add 7001 handler 公安局 李警官")
    number, _ = await file_ticket(a)
    await as_staff(a, f"/claim {number}")
    await as_staff(a, f"/reply {number} 您好，已安排人员处理。")
    photo = Media("photo", "file-1", "uniq-1", 2048, "维修前", "image/jpeg", None, STAFF)
    await a.handle(Incoming(STAFF, STAFF, text=f"/reply {number} 现场照片", media=(photo,)))  # an attachment
    await as_staff(a, f"/resolve {number} 已修好。")
    rate = [r for r in await drain(a, clock) if r.reply.buttons]
    await as_citizen(a, callback=button([n.reply for n in rate], "2"))  # a low rating waits for a comment
    second, _ = await file_ticket(a)
    await as_citizen(a, "社保卡丢了怎么补办")
    await as_citizen(a, "宠物护照怎么办")  # a question the base cannot answer
    await as_citizen(a, "驾照\x00怎么换")  # a NUL character: PostgreSQL keeps U+FFFD in its place
    await a.handle(
        Incoming("8001", "8001", text="我们楼下的垃圾一直没人清运，臭得不行")
    )  # an intake half done
    clock.advance(hours=3)  # the second ticket's contact deadline passed: its reminders
    assert await a.tick() >= 1
    rows = await a.outbox.claim(100)
    await a.outbox.failed(rows[0].id, "Forbidden: bot was blocked by the user", clock.now(), park=True)
    await a.outbox.sent(rows[1].id)
    for update in (101, 102, 103):
        assert await a.first_time(update)
    await a.scheduler.queue_digests(clock.now().date(), {"*": None})
    await routing_model(app.store, clock)  # the resolution above was a routing example; and a model
    await app.aclose()
    return {"first": number, "second": second}


async def routing_model(store, clock) -> None:
    from bot.core.routing.learned import NgramModel
    from bot.core.storage.protocols import RoutingModelRow

    model = NgramModel.train(
        ["路灯不亮了", "楼下路灯坏了", "工地噪音扰民", "夜里施工太吵"], ["城管", "城管", "环保", "环保"]
    )
    row = RoutingModelRow(0, clock.now(), 4, 1, 0, 0.5, 0.4, True, model.to_bytes())
    await store.routing.save_model(row, activate=True)


async def table_rows(store) -> dict[str, list[tuple]]:
    out = {}
    for shape in await store.tables.shapes():
        rows: list[tuple] = []
        async for batch in store.tables.read(shape, 1000):
            rows += [tuple(map(canonical, r)) for r in batch]
        out[shape.name] = sorted(rows, key=repr)
    return out


@pytest.fixture
async def source(tmp_path, clock, build_app):
    path = tmp_path / "data" / "zwfw.db"
    facts = await live_deployment(path, clock, build_app)
    return path, facts


async def test_copy_moves_everything_and_checks_it(engine, source, clock, capsys):
    path, facts = source
    assert await run("db", "copy", "--from", f"sqlite:///{path}", "--to", engine.database) == 0
    out, err = capsys.readouterr()
    assert "全部一致" in out and "不一致" not in out
    assert "复制 tickets" in err and "核对 tickets" in err  # the progress: a line per table off a terminal

    from bot.core.storage.sqlite import open_sqlite_store

    src = await open_sqlite_store(path, clock=clock, migrate=False)
    dst = await engine.open(clock=clock)
    try:
        with sqlite3.connect(path) as conn:  # the NUL character was there to copy
            assert (
                conn.execute("SELECT count(*) FROM questions WHERE instr(text, char(0)) > 0").fetchone()[0]
                == 1
            )
        before, after = await table_rows(src), await table_rows(dst)
        assert set(after) >= TABLES  # every table, these at least
        assert f"完成：{len(after)} 个表" in out
        for name in after:
            assert after[name] == before[name], name
            assert before[name] or name not in TABLES, name  # every kind of row was there to copy
        # the domain reads the same on the target
        for number in facts.values():
            a, b = await src.tickets.get(number), await dst.tickets.get(number)
            assert a == b and await src.tickets.events(a.id) == await dst.tickets.events(b.id)
        assert await dst.state.load("8001") == await src.state.load("8001") is not None
        assert [r.id for r in await dst.outbox.parked()] == [r.id for r in await src.outbox.parked()] != []
        assert await dst.updates.first_time(102, clock.now()) is False
        # numbering and ids go on after the copied ones
        from tests.test_storage import hook, new_ticket

        copied = [(await src.tickets.get(n)).id for n in facts.values()]
        made = await dst.tickets.create(new_ticket(clock, 99), hook)
        top = max(int(n[-4:]) for n in facts.values())
        assert made.number.endswith(f"-{top + 1:04d}") and made.id > max(copied)
    finally:
        await src.close()
        await dst.close()


async def test_copy_again_is_safe_and_brings_the_target_up_to_date(engine, source, clock, build_app, capsys):
    path, facts = source
    target = engine.database
    assert await run("db", "copy", "--from", str(path), "--to", target) == 0
    assert await run("db", "copy", "--from", str(path), "--to", target) == 0  # nothing to change
    assert "全部一致" in capsys.readouterr().out
    # the deployment went on meanwhile: a new ticket, the half-done intake given up, a ticket claimed
    app = await build_app(path, clock, extra_admins={STAFF})
    third, _ = await file_ticket(app.assistant)
    await app.assistant.handle(Incoming("8001", "8001", text="/cancel"))
    await as_staff(app.assistant, f"/claim {facts['second']}")
    await app.aclose()
    assert await run("db", "copy", "--from", str(path), "--to", target) == 0
    out = capsys.readouterr().out
    assert "全部一致" in out and "删除了源数据库中已没有的 1 行" in out
    dst = await engine.open(clock=clock)
    try:
        assert await dst.tickets.get(third) is not None
        assert await dst.state.load("8001") is None
        assert (await dst.tickets.get(facts["second"])).handler == STAFF
    finally:
        await dst.close()


async def test_a_target_already_in_use_is_refused_before_anything_is_written(engine, source, clock, capsys):
    path, _ = source
    dst = await engine.open(clock=clock)
    from tests.test_storage import hook, new_ticket

    await dst.tickets.create(new_ticket(clock, 1, citizen_id="someone-else"), hook)
    await dst.close()
    assert await run("db", "copy", "--from", str(path), "--to", engine.database) == 2
    err = capsys.readouterr().err
    assert "已有 1 件源数据库没有的诉求" in err and "没有复制任何内容" in err
    dst = await engine.open(clock=clock)
    try:
        assert await dst.staff.list() == []  # nothing was written
    finally:
        await dst.close()


async def test_a_source_with_pending_migrations_is_named(tmp_path, capsys):
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at INTEGER)"
        )
    assert await run("db", "copy", "--from", str(old), "--to", str(tmp_path / "new.db")) == 2
    err = capsys.readouterr().err
    assert "源数据库 SQLite" in err and "有待应用的迁移" in err and "python -m bot db migrate" in err
    assert await run("db", "copy", "--from", str(old), "--to", str(old)) == 2
    assert "是同一个" in capsys.readouterr().err


@requires_postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_back_from_postgresql_into_a_new_sqlite_file(engine, source, tmp_path, clock, capsys):
    path, facts = source
    assert await run("db", "copy", "--from", str(path), "--to", engine.database) == 0
    back = tmp_path / "back.db"
    assert await run("db", "copy", "--from", engine.database, "--to", f"sqlite:///{back}") == 0
    assert "全部一致" in capsys.readouterr().out
    from bot.core.storage.sqlite import open_sqlite_store

    a = await open_sqlite_store(path, clock=clock)
    b = await open_sqlite_store(back, clock=clock)
    try:
        assert await table_rows(a) == await table_rows(b)
    finally:
        await a.close()
        await b.close()


def test_the_progress_bar_on_a_terminal():
    from bot.cli.db import ProgressBar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    bar = ProgressBar(out)
    bar("copy", "tickets", 0, 200)
    bar("copy", "tickets", 200, 200)
    bar("copy", "ticket_events", 5, 5)
    bar("check", "tickets", 200, 200)
    bar.end()
    text = out.getvalue()
    assert "\r  复制 tickets" in text and "█" * ProgressBar.WIDTH in text and "100%" in text
    assert text.count("\n") == 3 and "复制 ticket_events" in text and "核对 tickets" in text
