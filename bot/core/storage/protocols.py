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

import builtins
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
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
    TicketRequest,
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
class RateCounts:
    """What the 解决率 and 满意率 count: answers to the 回访 and ratings (those upheld on 申诉 left out)."""

    solved: int = 0  # 回访 answered 已解决
    visited: int = 0  # 回访 answered
    satisfied: int = 0  # rated 3 (基本满意) or better
    rated: int = 0


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


# what QuestionLog.log is told for a question that is known not to be a gap (an appeal, an answered
# clarification…); None means "decide as before": unanswered and matched nothing
NOT_A_GAP = ""


@dataclass(frozen=True)
class LoggedQuestion:
    """A logged question (the knowledge gaps are those with a `gap`: nomatch, near or clarify)."""

    id: int
    user_id: str
    text: str
    intent: str
    target: str | None
    gap: str | None
    at: dt.datetime


@dataclass(frozen=True)
class NewLearned:
    """Something staff taught the assistant, kept in the learned overlay beside the knowledge base: an alias
    (`phrase` becomes one of `entry_id`'s aliases) or a reviewed FAQ (`phrase` the question, `answer` the reply)."""

    kind: str  # alias | faq
    phrase: str
    question: str  # the person's own words it came from
    source: str  # where from: "q:<question id>", "ticket:<number>" or "typed"
    taught_by: str
    taught_by_name: str
    at: dt.datetime
    entry_id: str | None = None
    answer: str | None = None
    department: str | None = None
    expires: dt.datetime | None = None


@dataclass(frozen=True)
class Learned(NewLearned):
    id: int = 0
    undone_by: str | None = None
    undone_at: dt.datetime | None = None


class TicketRepository(Protocol):
    async def create(self, new: NewTicket, hook: CreateHook) -> Ticket: ...
    async def get(self, number: str) -> Ticket | None: ...
    async def list(self, query: TicketQuery) -> list[Ticket]: ...
    async def count(self, query: TicketQuery) -> int: ...
    async def apply(self, change: Change) -> Ticket:
        """Apply one change atomically; raises ConflictError if the ticket's version moved."""
        ...

    async def apply_many(self, changes: builtins.list[Change]) -> builtins.list[Ticket | None]:
        """Apply changes in one transaction; a conflicting change is skipped (None), the rest are written."""
        ...

    async def recent_texts(
        self, department: str, since: dt.datetime, limit: int
    ) -> Sequence[tuple[int, str, str, str | None]]:
        """(id, number, description, place) of the department's open, unmerged tickets created since `since`,
        newest first: what duplicate detection compares, without reading whole tickets."""
        ...

    async def events(self, ticket_id: int) -> builtins.list[TicketEvent]: ...
    async def due_for_reminders(self, now: dt.datetime, limit: int) -> builtins.list[Ticket]: ...
    async def reminders_sent(self, ticket_ids: builtins.list[int]) -> dict[int, set[SentKey]]: ...


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

    async def sending(
        self, id: int, at: dt.datetime, hold: dt.timedelta, mine: dt.datetime | None = None
    ) -> bool:
        """Take the notification for sending now: record that it is being handed to the channel (committed
        before the request goes out). Until at + hold it is not due, so a request that may still be under way
        finishes or times out before anyone sends it again; `sent` and `failed` clear the mark. A row still
        marked after a restart was in flight when the process stopped: it may have been delivered.

        Only a notification due at `at` (unsent, not parked, not in flight) is taken, so of two senders that
        read the same row exactly one gets it; `mine` (when this sender took it) renews its own mark for the
        next chat of a notification to several chats. Returns whether this sender has it."""

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
        gap: str | None = None,
    ) -> None:
        """Record an asked question; may be written later in a batch (see flush). `gap` marks a real gap in the
        knowledge base: nomatch (no answer), near (only a near entry), clarify (asked which one); NOT_A_GAP
        says it is none; None leaves it to the rule "unanswered and matched nothing"."""

    async def flush(self) -> None:
        """Write every question logged so far."""

    async def top(
        self, start: dt.datetime, end: dt.datetime, *, unanswered: bool, limit: int
    ) -> list[QuestionCount]: ...

    async def gaps(self, start: dt.datetime, end: dt.datetime, *, limit: int) -> list[LoggedQuestion]:
        """The gap questions of the window, newest first."""
        ...

    async def get(self, question_id: int) -> LoggedQuestion | None: ...

    async def clarified(self, user_id: str, since: dt.datetime) -> int:
        """The person answered the clarifying questions they were asked since `since`: those are no gaps."""
        ...


