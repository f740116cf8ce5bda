"""Whole tables of an SQLite database, for `python -m bot db copy` (either direction): the shape of each table
from the schema, every row in one read snapshot (a read transaction on the reader connection), and writes by
primary key that leave unchanged rows alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.core.storage.protocols import TableShape

from .database import Database


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteTables:
    def __init__(self, db: Database):
        self.db = db

    async def shapes(self) -> list[TableShape]:
        names = [
            r[0]
            for r in await self.db.fetchall(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " AND name != 'schema_migrations' ORDER BY name"
            )
        ]
        out = []
        for name in names:
            info = await self.db.fetchall(f"PRAGMA table_info({_q(name)})")
            columns = tuple(r[1] for r in info)
            key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            refs = {r[2] for r in await self.db.fetchall(f"PRAGMA foreign_key_list({_q(name)})")}
            out.append(TableShape(name, columns, key or columns, frozenset(refs - {name})))
        return out

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        # a deferred read transaction sees the database as of its first read, whatever the bot writes meanwhile
        await self.db.reader.execute("BEGIN")
        try:
            yield
        finally:
            await self.db.reader.execute("COMMIT")

    async def read(self, shape: TableShape, batch: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        sql = f"SELECT {', '.join(map(_q, shape.columns))} FROM {_q(shape.name)} ORDER BY {', '.join(map(_q, shape.key))}"
        async with self.db.reader.execute(sql) as cur:
            while rows := await cur.fetchmany(batch):
                yield [tuple(r) for r in rows]

    async def read_range(self, shape: TableShape, low: Any, high: Any) -> list[tuple[Any, ...]]:
        (key,) = shape.key
        rows = await self.db.fetchall(
            f"SELECT {', '.join(map(_q, shape.columns))} FROM {_q(shape.name)}"
            f" WHERE {_q(key)} BETWEEN ? AND ? ORDER BY {_q(key)}",
            (low, high),
        )
        return [tuple(r) for r in rows]

    async def count(self, shape: TableShape) -> int:
        return (await self.db.fetchone(f"SELECT COUNT(*) FROM {_q(shape.name)}"))[0]

    async def upsert(self, shape: TableShape, rows: list[tuple[Any, ...]]) -> None:
        cols = ", ".join(map(_q, shape.columns))
        marks = ", ".join("?" * len(shape.columns))
        rest = [c for c in shape.columns if c not in shape.key]
        if rest:
            sets = ", ".join(f"{_q(c)}=excluded.{_q(c)}" for c in rest)
            differs = " OR ".join(f"{_q(shape.name)}.{_q(c)} IS NOT excluded.{_q(c)}" for c in rest)
            tail = f"DO UPDATE SET {sets} WHERE {differs}"
        else:
            tail = "DO NOTHING"
        sql = (
            f"INSERT INTO {_q(shape.name)} ({cols}) VALUES ({marks})"
            f" ON CONFLICT ({', '.join(map(_q, shape.key))}) {tail}"
        )
        await self.db.write_many(sql, rows)

    async def keep_only(self, shape: TableShape, keys: set[tuple[Any, ...]]) -> int:
        gone = []
        async for batch in self._keys(shape):
            gone += [k for k in batch if k not in keys]
        if gone:
            where = " AND ".join(f"{_q(c)}=?" for c in shape.key)
            await self.db.write_many(f"DELETE FROM {_q(shape.name)} WHERE {where}", gone)
        return len(gone)

    async def _keys(self, shape: TableShape) -> AsyncIterator[list[tuple[Any, ...]]]:
        async with self.db.reader.execute(
            f"SELECT {', '.join(map(_q, shape.key))} FROM {_q(shape.name)}"
        ) as cur:
            while rows := await cur.fetchmany(5000):
                yield [tuple(r) for r in rows]

    async def finish(self, shape: TableShape) -> None:
        pass  # an INTEGER PRIMARY KEY continues after the highest id by itself
