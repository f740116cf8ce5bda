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
from bot.core.storage.protocols import RateCounts, RoutingModelRow
from bot.core.tickets.domain.models import (
    Attachment,
    Change,
    OutboxRow,
    StaffMember,
    Ticket,
    TicketEvent,
    TicketRequest,
)

TICKET_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Ticket))
TICKET_COLUMNS = ", ".join(TICKET_FIELDS)
TIME_FIELDS = frozenset(
    f.name for f in dataclasses.fields(Ticket) if "datetime" in str(f.type) and f.name != "version"
)
BOOL_FIELDS = frozenset({"anonymous", "rating_excluded"})
JSON_FIELDS = frozenset({"co_departments"})  # tuples of text, stored as a JSON list
# columns a row written before they existed may hold as NULL, read as the model's default
DEFAULTS = {"paused_work": 0, "paused_wall": 0, "extra_days": 0}

OUTBOX_COLUMNS = (
    "id, recipient_kind, recipient_id, html, buttons, dedup_key, created_at, attempts,"
    " next_attempt_at, sent_at, last_error, parked_at, delivered, sending_at, media"
)
STAFF_COLUMNS = "user_id, name, role, departments"
REQUEST_COLUMNS = (
    "id, ticket_id, number, kind, department, requested_by, requested_at, target, reason, state, due_at,"
    " decided_by, decided_at, decision"
)
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
    if name in JSON_FIELDS:
        return json.dumps(list(value or ()), ensure_ascii=False)
    return value


def ticket_from_row(row: Sequence[Any], tz: dt.tzinfo) -> Ticket:
    data = dict(zip(TICKET_FIELDS, row, strict=True))
    for k in TIME_FIELDS:
        data[k] = from_ts(data[k], tz)
    for k in BOOL_FIELDS:
        data[k] = bool(data[k])
    for k in JSON_FIELDS:
        data[k] = tuple(json.loads(data[k] or "[]"))
    for k, default in DEFAULTS.items():
        if data[k] is None:
            data[k] = default
    return Ticket(**data)


def event_from_row(row: Sequence[Any], tz: dt.tzinfo) -> TicketEvent:
    return TicketEvent(
        id=row[0],
        ticket_id=row[1],
        at=dt.datetime.fromtimestamp(row[2], tz),
        actor=row[3],
        action=row[4],
        text=row[5],
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


def rate_counts(visits: Sequence[Sequence[Any]], ratings: Sequence[Sequence[Any]]) -> dict[str, RateCounts]:
    """(department, solved, visited) and (department, satisfied, rated) rows -> department -> RateCounts"""
    out: dict[str, RateCounts] = {}
    for d, solved, visited in visits:
        out[d] = RateCounts(solved=int(solved or 0), visited=int(visited))
    for d, satisfied, rated in ratings:
        out[d] = dataclasses.replace(
            out.get(d, RateCounts()), satisfied=int(satisfied or 0), rated=int(rated)
        )
    return out


def request_from_row(r: Sequence[Any], tz: dt.tzinfo) -> TicketRequest:
    return TicketRequest(
        id=r[0],
        ticket_id=r[1],
        number=r[2],
        kind=r[3],
        department=r[4],
        requested_by=r[5],
        requested_at=from_ts(r[6], tz),  # type: ignore[arg-type]
        target=r[7],
        reason=r[8],
        state=r[9],
        due_at=from_ts(r[10], tz),
        decided_by=r[11],
        decided_at=from_ts(r[12], tz),
        decision=r[13],
    )


def request_rows(changes: Sequence[Change]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The requests the changes write: new rows (ticket id, number, kind, department, requested by, at,
    target, reason, state, due) and decisions (state, decided by, decided at, decision, id)."""
    new: list[tuple[Any, ...]] = []
    decided: list[tuple[Any, ...]] = []
    for c in changes:
        for r in c.requests:
            if r.id is None:
                new.append(
                    (
                        c.ticket.id, c.ticket.number, r.kind, r.department, r.requested_by, to_ts(c.at),
                        r.target, r.reason, r.state, to_ts(r.due_at),
                    )
                )  # fmt: skip
            else:
                decided.append((r.state, r.decided_by, to_ts(c.at), r.decision, r.id))
    return new, decided


def routing_model_from_row(r: Sequence[Any], tz: dt.tzinfo, with_data: bool) -> RoutingModelRow:
    """A routing_models row (the columns of `_MODEL`, then data or NULL) on either engine."""
    return RoutingModelRow(
        id=r[0],
        created_at=dt.datetime.fromtimestamp(r[1], tz),  # NOT NULL
        examples=r[2],
        last_example=r[3],
        held_back=r[4],
        score=r[5],
        baseline=r[6],
        active=bool(r[7]),
        data=bytes(r[8]) if with_data else b"",
    )
