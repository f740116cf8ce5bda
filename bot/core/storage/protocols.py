"""The storage seam: small repositories, one per role, that every engine implements the same way.

`Store` bundles them with the engine's lifetime. SQLite (bot/core/storage/sqlite/) is the embedded default;
another engine serving many processes implements the same protocols and passes the same tests. Rules every
implementation keeps:
- every write is one transaction: a change, its events, its recorded reminders and its notifications together;
- a ticket number is allocated inside the transaction that inserts the ticket, unique under concurrency;
- `TicketRepository.apply` is optimistic: a change made against an outdated version writes nothing;
- notifications are de-duplicated by their `dedup_key`, for as long as the row exists;
- `OutboxRepository.claim` hands a due notification to one owner at a time, across processes;
- `UpdateLog.first_time` is true for one caller per update id, across processes;
- `LeaseRepository.acquire` gives a named lease to one owner at a time, across processes;
- the schema is changed only by numbered migrations, each applied whole or not at all, and recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.messages import Notification
from bot.core.tickets.domain.models import (
    Attachment,
    Change,
    EventIn,
    NewTicket,
    OutboxRow,
    PendingCopy,
    StaffMember,
    Ticket,
    TicketEvent,
    TicketQuery,
)


class ConflictError(Exception):
    """The ticket changed since it was read; read it again and retry."""


class StoreOpenError(Exception):
    """The database cannot be used; the message names it and says why, in Chinese."""


class MigrationError(StoreOpenError):
    """A schema migration failed; it was rolled back whole. The message names it."""

    def __init__(self, version: int, name: str, reason: str):
        self.version = version
        self.name = name
        super().__init__(
            f"数据库迁移 {version}（{name}）失败，已整体回滚，数据库仍停留在之前的版本：{reason}"
        )


class StoreWriteError(Exception):
    """A write failed for a reason outside the program (a full disk, a locked or read-only file). The message
    is polite Chinese for the person whose request it was; nothing was written."""


# Called inside the creating transaction with the numbered ticket; returns its events and notifications.
CreateHook = Callable[[Ticket], tuple[list[EventIn], list[Notification]]]

# (milestone, level, round, repeat) of a reminder already recorded for a ticket
SentKey = tuple[str, str, int, int]


@dataclass(frozen=True)
class SlaCount:
    met: int  # met on time
    due: int  # deadlines that fell due (or were met) in the window


@dataclass(frozen=True)
class AppliedMigration:
    version: int
    name: str
    applied_at: dt.datetime


@dataclass(frozen=True)
class MigrationStatus:
    applied: list[AppliedMigration]
    pending: list[tuple[int, str]]  # (version, name) known to this program and not yet applied


@dataclass(frozen=True)
class QuestionCount:
    key: str  # the target id for asked items; the text for unanswered questions
    count: int


class TicketRepository(Protocol):
    async def create(self, new: NewTicket, hook: CreateHook) -> Ticket: ...
    async def get(self, number: str) -> Ticket | None: ...
    async def list(self, query: TicketQuery) -> list[Ticket]: ...
    async def count(self, query: TicketQuery) -> int: ...
    async def apply(self, change: Change) -> Ticket:
        """Apply one change atomically; raises ConflictError if the ticket's version moved."""
        ...

    async def apply_many(self, changes: list[Change]) -> list[Ticket | None]:
        """Apply changes in one transaction; a conflicting change is skipped (None), the rest are written."""
        ...

    async def events(self, ticket_id: int) -> list[TicketEvent]: ...
    async def due_for_reminders(self, now: dt.datetime, limit: int) -> list[Ticket]: ...
    async def reminders_sent(self, ticket_ids: list[int]) -> dict[int, set[SentKey]]: ...


class StaffRepository(Protocol):
    async def get(self, user_id: str) -> StaffMember | None: ...
    async def list(self) -> list[StaffMember]: ...
    async def upsert(self, member: StaffMember, actor: str, at: dt.datetime) -> None: ...
    async def remove(self, user_id: str, actor: str, at: dt.datetime) -> bool: ...


class OutboxRepository(Protocol):
    async def enqueue(self, notification: Notification) -> bool:
        """Queue a notification; False when one with the same dedup_key exists already."""
        ...

    async def due(self, now: dt.datetime, limit: int = 50) -> list[OutboxRow]:
        """What is due to be sent (claimed or not), for readers that only look."""
        ...

    async def claim(self, now: dt.datetime, limit: int, owner: str, lease: dt.timedelta) -> list[OutboxRow]:
        """Take up to `limit` due notifications that nobody holds (or whose holder's lease ran out) for
        `owner` until now + lease; two owners never hold the same row at once. `sent`/`failed` release it."""
        ...

    async def release(self, ids: list[int], owner: str) -> None:
        """Give back claims `owner` holds on these notifications without an attempt (not sent yet)."""
        ...

    async def sending(self, id: int, at: dt.datetime, hold: dt.timedelta) -> None:
        """Record that the notification is being handed to the channel now (committed before the request
        goes out). Until at + hold it is not due, so a request that may still be under way finishes or times
        out before anyone sends it again; `sent` and `failed` clear the mark. A row still marked after a
        restart was in flight when the process stopped: it may have been delivered."""

    async def sent(self, id: int, at: dt.datetime) -> None: ...
    async def failed(self, id: int, error: str, retry_at: dt.datetime, *, park: bool = False) -> None:
        """Record a failed attempt and release the claim; park=True stops automatic attempts until requeue."""

    async def delivered(self, id: int, chats: list[str]) -> None:
        """Record the chats a multi-chat notification has reached so far (survives a restart)."""

    async def parked(self, limit: int = 50) -> list[OutboxRow]: ...
    async def requeue(self, ids: list[int] | None, now: dt.datetime) -> int:
        """Give parked notifications (the given ids, or all when None) a fresh start; returns how many."""
        ...

    async def pending_count(self) -> int: ...


