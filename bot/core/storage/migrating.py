"""What every engine shares about schema migrations: a migration is (version, name, statements), applied in
order, each in one transaction, and recorded in the database's schema_migrations table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from .protocols import AppliedMigration, MigrationStatus
from .rows import from_ts

Migration = tuple[int, str, list[str]]


def migration_status(
    rows: Iterable[Sequence[Any]], known: Sequence[Migration], tz: dt.tzinfo
) -> MigrationStatus:
    """From the recorded (version, name, applied_at) rows and the migrations this program knows."""
    applied = [AppliedMigration(v, n, from_ts(at, tz)) for v, n, at in rows]  # type: ignore[arg-type]
    done = {m.version for m in applied}
    return MigrationStatus(applied=applied, pending=[(v, n) for v, n, _ in known if v not in done])
