"""The embedded default store: one SQLite file through aiosqlite (WAL, numbered migrations, a transaction per
change). `open_sqlite_store(path)` creates and migrates the file as needed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from bot.core.clock import DEFAULT_TZ, Clock, SystemClock
from bot.core.storage.migrating import Migration
from bot.core.storage.protocols import MigrationStatus

from .attachments import SqliteAttachments
from .coordination import SqliteLeases, SqliteUpdates
from .database import Database
from .learned import SqliteLearned
from .meta import SqliteMeta
from .outbox import SqliteOutbox
from .policies import SqlitePolicies
from .questions import SqliteQuestions
from .replies import SqliteReplyTemplates
from .reports import SqliteReports
from .requests import SqliteRequests
from .routing import SqliteRouting
from .staff import SqliteStaff
from .state import SqliteState
from .tables import SqliteTables
from .tickets import SqliteTickets


class SqliteStore:
    def __init__(self, db: Database, state: SqliteState):
        self.db = db
        self.tz = db.tz
        self.clock = db.clock
        self.tickets = SqliteTickets(db)
        self.staff = SqliteStaff(db)
        self.outbox = SqliteOutbox(db)
        self.state = state
        self.questions = SqliteQuestions(db)
        self.reports = SqliteReports(db)
        self.policies = SqlitePolicies(db)
        self.meta = SqliteMeta(db)
        self.attachments = SqliteAttachments(db)
        self.requests = SqliteRequests(db)
        self.reply_templates = SqliteReplyTemplates(db)
        self.updates = SqliteUpdates(db)
        self.leases = SqliteLeases(db)
        self.tables = SqliteTables(db)
        self.routing = SqliteRouting(db)
        self.learned = SqliteLearned(db)

    async def schema_versions(self) -> list[int]:
        return await self.db.schema_versions()

    async def migration_status(self) -> MigrationStatus:
        return await self.db.migration_status()

    async def migrate(self) -> list[int]:
        applied = await self.db.migrate()
        if applied:
            await self.state.reload()
        return applied

    async def close(self) -> None:
        await self.tickets.wait_idle()
        await self.questions.flush()
        await self.db.close()


async def open_sqlite_store(
    path: str | Path,
    *,
    tz: dt.tzinfo = DEFAULT_TZ,
    clock: Clock | None = None,
    durable: bool = False,
    migrate: bool = True,
    migrations: Sequence[Migration] | None = None,
) -> SqliteStore:
    """Open (creating and migrating as needed) the database at `path`.

    durable=True uses synchronous=FULL (survives power loss, slower); the default NORMAL survives a killed
    process, which is what WAL guarantees without an fsync per commit. migrate=False opens the file as it is,
    for looking at its migrations (`db status`, `health`); the repositories need every migration applied.
    """
    db = await Database.open(
        path,
        tz=tz,
        clock=clock or SystemClock(tz),
        durable=durable,
        migrate=migrate,
        **({"migrations": migrations} if migrations is not None else {}),
    )
    try:
        state = await SqliteState.open(db)
    except BaseException:
        await db.close()
        raise
    return SqliteStore(db, state)


__all__ = ["SqliteStore", "open_sqlite_store"]
