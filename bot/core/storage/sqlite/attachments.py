"""Photos and files kept with tickets, on SQLite (written with the ticket's creation or change; read here)."""

from __future__ import annotations

import datetime as dt

from bot.core.storage.rows import ATTACHMENT_COLUMNS, attachment_from_row, to_ts
from bot.core.tickets.domain.models import Attachment, PendingCopy

from .database import Database

BATCH = 500


class SqliteAttachments:
    def __init__(self, db: Database):
        self.db = db

    async def of_ticket(self, ticket_id: int) -> list[Attachment]:
        return (await self.of_tickets([ticket_id]))[ticket_id]

    async def of_tickets(self, ticket_ids: list[int]) -> dict[int, list[Attachment]]:
        out: dict[int, list[Attachment]] = {i: [] for i in ticket_ids}
        for start in range(0, len(ticket_ids), BATCH):
            chunk = ticket_ids[start : start + BATCH]
            rows = await self.db.fetchall(
                f"SELECT {ATTACHMENT_COLUMNS} FROM attachments"
                f" WHERE ticket_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
                chunk,
            )
            for r in rows:
                a = attachment_from_row(r, self.db.tz)
                out[a.ticket_id].append(a)
        return out

    async def without_copy(self, now: dt.datetime, limit: int, max_attempts: int) -> list[PendingCopy]:
        rows = await self.db.fetchall(
            f"SELECT {ATTACHMENT_COLUMNS}, copy_attempts FROM attachments"
            " WHERE path IS NULL AND copy_attempts < ?"
            " AND (copy_tried IS NULL OR copy_tried + 60 * (1 << copy_attempts) <= ?)"
            " ORDER BY id LIMIT ?",
            (max_attempts, to_ts(now), limit),
        )
        return [PendingCopy(attachment_from_row(r, self.db.tz), int(r[-1])) for r in rows]

    async def copy_kept(self, attachment_id: int, path: str) -> None:
        await self.db.write("UPDATE attachments SET path = ? WHERE id = ?", (path, attachment_id))

    async def copy_failed(self, attachment_id: int, now: dt.datetime, attempts: int) -> None:
        await self.db.write(
            "UPDATE attachments SET copy_attempts = ?, copy_tried = ? WHERE id = ?",
            (attempts, to_ts(now), attachment_id),
        )
