"""One PostgreSQL database through an asyncpg pool: a transaction holds one pooled connection, reads take any.

Many processes may share the database, so nothing here assumes it is the only writer: migrations run under
an advisory lock, and the repositories lock or condition what they change. Errors from outside the program
(the server gone, a full disk, a read-only standby) become StoreWriteError with a polite message; a server
that cannot be used at start-up is a StoreOpenError naming DATABASE_URL, the host and the database, never
the password.

A connection lost while running (the server restarted or failed over, a connection it closed) is waited out:
reads, single statements and the repositories' transactions (`run`) are tried again on a fresh connection,
with growing waits (0.05 s doubling to 2 s) for up to DATABASE_TIMEOUT_SECONDS; only then does the operation
fail, politely, with nothing written. A transaction whose connection drops before COMMIT was rolled back by
the server, so running it again cannot write anything twice; one whose COMMIT got no answer is not run again
(it may have been written), and its caller is told so. One warning is logged when the connection is lost and
one line when it is back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg

from bot.core.clock import Clock
from bot.core.storage.migrating import Migration, migration_status
from bot.core.storage.protocols import MigrationError, MigrationStatus, StoreOpenError, StoreWriteError
from bot.core.storage.rows import to_ts
from bot.core.storage.url import DatabaseTarget

from .migrations import MIGRATIONS

log = logging.getLogger(__name__)

T = TypeVar("T")

# first half of the advisory lock that serialises migrations; the second is the schema's name
MIGRATION_LOCK = 0x7A776677  # "zwfw"
SETTING = "DATABASE_URL"


# waits between attempts while the server cannot be reached: 0.05 s, doubling, at most 2 s
RETRY_FIRST = 0.05
RETRY_MAX = 2.0


def connection_lost(exc: BaseException) -> bool:
    """The connection, not the statement, failed: worth trying again on a fresh one."""
    return isinstance(
        exc,
        OSError  # refused, reset, unreachable
        | asyncpg.PostgresConnectionError  # class 08, a connection that no longer exists
        | asyncpg.CannotConnectNowError  # starting up or shutting down
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError
        # a connection left in a state it cannot go on from (the server ended it while it was idle)
        | asyncpg.InternalClientError,
    ) or (isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc))


class CommitUnanswered(Exception):
    """The connection was lost while COMMIT was on its way: the transaction may or may not be written."""


def nul_free(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL characters (SQLite's can): they become U+FFFD, the rest is kept."""
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


