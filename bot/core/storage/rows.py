"""What every engine shares about rows: the ticket's columns (derived from the model, named once), how times
and buttons are stored, and how a row becomes a Ticket again.

Times are stored as integer Unix seconds (UTC) and come back as aware datetimes in the store's zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from bot.core.messages import Button, Notification, Recipient, Reply
from bot.core.tickets.domain.models import OutboxRow, StaffMember, Ticket, TicketEvent

TICKET_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Ticket))
TICKET_COLUMNS = ", ".join(TICKET_FIELDS)
TIME_FIELDS = frozenset(
    f.name for f in dataclasses.fields(Ticket) if "datetime" in str(f.type) and f.name != "version"
)
BOOL_FIELDS = frozenset({"anonymous"})

OUTBOX_COLUMNS = (
    "id, recipient_kind, recipient_id, html, buttons, dedup_key, created_at, attempts,"
    " next_attempt_at, sent_at, last_error, parked_at, delivered, sending_at"
)
STAFF_COLUMNS = "user_id, name, role, departments"
EVENT_COLUMNS = "id, ticket_id, at, actor, action, text"


def to_ts(value: dt.datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return int(value.timestamp())


def from_ts(ts: int | None, tz: dt.tzinfo) -> dt.datetime | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, tz)


def column_value(name: str, value: Any) -> Any:
    """A ticket field as it is stored."""
    if name in TIME_FIELDS:
        return to_ts(value)
    if name in BOOL_FIELDS:
        return int(bool(value))
    return value


def ticket_from_row(row: Sequence[Any], tz: dt.tzinfo) -> Ticket:
    data = dict(zip(TICKET_FIELDS, row, strict=True))
    for k in TIME_FIELDS:
        data[k] = from_ts(data[k], tz)
    data["anonymous"] = bool(data["anonymous"])
    return Ticket(**data)


def event_from_row(row: Sequence[Any], tz: dt.tzinfo) -> TicketEvent:
    return TicketEvent(
        id=row[0], ticket_id=row[1], at=from_ts(row[2], tz), actor=row[3], action=row[4], text=row[5]
    )


def staff_from_row(row: Sequence[Any]) -> StaffMember:
    return StaffMember(
        user_id=row[0], name=row[1], role=row[2], departments=tuple(json.loads(row[3] or "[]"))
    )


def buttons_json(reply: Reply) -> str:
    return json.dumps(
        [[{"label": b.label, "data": b.data} for b in row] for row in reply.buttons], ensure_ascii=False
    )


def buttons_from(raw: str | None) -> list[list[Button]]:
    return [[Button(b["label"], b["data"]) for b in row] for row in json.loads(raw or "[]")]


def notification_params(n: Notification, at: int | None) -> tuple[Any, ...]:
    """The values of an outbox insert: kind, id, html, buttons, dedup key, created."""
    return (n.recipient.kind, n.recipient.id, n.reply.html, buttons_json(n.reply), n.dedup_key, at)


def outbox_from_row(r: Sequence[Any], tz: dt.tzinfo) -> OutboxRow:
    return OutboxRow(
        id=r[0],
        notification=Notification(Recipient(r[1], r[2]), Reply(r[3], buttons_from(r[4])), r[5]),
        created_at=from_ts(r[6], tz),  # type: ignore[arg-type]
        attempts=r[7],
        next_attempt_at=from_ts(r[8], tz),  # type: ignore[arg-type]
        sent_at=from_ts(r[9], tz),
        last_error=r[10],
        parked_at=from_ts(r[11], tz),
        delivered=tuple(json.loads(r[12] or "[]")),
        sending_at=from_ts(r[13], tz),
    )