class LearnedRepository(Protocol):
    """The learned overlay: aliases and FAQ entries taught by staff, each with who, when and where from."""

    async def add(self, new: NewLearned) -> Learned: ...
    async def get(self, learned_id: int) -> Learned | None: ...
    async def undo(self, learned_id: int, by: str, at: dt.datetime) -> Learned | None:
        """Mark it undone (it stays, for the record); None when there is no such entry or it was undone."""
        ...

    async def active(self, now: dt.datetime) -> list[Learned]:
        """Everything in force: not undone and not expired, oldest first."""
        ...

    async def recent(self, limit: int) -> list[Learned]: ...


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

    async def loop_rates(self, start: dt.datetime, end: dt.datetime) -> dict[str, RateCounts]:
        """department -> 回访 answers given and ratings made in [start, end) (三率)"""
        ...


class RequestRepository(Protocol):
    """Requests about a ticket decided by somebody else (退单, 改派, 延期, 申诉) and 整改 tasks. They are written
    with the ticket change that makes or decides them (Change.requests), so each has its event."""

    async def get(self, id: int) -> TicketRequest | None: ...
    async def list(
        self,
        *,
        states: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        ticket_id: int | None = None,
        departments: Sequence[str] | None = None,
        limit: int = 50,
    ) -> list[TicketRequest]: ...
    async def counts(self, start: dt.datetime, end: dt.datetime) -> dict[tuple[str, str, str], int]:
        """(department, kind, state) -> requests made in [start, end)"""
        ...


class ReplyTemplateRepository(Protocol):
    """Canned replies per department (名称 → text with {姓名}, {编号}, {时限})."""

    async def get(self, department: str, name: str) -> str | None: ...
    async def list(self, department: str) -> list[tuple[str, str]]: ...
    async def put(self, department: str, name: str, text: str, actor: str, at: dt.datetime) -> None: ...
    async def remove(self, department: str, name: str) -> bool: ...


@dataclass(frozen=True)
class SavedProfile:
    """A person's enterprise profile, saved with their consent (惠企政策)."""

    user_id: str
    profile: dict[str, Any]  # the profile's JSON (Chinese keys, bot/core/policies/profile.py)
    consented_at: dt.datetime
    updated_at: dt.datetime
    subscribed: bool  # 直达快享: told when a new or changed policy matches
    notified: dict[str, str]  # policy id -> fingerprint of the version they were told about


