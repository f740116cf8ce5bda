"""Commands about the database itself, on either engine: `python -m bot db migrate|status|copy` and
`python -m bot health`.

`db status` lists the applied and the pending migrations; `db migrate` applies the pending ones (each in one
transaction; concurrent starts apply each once); `health` prints one line and exits 0 when the database
answers and no migration is pending, 1 when migrations are pending, 2 when the database cannot be used.
`db copy --from A --to B` copies every table of A into B (bot/core/storage/copying.py) with a progress bar, then
compares the two table by table; exit 0 when they agree, 1 when a table differs, 2 when either cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
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
    d = sub.add_parser("db", help="数据库：查看迁移状态（status）、执行迁移（migrate）、整体复制（copy）")
    dsub = d.add_subparsers(dest="db_command", required=True)
    m = dsub.add_parser("migrate", help="执行待应用的数据库迁移（每个迁移一个事务，失败整体回滚）")
    _db_arg(m)
    m.set_defaults(run=cmd_migrate)
    s = dsub.add_parser("status", help="列出已应用和待应用的数据库迁移")
    _db_arg(s)
    s.set_defaults(run=cmd_status)
    c = dsub.add_parser(
        "copy",
        help="把一个数据库整体复制到另一个（如 SQLite 迁到 PostgreSQL），并逐表核对行数和校验和；可重复运行",
    )
    c.add_argument(
        "--from",
        dest="source",
        required=True,
        help="源数据库：SQLite 文件路径、sqlite:///路径 或 postgresql://…",
    )
    c.add_argument("--to", dest="target", required=True, help="目标数据库：postgresql://… 或 SQLite 文件路径")
    c.add_argument("--batch", type=int, default=5000, help="每批复制的行数（默认 5000）")
    c.set_defaults(run=cmd_copy)
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


# --------------------------------------------------------------------------------------------- db copy


PHASES = {"copy": "复制", "check": "核对"}


class ProgressBar:
    """One line per table and phase on a terminal, redrawn as rows go by; one line per finished table and phase
    otherwise."""

    WIDTH = 24

    def __init__(self, out: Any = None):
        self.out = out or sys.stderr
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self._table = ""
        self._drawn = 0.0

    def __call__(self, phase: str, table: str, done: int, total: int) -> None:
        table = f"{PHASES.get(phase, phase)} {table}"
        if table != self._table:
            self.end()
            self._table = table
        finished = done >= total
        now = time.monotonic()
        if self.tty and (finished or now - self._drawn >= 0.1):
            self._drawn = now
            share = done / total if total else 1.0
            filled = round(self.WIDTH * share)
            bar = "█" * filled + "░" * (self.WIDTH - filled)
            self.out.write(f"\r  {table:<18} {bar} {share:>4.0%}  {done:>11,} / {total:,} 行")
            self.out.flush()
        self._last = (done, total)

    def end(self) -> None:
        if not self._table:
            return
        done, total = getattr(self, "_last", (0, 0))
        if self.tty:
            self.out.write("\n")
        else:
            self.out.write(f"  {self._table:<18} {done:>11,} / {total:,} 行\n")
        self.out.flush()
        self._table = ""


def cmd_copy(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import StartupError

    if args.batch < 1:
        raise StartupError("--batch 应为正整数。")

    async def go() -> int:
        from bot.core.storage.copying import CopyError, copy_database

        source_settings = settings.model_copy(update=_database(args.source))
        target_settings = settings.model_copy(update=_database(args.target))
        source_where, target_where = _where(source_settings), _where(target_settings)
        if source_where == target_where:
            raise StartupError(f"源数据库和目标数据库是同一个（{source_where}）。")
        source = await _open(source_settings, create=False)
        try:
            pending = (await source.migration_status()).pending
            if pending:
                versions = "、".join(str(v) for v, _ in pending)
                raise StartupError(
                    f"源数据库 {source_where} 有待应用的迁移（{versions}）：请先运行"
                    f" {MIGRATE_HINT} --db 源数据库，再复制。"
                )
            target = await _open(target_settings, create=True)
            try:
                await _migrate(target)
                print(
                    f"从 {source_where} 复制到 {target_where}（源数据库按开始时的样子读取）：",
                    file=sys.stderr,
                )
                bar = ProgressBar()
                started = time.monotonic()
                try:
                    reports = await copy_database(source, target, batch=args.batch, progress=bar)
                except CopyError as exc:
                    raise StartupError(str(exc)) from None
                finally:
                    bar.end()
            finally:
                await target.close()
        finally:
            await source.close()
        print(f"核对（{time.monotonic() - started:.1f} 秒）：")
        for r in reports:
            verdict = "一致" if r.same else f"不一致：目标 {r.target_rows:,} 行，校验和 {r.target_checksum}"
            removed = f"，删除了源数据库中已没有的 {r.removed:,} 行" if r.removed else ""
            print(f"  {r.name:<16} {r.rows:>11,} 行  校验和 {r.checksum}  {verdict}{removed}")
        differ = [r.name for r in reports if not r.same]
        if differ:
            print(
                f"有 {len(differ)} 个表不一致（{'、'.join(differ)}）：目标数据库在复制期间可能有写入"
                "（是否已有机器人连着它？），请停止它后再运行一次。"
            )
            return 1
        rows = sum(r.rows for r in reports)
        print(f"完成：{len(reports)} 个表、{rows:,} 行全部一致。可以把 DATABASE_URL 指向 {target_where} 了。")
        return 0

    return asyncio.run(go())


def _database(value: str) -> dict[str, Any]:
    """Settings fields naming one database, as --db does."""
    from pathlib import Path

    return {"database_url": value} if "://" in value else {"database_path": Path(value), "database_url": None}
