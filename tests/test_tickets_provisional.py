"""Deadlines that count through a year without an official holiday notice: always set, marked 暂定 wherever
people see them, and the admins told once per year how to add the official arrangement."""

from __future__ import annotations

import pytest

from bot.core.clock import FixedClock
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.reminders import tick
from bot.core.tickets.reporting.digest import build_digest
from tests.test_tickets_helpers import Env, at, outbox, run

NOTE = "国务院公布2027年放假安排后将自动更新"


@pytest.fixture
async def env(engine):
    e = Env(engine, FixedClock(at(2026, 12, 20, 10, 0)))  # a Sunday in December 2026
    await e.start()
    yield e
    await e.close()


def test_deadlines_say_which_are_provisional():
    p = load_policies()
    d = p.deadlines(p.select("城乡建设"), at(2026, 12, 20, 10))
    # 10 working days from Sunday 20 Dec: 21–25, 28–31 Dec, then 元旦 and the weekend, Monday 4 Jan 2027
    assert d.due == {"contact": at(2026, 12, 20, 12), "feedback": at(2026, 12, 22), "resolve": at(2027, 1, 5)}
    assert d.provisional == {"resolve"} and d.years == {2027}
    assert p.deadlines(p.select("城乡建设"), at(2026, 11, 20, 10)).provisional == set()


async def test_ticket_filed_in_late_december_has_every_deadline(env):
    s = env.service
    t = await s.create(citizen_id="c1", description="年底小区停水", category="城乡建设")
    assert t.resolve_due == at(2027, 1, 5)
    assert [m for m in ("contact", "feedback", "resolve") if s.policies.is_provisional(t, m)] == ["resolve"]
    assert all(e.action != "deadline_unset" for e in await s.events(t))

    card = await run(env.cmds, "h-cg", f"/ticket {t.number}")
    # the year is shown when it is not the current one (as in the submission reply)
    assert "办结：2027年1月4日（周一）24:00前（暂定）" in card
    assert "首次反馈：12月21日（周一）24:00前\n" in card  # within 2026: official, no mark
    assert NOTE not in card  # staff see the mark; the explanation is for citizens

    mine = await run(env.cmds, "c1", f"/ticket {t.number}")
    assert "办结：2027年1月4日（周一）24:00前（暂定）" in mine
    assert f"带“暂定”的时限按国家放假办法推算，{NOTE}。" in mine

    group = [n for n in await outbox(s) if n.dedup_key == f"new:{t.number}"]
    assert "（暂定）" in group[0].reply.html


async def test_lists_and_reopen_reply_mark_provisional_deadlines(env):
    s, cmds = env.service, env.cmds
    t = await s.create(citizen_id="c1", description="路灯不亮", category="城乡建设")
    await run(cmds, "h-cg", f"/reply {t.number} 已安排维修")
    assert "办结 2027年1月4日（周一）24:00前（暂定）" in await run(cmds, "h-cg", "/tickets")
    assert "（暂定）" in await run(cmds, "c1", "/my")
    env.clock.set(at(2026, 12, 29, 9))
    await run(cmds, "h-cg", f"/resolve {t.number} 已修好")
    resolved = await s.get(t.number)
    assert resolved.rating_due == at(2027, 1, 5)  # 30, 31 Dec and Monday 4 Jan
    assert s.policies.is_provisional(resolved, "rating")
    env.clock.set(at(2026, 12, 30, 9))
    reply = await run(cmds, "h-cg", f"/reopen {t.number} 又坏了")
    # 10 working days from Wednesday 30 Dec: 31 Dec, 4–8 Jan, 11–14 Jan
    assert "新的办结时限：2027年1月14日（周四）24:00前（暂定）" in reply


async def test_reminders_and_digest_mark_provisional_deadlines(env):
    s = env.service
    t = await s.create(citizen_id="c1", description="路面塌陷", category="城乡建设")
    await run(env.cmds, "h-cg", f"/reply {t.number} 已到现场")
    env.clock.set(at(2027, 1, 3, 9))  # past 75% of the resolve window
    await tick(s)
    yellow = [
        n for n in await outbox(s) if (n.dedup_key or "").startswith(f"remind:{t.number}:resolve:yellow")
    ]
    assert yellow and "时限为 1月4日（周一）24:00前（暂定），即将到期" in yellow[0].reply.html
    env.clock.set(at(2027, 1, 4, 9))
    html = (await build_digest(s.store, now=env.clock.now(), policies=s.policies)).html
    coming = html.split("临近时限")[1]
    assert t.number in coming and "即将到期（暂定）" in coming


async def test_admins_are_told_once_per_provisional_year(env):
    s = env.service
    env.clock.set(at(2026, 11, 20, 10))
    await s.create(citizen_id="c0", description="november", category="城乡建设")  # all in 2026
    assert [n for n in await outbox(s) if n.recipient.kind == "admins"] == []

    env.clock.set(at(2026, 12, 20, 10))
    first = await s.create(citizen_id="c1", description="停水", category="城乡建设")
    await s.create(citizen_id="c2", description="停电", category="城乡建设")
    await run(env.cmds, "h-cg", f"/resolve {first.number} 已恢复")
    await run(env.cmds, "h-cg", f"/reopen {first.number} 又停了")
    admin = [n for n in await outbox(s) if n.recipient.kind == "admins"]
    assert [n.dedup_key for n in admin] == ["calendar:provisional:2027"]
    text = admin[0].reply.html
    assert "2027年的正式放假安排还不在工作日历中" in text and "暂定" in text
    assert "calendar.yaml" in text and "working_calendar" in text and "重启" in text

    env.clock.set(at(2027, 12, 20, 10))  # deadlines reaching into 2028
    await s.create(citizen_id="c3", description="供暖不热", category="城乡建设")
    keys = [n.dedup_key for n in await outbox(s) if n.recipient.kind == "admins"]
    assert keys == ["calendar:provisional:2027", "calendar:provisional:2028"]
