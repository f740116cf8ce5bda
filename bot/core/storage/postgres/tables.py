"""Whole tables of a PostgreSQL database, for `python -m bot db copy` (either direction): the shape of each
table from the catalog, every row in one read snapshot (a REPEATABLE READ, READ ONLY transaction on a connection
of its own, read through a cursor), and writes by primary key — one statement per batch from unnest of typed
arrays — that leave unchanged rows alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.core.storage.protocols import TableShape

from .database import Database, as_columns, nul_free

# the array type of each column type the migrations use
ARRAY_TYPES = {"bigint": "int8", "integer": "int4", "smallint": "int2", "text": "text", "boolean": "bool"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresTables:
    def __init__(self, db: Database):
        self.db = db
        self._snapshot: asyncpg.Connection | None = None
        self._types: dict[str, dict[str, str]] = {}

    async def shapes(self) -> list[TableShape]:
        rows = await self.db.fetch(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
            " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
            " AND a.attnum > 0 AND NOT a.attisdropped AND c.relname != 'schema_migrations'"
            " ORDER BY c.relname, a.attnum"
        )
        columns: dict[str, list[str]] = {}
        for table, column, kind in rows:
            columns.setdefault(table, []).append(column)
            self._types.setdefault(table, {})[column] = ARRAY_TYPES.get(kind, kind)
        keys = await self.db.fetch(
            "SELECT c.relname, array_agg(a.attname ORDER BY k.ord)"
            " FROM pg_constraint p JOIN pg_class c ON c.oid = p.conrelid"
            " CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
            " WHERE p.contype = 'p' AND c.relnamespace = current_schema()::regnamespace"
            " GROUP BY c.relname"
        )
        key = {r[0]: tuple(r[1]) for r in keys}
        refs = await self.db.fetch(
            "SELECT c.relname, r.relname FROM pg_constraint p JOIN pg_class c ON c.oid = p.conrelid"
            " JOIN pg_class r ON r.oid = p.confrelid"
            " WHERE p.contype = 'f' AND c.relnamespace = current_schema()::regnamespace"
        )
        references: dict[str, set[str]] = {}
        for table, target in refs:
            references.setdefault(table, set()).add(target)
        return [
            TableShape(
                t,
                tuple(cols),
                key.get(t, tuple(cols)),
                frozenset(references.get(t, set()) - {t}),
            )
            for t, cols in sorted(columns.items())
        ]

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        conn = await self.db.pool.acquire(timeout=self.db.timeout)
        tx = conn.transaction(isolation="repeatable_read", readonly=True)
        await tx.start()
        self._snapshot = conn
        try:
            yield
        finally:
            self._snapshot = None
            try:
                await tx.rollback()
            finally:
                await self.db.pool.release(conn)

    async def read(self, shape: TableShape, batch: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        sql = (
            f"SELECT {', '.join(map(_q, shape.columns))} FROM {_q(shape.name)}"
            f" ORDER BY {', '.join(map(_q, shape.key))}"
        )
        if self._snapshot is not None:
            cursor = await self._snapshot.cursor(sql)
            while rows := await cursor.fetch(batch):
                yield [tuple(r) for r in rows]
            return
        async with self.db.pool.acquire(timeout=self.db.timeout) as conn, conn.transaction():
            cursor = await conn.cursor(sql)
            while rows := await cursor.fetch(batch):
                yield [tuple(r) for r in rows]

    async def read_range(self, shape: TableShape, low: Any, high: Any) -> list[tuple[Any, ...]]:
        (key,) = shape.key
        rows = await self.db.fetch(
            f"SELECT {', '.join(map(_q, shape.columns))} FROM {_q(shape.name)}"
            f" WHERE {_q(key)} BETWEEN $1 AND $2 ORDER BY {_q(key)}",
            low,
            high,
        )
        return [tuple(r) for r in rows]

    async def count(self, shape: TableShape) -> int:
        sql = f"SELECT count(*) FROM {_q(shape.name)}"
        if self._snapshot is not None:
            return await self._snapshot.fetchval(sql)
        return await self.db.fetchval(sql)

    def _arrays(self, shape: TableShape, columns: tuple[str, ...], offset: int = 0) -> str:
        if shape.name not in self._types:
            raise RuntimeError("shapes() first")
        types = self._types[shape.name]
        return ", ".join(f"${offset + i + 1}::{types[c]}[]" for i, c in enumerate(columns))

    async def upsert(self, shape: TableShape, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        t = _q(shape.name)
        cols = ", ".join(map(_q, shape.columns))
        rest = [c for c in shape.columns if c not in shape.key]
        if rest:
            sets = ", ".join(f"{_q(c)} = EXCLUDED.{_q(c)}" for c in rest)
            mine = ", ".join(f"{t}.{_q(c)}" for c in rest)
            theirs = ", ".join(f"EXCLUDED.{_q(c)}" for c in rest)
            tail = f"DO UPDATE SET {sets} WHERE ({mine}, NULL) IS DISTINCT FROM ({theirs}, NULL)"
        else:
            tail = "DO NOTHING"
        if any(v.__class__ is str and "\x00" in v for r in rows for v in r):
            rows = [tuple(nul_free(v) for v in r) for r in rows]
        incoming = _q(f"incoming_{shape.name}")

        async def write(tx: asyncpg.Connection) -> None:
            # COPY into a scratch table, then one INSERT … ON CONFLICT: half the time of an unnest insert
            await tx.execute(f"CREATE TEMP TABLE {incoming} (LIKE {t}) ON COMMIT DROP")
            await tx.copy_records_to_table(incoming.strip('"'), records=rows, columns=list(shape.columns))
            await tx.execute(
                f"INSERT INTO {t} ({cols}) SELECT {cols} FROM {incoming}"
                f" ON CONFLICT ({', '.join(map(_q, shape.key))}) {tail}"
            )

        await self.db.run(write)

    async def keep_only(self, shape: TableShape, keys: set[tuple[Any, ...]]) -> int:
        here: list[tuple[Any, ...]] = []
        async for batch in self._keys(shape):
            here += [k for k in batch if k not in keys]
        if not here:
            return 0
        match = ", ".join(map(_q, shape.key))
        sql = (
            f"DELETE FROM {_q(shape.name)} WHERE ({match}) IN"
            f" (SELECT * FROM unnest({self._arrays(shape, shape.key)}))"
        )
        await self.db.execute(sql, *as_columns(here, len(shape.key)))
        return len(here)

    async def _keys(self, shape: TableShape) -> AsyncIterator[list[tuple[Any, ...]]]:
        async with self.db.pool.acquire(timeout=self.db.timeout) as conn, conn.transaction():
            cursor = await conn.cursor(f"SELECT {', '.join(map(_q, shape.key))} FROM {_q(shape.name)}")
            while rows := await cursor.fetch(5000):
                yield [tuple(r) for r in rows]

    async def finish(self, shape: TableShape) -> None:
        # ids written as they were: the identity sequence must continue after the highest one
        for column in shape.columns:
            seq = await self.db.fetchval("SELECT pg_get_serial_sequence($1, $2)", shape.name, column)
            if seq is not None:
                await self.db.execute(
                    f"SELECT setval($1::regclass, GREATEST((SELECT max({_q(column)}) FROM {_q(shape.name)}), 1),"
                    f" (SELECT max({_q(column)}) FROM {_q(shape.name)}) IS NOT NULL)",
                    seq,
                )