class StateRepository(Protocol):
    """Per-person conversation state that must survive a restart (intake drafts, awaited comments), as JSON
    objects under a key such as the user id."""

    async def save(self, key: str, data: dict[str, Any]) -> None: ...
    async def load(self, key: str) -> dict[str, Any] | None: ...
    async def delete(self, key: str) -> None: ...
    async def take(self, key: str) -> dict[str, Any] | None:
        """Delete and return the state under `key`; of callers racing for it (in any process), one gets it."""
        ...

    async def purge(self, prefix: str, before: dt.datetime) -> int:
        """Delete the state under keys starting with `prefix` last saved before `before`; how many."""
        ...


class UpdateLog(Protocol):
    """The ids of updates already taken by some process, kept for a retention window."""

    async def first_time(self, update_id: int, at: dt.datetime) -> bool:
        """Record `update_id`; True for the one caller that recorded it first."""
        ...

    async def forget(self, before: dt.datetime) -> int:
        """Drop the ids seen before `before`; how many."""
        ...


class LeaseRepository(Protocol):
    """Named leases: work that one process at a time may do (the reminder tick, a day's digest)."""

    async def acquire(self, name: str, owner: str, now: dt.datetime, until: dt.datetime) -> bool:
        """Hold `name` for `owner` until `until` when nobody holds it, its holder's lease ran out by `now`,
        or `owner` holds it already (then it is extended). False when another owner holds it."""
        ...

    async def release(self, name: str, owner: str) -> None:
        """Give `name` up, if `owner` holds it."""


class QuestionLog(Protocol):
    async def log(
        self,
        user_id: str,
        text: str,
        intent: str,
        target: str | None,
        answered: bool,
        at: dt.datetime | None = None,
    ) -> None:
        """Record an asked question; may be written later in a batch (see flush)."""

    async def flush(self) -> None:
        """Write every question logged so far."""

    async def top(
        self, start: dt.datetime, end: dt.datetime, *, unanswered: bool, limit: int
    ) -> list[QuestionCount]: ...


class ReportQueries(Protocol):
    """Aggregates for digests and /stats (computed in the database, never by scanning tickets in Python)."""

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


class AttachmentRepository(Protocol):
    """Photos and files kept with tickets. They are written with the ticket's creation (NewTicket.attachments)
    or a change (Change.attachments), in the same transaction as their events; read here, oldest first."""

    async def of_ticket(self, ticket_id: int) -> list[Attachment]: ...
    async def of_tickets(self, ticket_ids: list[int]) -> dict[int, list[Attachment]]: ...
    async def without_copy(self, now: dt.datetime, limit: int, max_attempts: int) -> list[PendingCopy]:
        """Attachments with no local copy whose next try is due: tried fewer than `max_attempts` times, the
        last try at least 2^attempts minutes before `now` (1, 2, 4… minutes); oldest first."""
        ...

    async def copy_kept(self, attachment_id: int, path: str) -> None: ...
    async def copy_failed(self, attachment_id: int, now: dt.datetime, attempts: int) -> None:
        """Another try failed: `attempts` tries so far, the last at `now`."""
        ...


class MetaRepository(Protocol):
    """Small facts about the database itself (e.g. the fingerprint of the calendar its deadlines used)."""

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns
    references: frozenset[str]  # tables its foreign keys point to


class TableAccess(Protocol):
    """Whole tables, engine to engine, for `python -m bot db copy`: every table the migrations made, read in
    one consistent snapshot and written by primary key, so that copying again changes only what differs."""

    async def shapes(self) -> list[TableShape]:
        """Every table but schema_migrations."""
        ...

    def snapshot(self) -> AbstractAsyncContextManager[None]:
        """Reads inside see the database as it was when the first one began (others may write meanwhile)."""
        ...

    def read(self, shape: TableShape, batch: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Every row, in batches, ordered by key."""
        ...

    async def read_range(self, shape: TableShape, low: Any, high: Any) -> list[tuple[Any, ...]]:
        """The rows whose (one-column) key is between low and high, both included, ordered by key."""
        ...

    async def count(self, shape: TableShape) -> int: ...
    async def upsert(self, shape: TableShape, rows: list[tuple[Any, ...]]) -> None:
        """Insert the rows, or update those whose key exists and whose values differ."""

    async def keep_only(self, shape: TableShape, keys: set[tuple[Any, ...]]) -> int:
        """Delete the rows whose key is not among `keys`; how many."""
        ...

    async def finish(self, shape: TableShape) -> None:
        """After writing rows with their ids: generated ids continue after the highest one."""


class Store(Protocol):
    tz: dt.tzinfo
    tickets: TicketRepository
    staff: StaffRepository
    outbox: OutboxRepository
    state: StateRepository
    questions: QuestionLog
    reports: ReportQueries
    meta: MetaRepository
    attachments: AttachmentRepository
    updates: UpdateLog
    leases: LeaseRepository
    tables: TableAccess

    async def schema_versions(self) -> list[int]: ...
    async def migration_status(self) -> MigrationStatus: ...
    async def migrate(self) -> list[int]:
        """Apply the pending migrations (each in one transaction); returns the versions applied."""
        ...

    async def close(self) -> None: ...
