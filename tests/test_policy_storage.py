"""Saved enterprise profiles and policy questions (migration 11), on both engines ([sqlite], [postgres])."""

import datetime as dt

import pytest

from bot.core.messages import Notification, Recipient, Reply


@pytest.fixture
async def store(engine, clock):
    s = await engine.open(clock=clock)
    yield s
    await s.close()


async def test_a_profile_is_saved_read_changed_and_deleted_by_its_owner(store, clock):
    repo = store.policies
    assert await repo.get_profile("u1") is None
    await repo.save_profile("u1", {"规模": "小微", "行业": "65"}, clock.now())
    first = await repo.get_profile("u1")
    assert first.profile == {"规模": "小微", "行业": "65"} and not first.subscribed
    assert first.consented_at == clock.now() and first.notified == {}
    later = clock.advance(days=1)
    await repo.save_profile("u1", {"规模": "小型"}, later, subscribed=True, notified={"p": "f1"})
    got = await repo.get_profile("u1")
    assert got.profile == {"规模": "小型"} and got.subscribed and got.notified == {"p": "f1"}
    assert (
        got.consented_at == first.consented_at and got.updated_at == later
    )  # consent kept from the first save
    # saving without subscribed/notified keeps them
    await repo.save_profile("u1", {"规模": "微型"}, later)
    got = await repo.get_profile("u1")
    assert got.subscribed and got.notified == {"p": "f1"}
    assert await repo.get_profile("u2") is None
    assert await repo.delete_profile("u1") is True
    assert await repo.get_profile("u1") is None
    assert await repo.delete_profile("u1") is False


async def test_subscribers_are_paged_and_unsubscribing_removes_one(store, clock):
    repo = store.policies
    for n in range(5):
        await repo.save_profile(f"u{n}", {"规模": "小微"}, clock.now(), subscribed=n != 2)
    assert await repo.set_subscribed("u3", False, clock.now()) is True
    assert await repo.set_subscribed("nobody", True, clock.now()) is False
    first = await repo.subscribers("", 2)
    rest = await repo.subscribers(first[-1].user_id, 10)
    assert [p.user_id for p in first + rest] == ["u0", "u1", "u4"]


async def test_a_push_is_queued_once_a_day_with_what_was_told_in_one_transaction(store, clock):
    repo = store.policies
    await repo.save_profile("u1", {"规模": "小微"}, clock.now(), subscribed=True)
    note = Notification(Recipient("user", "u1"), Reply("新政策"), "policy-push:u1:2026-11-23")
    assert await repo.queue_push("u1", note, {"a": "1"}) is True
    # the same day's key again: nothing queued, and what the person was told stays as it was
    assert await repo.queue_push("u1", note, {"a": "1", "b": "2"}) is False
    assert (await repo.get_profile("u1")).notified == {"a": "1"}
    rows = await store.outbox.due(clock.now())
    assert [r.notification.dedup_key for r in rows] == ["policy-push:u1:2026-11-23"]


async def test_questions_are_counted_by_policy_and_unanswered_ones_by_text(store, clock):
    repo = store.policies
    now = clock.now()
    await repo.log_question("我们是软件企业有什么补贴", ["rd", "vat"], True, now)
    await repo.log_question("为什么没有研发加计扣除", ["rd"], True, now)
    await repo.log_question("直播带货有补贴吗", [], False, now)
    await repo.log_question("直播带货有补贴吗", [], False, now)
    await repo.log_question("去年的问题", ["old"], True, now - dt.timedelta(days=400))
    top = await repo.top_policies(now - dt.timedelta(days=1), now + dt.timedelta(days=1), 10)
    assert [(q.key, q.count) for q in top] == [("rd", 2), ("vat", 1)]
    gaps = await repo.unanswered(now - dt.timedelta(days=1), now + dt.timedelta(days=1), 10)
    assert [(q.key, q.count) for q in gaps] == [("直播带货有补贴吗", 2)]


async def test_staff_aggregates_hold_counts_only(store, clock):
    repo = store.policies
    await repo.save_profile(
        "u1", {"规模": "小微", "行业": "65", "属地": "示例区", "从业人数": 25}, clock.now()
    )
    await repo.save_profile("u2", {"规模": "小微", "行业": "62"}, clock.now(), subscribed=True)
    counts = await repo.profile_counts()
    assert counts["total"] == {"profiles": 2, "subscribed": 1}
    assert counts["规模"] == {"小微": 2}
    assert counts["行业"] == {"65": 1, "62": 1}
    assert counts["属地"] == {"示例区": 1, "未填": 1}
    assert "u1" not in str(counts) and "25" not in str(counts)
