"""What several processes coordinate through, on every engine: update ids seen once, named leases, and the
purge of old conversation state. Two stores on one database stand for two processes."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.core.clock import DEFAULT_TZ, FixedClock


def at(hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 23, hh, mm, ss, tzinfo=DEFAULT_TZ)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(9))


@pytest.fixture
async def two_stores(engine, clock):
    a = await engine.open(clock=clock)
    b = await engine.open(clock=clock)
    yield a, b
    await a.close()
    await b.close()


async def test_an_update_id_is_first_seen_once_across_stores_and_forgotten_after_the_window(two_stores):
    a, b = two_stores
    # the same ids offered to both at once: each is new for exactly one of them
    got = await asyncio.gather(*(s.updates.first_time(i, at(9)) for i in range(1, 41) for s in (a, b)))
    assert sum(got) == 40
    assert all(got[2 * k] != got[2 * k + 1] for k in range(40))
    assert await b.updates.first_time(7, at(10)) is False
    assert await a.updates.forget(at(9, 30)) == 40
    assert await b.updates.first_time(7, at(10)) is True  # forgotten: new again
    assert await a.updates.forget(at(9, 30)) == 0


async def test_a_lease_is_held_by_one_owner_until_released_or_expired(two_stores):
    a, b = two_stores
    assert await a.leases.acquire("tick", "p1", at(9), at(9, 5)) is True
    assert await b.leases.acquire("tick", "p2", at(9, 1), at(9, 6)) is False
    assert await a.leases.acquire("tick", "p1", at(9, 2), at(9, 7)) is True  # the holder extends it
    assert await b.leases.acquire("tick", "p2", at(9, 6), at(9, 11)) is False  # extended to 9:07
    assert await b.leases.acquire("digest", "p2", at(9, 6), at(9, 11)) is True  # another name is free
    await b.leases.release("tick", "p2")  # not the holder: nothing happens
    assert await b.leases.acquire("tick", "p2", at(9, 6), at(9, 11)) is False
    assert await b.leases.acquire("tick", "p2", at(9, 7), at(9, 12)) is True  # p1's lease ran out
    await b.leases.release("tick", "p2")
    assert await a.leases.acquire("tick", "p1", at(9, 8), at(9, 13)) is True  # released: free at once


async def test_owners_racing_for_a_free_lease_get_it_once(two_stores):
    a, b = two_stores
    for round_ in range(10):
        name = f"race{round_}"
        got = await asyncio.gather(
            *(s.leases.acquire(name, f"p{i}", at(9), at(9, 5)) for i, s in enumerate([a, b] * 4))
        )
        assert sum(got) == 1, got


async def test_state_purge_drops_only_old_entries_under_the_prefix(engine, clock):
    s = await engine.open(clock=clock)
    try:
        await s.state.save("dialogue:1", {"last_target": "x"})
        await s.state.save("1", {"step": "phone"})  # an intake draft: another prefix
        clock.advance(hours=1)
        await s.state.save("dialogue:2", {"last_target": "y"})
        assert await s.state.purge("dialogue:", at(9, 30)) == 1
        assert await s.state.load("dialogue:1") is None
        assert await s.state.load("dialogue:2") == {"last_target": "y"}
        assert await s.state.load("1") == {"step": "phone"}
        await s.state.save("dialogue:1", {"last_target": "z"})  # saved again after the purge: kept
        assert await s.state.load("dialogue:1") == {"last_target": "z"}
    finally:
        await s.close()


async def test_state_is_taken_by_one_of_two_stores(two_stores):
    a, b = two_stores
    for round_ in range(5):
        key = f"u{round_}"
        await a.state.save(key, {"step": "summary", "n": round_})
        got = await asyncio.gather(a.state.take(key), b.state.take(key))
        assert sorted(map(bool, got)) == [False, True], got
        assert [g for g in got if g] == [{"step": "summary", "n": round_}]
        assert await a.state.load(key) is None
