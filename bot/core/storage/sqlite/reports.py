"""Aggregates for digests and /stats on SQLite, computed in the database.

The overdue and warning lists read the open tickets through tickets_open (migration 5), a partial index over the
open tickets that holds every column their conditions test: the due-date indexes would walk the whole table's
history (closed tickets included) to find the few open ones, and the state index would read every open ticket's
whole row. The list picks the ids of its tickets from the index and only then reads those rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core.storage.protocols import RateCounts, SlaCount
from bot.core.storage.rows import TICKET_COLUMNS, rate_counts, ticket_from_row, to_ts
from bot.core.tickets.domain.models import Ticket
from bot.core.tickets.domain.sla import MILESTONES

from .database import Database
from .tickets import OPEN_SQL, RUNNING_SQL, UNMET_DUE_SQL, URGENCY_ORDER


def window_start_sql(milestone: str) -> str:
    """The column a milestone's window starts at (domain/sla.py window_start)."""
    return "round_started_at" if milestone == "resolve" else "created_at"


# most urgent first; among equal deadlines by state, department and id: the order in which the state index
# (state, department, rowid) gave them before tickets_open, kept by SQLite's stable sort
ATTENTION_ORDER = f"{URGENCY_ORDER}, state, department, id"


def attention_where(
    now: dt.datetime,
    level: str,
    warn_at: dict[str, float],
    default_warn: float,
    departments: tuple[str, ...] | None,
) -> tuple[str, dict[str, Any]]:
    """The condition of the red (overdue) or yellow (warning) open tickets, and its parameters."""
    params: dict[str, Any] = {"a": 0, "b": to_ts(now), "now": to_ts(now), "w": default_warn}
    red = UNMET_DUE_SQL
    if level == "red":
        cond = red
    else:
        whens = []
        for i, (name, w) in enumerate(warn_at.items()):
            whens.append(f"WHEN :pn{i} THEN :pw{i}")
            params[f"pn{i}"], params[f"pw{i}"] = name, w
        weight = f"(CASE policy {' '.join(whens)} ELSE :w END)" if whens else ":w"
        parts = []
        for m in MILESTONES:
            start = window_start_sql(m)
            parts.append(
                f"({m}_met IS NULL AND {m}_due > :now AND (:now - {start}) >= {weight} * ({m}_due - {start}))"
            )
        # a milestone without a deadline (a date the calendar does not cover) makes `red` NULL: not overdue
        cond = f"(({' OR '.join(parts)}) AND NOT COALESCE({red}, FALSE))"
    where = f"state IN {OPEN_SQL} AND {RUNNING_SQL} AND {cond}"
    if departments is not None:
        names = [f":d{i}" for i in range(len(departments))]
        where += f" AND department IN ({','.join(names) or 'NULL'})"
        params.update({f"d{i}": d for i, d in enumerate(departments)})
    return where, params


class SqliteReports:
    def __init__(self, db: Database):
        self.db = db

    async def _by_department(self, sql: str, params: Any) -> dict[str, int]:
        return {d: n for d, n in await self.db.fetchall(sql, params)}

    async def count_created(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        return await self._by_department(
            "SELECT department, COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY department",
            (to_ts(start), to_ts(end)),
        )

    async def count_resolved(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        return await self._by_department(
            "SELECT department, COUNT(*) FROM tickets WHERE resolve_met >= ? AND resolve_met < ? GROUP BY department",
            (to_ts(start), to_ts(end)),
        )

    async def open_by_state(self) -> dict[tuple[str, str], int]:
        rows = await self.db.fetchall(
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
        where, params = attention_where(now, level, warn_at, default_warn, departments)
        source = "tickets INDEXED BY tickets_open"
        counts = await self._by_department(
            f"SELECT department, COUNT(*) FROM {source} WHERE {where} GROUP BY department", params
        )
        if limit <= 0 or not counts:
            return [], counts
        params["limit"] = limit
        rows = await self.db.fetchall(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN"
            f" (SELECT id FROM {source} WHERE {where} ORDER BY {ATTENTION_ORDER} LIMIT :limit)"
            f" ORDER BY {ATTENTION_ORDER}",
            params,
        )
        return [ticket_from_row(r, self.db.tz) for r in rows], counts

    async def sla_counts(self, start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, SlaCount]]:
        out: dict[str, dict[str, SlaCount]] = {}
        for m in MILESTONES:
            rows = await self.db.fetchall(
                f"SELECT department, SUM({m}_met IS NOT NULL AND {m}_met <= {m}_due), COUNT(*) FROM tickets"
                f" WHERE {m}_due >= ? AND {m}_due < ? GROUP BY department",
                (to_ts(start), to_ts(end)),
            )
            for dep, met, due in rows:
                out.setdefault(dep, {})[m] = SlaCount(met=met or 0, due=due)
        return out

    async def satisfaction(self, start: dt.datetime, end: dt.datetime) -> dict[str, tuple[int, int]]:
        rows = await self.db.fetchall(
            "SELECT department, SUM(rating), COUNT(*) FROM tickets WHERE rated_at >= ? AND rated_at < ?"
            " AND rating_excluded = 0 GROUP BY department",  # a rating upheld on 申诉 does not count
            (to_ts(start), to_ts(end)),
        )
        return {d: (s or 0, n) for d, s, n in rows}

    async def loop_rates(self, start: dt.datetime, end: dt.datetime) -> dict[str, RateCounts]:
        a, b = to_ts(start), to_ts(end)
        visits = await self.db.fetchall(
            "SELECT department, SUM(CASE WHEN visit_result = 1 THEN 1 ELSE 0 END), COUNT(*) FROM tickets"
            " WHERE visited_at >= ? AND visited_at < ? AND visit_result IS NOT NULL GROUP BY department",
            (a, b),
        )
        ratings = await self.db.fetchall(
            "SELECT department, SUM(CASE WHEN rating >= 3 THEN 1 ELSE 0 END), COUNT(*) FROM tickets"
            " WHERE rated_at >= ? AND rated_at < ? AND rating IS NOT NULL AND rating_excluded = 0"
            " GROUP BY department",
            (a, b),
        )
        return rate_counts(visits, ratings)

    async def hot_spots(
        self, start: dt.datetime, end: dt.datetime, departments: tuple[str, ...] | None, limit: int
    ) -> list[tuple[str, int]]:
        where = ""
        params: list[int | str | None] = [to_ts(start), to_ts(end)]
        if departments is not None:
            where = f" AND department IN ({','.join('?' * len(departments))})"
            params += list(departments)
        rows = await self.db.fetchall(
            "SELECT hot_key, COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ?"
            f" AND hot_key IS NOT NULL{where} GROUP BY hot_key ORDER BY 2 DESC, 1 LIMIT ?",
            (*params, limit),
        )
        return [(r[0], r[1]) for r in rows]