def as_columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as one list per column, for `unnest($1::type[], $2::type[], …)`: a batch in one statement."""
    if not rows:
        return [[] for _ in range(width)]
    cols = [list(c) for c in zip(*rows, strict=True)]
    for col in cols:
        if any(v.__class__ is str and "\x00" in v for v in col):
            col[:] = [nul_free(v) for v in col]
    return cols


def status_count(status: str) -> int:
    """The row count of a command status such as "INSERT 0 3" or "UPDATE 2"."""
    return int(status.rsplit(" ", 1)[-1])


class Database:
    def __init__(
        self,
        pool: asyncpg.Pool,
        target: DatabaseTarget,
        tz: dt.tzinfo,
        clock: Clock,
        timeout: float,
        migrations: Sequence[Migration],
    ):
        self.pool = pool
        self.target = target
        self.tz = tz
        self.clock = clock
        self.timeout = timeout
        self.migrations = list(migrations)
        self._closed = False
        self._lost_since: float | None = None  # when the connection was lost (monotonic), while it is

    # ------------------------------------------------------------------ opening and closing
    @classmethod
    async def open(
        cls,
        target: DatabaseTarget,
        *,
        tz: dt.tzinfo,
        clock: Clock,
        pool_size: int = 10,
        timeout_seconds: float = 10.0,
        schema: str | None = None,
        migrate: bool = True,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> Database:
        timeout = timeout_seconds  # for connecting and for each statement
        settings = {"application_name": "zwfw-assistant"}
        if schema is not None:
            settings["search_path"] = schema
        try:
            pool = await asyncpg.create_pool(
                dsn=target.url,
                min_size=1,
                max_size=pool_size,
                timeout=timeout,
                command_timeout=timeout,
                server_settings=settings,
                reset=_release,
            )
        except Exception as exc:  # noqa: BLE001 - every way a server can refuse becomes one message
            raise StoreOpenError(open_problem(target, exc, timeout)) from None
        db = cls(pool, target, tz, clock, timeout, migrations)
        if migrate:
            try:
                await db.migrate()
            except BaseException:
                await db.close()
                raise
        return db

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self.pool.close(), self.timeout)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self.pool.terminate()

    # ------------------------------------------------------------------ migrations
    async def migrate(self) -> list[int]:
        """Apply the pending migrations in order, each in one transaction, under an advisory lock so that
        processes starting at once apply each migration once. A failure rolls back that migration whole
        (MigrationError names it); a database that cannot be migrated at all is a StoreOpenError."""
        try:
            return await self._migrate()
        except (MigrationError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001
            raise StoreOpenError(open_problem(self.target, exc, self.timeout)) from exc

    async def _migrate(self) -> list[int]:
        applied: list[int] = []
        async with self.pool.acquire(timeout=self.timeout) as conn:
            lock = "SELECT pg_advisory_lock($1, hashtext(coalesce(current_schema(), '')))"
            # waiting for another process's migrations may take longer than one statement's timeout
            await conn.execute(lock, MIGRATION_LOCK, timeout=max(self.timeout, 300))
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations"
                    " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
                )
                done = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
                for version, name, statements in self.migrations:
                    if version in done:
                        continue
                    try:
                        async with conn.transaction():
                            for stmt in statements:
                                await conn.execute(stmt)
                            await conn.execute(
                                "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)",
                                version,
                                name,
                                to_ts(self.clock.now()),
                            )
                    except asyncpg.PostgresError as exc:
                        raise MigrationError(version, name, str(exc)) from exc
                    applied.append(version)
                    log.info("applied migration %s (%s) to %s", version, name, self.target.describe())
            finally:
                try:
                    await conn.execute(
                        "SELECT pg_advisory_unlock($1, hashtext(coalesce(current_schema(), '')))",
                        MIGRATION_LOCK,
                    )
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    pass  # the connection is gone, and its session lock with it
        return applied

    async def migration_status(self) -> MigrationStatus:
        rows: list[Any] = []
        if await self.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
            rows = await self.fetch(
                "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
            )
        return migration_status(rows, self.migrations, self.tz)

    async def schema_versions(self) -> list[int]:
        return [m.version for m in (await self.migration_status()).applied]

    # ------------------------------------------------------------------ connection trouble
    async def _retrying(self, attempt: Callable[[], Awaitable[Any]]) -> Any:
        """`attempt()`, tried again while the connection is what fails, for up to the timeout."""
        deadline = time.monotonic() + self.timeout
        wait = RETRY_FIRST
        while True:
            try:
                result = await attempt()
            except Exception as exc:
                if not connection_lost(exc) or self._closed or time.monotonic() + wait > deadline:
                    raise
                self._lost(exc)
                await asyncio.sleep(wait)
                wait = min(RETRY_MAX, wait * 2)
                continue
            if self._lost_since is not None:
                log.warning(
                    "已重新连上数据库 %s（中断约 %.1f 秒）",
                    self.target.describe(),
                    time.monotonic() - self._lost_since,
                )
                self._lost_since = None
            return result

    def _lost(self, exc: BaseException) -> None:
        if self._lost_since is None:
            self._lost_since = time.monotonic()
            log.warning(
                "与数据库 %s 的连接中断（%s），正在重试，最多 %g 秒（DATABASE_TIMEOUT_SECONDS）",
                self.target.describe(),
                self.target.scrub(f"{type(exc).__name__}: {exc}"),
                self.timeout,
            )

    async def _begin(self) -> tuple[asyncpg.Connection, Any]:
        """A pooled connection with a transaction begun on it (retried while connections fail)."""

        async def attempt() -> tuple[asyncpg.Connection, Any]:
            conn = await self.pool.acquire(timeout=self.timeout)
            tx = conn.transaction()
            try:
                await tx.start()
            except BaseException:
                await self.pool.release(conn)
                raise
            return conn, tx

        return await self._retrying(attempt)

    # ------------------------------------------------------------------ statements
    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`work(conn)` inside BEGIN … COMMIT, rolled back whole if it fails. When the connection is lost before
        COMMIT (the server rolled back what was done) it is run again on a fresh connection, so `work` must do
        the same when run twice: build what it writes from its arguments, not from what it wrote before."""

        async def attempt() -> T:
            conn = await self.pool.acquire(timeout=self.timeout)
            try:
                tx = conn.transaction()
                await tx.start()
                try:
                    result = await work(conn)
                except BaseException:
                    await _rollback(tx)
                    raise
                try:
                    await tx.commit()
                except asyncpg.InterfaceError:
                    raise  # found closed before COMMIT was sent: rolled back, run again
                except Exception as exc:
                    if connection_lost(exc):
                        raise CommitUnanswered from exc
                    raise
                return result
            finally:
                await self.pool.release(conn)

        try:
            return await self._retrying(attempt)
        except BaseException as exc:
            polite = write_error(exc)
            if polite is not None:
                raise polite from exc
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside BEGIN … COMMIT; rolled back whole if anything inside fails."""
        try:
            conn, tx = await self._begin()
            try:
                try:
                    yield conn
                except BaseException:
                    await _rollback(tx)
                    raise
                await tx.commit()
            finally:
                await self.pool.release(conn)
        except BaseException as exc:
            polite = write_error(exc)
            if polite is not None:
                raise polite from exc
            raise

    async def _read(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        async def attempt() -> Any:
            async with self.pool.acquire(timeout=self.timeout) as conn:
                return await getattr(conn, method)(sql, *args)

        return await self._retrying(attempt)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._read("fetch", sql, args)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self._read("fetchrow", sql, args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._read("fetchval", sql, args)

    async def execute(self, sql: str, *args: Any) -> str:
        """One statement in a transaction of its own; returns its status ("UPDATE 1"). The statement is tried
        again when the connection fails before it completed (the server rolled it back)."""
        values = tuple(nul_free(a) for a in args)

        async def attempt() -> str:
            async with self.pool.acquire(timeout=self.timeout) as conn, conn.transaction():
                return await conn.execute(sql, *values)

        try:
            return await self._retrying(attempt)
        except BaseException as exc:
            polite = write_error(exc)
            if polite is not None:
                raise polite from exc
            raise

    async def fetch_alone(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """One writing statement in autocommit, its rows returned: the server commits it as it ends, so a lock it
        takes is held for the statement alone, never across a round trip to this process. Tried again when the
        connection fails (a first attempt may then have been committed unseen: use it where that is harmless)."""
        values = tuple(nul_free(a) for a in args)

        async def attempt() -> list[asyncpg.Record]:
            async with self.pool.acquire(timeout=self.timeout) as conn:
                return await conn.fetch(sql, *values)

        try:
            return await self._retrying(attempt)
        except BaseException as exc:
            polite = write_error(exc)
            if polite is not None:
                raise polite from exc
            raise


async def _rollback(tx: Any) -> None:
    try:
        await tx.rollback()
    except Exception as exc:  # noqa: BLE001 - the first error is the one to report
        # a connection that is gone took its transaction with it (the server rolled it back)
        log.debug("rollback failed: %s", type(exc).__name__)


async def _release(conn: asyncpg.Connection) -> None:
    """What a connection goes through on its way back to the pool. asyncpg's default resets the session in a
    round trip of its own (advisory locks, cursors, LISTEN, settings); nothing here leaves such state behind
    (the migration lock is released explicitly), so only a transaction left open is rolled back."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def write_error(exc: BaseException) -> StoreWriteError | None:
    if isinstance(exc, CommitUnanswered):
        return StoreWriteError(
            "抱歉，数据库连接刚才中断，无法确认刚才的操作是否已保存，请稍后查看，需要时再试一次。"
        )
    if isinstance(exc, asyncpg.DiskFullError):
        return StoreWriteError("抱歉，系统存储空间不足，刚才的操作没有保存，请稍后再试或联系管理员。")
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return StoreWriteError("抱歉，数据库当前只读，刚才的操作没有保存，请联系管理员。")
    if isinstance(
        exc,
        TimeoutError
        | asyncpg.TooManyConnectionsError
        | asyncpg.OutOfMemoryError
        | asyncpg.LockNotAvailableError
        | asyncpg.DeadlockDetectedError
        | asyncpg.QueryCanceledError,
    ):
        return StoreWriteError("抱歉，系统正忙，刚才的操作没有保存，请稍后再试。")
    if connection_lost(exc):
        return StoreWriteError("抱歉，暂时连不上数据库，刚才的操作没有保存，请稍后再试。")
    return None


