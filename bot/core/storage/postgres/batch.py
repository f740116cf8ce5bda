"""What a change writes beside its ticket — events, recorded reminders, notifications — in one statement
(a data-modifying CTE per table, each inserting a whole batch from unnest of typed arrays), so a batch costs
one round trip however many rows it has. Notifications are de-duplicated by dedup_key (ON CONFLICT DO
NOTHING)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from bot.core.messages import Notification
from bot.core.storage.rows import ATTACHMENT_FIELDS, notification_params

from .database import as_columns, status_count

EVENTS = ("ticket_events(ticket_id, at, actor, action, text)", ("int8", "int8", "text", "text", "text"))
REMINDERS = (
    "reminders_sent(ticket_id, milestone, level, round, repeat, sent_at)",
    ("int8", "text", "text", "int4", "int4", "int8"),
)
OUTBOX = (
    "outbox(recipient_kind, recipient_id, html, buttons, dedup_key, created_at, media)",
    ("text", "text", "text", "text", "text", "int8", "text"),
)
ATTACHMENTS = (
    f"attachments({', '.join(ATTACHMENT_FIELDS)})",
    ("int8", "text", "text", "text", "text", "text", "int8", "text", "text", "text", "text", "text", "int8"),
)


async def write_beside(
    tx: asyncpg.Connection,
    events: Sequence[tuple[Any, ...]] = (),
    reminders: Sequence[tuple[Any, ...]] = (),
    notifications: Sequence[tuple[Notification, int | None]] = (),
    attachments: Sequence[tuple[Any, ...]] = (),
) -> int:
    """Insert events (ticket id, at, actor, action, text), reminders (ticket id, milestone, level, round,
    repeat, sent at), attachments (rows.attachment_params) and notifications (each with its creation time) in
    the caller's transaction; returns how many notifications were new."""
    args: list[Any] = []
    statements: list[str] = []

    def insert(table: tuple[str, tuple[str, ...]], rows: Sequence[tuple[Any, ...]], tail: str = "") -> None:
        name, types = table
        marks = ", ".join(f"${len(args) + i + 1}::{t}[]" for i, t in enumerate(types))
        args.extend(as_columns(rows, len(types)))
        statements.append(f"INSERT INTO {name} SELECT * FROM unnest({marks}){tail}")

    if events:
        insert(EVENTS, events)
    if reminders:
        insert(REMINDERS, reminders)
    if attachments:
        insert(ATTACHMENTS, attachments)
    if notifications:  # last: the statement's own status counts the rows it inserted
        insert(OUTBOX, [notification_params(n, at) for n, at in notifications], " ON CONFLICT DO NOTHING")
    if not statements:
        return 0
    *before, main = statements
    ctes = ", ".join(f"w{i} AS ({s})" for i, s in enumerate(before))
    status = await tx.execute((f"WITH {ctes} " if ctes else "") + main, *args)
    return status_count(status) if notifications else 0
