"""One SQLite file through aiosqlite's public API: a writer connection for transactions, a reader for queries.

WAL lets the reader see the last committed state while a write transaction is open, so reads never see a
half-written change and never wait for one. Transactions on the writer are serialised by a lock, because the
statements of one transaction are separate awaits and another coroutine must not slip its own in between.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.clock import Clock
from bot.core.storage.migrating import Migration, migration_status
from bot.core.storage.protocols import MigrationError, MigrationStatus, StoreOpenError, StoreWriteError
from bot.core.storage.rows import to_ts

from .migrations import MIGRATIONS

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]


class Database:
    def __init__(
        self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, tz: dt.tzinfo, clock: Clock
    ):
        self.writer = writer
        self.reader = reader
        self.tz = tz
        self.clock = clock
        self._lock = asyncio.Lock()
        self._closed = False
        self.migrations: list[Migration] = list(MIGRATIONS)
        self.path: str | Path = ""

    # ------------------------------------------------------------------ opening and closing
    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        tz: dt.tzinfo,
        clock: Clock,
        durable: bool = False,
        migrate: bool = True,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> Database:
        """migrate=False opens the file as it is (for `db status` and `health`); `migrate()` applies later."""
        if await asyncio.to_thread(Path(path).is_dir):
            # said before aiosqlite's thread starts: a connect that fails leaves that thread finishing after
            # the event loop has closed, which prints a traceback on the way out
            raise StoreOpenError(f"无法使用诉求数据库 {path}：这是一个目录，请给出数据库文件的路径。")
        opened: list[aiosqlite.Connection] = []
        try:
            # wait for a lock from the first statement on: switching to WAL takes the database exclusively, and
            # several processes starting at once (each migrating) would otherwise see "database is locked"
            writer = await aiosqlite.connect(str(path), isolation_level=None, timeout=10.0)
            opened.append(writer)
            await writer.execute("PRAGMA busy_timeout=10000")
            await writer.execute("PRAGMA journal_mode=WAL")
            await writer.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            await writer.execute("PRAGMA foreign_keys=ON")
            db = cls(writer, writer, tz, clock)
            db.path = path
            db.migrations = list(migrations)
            if migrate:
                await db.migrate()
            reader = await aiosqlite.connect(str(path), isolation_level=None, timeout=10.0)
            opened.append(reader)
            await reader.execute("PRAGMA busy_timeout=10000")
            await reader.execute("PRAGMA query_only=ON")
            db.reader = reader
            return db
        except BaseException as exc:
            # close every connection's thread, or the process would never exit
            for conn in opened:
                await conn.close()
            if isinstance(exc, sqlite3.Error | OSError):
                raise StoreOpenError(_open_problem(path, exc)) from None
            raise

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self.writer.close()
            if self.reader is not self.writer:
                await self.reader.close()

    async def migrate(self) -> list[int]:
        """Apply the pending migrations in order, each in its own transaction; returns the versions applied.
        A migration that fails is rolled back whole and reported by number and name (MigrationError)."""
        try:
            await self.writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
        except sqlite3.Error as exc:
            raise StoreOpenError(_open_problem(self.path, exc)) from None
        applied = []
        for version, name, statements in self.migrations:
            try:
                async with self.transaction() as tx:
                    # checked inside the transaction: another process may have applied it meanwhile
                    if await _exists(tx, "SELECT 1 FROM schema_migrations WHERE version=?", (version,)):
                        continue
                    for stmt in statements:
                        await tx.execute(stmt)
                    await tx.execute(
                        "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)",
                        (version, name, to_ts(self.clock.now())),
                    )
            except (sqlite3.Error, StoreWriteError) as exc:
                raise MigrationError(version, name, str(exc)) from exc
            applied.append(version)
        return applied

    async def migration_status(self) -> MigrationStatus:
        rows = []
        if await self.table_exists("schema_migrations"):
            rows = await self.fetchall(
                "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
            )
        return migration_status(rows, self.migrations, self.tz)

    async def table_exists(self, name: str) -> bool:
        return (
            await self.fetchone("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,))
            is not None
        )

    async def schema_versions(self) -> list[int]:
        return [m.version for m in (await self.migration_status()).applied]

    # ------------------------------------------------------------------ statements
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT on the writer; rolled back whole if anything inside fails."""
        async with self._lock:
            try:
                await self.writer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _write_error(exc) from exc
            try:
                yield self.writer
                await self.writer.execute("COMMIT")
            except BaseException as exc:
                await self._rollback()
                if isinstance(exc, sqlite3.OperationalError) and (polite := _write_error(exc)) is not exc:
                    raise polite from exc
                raise

    async def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk does that); then there is nothing to undo
        if self.writer.in_transaction:
            await self.writer.execute("ROLLBACK")

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self.reader.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> Any:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def write(self, sql: str, params: Params = ()) -> int:
        """One statement in a transaction of its own; returns the number of rows changed."""
        async with self.transaction() as tx:
            cur = await tx.execute(sql, params)
            return cur.rowcount

    async def write_many(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)


async def _exists(tx: aiosqlite.Connection, sql: str, params: Params) -> bool:
    async with tx.execute(sql, params) as cur:
        return await cur.fetchone() is not None


def _write_error(exc: sqlite3.OperationalError) -> StoreWriteError | sqlite3.OperationalError:
    text = str(exc)
    if "disk is full" in text or "disk I/O" in text:
        return StoreWriteError("抱歉，系统存储空间不足，刚才的操作没有保存，请稍后再试或联系管理员。")
    if "readonly" in text or "read-only" in text:
        return StoreWriteError("抱歉，数据库当前只读，刚才的操作没有保存，请联系管理员。")
    if "locked" in text or "busy" in text:
        return StoreWriteError("抱歉，系统正忙，刚才的操作没有保存，请稍后再试。")
    return exc


def _open_problem(path: str | Path, exc: BaseException) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        why = "文件不是有效的 SQLite 数据库（可能已损坏，或填错了路径）"
    elif "readonly" in text or "read-only" in text:
        why = "文件或所在目录是只读的，无法写入"
    elif "unable to open" in text:
        why = "无法打开文件（目录不存在或没有权限）"
    else:
        why = text
    return f"无法使用诉求数据库 {path}：{why}。"