def open_problem(target: DatabaseTarget, exc: BaseException, timeout: float) -> str:
    """Why the server cannot be used, in Chinese, naming the setting, the host and the database."""
    user, db = target.user or "（默认用户）", target.database or "（默认数据库）"
    if isinstance(exc, asyncpg.InvalidPasswordError):
        why = f"用户 {user} 的密码不正确，或服务器不允许该用户用密码登录"
    elif isinstance(exc, asyncpg.InvalidCatalogNameError):
        why = f"数据库 {db} 不存在：请先创建它（如 createdb -O {user} {db}）"
    elif isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        why = f"服务器拒绝用户 {user} 登录（用户不存在，或 pg_hba.conf 不允许从这里连接）"
    elif isinstance(exc, asyncpg.InvalidSchemaNameError):
        why = f"search_path 指定的 schema 不存在：请先在数据库 {db} 中创建它（CREATE SCHEMA …）"
    elif isinstance(exc, asyncpg.InsufficientPrivilegeError):
        why = f"用户 {user} 没有所需的权限（需要能在数据库 {db} 中建表）"
    elif isinstance(exc, asyncpg.TooManyConnectionsError):
        why = "服务器的连接数已满：请调小 DATABASE_POOL_SIZE 或调大服务器的 max_connections"
    elif isinstance(exc, asyncpg.CannotConnectNowError):
        why = "服务器正在启动或关闭，暂时不接受连接"
    elif isinstance(exc, TimeoutError):
        why = f"连接超时：{timeout:g} 秒内没有应答（DATABASE_TIMEOUT_SECONDS）"
    elif isinstance(exc, socket.gaierror):
        why = f"找不到主机 {target.host}：请检查主机名"
    elif isinstance(exc, OSError):
        why = "连不上服务器：服务器没有运行，或主机、端口填错了，或被防火墙拦截"
    else:
        why = f"{type(exc).__name__}: {exc}"
    where = f"主机 {target.host}:{target.port}，数据库 {db}"
    return target.scrub(f"无法使用 {SETTING} 指定的 PostgreSQL 数据库（{where}）：{why}。")
