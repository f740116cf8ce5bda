"""Requests about a ticket that somebody else decides (退单, 改派, 延期, 申诉) and 整改 tasks, on SQLite.
They are written with the ticket change that makes them (TicketRepository.apply); this reads them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.core.storage.rows import REQUEST_COLUMNS, request_from_row, to_ts
from bot.core.tickets.domain.models import TicketRequest

from .database import Database

INSERT_REQUEST = (
    "INSERT INTO ticket_requests(ticket_id, number, kind, department, requested_by, requested_at, target,"
    " reason, state, due_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
)
DECIDE_REQUEST = "UPDATE ticket_requests SET state=?, decided_by=?, decided_at=?, decision=? WHERE id=?"


class SqliteRequests:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, id: int) -> TicketRequest | None:
        row = await self.db.fetchone(f"SELECT {REQUEST_COLUMNS} FROM ticket_requests WHERE id=?", (id,))
        return request_from_row(row, self.db.tz) if row else None

    async def list(
        self,
        *,
        states: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        ticket_id: int | None = None,
        departments: Sequence[str] | None = None,
        limit: int = 50,
    ) -> list[TicketRequest]:
        where: list[str] = []
        params: list[Any] = []
        for column, values in (("state", states), ("kind", kinds), ("department", departments)):
            if values is not None:
                where.append(f"{column} IN ({','.join('?' * len(values)) or 'NULL'})")
                params.extend(values)
        if ticket_id is not None:
            where.append("ticket_id = ?")
            params.append(ticket_id)
        sql = f"SELECT {REQUEST_COLUMNS} FROM ticket_requests"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = await self.db.fetchall(sql + " ORDER BY id LIMIT ?", (*params, limit))
        return [request_from_row(r, self.db.tz) for r in rows]

    async def counts(self, start: dt.datetime, end: dt.datetime) -> dict[tuple[str, str, str], int]:
        rows = await self.db.fetchall(
            "SELECT department, kind, state, COUNT(*) FROM ticket_requests"
            " WHERE requested_at >= ? AND requested_at < ? GROUP BY department, kind, state",
            (to_ts(start), to_ts(end)),
        )
        return {(d, k, s): n for d, k, s, n in rows}
