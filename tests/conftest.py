import datetime as dt
from pathlib import Path

import pytest

from bot.core.clock import DEFAULT_TZ, FixedClock

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb_min"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def clock() -> FixedClock:
    # a Monday morning, a working day
    return FixedClock(dt.datetime(2026, 11, 23, 9, 30, tzinfo=DEFAULT_TZ))


@pytest.fixture(scope="session")
def real_kb():
    from bot.core.knowledge import load_knowledge

    return load_knowledge()


@pytest.fixture(scope="session")
def real_matcher(real_kb):
    from bot.core.matching.matcher import Matcher

    return Matcher(real_kb)


@pytest.fixture(scope="session")
def mini_kb():
    from bot.core.knowledge import load_knowledge

    return load_knowledge(FIXTURE_KB)
