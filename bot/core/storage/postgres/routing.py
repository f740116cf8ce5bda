"""Routing examples and learned models on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.core.storage.protocols import RoutingExample, RoutingModelRow
from bot.core.storage.rows import routing_model_from_row, to_ts

from .database import Database, nul_free

_EXAMPLE = "id, ticket_id, text, unit, category, previous, kind, actor, at"
_MODEL = "id, created_at, examples, last_example, held_back, score, baseline, active"


class PostgresRouting:
    def __init__(self, db: Database):
        self.db = db

    async def add_example(self, example: RoutingExample) -> int:
        return await self.db.fetchval(
            "INSERT INTO routing_examples(ticket_id, text, unit, category, previous, kind, actor, at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
            example.ticket_id,
            nul_free(example.text),
            nul_free(example.unit),
            nul_free(example.category),
            nul_free(example.previous),
            example.kind,
            example.actor,
            to_ts(example.at),
        )

    async def examples(self, after_id: int = 0, limit: int | None = None) -> list[RoutingExample]:
        sql = f"SELECT {_EXAMPLE} FROM routing_examples WHERE id > $1 ORDER BY id"
        args: list = [after_id]
        if limit is not None:
            sql += " LIMIT $2"
            args.append(limit)
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
            for r in await self.db.fetch(sql, *args)
        ]

    async def save_model(self, row: RoutingModelRow, *, activate: bool) -> int:
        async with self.db.transaction() as tx:
            if activate:
                await tx.execute("UPDATE routing_models SET active = 0 WHERE active = 1")
            return await tx.fetchval(
                "INSERT INTO routing_models(created_at, examples, last_example, held_back, score, baseline,"
                " active, data) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
                to_ts(row.created_at),
                row.examples,
                row.last_example,
                row.held_back,
                row.score,
                row.baseline,
                1 if activate else 0,
                row.data,
            )

    def _model(self, r: Sequence[Any], with_data: bool) -> RoutingModelRow:
        return routing_model_from_row(r, self.db.tz, with_data)

    async def active_model(self) -> RoutingModelRow | None:
        r = await self.db.fetchrow(
            f"SELECT {_MODEL}, data FROM routing_models WHERE active = 1 ORDER BY id DESC LIMIT 1"
        )
        return self._model(r, True) if r else None

    async def models(self, limit: int = 10) -> list[RoutingModelRow]:
        rows = await self.db.fetch(
            f"SELECT {_MODEL}, NULL FROM routing_models ORDER BY id DESC LIMIT $1", limit
        )
        return [self._model(r, False) for r in rows]
