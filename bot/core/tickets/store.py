"""The storage interface of the ticket domain.

`SqliteTicketStore` implements it on one SQLite file; a PostgreSQL store serving many bot processes can
implement the same Protocol later. Rules every implementation keeps:
- every write is one transaction: a change, its events, its recorded reminders and its notifications together;
- a ticket number is allocated inside the transaction that inserts the ticket;
- `apply` is optimistic: a change made against an outdated version of a ticket writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import Notification

from .models import (
    Change,
    EventIn,
    NewTicket,
    OutboxRow,
    ReminderKey,
    StaffMember,
    Ticket,
    TicketEvent,
    TicketQuery,
)


class ConflictError(Exception):
    """The ticket changed since it was read; read it again and retry."""


# Called inside the creating transaction with the numbered ticket; returns its events and notifications.
CreateHook = Callable[[Ticket], tuple[list[EventIn], list[Notification]]]


@dataclass(frozen=True)
class SlaCount:
    met: int  # met on time
    due: int  # deadlines that fell due (or were met) in the window


@dataclass(frozen=True)
class QuestionCount:
    key: str  # the target id for asked items; the text for unanswered questions
    count: int


class TicketStore(Protocol):
    tz: dt.tzinfo

    async def close(self) -> None: ...

    # tickets
    async def create_ticket(self, new: NewTicket, hook: CreateHook) -> Ticket: ...
    async def get_ticket(self, number: str) -> Ticket | None: ...
    async def list_tickets(self, query: TicketQuery) -> list[Ticket]: ...
    async def count_tickets(self, query: TicketQuery) -> int: ...
    async def apply(self, change: Change) -> Ticket:
        """Apply one change atomically; raises ConflictError if the ticket's version moved."""
        ...

    async def apply_many(self, changes: list[Change]) -> list[Ticket | None]:
        """Apply changes in one transaction; a conflicting change is skipped (None), the rest are written."""
        ...

    async def events(self, ticket_id: int) -> list[TicketEvent]: ...
    async def due_for_reminders(self, now: dt.datetime, limit: int) -> list[Ticket]: ...
    async def reminders_sent(self, ticket_ids: list[int]) -> dict[int, set[tuple[str, str, int, int]]]:
        """(milestone, level, round, repeat) already recorded per ticket."""
        ...

    # staff
    async def get_staff(self, user_id: str) -> StaffMember | None: ...
    async def list_staff(self) -> list[StaffMember]: ...
    async def upsert_staff(self, member: StaffMember, actor: str, at: dt.datetime) -> None: ...
    async def remove_staff(self, user_id: str, actor: str, at: dt.datetime) -> bool: ...

    # outbox
    async def enqueue(self, notification: Notification) -> bool: ...
    async def outbox_due(self, now: dt.datetime, limit: int = 50) -> list[OutboxRow]: ...
    async def outbox_sent(self, id: int, at: dt.datetime) -> None: ...
    async def outbox_failed(self, id: int, error: str, retry_at: dt.datetime, *, park: bool = False) -> None:
        """Record a failed attempt; park=True stops automatic attempts until outbox_requeue."""

    async def outbox_delivered(self, id: int, chats: list[str]) -> None:
        """Record the chats a multi-chat notification has reached so far (survives a restart)."""

    async def outbox_parked(self, limit: int = 50) -> list[OutboxRow]: ...
    async def outbox_requeue(self, ids: list[int] | None, now: dt.datetime) -> int:
        """Give parked notifications (the given ids, or all when None) a fresh start; returns how many."""

    # small facts about the database (e.g. the calendar fingerprint its deadlines were computed with)
    async def get_meta(self, key: str) -> str | None: ...
    async def set_meta(self, key: str, value: str) -> None: ...

    # intake drafts and the question log
    async def save_draft(self, user_id: str, data: dict) -> None: ...
    async def load_draft(self, user_id: str) -> dict | None: ...
    async def delete_draft(self, user_id: str) -> None: ...
    async def log_question(
        self,
        user_id: str,
        text: str,
        intent: str,
        target: str | None,
        answered: bool,
        at: dt.datetime | None = None,
    ) -> None:
        """Record an asked question; may be written later in a batch (see flush_questions)."""

    async def flush_questions(self) -> None:
        """Write every question logged so far."""

    # aggregates for digests and /stats (SQL aggregation; never a scan in Python)
    async def count_created(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]: ...
    async def count_resolved(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]: ...
    async def open_by_state(self) -> dict[tuple[str, str], int]: ...
    async def attention(
        self,
        now: dt.datetime,
        level: str,
        *,
        warn_at: dict[str, float],
        default_warn: float,
        departments: tuple[str, ...] | None = None,
        limit: int = 10,
    ) -> tuple[list[Ticket], dict[str, int]]:
        """Open tickets overdue (level "red") or past their warning time (level "yellow"): the most urgent
        `limit` and the count per department."""
        ...

    async def sla_counts(self, start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, SlaCount]]: ...
    async def satisfaction(self, start: dt.datetime, end: dt.datetime) -> dict[str, tuple[int, int]]:
        """department -> (sum of ratings, number of ratings)"""
        ...

    async def top_questions(
        self, start: dt.datetime, end: dt.datetime, *, unanswered: bool, limit: int
    ) -> list[QuestionCount]: ...


__all__ = ["ConflictError", "CreateHook", "QuestionCount", "ReminderKey", "SlaCount", "TicketStore"]
