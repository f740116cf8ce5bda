"""Photos and files kept with tickets, on SQLite (written with the ticket's creation or change; read here)."""

from __future__ import annotations

from bot.core.storage.rows import ATTACHMENT_COLUMNS, attachment_from_row
from bot.core.tickets.domain.models import Attachment

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
