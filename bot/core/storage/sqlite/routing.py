"""Routing examples and learned models on SQLite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.core.storage.protocols import RoutingExample, RoutingModelRow
from bot.core.storage.rows import routing_model_from_row, to_ts

from .database import Database

_EXAMPLE = "id, ticket_id, text, unit, category, previous, kind, actor, at"
_MODEL = "id, created_at, examples, last_example, held_back, score, baseline, active"


class SqliteRouting:
    def __init__(self, db: Database):
        self.db = db

    async def add_example(self, example: RoutingExample) -> int:
        async with self.db.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO routing_examples(ticket_id, text, unit, category, previous, kind, actor, at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (
                    example.ticket_id,
                    example.text,
                    example.unit,
                    example.category,
                    example.previous,
                    example.kind,
                    example.actor,
                    to_ts(example.at),
                ),
            )
            return int(cur.lastrowid or 0)

    async def examples(self, after_id: int = 0, limit: int | None = None) -> list[RoutingExample]:
        sql = f"SELECT {_EXAMPLE} FROM routing_examples WHERE id > ? ORDER BY id"
        params: tuple = (after_id,)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        tz = self.db.tz
        return [
            RoutingExample(
                id=r[0],
                ticket_id=r[1],
                text=r[2],
                unit=r[3],
                category=r[4],
                previous=r[5],
                kind=r[6],
                actor=r[7],
                at=dt.datetime.fromtimestamp(r[8], tz),  # NOT NULL
            )
            for r in await self.db.fetchall(sql, params)
        ]

    async def save_model(self, row: RoutingModelRow, *, activate: bool) -> int:
        async with self.db.transaction() as tx:
            if activate:
                await tx.execute("UPDATE routing_models SET active=0 WHERE active=1")
            cur = await tx.execute(
                "INSERT INTO routing_models(created_at, examples, last_example, held_back, score, baseline,"
                " active, data) VALUES (?,?,?,?,?,?,?,?)",
                (
                    to_ts(row.created_at),
                    row.examples,
                    row.last_example,
                    row.held_back,
                    row.score,
                    row.baseline,
                    1 if activate else 0,
                    row.data,
                ),
            )
            return int(cur.lastrowid or 0)

    def _model(self, r: Sequence[Any], with_data: bool) -> RoutingModelRow:
        return routing_model_from_row(r, self.db.tz, with_data)

    async def active_model(self) -> RoutingModelRow | None:
        r = await self.db.fetchone(
            f"SELECT {_MODEL}, data FROM routing_models WHERE active=1 ORDER BY id DESC LIMIT 1"
        )
        return self._model(r, True) if r else None

    async def models(self, limit: int = 10) -> list[RoutingModelRow]:
        rows = await self.db.fetchall(
            f"SELECT {_MODEL}, NULL FROM routing_models ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [self._model(r, False) for r in rows]
