"""What only PostgreSQL has: a server that can be unreachable or refuse the credentials, the engine chosen by
the URL, and CI that must never skip these tests. The behaviour both engines share is in test_storage.py."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.core.storage import StoreOpenError, open_store
from bot.core.storage.postgres.migrations import MIGRATIONS
from tests.store_engines import TEST_DATABASE_URL, PostgresEngine, in_ci, requires_postgres


def test_ci_runs_the_postgresql_variants():
    """.ci/run starts a server and sets TEST_DATABASE_URL; without it CI would pass on SQLite alone."""
    assert not in_ci() or TEST_DATABASE_URL, (
        "CI is set but TEST_DATABASE_URL is not: the PostgreSQL variants of the store tests would be skipped"
    )


def with_netloc(url: str, *, password: str | None = None, port: int | None = None, path: str | None = None):
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}{':' + password if password is not None else ''}@{host}:{port or parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, path if path is not None else parts.path, parts.query, ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@requires_postgres
async def test_wrong_password_names_the_setting_host_and_database_but_not_the_password():
    wrong = "Wr0ng-Secret-4711"
    url = with_netloc(TEST_DATABASE_URL, password=wrong)
    with pytest.raises(StoreOpenError) as failed:
        await open_store(url, timeout_seconds=5)
    message = str(failed.value)
    parts = urlsplit(TEST_DATABASE_URL)
    assert "DATABASE_URL" in message and "密码不正确" in message
    assert f"{parts.hostname}:{parts.port}" in message and parts.path.lstrip("/") in message
    assert wrong not in message
    if parts.password:
        assert parts.password not in message


@requires_postgres
async def test_unreachable_server_is_a_clear_error_without_the_password():
    url = with_netloc(TEST_DATABASE_URL, password="s3cret-pw", port=free_port())
    with pytest.raises(StoreOpenError) as failed:
        await open_store(url, timeout_seconds=5)
    message = str(failed.value)
    assert "DATABASE_URL" in message and "连不上服务器" in message
    assert "s3cret-pw" not in message


@requires_postgres
async def test_missing_database_is_named():
    url = with_netloc(TEST_DATABASE_URL, password=urlsplit(TEST_DATABASE_URL).password, path="/no_such_db")
    with pytest.raises(StoreOpenError) as failed:
        await open_store(url, timeout_seconds=5)
    assert "数据库 no_such_db 不存在" in str(failed.value)


async def test_unreachable_server_without_a_test_server_too():
    """The open error needs no server at all: nothing listens on a fresh port."""
    url = f"postgresql://zwfw:topsecret@127.0.0.1:{free_port()}/zwfw"
    with pytest.raises(StoreOpenError) as failed:
        await open_store(url, timeout_seconds=5)
    message = str(failed.value)
    assert message.startswith("无法使用 DATABASE_URL 指定的 PostgreSQL 数据库（主机 127.0.0.1:")
    assert "数据库 zwfw" in message and "topsecret" not in message


async def test_a_url_of_another_kind_is_refused_by_name(tmp_path):
    with pytest.raises(StoreOpenError) as failed:
        await open_store("mysql://u:p@localhost/db")
    assert "DATABASE_URL" in str(failed.value) and "mysql" in str(failed.value)


async def test_plain_paths_and_sqlite_urls_open_sqlite(tmp_path):
    for database in (tmp_path / "a.db", f"sqlite:///{tmp_path}/b.db"):
        store = await open_store(database)
        try:
            assert type(store).__name__ == "SqliteStore"
            assert await store.schema_versions() == [version for version, _, _ in MIGRATIONS]
        finally:
            await store.close()


@requires_postgres
async def test_postgres_urls_open_postgresql_with_the_search_path_from_the_url():
    engine = PostgresEngine()
    await engine.setup()
    try:
        for scheme in ("postgresql", "postgres"):
            url = scheme + TEST_DATABASE_URL[TEST_DATABASE_URL.index("://") :]
            url += ("&" if "?" in url else "?") + f"search_path={engine.schema}"
            store = await open_store(url, pool_size=2)
            try:
                assert type(store).__name__ == "PostgresStore"
                assert await store.schema_versions() == [version for version, _, _ in MIGRATIONS]
            finally:
                await store.close()
        assert await engine.fetchval("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)
    finally:
        await engine.teardown()


@requires_postgres
async def test_a_write_the_server_refuses_is_a_polite_store_write_error():
    """A read-only server (a standby, or one set read-only by its admin) refuses writes: the person is told
    nothing was saved, in Chinese, and the program goes on."""
    from bot.core.storage import StoreWriteError

    engine = PostgresEngine()
    await engine.setup()
    try:
        store = await engine.open()
        await store.close()
        readonly = await open_store(engine.database + "&default_transaction_read_only=on", migrate=False)
        try:
            assert await readonly.state.load("u1") is None  # reading works
            with pytest.raises(StoreWriteError, match="数据库当前只读，刚才的操作没有保存"):
                await readonly.state.save("u1", {"step": "phone"})
        finally:
            await readonly.close()
    finally:
        await engine.teardown()
