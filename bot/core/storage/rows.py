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

from bot.core.media import Media, media_from_json, media_to_json
from bot.core.messages import Button, Notification, Recipient, Reply
from bot.core.tickets.domain.models import Attachment, OutboxRow, StaffMember, Ticket, TicketEvent

TICKET_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Ticket))
TICKET_COLUMNS = ", ".join(TICKET_FIELDS)
TIME_FIELDS = frozenset(
    f.name for f in dataclasses.fields(Ticket) if "datetime" in str(f.type) and f.name != "version"
)
BOOL_FIELDS = frozenset({"anonymous"})

OUTBOX_COLUMNS = (
    "id, recipient_kind, recipient_id, html, buttons, dedup_key, created_at, attempts,"
    " next_attempt_at, sent_at, last_error, parked_at, delivered, sending_at, media"
)
STAFF_COLUMNS = "user_id, name, role, departments"
EVENT_COLUMNS = "id, ticket_id, at, actor, action, text"
# what an attachment row holds (bot/core/media.py's Media, the ticket and who sent it: citizen or staff)
ATTACHMENT_FIELDS = (
    "ticket_id", "role", "sender", "kind", "file_id", "unique_id", "size", "caption", "mime", "file_name",
    "album", "path", "at",
)  # fmt: skip
ATTACHMENT_COLUMNS = "id, " + ", ".join(ATTACHMENT_FIELDS)


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


def media_json(reply: Reply) -> str:
    return json.dumps(media_to_json(reply.media), ensure_ascii=False)


def notification_params(n: Notification, at: int | None) -> tuple[Any, ...]:
    """The values of an outbox insert: kind, id, html, buttons, dedup key, created, media."""
    return (
        n.recipient.kind, n.recipient.id, n.reply.html, buttons_json(n.reply), n.dedup_key, at, media_json(n.reply)
    )  # fmt: skip


def attachment_params(ticket_id: int, role: str, m: Media, at: int | None) -> tuple[Any, ...]:
    """The values of an attachment insert, in ATTACHMENT_FIELDS order (`at`: the media's own time if it has
    one, else the change's)."""
    when = to_ts(m.at) if m.at is not None else at
    return (
        ticket_id, role, m.sender, m.kind, m.file_id, m.unique_id, m.size, m.caption, m.mime, m.file_name,
        m.group, m.path, when,
    )  # fmt: skip


def attachment_from_row(r: Sequence[Any], tz: dt.tzinfo) -> Attachment:
    media = Media(
        kind=r[4], file_id=r[5], unique_id=r[6], size=r[7], caption=r[8] or "", mime=r[9], file_name=r[10],
        sender=r[3], at=from_ts(r[13], tz), group=r[11], path=r[12],
    )  # fmt: skip
    return Attachment(id=r[0], ticket_id=r[1], role=r[2], media=media)


def outbox_from_row(r: Sequence[Any], tz: dt.tzinfo) -> OutboxRow:
    return OutboxRow(
        id=r[0],
        notification=Notification(
            Recipient(r[1], r[2]),
            Reply(r[3], buttons_from(r[4]), media_from_json(json.loads(r[14] or "[]"))),
            r[5],
        ),
        created_at=from_ts(r[6], tz),  # type: ignore[arg-type]
        attempts=r[7],
        next_attempt_at=from_ts(r[8], tz),  # type: ignore[arg-type]
        sent_at=from_ts(r[9], tz),
        last_error=r[10],
        parked_at=from_ts(r[11], tz),
        delivered=tuple(json.loads(r[12] or "[]")),
        sending_at=from_ts(r[13], tz),
    )
