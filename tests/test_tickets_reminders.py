"""Reminders: due warnings and breaches are queued exactly once, across restarts, and caught up after downtime."""

from __future__ import annotations

import pytest

from bot.core.clock import FixedClock
from bot.core.tickets.reminders import tick
from tests.test_tickets_helpers import Env, at, outbox, run


@pytest.fixture
async def env(engine):
    e = Env(engine, FixedClock(at(2026, 11, 23, 9, 30)))  # Monday
    await e.start()
    yield e
    await e.close()


def reminders(notes):
    return sorted((n.dedup_key or "") for n in notes if (n.dedup_key or "").startswith("remind:"))


async def test_each_reminder_is_sent_exactly_once_across_restarts(env):
    s = env.service
    t = await s.create(citizen_id="c1", description="窨井冒水", category="城乡建设")
    env.clock.set(at(2026, 11, 23, 10, 59))
    assert await tick(s) == 0
    env.clock.set(at(2026, 11, 23, 11, 0))  # 75% of the two-hour contact window
    assert await tick(s) == 1
    assert await tick(s) == 0
    s = await env.restart()
    assert await tick(s) == 0
    env.clock.set(at(2026, 11, 23, 11, 20))
    assert await tick(s) == 0
    env.clock.set(at(2026, 11, 23, 11, 30))  # contact deadline
    assert await tick(s) == 1
    s = await env.restart()
    env.clock.set(at(2026, 11, 23, 11, 31))
    assert await tick(s) == 0

    keys = reminders(await outbox(s))
    assert keys == sorted(
        [
            f"remind:{t.number}:contact:yellow:0:0:department:城市管理局",
            f"remind:{t.number}:contact:red:0:0:department:城市管理局",
            f"remind:{t.number}:contact:red:0:0:staff:s-cg",  # a breach also goes to the supervisor
        ]
    )
    notes = {n.dedup_key: n for n in await outbox(s)}
    yellow = notes[f"remind:{t.number}:contact:yellow:0:0:department:城市管理局"].reply.html
    assert "联系诉求人" in yellow and "11月23日（周一）11:30前" in yellow and "尚未认领" in yellow
    assert [e.action for e in await s.events(t)].count("remind") == 2


async def test_catch_up_after_downtime_and_repeat_until_met(env):
    s = env.service
    t = await s.create(citizen_id="c1", description="路灯不亮", category="城乡建设")
    await run(env.cmds, "h-cg", f"/claim {t.number}")
    # the bot was down from Monday 09:30 until Tuesday 15:00
    env.clock.set(at(2026, 11, 24, 15, 0))
    assert await tick(s) == 2  # the contact breach (latest repeat only) and the first-feedback warning
    keys = reminders(await outbox(s))
    assert f"remind:{t.number}:contact:red:0:1:staff:h-cg" in keys  # to the handler now that it is claimed
    assert f"remind:{t.number}:contact:red:0:1:staff:s-cg" in keys
    assert f"remind:{t.number}:feedback:yellow:0:0:staff:h-cg" in keys
    assert not any(":contact:yellow:" in k or ":contact:red:0:0:" in k for k in keys)  # superseded
    assert await tick(s) == 0
    env.clock.set(at(2026, 11, 25, 0, 0))  # first feedback deadline (Tue 24:00)
    assert await tick(s) == 1
    env.clock.set(at(2026, 11, 25, 11, 30))  # 48 hours after the contact deadline: repeated
    assert await tick(s) == 1
    await run(env.cmds, "h-cg", f"/reply {t.number} 您好，已派人检修")  # meets contact and feedback
    env.clock.set(at(2026, 11, 30, 12, 0))
    before = len(reminders(await outbox(s)))
    assert await tick(s) == 0  # nothing for met milestones; the resolve warning is not yet due
    assert len(reminders(await outbox(s))) == before


async def test_resolve_warning_and_breach_and_none_after_resolution(env):
    s = env.service
    t = await s.create(citizen_id="c1", description="绿化带被毁", category="城乡建设")
    await run(env.cmds, "h-cg", f"/reply {t.number} 收到，已安排")
    env.clock.set(at(2026, 12, 4, 12, 0))  # well past 75% of ten working days
    assert await tick(s) == 1
    assert any(":resolve:yellow:" in k for k in reminders(await outbox(s)))
    await run(env.cmds, "h-cg", f"/resolve {t.number} 已补种")
    env.clock.set(at(2026, 12, 9, 12, 0))  # past the resolve deadline, but it was met
    assert await tick(s) == 0
    assert not any(":resolve:red:" in k for k in reminders(await outbox(s)))


async def test_ticks_from_two_services_on_one_database_do_not_double_send(env, tmp_path):
    from tests.test_tickets_helpers import make_service

    s = env.service
    await s.create(citizen_id="c1", description="积水", category="城乡建设")
    other = await make_service(env.path, env.clock, staff=False)
    try:
        env.clock.set(at(2026, 11, 23, 11, 0))
        assert await tick(s) + await tick(other) == 1
    finally:
        await other.store.close()
