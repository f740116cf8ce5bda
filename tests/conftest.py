import datetime as dt
from pathlib import Path

import pytest

from bot.core.clock import DEFAULT_TZ, FixedClock
from tests.store_engines import ENGINES, make_engine

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb_min"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def clock() -> FixedClock:
    # a Monday morning, a working day
    return FixedClock(dt.datetime(2026, 11, 23, 9, 30, tzinfo=DEFAULT_TZ))


@pytest.fixture(scope="session")
def real_kb(real_answering):
    """The shipped knowledge base (the one real_answering loaded: loading it again would cost a second)."""
    return real_answering.kb


@pytest.fixture(scope="session")
def real_matcher(real_answering):
    """The matcher over the shipped base and cues, as every command builds it."""
    return real_answering.matcher


@pytest.fixture(scope="session")
def mini_kb():
    from bot.core.knowledge import load_knowledge

    return load_knowledge(FIXTURE_KB)


def make_settings(**overrides):
    """Settings for a test: nothing from the developer's environment or .env, only what the test says."""
    from bot.settings import Settings

    return Settings.load(environ={}, env_file=None, **overrides)


@pytest.fixture(scope="session")
def real_answering():
    """The shipped knowledge base, cues, matcher and templates, loaded once for every façade test."""
    from bot.app import DataPaths, load_answering

    return load_answering(DataPaths.resolve(make_settings()))


@pytest.fixture(scope="session")
def mini_answering():
    from bot.app import DataPaths, load_answering

    return load_answering(DataPaths.resolve(make_settings(knowledge_dir=FIXTURE_KB)))


@pytest.fixture
async def build_app(real_answering):
    """`await build_app(tmp_path / "t.db", clock, extra_admins={"s1"})`: the whole assistant over the shared
    knowledge base (on a file, or on the `engine` fixture's database); every app built is closed after the test
    (closing twice is harmless)."""
    from bot.app import build

    apps = []

    async def make(db, clock, *, answering=None, extra_admins=(), **settings):
        if isinstance(db, (str, Path)):
            where = {"database_path": db}
        else:  # the `engine` fixture's database: an SQLite file or a PostgreSQL schema
            where = {"database_url" if db.name == "postgres" else "database_path": db.database}
        app = await build(
            make_settings(**where, **settings),
            clock=clock,
            answering=answering or real_answering,
            extra_admins=frozenset(extra_admins),
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        await app.aclose()


@pytest.fixture(params=ENGINES)
async def engine(request, tmp_path):
    """A database on each engine ([sqlite], [postgres]): `await engine.open(clock=…)` opens a store on it (as
    often as a test likes: each store is what one process would have)."""
    eng = make_engine(request.param, tmp_path)
    await eng.setup()
    yield eng
    await eng.teardown()
