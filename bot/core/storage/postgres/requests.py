"""Requests about a ticket that somebody else decides (退单, 改派, 延期, 申诉) and 整改 tasks, on PostgreSQL.
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
    " reason, state, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)
DECIDE_REQUEST = (
    "UPDATE ticket_requests SET state = $1, decided_by = $2, decided_at = $3, decision = $4 WHERE id = $5"
)


class PostgresRequests:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, id: int) -> TicketRequest | None:
        row = await self.db.fetchrow(f"SELECT {REQUEST_COLUMNS} FROM ticket_requests WHERE id = $1", id)
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
                params.append(list(values))
                where.append(f"{column} = ANY(${len(params)}::text[])")
        if ticket_id is not None:
            params.append(ticket_id)
            where.append(f"ticket_id = ${len(params)}")
        sql = f"SELECT {REQUEST_COLUMNS} FROM ticket_requests"
        if where:
            sql += " WHERE " + " AND ".join(where)
        params.append(limit)
        rows = await self.db.fetch(sql + f" ORDER BY id LIMIT ${len(params)}", *params)
        return [request_from_row(r, self.db.tz) for r in rows]

    async def counts(self, start: dt.datetime, end: dt.datetime) -> dict[tuple[str, str, str], int]:
        rows = await self.db.fetch(
            "SELECT department, kind, state, COUNT(*) FROM ticket_requests"
            " WHERE requested_at >= $1 AND requested_at < $2 GROUP BY department, kind, state",
            to_ts(start),
            to_ts(end),
        )
        return {(d, k, s): n for d, k, s, n in rows}
