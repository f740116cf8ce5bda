"""Periodic review of the knowledge base: entries whose `updated` date is older than the review age (GB/T
44191-2024 asks hotline knowledge bases to be checked regularly). `python -m bot kb review` lists them, and the
monthly 通报 counts them with the oldest few."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .loader import KnowledgeBase


@dataclass(frozen=True)
class Stale:
    id: str
    name: str
    department: str
    updated: dt.date
    age_days: int
    file: str


def due_for_review(kb: KnowledgeBase, today: dt.date, days: int) -> list[Stale]:
    """Entries not checked for more than `days` days, the longest unchecked first."""
    out = [
        Stale(e.id, e.name, e.department, e.updated, (today - e.updated).days, kb.origins.get(e.id, ""))
        for e in kb.entries.values()
        if (today - e.updated).days > days
    ]
    return sorted(out, key=lambda s: (s.updated, s.id))
