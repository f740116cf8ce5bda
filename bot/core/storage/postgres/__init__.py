"""PostgreSQL through asyncpg, for many processes sharing one database: `open_postgres_store(url)` connects a
pool and applies the pending migrations (under an advisory lock), with the same repositories, semantics and
numbered migrations as the SQLite store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.core.clock import DEFAULT_TZ, Clock, SystemClock
from bot.core.storage.migrating import Migration
from bot.core.storage.protocols import MigrationStatus, StoreOpenError
from bot.core.storage.url import DatabaseTarget, parse_database

from .attachments import PostgresAttachments
from .coordination import PostgresLeases, PostgresUpdates
from .database import Database
from .learned import PostgresLearned
from .meta import PostgresMeta
from .migrations import MIGRATIONS
from .outbox import PostgresOutbox
from .policies import PostgresPolicies
from .questions import PostgresQuestions
from .replies import PostgresReplyTemplates
from .reports import PostgresReports
from .requests import PostgresRequests
from .routing import PostgresRouting
from .staff import PostgresStaff
from .state import PostgresState
from .tables import PostgresTables
from .tickets import PostgresTickets


class PostgresStore:
    def __init__(self, db: Database):
        self.db = db
        self.tz = db.tz
        self.clock = db.clock
        self.tickets = PostgresTickets(db)
        self.staff = PostgresStaff(db)
        self.outbox = PostgresOutbox(db)
        self.state = PostgresState(db)
        self.questions = PostgresQuestions(db)
        self.reports = PostgresReports(db)
        self.policies = PostgresPolicies(db)
        self.meta = PostgresMeta(db)
        self.attachments = PostgresAttachments(db)
        self.requests = PostgresRequests(db)
        self.reply_templates = PostgresReplyTemplates(db)
        self.updates = PostgresUpdates(db)
        self.leases = PostgresLeases(db)
        self.tables = PostgresTables(db)
        self.routing = PostgresRouting(db)
        self.learned = PostgresLearned(db)

    async def schema_versions(self) -> list[int]:
        return await self.db.schema_versions()

    async def migration_status(self) -> MigrationStatus:
        return await self.db.migration_status()

    async def migrate(self) -> list[int]:
        return await self.db.migrate()

    async def close(self) -> None:
        try:
            await self.tickets.wait_idle()
            await self.questions.flush()
        finally:
            await self.db.close()


async def open_postgres_store(
    url: str | DatabaseTarget,
    *,
    tz: dt.tzinfo = DEFAULT_TZ,
    clock: Clock | None = None,
    pool_size: int = 10,
    timeout_seconds: float = 10.0,
    schema: str | None = None,
    migrate: bool = True,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> PostgresStore:
    """Connect to `url` (postgresql://user:password@host:port/database) with a pool of up to `pool_size`
    connections; `timeout_seconds` bound connecting and each statement. `schema` sets the search_path (each
    test has its own). migrate=False leaves the schema as it is, for `db status` and `health`."""
    if isinstance(url, DatabaseTarget):
        target = url
    else:
        try:
            target = parse_database(url)
        except ValueError as exc:
            raise StoreOpenError(f"DATABASE_URL {exc}") from None
    if target.engine != "postgres":
        raise StoreOpenError(f"DATABASE_URL 不是 PostgreSQL 网址：{target.describe()}")
    db = await Database.open(
        target,
        tz=tz,
        clock=clock or SystemClock(tz),
        pool_size=pool_size,
        timeout_seconds=timeout_seconds,
        schema=schema,
        migrate=migrate,
        migrations=migrations,
    )
    return PostgresStore(db)


__all__ = ["MIGRATIONS", "PostgresStore", "open_postgres_store"]
