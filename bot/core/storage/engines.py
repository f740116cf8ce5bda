"""One way to open the store, whatever the engine: `open_store(database)` with a plain path or `sqlite:///path`
opens an SQLite file; `postgresql://…` (or `postgres://…`) a PostgreSQL server. Each engine's module is
imported only when it is used, so an SQLite deployment never loads asyncpg."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.core.clock import DEFAULT_TZ, Clock

from .protocols import Store, StoreOpenError
from .url import DatabaseTarget, parse_database


def database_target(database: str | Path) -> DatabaseTarget:
    """What `database` names; a StoreOpenError naming DATABASE_URL when it names nothing usable."""
    try:
        return parse_database(database)
    except ValueError as exc:
        raise StoreOpenError(f"DATABASE_URL {exc}") from None


async def open_store(
    database: str | Path | DatabaseTarget,
    *,
    tz: dt.tzinfo = DEFAULT_TZ,
    clock: Clock | None = None,
    pool_size: int = 10,
    timeout_seconds: float = 10.0,
    migrate: bool = True,
    durable: bool = False,
) -> Store:
    """Open the store `database` names, applying pending migrations unless migrate=False.

    pool_size and timeout_seconds apply to PostgreSQL (connections in the pool; seconds for connecting and
    for each statement); durable to SQLite (synchronous=FULL)."""
    target = database if isinstance(database, DatabaseTarget) else database_target(database)
    if target.engine == "sqlite":
        from .sqlite import open_sqlite_store

        assert target.path is not None
        return await open_sqlite_store(target.path, tz=tz, clock=clock, durable=durable, migrate=migrate)
    from .postgres import open_postgres_store

    return await open_postgres_store(
        target, tz=tz, clock=clock, pool_size=pool_size, timeout_seconds=timeout_seconds, migrate=migrate
    )
