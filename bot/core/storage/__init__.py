"""Storage behind small repository protocols (protocols.py); SQLite is the embedded default."""

from .protocols import (
    ConflictError,
    CreateHook,
    QuestionCount,
    SlaCount,
    Store,
    StoreOpenError,
    StoreWriteError,
)

__all__ = [
    "ConflictError",
    "CreateHook",
    "QuestionCount",
    "SlaCount",
    "Store",
    "StoreOpenError",
    "StoreWriteError",
]
