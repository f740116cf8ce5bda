"""Photos and files kept with tickets, on PostgreSQL (written with the ticket's creation or change; read here)."""

from __future__ import annotations

from bot.core.storage.rows import ATTACHMENT_COLUMNS, attachment_from_row
from bot.core.tickets.domain.models import Attachment

from .database import Database


class PostgresAttachments:
    def __init__(self, db: Database):
        self.db = db

    async def of_ticket(self, ticket_id: int) -> list[Attachment]:
        return (await self.of_tickets([ticket_id]))[ticket_id]

    async def of_tickets(self, ticket_ids: list[int]) -> dict[int, list[Attachment]]:
        out: dict[int, list[Attachment]] = {i: [] for i in ticket_ids}
        rows = await self.db.fetch(
            f"SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE ticket_id = ANY($1::int8[]) ORDER BY id",
            ticket_ids,
        )
        for r in rows:
            a = attachment_from_row(r, self.db.tz)
            out[a.ticket_id].append(a)
        return out
