"""Storage behind small repository protocols (protocols.py); SQLite is the embedded default, PostgreSQL serves
many processes. `open_store(database)` opens either, by what `database` says (engines.py)."""

from .engines import open_store
from .protocols import (
    ConflictError,
    CreateHook,
    MigrationError,
    MigrationStatus,
    QuestionCount,
    RateCounts,
    SlaCount,
    Store,
    StoreOpenError,
    StoreWriteError,
)

__all__ = [
    "ConflictError",
    "CreateHook",
    "MigrationError",
    "MigrationStatus",
    "QuestionCount",
    "RateCounts",
    "SlaCount",
    "Store",
    "StoreOpenError",
    "StoreWriteError",
    "open_store",
]
