"""The engines a store-level test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL names a server.

Each PostgreSQL test gets a schema of its own (created before, dropped after, the store's connections
pointed at it through search_path), so tests never see each other's rows. `.ci/run` starts a server and
sets TEST_DATABASE_URL; by hand: `. .ci/postgres.sh && pg_start`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
SKIP_REASON = (
    "PostgreSQL variant skipped: TEST_DATABASE_URL is not set "
    "(bash .ci/run starts a server; by hand: . .ci/postgres.sh && pg_start)"
)

requires_postgres = pytest.mark.skipif(not TEST_DATABASE_URL, reason=SKIP_REASON)

ENGINES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=requires_postgres),
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


class SqliteEngine:
    name = "sqlite"

    def __init__(self, tmp_path: Path):
        self.path = tmp_path / "t.db"

    @property
    def database(self) -> str:
        return str(self.path)

    async def setup(self) -> None:
        pass

    async def open(self, **kw: Any) -> Any:
        from bot.core.storage.sqlite import open_sqlite_store

        return await open_sqlite_store(self.path, **kw)

    async def teardown(self) -> None:
        pass


class PostgresEngine:
    name = "postgres"

    def __init__(self, url: str = TEST_DATABASE_URL):
        self.url = url
        self.schema = f"test_{uuid.uuid4().hex[:16]}"

    @property
    def database(self) -> str:
        """The URL with this test's schema as its search_path (what DATABASE_URL or --db would say)."""
        return self.url + ("&" if "?" in self.url else "?") + f"search_path={self.schema}"

    async def _run(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def setup(self) -> None:
        await self._run(f'CREATE SCHEMA "{self.schema}"')

    async def open(self, **kw: Any) -> Any:
        from bot.core.storage.postgres import open_postgres_store

        kw.setdefault("pool_size", 4)
        return await open_postgres_store(self.url, schema=self.schema, **kw)

    async def fetchval(self, sql: str) -> Any:
        import asyncpg

        conn = await asyncpg.connect(self.url, server_settings={"search_path": self.schema})
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    async def teardown(self) -> None:
        await self._run(f'DROP SCHEMA "{self.schema}" CASCADE')


def make_engine(name: str, tmp_path: Path) -> SqliteEngine | PostgresEngine:
    return SqliteEngine(tmp_path) if name == "sqlite" else PostgresEngine()
