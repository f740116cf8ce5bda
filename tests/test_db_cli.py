"""python -m bot db migrate|status and python -m bot health, on every engine."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from bot.cli import main
from bot.core.storage.sqlite.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parents[1]


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


def bot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


async def test_status_migrate_and_health(engine, capsys):
    db = engine.database
    if engine.name == "sqlite":  # looking at a file that is not there says so, and creates nothing
        assert await run("db", "status", "--db", db) == 2
        assert "找不到诉求数据库" in capsys.readouterr().err
        assert not await asyncio.to_thread(Path(db).exists)
        store = await engine.open(migrate=False)  # an empty database: every migration pending
        await store.close()
    versions = [v for v, _, _ in MIGRATIONS]  # the same numbers on both engines, maybe with gaps
    n, top, last = len(versions), versions[-1], MIGRATIONS[-1][1]
    assert await run("db", "status", "--db", db) == 0
    out = capsys.readouterr().out
    assert "已应用的迁移：无" in out and f"待应用的迁移（{n}）：" in out and "python -m bot db migrate" in out
    assert await run("health", "--db", db) == 1
    assert f"有 {n} 个待应用的迁移（{'、'.join(map(str, versions))}）" in capsys.readouterr().out

    assert await run("db", "migrate", "--db", db) == 0
    out = capsys.readouterr().out
    assert f"已应用迁移 {top}：{last}" in out and f"数据库现为版本 {top}" in out
    assert await run("db", "migrate", "--db", db) == 0
    assert f"没有待应用的迁移，数据库已是最新（版本 {top}）" in capsys.readouterr().out
    assert await run("db", "status", "--db", db) == 0
    out = capsys.readouterr().out
    assert f"已应用的迁移（{n}）：" in out and "待应用的迁移：无" in out
    assert await run("health", "--db", db) == 0
    assert capsys.readouterr().out.startswith("正常：")


async def test_a_failing_migration_exits_2_naming_it(engine, capsys):
    store = await engine.open()
    await store.close()
    # a later migration that cannot apply: the program's list is the engine's plus a broken one
    if engine.name == "sqlite":
        from bot.core.storage.sqlite import migrations
    else:
        from bot.core.storage.postgres import migrations
    n = max(v for v, _, _ in migrations.MIGRATIONS) + 1
    broken = (n, "broken on purpose", ["CREATE TABLE half (x INTEGER)", "ALTER TABLE nowhere ADD y INTEGER"])
    migrations.MIGRATIONS.append(broken)
    try:
        assert await run("db", "migrate", "--db", engine.database) == 2
        assert f"数据库迁移 {n}（broken on purpose）失败，已整体回滚" in capsys.readouterr().err
        assert await run("health", "--db", engine.database) == 1
        assert f"有 1 个待应用的迁移（{n}）" in capsys.readouterr().out
    finally:
        migrations.MIGRATIONS.remove(broken)
    assert await run("health", "--db", engine.database) == 0


def test_health_prints_one_line_and_exits_2_when_the_server_is_unreachable(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = bot("health", "--db", f"postgresql://zwfw:hunter2@127.0.0.1:{port}/zwfw", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0] and f"127.0.0.1:{port}" in lines[0]
    assert "hunter2" not in done.stderr


def test_health_on_a_fresh_sqlite_database_in_a_subprocess(tmp_path):
    assert bot("db", "migrate", "--db", "data/t.db", cwd=tmp_path).returncode == 0
    done = bot("health", "--db", "data/t.db", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.strip().splitlines() == [
        f"正常：SQLite data/t.db 可以连接，数据库版本 {MIGRATIONS[-1][0]}，没有待应用的迁移。"
    ]


def test_ticket_commands_on_an_unreachable_postgresql_name_it_without_the_password(tmp_path):
    """The ticket commands run on either engine; a server that is not there is named, its password never."""
    done = bot("tickets", "list", "--db", "postgresql://zwfw:hunter2@127.0.0.1:1/zwfw", cwd=tmp_path)
    assert done.returncode == 2
    assert "127.0.0.1:1" in done.stderr and "hunter2" not in done.stderr and "Traceback" not in done.stderr
