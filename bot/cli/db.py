"""Commands about the database itself, on either engine: `python -m bot db migrate|status` and
`python -m bot health`.

`db status` lists the applied and the pending migrations; `db migrate` applies the pending ones (each in one
transaction; concurrent starts apply each once); `health` prints one line and exits 0 when the database
answers and no migration is pending, 1 when migrations are pending, 2 when the database cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.settings import Settings

MIGRATE_HINT = "python -m bot db migrate"


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default=None,
        help="诉求数据库：SQLite 文件路径、sqlite:///路径 或 postgresql://…（默认 DATABASE_URL，其次 DATABASE_PATH）",
    )


def register(sub: Any) -> None:
    d = sub.add_parser("db", help="数据库迁移：查看状态（status）或执行（migrate）")
    dsub = d.add_subparsers(dest="db_command", required=True)
    m = dsub.add_parser("migrate", help="执行待应用的数据库迁移（每个迁移一个事务，失败整体回滚）")
    _db_arg(m)
    m.set_defaults(run=cmd_migrate)
    s = dsub.add_parser("status", help="列出已应用和待应用的数据库迁移")
    _db_arg(s)
    s.set_defaults(run=cmd_status)
    h = sub.add_parser("health", help="检查数据库：能否连接、有无待应用的迁移（正常时退出码 0）")
    _db_arg(h)
    h.set_defaults(run=cmd_health)


async def _open(settings: Settings, *, create: bool) -> Any:
    """The store as it is (no migration applied). An SQLite file that does not exist yet is created only when
    `create` (db migrate); looking at it (status, health) says it is missing instead."""
    from bot.app import StartupError, database_target, open_database

    path = database_target(settings).path
    if path is not None and not create and not path.exists():
        raise StartupError(f"找不到诉求数据库 {path}：运行 {MIGRATE_HINT} 创建它，或用 --db 指定。")
    return await open_database(settings, migrate=False)


async def _migrate(store: Any) -> list[int]:
    from bot.app import StartupError
    from bot.core.storage import StoreOpenError

    try:
        return await store.migrate()
    except StoreOpenError as exc:  # MigrationError too: it names the migration that was rolled back
        raise StartupError(str(exc)) from None


def _where(settings: Settings) -> str:
    from bot.app import database_target

    return database_target(settings).describe()


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> int:
        store = await _open(settings, create=False)
        try:
            status = await store.migration_status()
        finally:
            await store.close()
        print(f"数据库：{_where(settings)}")
        print(f"已应用的迁移（{len(status.applied)}）：" if status.applied else "已应用的迁移：无")
        for m in status.applied:
            print(f"  {m.version:>3}  {m.name}  （{m.applied_at:%Y-%m-%d %H:%M}）")
        if status.pending:
            print(f"待应用的迁移（{len(status.pending)}）：")
            for version, name in status.pending:
                print(f"  {version:>3}  {name}")
            print(f"运行 {MIGRATE_HINT} 应用它们。")
        else:
            print("待应用的迁移：无")
        return 0

    return asyncio.run(go())


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> int:
        store = await _open(settings, create=True)
        try:
            pending = dict((await store.migration_status()).pending)
            applied = await _migrate(store)
            versions = await store.schema_versions()
        finally:
            await store.close()
        where = _where(settings)
        if not applied:
            print(f"{where}：没有待应用的迁移，数据库已是最新（版本 {max(versions, default=0)}）。")
        for version in applied:
            print(f"已应用迁移 {version}：{pending.get(version, '')}")
        if applied:
            print(f"{where}：已应用 {len(applied)} 个迁移，数据库现为版本 {max(versions)}。")
        return 0

    return asyncio.run(go())


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    async def go() -> int:
        store = await _open(settings, create=False)
        try:
            status = await store.migration_status()
        finally:
            await store.close()
        where = _where(settings)
        if status.pending:
            versions = "、".join(str(v) for v, _ in status.pending)
            print(
                f"异常：{where} 有 {len(status.pending)} 个待应用的迁移（{versions}），请运行 {MIGRATE_HINT}。"
            )
            return 1
        version = max((m.version for m in status.applied), default=0)
        print(f"正常：{where} 可以连接，数据库版本 {version}，没有待应用的迁移。")
        return 0

    return asyncio.run(go())
