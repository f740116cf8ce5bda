"""Aggregates for digests and /stats on PostgreSQL, computed in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core.storage.protocols import RateCounts, SlaCount
from bot.core.storage.rows import TICKET_COLUMNS, rate_counts, ticket_from_row, to_ts
from bot.core.tickets.domain.models import Ticket
from bot.core.tickets.domain.sla import MILESTONES

from .database import Database
from .tickets import OPEN_SQL, RUNNING_SQL, URGENCY_ORDER, unmet_due_sql


class PostgresReports:
    def __init__(self, db: Database):
        self.db = db

    async def _by_department(self, sql: str, *params: Any) -> dict[str, int]:
        return {d: n for d, n in await self.db.fetch(sql, *params)}

    async def count_created(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        return await self._by_department(
            "SELECT department, COUNT(*) FROM tickets WHERE created_at >= $1 AND created_at < $2"
            " GROUP BY department",
            to_ts(start),
            to_ts(end),
        )

    async def count_resolved(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        return await self._by_department(
            "SELECT department, COUNT(*) FROM tickets WHERE resolve_met >= $1 AND resolve_met < $2"
            " GROUP BY department",
            to_ts(start),
            to_ts(end),
        )

    async def open_by_state(self) -> dict[tuple[str, str], int]:
        rows = await self.db.fetch(
            f"SELECT department, state, COUNT(*) FROM tickets WHERE state IN {OPEN_SQL} GROUP BY state, department"
        )
        return {(d, s): n for d, s, n in rows}

    async def attention(
        self,
        now: dt.datetime,
        level: str,
        *,
        warn_at: dict[str, float],
        default_warn: float,
        departments: tuple[str, ...] | None = None,
        limit: int = 10,
    ) -> tuple[list[Ticket], dict[str, int]]:
        params: list[Any] = [to_ts(now)]

        def p(value: Any, cast: str) -> str:
            params.append(value)
            return f"${len(params)}::{cast}"

        red = unmet_due_sql("0", "$1::int8")
        if level == "red":
            cond = red
        else:
            # a policy's own share of its window after which it warns, or the default share
            weight = (
                f"COALESCE(({p(list(warn_at.values()), 'float8[]')})"
                f"[array_position({p(list(warn_at), 'text[]')}, policy)], {p(float(default_warn), 'float8')})"
            )
            parts = []
            for m in MILESTONES:
                start = "round_started_at" if m == "resolve" else "created_at"
                parts.append(
                    f"({m}_met IS NULL AND {m}_due > $1::int8"
                    f" AND ($1::int8 - {start}) >= {weight} * ({m}_due - {start}))"
                )
            # a milestone without a deadline (a date the calendar does not cover) makes `red` NULL: not overdue
            cond = f"(({' OR '.join(parts)}) AND NOT COALESCE({red}, FALSE))"
        where = f"state IN {OPEN_SQL} AND {RUNNING_SQL} AND {cond}"
        if departments is not None:
            where += f" AND department = ANY({p(list(departments), 'text[]')})"
        counts = await self._by_department(
            f"SELECT department, COUNT(*) FROM tickets WHERE {where} GROUP BY department", *params
        )
        if limit <= 0 or not counts:
            return [], counts
        params.append(limit)
        rows = await self.db.fetch(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE {where} ORDER BY {URGENCY_ORDER} LIMIT ${len(params)}",
            *params,
        )
        return [ticket_from_row(r, self.db.tz) for r in rows], counts

    async def sla_counts(self, start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, SlaCount]]:
        out: dict[str, dict[str, SlaCount]] = {}
        for m in MILESTONES:
            rows = await self.db.fetch(
                f"SELECT department, COUNT(*) FILTER (WHERE {m}_met IS NOT NULL AND {m}_met <= {m}_due),"
                f" COUNT(*) FROM tickets WHERE {m}_due >= $1 AND {m}_due < $2 GROUP BY department",
                to_ts(start),
                to_ts(end),
            )
            for dep, met, due in rows:
                out.setdefault(dep, {})[m] = SlaCount(met=met or 0, due=due)
        return out

    async def satisfaction(self, start: dt.datetime, end: dt.datetime) -> dict[str, tuple[int, int]]:
        rows = await self.db.fetch(
            "SELECT department, SUM(rating), COUNT(*) FROM tickets WHERE rated_at >= $1 AND rated_at < $2"
            " AND rating_excluded = 0 GROUP BY department",  # a rating upheld on 申诉 does not count
            to_ts(start),
            to_ts(end),
        )
        return {d: (int(s or 0), n) for d, s, n in rows}

    async def loop_rates(self, start: dt.datetime, end: dt.datetime) -> dict[str, RateCounts]:
        a, b = to_ts(start), to_ts(end)
        visits = await self.db.fetch(
            "SELECT department, SUM(CASE WHEN visit_result = 1 THEN 1 ELSE 0 END), COUNT(*) FROM tickets"
            " WHERE visited_at >= $1 AND visited_at < $2 AND visit_result IS NOT NULL GROUP BY department",
            a,
            b,
        )
        ratings = await self.db.fetch(
            "SELECT department, SUM(CASE WHEN rating >= 3 THEN 1 ELSE 0 END), COUNT(*) FROM tickets"
            " WHERE rated_at >= $1 AND rated_at < $2 AND rating IS NOT NULL AND rating_excluded = 0"
            " GROUP BY department",
            a,
            b,
        )
        return rate_counts(visits, ratings)

    async def hot_spots(
        self, start: dt.datetime, end: dt.datetime, departments: tuple[str, ...] | None, limit: int
    ) -> list[tuple[str, int]]:
        rows = await self.db.fetch(
            "SELECT hot_key, COUNT(*) FROM tickets WHERE created_at >= $1 AND created_at < $2"
            " AND hot_key IS NOT NULL AND ($3::text[] IS NULL OR department = ANY($3::text[]))"
            " GROUP BY hot_key ORDER BY 2 DESC, 1 LIMIT $4",
            to_ts(start),
            to_ts(end),
            list(departments) if departments is not None else None,
            limit,
        )
        return [(r[0], int(r[1])) for r in rows]
