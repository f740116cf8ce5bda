"""直达快享 on both engines ([sqlite], [postgres]): a subscriber is told of a new or changed policy that matches
their saved profile, through the outbox, at most once a day, and a restart neither loses nor repeats a push."""

import datetime as dt

import pytest

from bot.core.policies.desk import LIBRARY_KEY, PolicyDesk
from bot.core.texts import Texts

PROFILE = {
    "主体类型": "企业",
    "行业": "65",
    "规模": "小微",
    "属地": "示例区",
    "成立年份": 2020,
    "纳税人类型": "一般纳税人",
}


@pytest.fixture
async def store(engine, clock):
    s = await engine.open(clock=clock)
    yield s
    await s.close()


def desk_on(store, clock, real_kb):
    return PolicyDesk(real_kb.policies, clock, Texts(), store)


async def pushes(store, now):
    return [
        r for r in await store.outbox.due(now, 100) if r.notification.dedup_key.startswith("policy-push:")
    ]


async def test_new_policies_are_pushed_once_with_unsubscribe_and_a_restart_repeats_nothing(
    store, engine, clock, real_kb
):
    desk = desk_on(store, clock, real_kb)
    await store.policies.save_profile("u1", PROFILE, clock.now(), subscribed=True, notified={})
    await store.policies.save_profile("u2", PROFILE, clock.now(), subscribed=False, notified={})
    assert await desk.push(clock.now()) == 1
    [row] = await pushes(store, clock.now())
    assert row.notification.recipient.id == "u1"
    text = row.notification.reply.html
    assert "/unsubscribe" in text and "小微企业借款合同免征印花税" in text and "（新政策）" in text
    told = (await store.policies.get_profile("u1")).notified
    assert "small-micro-loan-contract-stamp" in told
    assert await desk.push(clock.now()) == 0
    # another process on the same database
    again = await engine.open(clock=clock)
    try:
        assert await desk_on(again, clock, real_kb).push(clock.now() + dt.timedelta(hours=1)) == 0
    finally:
        await again.close()
    assert len(await pushes(store, clock.now())) == 1


async def test_a_changed_policy_is_pushed_as_changed_and_what_was_told_is_not_repeated(store, clock, real_kb):
    desk = desk_on(store, clock, real_kb)
    fps = real_kb.policies.fingerprints()
    notified = {pid: fp for pid, fp in fps.items()}
    notified["small-micro-loan-contract-stamp"] = "the version before"
    await store.policies.save_profile("u1", PROFILE, clock.now(), subscribed=True, notified=notified)
    assert await desk.push(clock.now()) == 1
    [row] = await pushes(store, clock.now())
    text = row.notification.reply.html
    assert "有 1 项" in text and "（内容有调整）" in text and "增值税增量留抵退税" not in text


async def test_at_most_one_message_a_day_the_rest_waits_for_the_next_day(store, clock, real_kb):
    desk = desk_on(store, clock, real_kb)
    fps = real_kb.policies.fingerprints()
    await store.policies.save_profile("u1", PROFILE, clock.now(), subscribed=True, notified={})
    assert await desk.push(clock.now()) == 1
    # later the same day another policy changes
    await store.policies.save_profile(
        "u1", PROFILE, clock.now(), notified={**fps, "vat-incremental-credit-refund": "older"}
    )
    await store.meta.set(LIBRARY_KEY, "older library")
    later = clock.now() + dt.timedelta(hours=2)
    assert await desk.push(later) == 0
    assert await store.meta.get(LIBRARY_KEY) == "older library"  # the sweep is not done: someone waits
    tomorrow = clock.now() + dt.timedelta(days=1)
    assert await desk.push(tomorrow) == 1
    keys = sorted(r.notification.dedup_key for r in await pushes(store, tomorrow))
    assert keys == ["policy-push:u1:2026-11-23", "policy-push:u1:2026-11-24"]
    assert await store.meta.get(LIBRARY_KEY) == real_kb.policies.fingerprint()


async def test_a_profile_that_no_longer_reads_keeps_what_still_does(store, clock, real_kb):
    desk = desk_on(store, clock, real_kb)
    broken = {**PROFILE, "一项已删除的情况": True}
    await store.policies.save_profile("u1", broken, clock.now(), subscribed=True, notified={})
    assert await desk.push(clock.now()) == 1


async def test_a_process_still_on_an_older_library_does_not_push_its_old_text(store, clock, real_kb):
    """Several processes: one reloaded an edited 政策库 and swept; another, not yet reloaded, holds the tick next
    and must not tell people the old text of the changed policy."""
    from dataclasses import replace

    old = desk_on(store, clock, real_kb)  # loaded first
    await store.policies.save_profile("u1", PROFILE, clock.now(), subscribed=True, notified={})
    lib = real_kb.policies
    pid = "small-micro-loan-contract-stamp"
    edited = replace(
        lib, policies={**lib.policies, pid: lib.policies[pid].model_copy(update={"amount": "新标准"})}
    )
    clock.advance(minutes=5)
    new = PolicyDesk(edited, clock, Texts(), store, cues=old.cues)  # the reloaded process
    assert await new.push(clock.now()) == 1
    clock.advance(days=1)
    assert await old.push(clock.now()) == 0  # the older library waits for its own reload
    assert await store.meta.get(LIBRARY_KEY) == edited.fingerprint()
    assert len(await pushes(store, clock.now())) == 1
