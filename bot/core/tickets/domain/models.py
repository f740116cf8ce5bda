"""Plain data types of the ticket domain (no storage, no channel)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.core.media import Media
from bot.core.messages import Notification

# States, in the order a ticket normally passes through them.
PENDING = "待受理"
IN_PROGRESS = "办理中"
RESOLVED = "已办结"
CLOSED = "已关闭"
STATES = (PENDING, IN_PROGRESS, RESOLVED, CLOSED)
OPEN_STATES = (PENDING, IN_PROGRESS)

PRIORITIES = ("normal", "urgent")
# the longest description a ticket keeps (the intake tells the person when theirs is cut)
MAX_DESCRIPTION = 2000
Role = Literal["admin", "supervisor", "handler"]
ROLES: tuple[str, ...] = ("admin", "supervisor", "handler")
ROLE_LABELS = {"admin": "管理员", "supervisor": "负责人", "handler": "办理人"}

# Columns of a ticket that a change may set (everything else is fixed at creation or derived).
MUTABLE_FIELDS = frozenset(
    {
        "department",
        "priority",
        "policy",
        "state",
        "handler",
        "contact_due",
        "contact_met",
        "feedback_due",
        "feedback_met",
        "resolve_due",
        "resolve_met",
        "round",
        "round_started_at",
        "resolution",
        "closed_at",
        "rating",
        "comment",
        "rated_at",
        "rated_round",
        "rating_due",
        "next_due_at",
        # the 接诉即办 loop (bot/core/tickets/workflow/)
        "appeal_type",
        "tier",
        "dispatch_due",
        "dispatch_met",
        "paused_at",
        "pause_reason",
        "paused_work",
        "paused_wall",
        "extra_days",
        "merged_into",
        "co_departments",
        "visit_result",
        "visited_at",
        "rating_excluded",
    }
)


@dataclass
class NewTicket:
    citizen_id: str
    description: str
    category: str
    department: str
    created_at: dt.datetime
    policy: str
    place: str | None = None
    phone: str | None = None
    anonymous: bool = False
    priority: str = "normal"
    source_question: str | None = None
    contact_due: dt.datetime | None = None
    feedback_due: dt.datetime | None = None
    resolve_due: dt.datetime | None = None
    next_due_at: dt.datetime | None = None
    # a map pin for the place (WGS-84) and the 属地 unit (街道/乡镇) it lies in, when the base has boundaries
    latitude: float | None = None
    longitude: float | None = None
    unit: str | None = None
    # photos, files… the citizen sent during the intake (stored with the ticket, each with its event)
    attachments: tuple[Media, ...] = ()
    appeal_type: str | None = None
    tier: str | None = None
    dispatch_due: dt.datetime | None = None
    citizen_name: str | None = None
    hot_key: str | None = None


@dataclass
class Ticket:
    id: int
    number: str
    seq: int
    citizen_id: str
    description: str
    category: str
    department: str
    place: str | None
    phone: str | None
    anonymous: bool
    priority: str
    policy: str
    state: str
    handler: str | None
    source_question: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    contact_due: dt.datetime | None
    contact_met: dt.datetime | None
    feedback_due: dt.datetime | None
    feedback_met: dt.datetime | None
    resolve_due: dt.datetime | None
    resolve_met: dt.datetime | None
    round: int  # how many times the ticket was reopened; reminders are counted per round
    round_started_at: dt.datetime  # when the current round (creation or last reopen) began
    resolution: str | None
    closed_at: dt.datetime | None
    rating: int | None
    comment: str | None
    rated_at: dt.datetime | None
    rated_round: int | None  # the round the rating was given in; a reopened ticket can be rated again
    rating_due: dt.datetime | None
    next_due_at: dt.datetime | None
    version: int
    latitude: float | None = None
    longitude: float | None = None
    unit: str | None = None  # the 属地 街道/乡镇 of the map pin (knowledge/boundaries)
    # the 接诉即办 loop (migration 6); defaults are what a ticket filed before it reads as
    appeal_type: str | None = None  # 诉求类型 (sla.yaml types: 咨询, 求助, 投诉, 建议, 举报, 表扬)
    tier: str | None = None  # urgency tier (sla.yaml tiers), which sets the dispatch (签收) window
    dispatch_due: dt.datetime | None = None
    dispatch_met: dt.datetime | None = None  # signed for (签收) by the handling department
    paused_at: dt.datetime | None = None  # the SLA clock is stopped since (等待补充材料, 第三方鉴定)
    pause_reason: str | None = None
    paused_work: int = 0  # seconds of working days paused in this round (moves working-day deadlines)
    paused_wall: int = 0  # natural seconds paused in this round (moves hour deadlines)
    extra_days: int = 0  # working days of approved extensions (延期) in this round
    merged_into: str | None = None  # the number of the ticket this duplicate is handled with
    co_departments: tuple[str, ...] = ()  # supporting departments (协办); `department` leads (主办)
    citizen_name: str | None = None  # the name the citizen's channel shows (masked wherever it appears)
    visit_result: int | None = None  # 回访: 1 solved, 0 not solved, None not asked or not answered
    visited_at: dt.datetime | None = None
    rating_excluded: bool = False  # an appeal (申诉) against the rating was upheld: not counted
    hot_key: str | None = None  # place and main word, for hot spots

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def due(self, milestone: str) -> dt.datetime | None:
        return getattr(self, f"{milestone}_due")

    def met(self, milestone: str) -> dt.datetime | None:
        return getattr(self, f"{milestone}_met")


@dataclass(frozen=True)
class TicketEvent:
    ticket_id: int
    at: dt.datetime
    actor: str
    action: str
    text: str = ""
    id: int | None = None


@dataclass(frozen=True)
class EventIn:
    """An event to append; `at` and the ticket are filled in by the change that carries it."""

    actor: str
    action: str
    text: str = ""


@dataclass(frozen=True)
class ReminderKey:
    milestone: str  # contact | feedback | resolve | rating
    level: str  # yellow | red | close
    repeat: int = 0


@dataclass(frozen=True)
class AttachmentIn:
    """A photo or file to keep with a ticket: sent by the citizen (补充材料) or by staff (with a reply)."""

    role: str  # citizen | staff
    media: Media


@dataclass(frozen=True)
class Attachment:
    """A photo or file kept with a ticket (a reference: the channel keeps the file; see bot/core/media.py)."""

    id: int
    ticket_id: int
    role: str  # citizen | staff
    media: Media


@dataclass(frozen=True)
class PendingCopy:
    """An attachment whose local copy (MEDIA_STORE_DIR) is still to be made, and how often it failed."""

    attachment: Attachment
    attempts: int


# Requests about a ticket that somebody else decides (ticket_requests), and their states.
REQUEST_KINDS = ("return", "reroute", "extend", "appeal", "rectify")  # 退单, 改派, 延期, 申诉, 整改
PENDING_REQUEST = "pending"
REQUEST_STATES = (PENDING_REQUEST, "approved", "rejected", "done", "cancelled")


@dataclass(frozen=True)
class RequestWrite:
    """A row of ticket_requests written with a change: a new request (id None, state pending unless given), or
    the decision on an existing one (id, state, decided_by, decision). The ticket's version orders them: two
    decisions on one ticket never both apply."""

    kind: str
    id: int | None = None
    department: str = ""
    requested_by: str = ""
    target: str | None = None
    reason: str = ""
    state: str = PENDING_REQUEST
    due_at: dt.datetime | None = None
    decided_by: str | None = None
    decision: str | None = None


@dataclass(frozen=True)
class TicketRequest:
    id: int
    ticket_id: int
    number: str
    kind: str
    department: str  # the department that asked (requests are counted per department)
    requested_by: str
    requested_at: dt.datetime
    target: str | None  # 改派: the department asked for; 延期: working days
    reason: str
    state: str
    due_at: dt.datetime | None  # 整改: when it is due
    decided_by: str | None
    decided_at: dt.datetime | None
    decision: str | None


@dataclass
class Change:
    """One atomic change to a ticket: new column values, its events, reminders recorded and notifications.

    Applied only if the ticket still has `version` (optimistic concurrency); otherwise nothing is written.
    """

    ticket: Ticket
    at: dt.datetime
    fields: dict[str, Any]
    events: list[EventIn]
    notifications: list[Notification] = field(default_factory=list)
    reminders: list[ReminderKey] = field(default_factory=list)
    attachments: list[AttachmentIn] = field(default_factory=list)
    requests: list[RequestWrite] = field(default_factory=list)


@dataclass(frozen=True)
class StaffMember:
    user_id: str
    name: str
    role: str
    departments: tuple[str, ...] = ()

    def covers(self, department: str) -> bool:
        return self.role == "admin" or department in self.departments


@dataclass(frozen=True)
class OutboxRow:
    id: int
    notification: Notification
    created_at: dt.datetime
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None = None
    last_error: str | None = None
    parked_at: dt.datetime | None = None
    # chat ids (as text) already reached, for a notification that goes to several chats
    delivered: tuple[str, ...] = ()
    # when it was last handed to the channel, while its outcome is not recorded (see OutboxRepository.sending)
    sending_at: dt.datetime | None = None


@dataclass
class TicketQuery:
    """Filters for listing tickets; every given filter must hold."""

    departments: tuple[str, ...] | None = None  # None: any department
    states: tuple[str, ...] | None = None
    handler: str | None = None
    citizen_id: str | None = None
    # some unmet milestone of an open ticket falls due in [due_from, due_to): overdue is (None, now)
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None
    seq: int | None = None
    after_id: int | None = None  # for paging in id order (with newest_first=False)
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    merged_into: str | None = None  # the duplicates handled with this ticket (并单)
    limit: int = 50
    newest_first: bool = True