class PolicyRepository(Protocol):
    """Saved enterprise profiles and the questions asked about policies. A profile is read and changed only by
    its owner's user id; staff get `profile_counts` (aggregates), never a profile."""

    async def get_profile(self, user_id: str) -> SavedProfile | None: ...
    async def save_profile(
        self,
        user_id: str,
        profile: dict[str, Any],
        at: dt.datetime,
        *,
        subscribed: bool | None = None,
        notified: dict[str, str] | None = None,
    ) -> None:
        """Create or replace the profile; the consent time is kept from the first save. `subscribed` and
        `notified` change only when given."""

    async def delete_profile(self, user_id: str) -> bool: ...
    async def set_subscribed(self, user_id: str, subscribed: bool, at: dt.datetime) -> bool:
        """False when the person has no saved profile."""
        ...

    async def subscribers(self, after: str, limit: int) -> list[SavedProfile]:
        """Subscribed profiles with a user id after `after` ("" for the first page), in user id order."""
        ...

    async def queue_push(self, user_id: str, notification: Notification, notified: dict[str, str]) -> bool:
        """In one transaction: queue the notification (de-duplicated by its key) and, only when it was new,
        record what the person has now been told. False when the key was queued before (nothing changes)."""
        ...

    async def profile_counts(self) -> dict[str, dict[str, int]]:
        """Aggregates for staff: {"total": {"profiles": n, "subscribed": m}, "规模": {...}, "行业": {...},
        "属地": {...}} — counts only."""
        ...

    async def log_question(self, text: str, policies: list[str], answered: bool, at: dt.datetime) -> None: ...
    async def top_policies(self, start: dt.datetime, end: dt.datetime, limit: int) -> list[QuestionCount]:
        """The policies questions were about most often in [start, end)."""
        ...

    async def unanswered(self, start: dt.datetime, end: dt.datetime, limit: int) -> list[QuestionCount]:
        """The most frequent policy questions no policy answered in [start, end)."""
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


@dataclass(frozen=True)
class RoutingExample:
    """A labelled example for routing: the ticket's text and the unit (and category) staff gave it."""

    text: str
    unit: str
    kind: str  # transfer | dispatch | category (a change by staff) | resolved (where it was resolved)
    actor: str
    at: dt.datetime
    ticket_id: int | None = None
    category: str | None = None
    previous: str | None = None  # the unit it had before
    id: int | None = None


@dataclass(frozen=True)
class RoutingModelRow:
    """A trained routing model (its numbers in `data`) and how it scored on the held-back tickets."""

    id: int
    created_at: dt.datetime
    examples: int  # trained on
    last_example: int  # the newest example id it was trained on
    held_back: int
    score: float  # its accuracy on the held-back tickets
    baseline: float  # the model it was compared with, on the same tickets
    active: bool
    data: bytes = b""


class RoutingRepository(Protocol):
    """Labelled examples from staff changes, and the models trained on them (at most one active)."""

    async def add_example(self, example: RoutingExample) -> int: ...
    async def examples(self, after_id: int = 0, limit: int | None = None) -> list[RoutingExample]:
        """In id (time) order."""
        ...

    async def save_model(self, row: RoutingModelRow, *, activate: bool) -> int:
        """Store a model; with activate, it becomes the only active one in the same transaction."""
        ...

    async def active_model(self) -> RoutingModelRow | None: ...
    async def models(self, limit: int = 10) -> list[RoutingModelRow]:
        """The newest models, without their data."""
        ...


class Store(Protocol):
    # read-only members (properties), so that an engine's own repository classes satisfy them
    @property
    def tz(self) -> dt.tzinfo: ...
    @property
    def tickets(self) -> TicketRepository: ...
    @property
    def staff(self) -> StaffRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def state(self) -> StateRepository: ...
    @property
    def questions(self) -> QuestionLog: ...
    @property
    def reports(self) -> ReportQueries: ...
    @property
    def meta(self) -> MetaRepository: ...
    @property
    def attachments(self) -> AttachmentRepository: ...
    @property
    def updates(self) -> UpdateLog: ...
    @property
    def leases(self) -> LeaseRepository: ...
    @property
    def tables(self) -> TableAccess: ...
    @property
    def routing(self) -> RoutingRepository: ...
    @property
    def learned(self) -> LearnedRepository: ...
    @property
    def requests(self) -> RequestRepository: ...
    @property
    def reply_templates(self) -> ReplyTemplateRepository: ...
    @property
    def policies(self) -> PolicyRepository: ...

    async def schema_versions(self) -> list[int]: ...
    async def migration_status(self) -> MigrationStatus: ...
    async def migrate(self) -> list[int]:
        """Apply the pending migrations (each in one transaction); returns the versions applied."""
        ...

    async def close(self) -> None: ...
