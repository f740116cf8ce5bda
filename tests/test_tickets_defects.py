"""The defects of issue 8's "also wrong today": closing, the rating window, colleagues' tickets, reminder
counts, priority, and short numbers that were guessed."""

from __future__ import annotations

import pytest

from bot.core.clock import FixedClock
from bot.core.tickets.domain.models import CLOSED, IN_PROGRESS, PENDING, RESOLVED
from bot.core.tickets.reminders import tick
from tests.test_tickets_helpers import ADMIN, Env, at, outbox, run


@pytest.fixture
async def env(tmp_path):
    e = Env(tmp_path / "t.db", FixedClock(at(2026, 11, 23, 9, 30)))  # Monday
    await e.start()
    yield e
    await e.close()


def to_citizen(notes, citizen="c1"):
    return [n for n in notes if n.recipient.kind == "user" and n.recipient.id == citizen]


async def _resolved(env, text="占道经营"):
    s, cmds = env.service, env.cmds
    t = await s.create(citizen_id="c1", description=text, category="城乡建设")
    await run(cmds, "h-cg", f"/claim {t.number}")
    await run(cmds, "h-cg", f"/resolve {t.number} 已劝离并张贴告知书")
    return await s.get(t.number)


# ---------------------------------------------------------------- closing


async def test_closing_an_open_ticket_needs_a_reason_and_tells_the_citizen(env):
    s, cmds = env.service, env.cmds
    t = await s.create(citizen_id="c1", description="违章搭建", category="城乡建设")
    assert "写明理由" in await run(cmds, "s-cg", f"/close {t.number}")
    assert (await s.get(t.number)).state == PENDING
    assert "已告知诉求人" in await run(cmds, "s-cg", f"/close {t.number} 与 SQ20261120-0003 重复，合并处理")
    assert (await s.get(t.number)).state == CLOSED
    told = [n for n in to_citizen(await outbox(s)) if ":closed:" in (n.dedup_key or "")]
    assert len(told) == 1 and "已关闭" in told[0].reply.html and "合并处理" in told[0].reply.html
    assert not told[0].reply.buttons  # never resolved: nothing to rate


async def test_the_rating_window_cannot_be_bypassed(env):
    s, cmds = env.service, env.cmds
    t = await _resolved(env)
    # resolve, then close at once: refused, the citizen must be able to rate
    out = await run(cmds, "h-cg", f"/close {t.number}")
    assert "等待诉求人评价" in out and "11月26日（周四）24:00前" in out
    assert (await s.get(t.number)).state == RESOLVED
    # with an explicit reason it closes, the citizen is told and can still rate
    await run(cmds, "h-cg", f"/close {t.number} 诉求人电话表示满意，不再评价")
    t = await s.get(t.number)
    assert t.state == CLOSED
    told = [n for n in to_citizen(await outbox(s)) if ":closed:" in (n.dedup_key or "")]
    assert "仍可对本次办理进行评价" in told[0].reply.html
    assert [b.data for row in told[0].reply.buttons for b in row][0] == f"rate:{t.number}:5"
    # a low rating after the early close still reopens the ticket
    assert "重新交办" in await run(cmds, "c1", callback=f"rate:{t.number}:1")
    t = await s.get(t.number)
    assert t.state == IN_PROGRESS and t.round == 1 and t.rating == 1


async def test_a_rated_resolved_ticket_closes_without_a_reason(env):
    s, cmds = env.service, env.cmds
    t = await _resolved(env)
    await run(cmds, "c1", callback=f"rate:{t.number}:4")
    assert "已关闭" in await run(cmds, "h-cg", f"/close {t.number}")
    told = [n for n in to_citizen(await outbox(s)) if ":closed:" in (n.dedup_key or "")]
    assert "已劝离" in told[0].reply.html and not told[0].reply.buttons  # the result, nothing left to rate


async def test_auto_close_tells_the_citizen_who_can_still_rate(env):
    s = env.service
    t = await _resolved(env)
    env.clock.set(at(2026, 11, 27, 0, 1))  # three working days after Monday's resolution
    assert await tick(s) == 1
    t = await s.get(t.number)
    assert t.state == CLOSED
    told = [n for n in to_citizen(await outbox(s)) if "autoclosed" in (n.dedup_key or "")]
    assert len(told) == 1 and "自动关闭" in told[0].reply.html
    assert [b.data for row in told[0].reply.buttons for b in row][-1] == f"rate:{t.number}:1"
    assert "感谢" in await run(env.cmds, "c1", callback=f"rate:{t.number}:5")
    assert (await s.get(t.number)).rating == 5


# ---------------------------------------------------------------- a colleague's ticket

COLLEAGUE_COMMANDS = [
    "/transfer {n} 公安局 不归我们管",
    "/note {n} 我来看看",
    "/close {n} 重复",
    "/reopen {n} 复查",
    "/priority {n} urgent 有人受伤",
    "/contact {n} 已联系",
    "/reply {n} 您好",
    "/resolve {n} 已处理",
]


@pytest.mark.parametrize("template", COLLEAGUE_COMMANDS)
async def test_only_the_assignee_or_a_supervisor_acts_on_a_claimed_ticket(env, template):
    s, cmds = env.service, env.cmds
    t = await s.create(citizen_id="c1", description="占道经营", category="城乡建设")
    await run(cmds, "h-cg", f"/claim {t.number}")
    if "reopen" in template or "close" in template:
        await run(cmds, "h-cg", f"/resolve {t.number} 已处理")
    before = await s.get(t.number)
    events = len(await s.events(before))
    assert "其他同事" in await run(cmds, "h-cg2", template.format(n=t.number))
    after = await s.get(t.number)
    assert after.version == before.version and len(await s.events(after)) == events
    # the department's supervisor may (closing the resolved ticket early needs its reason, given here)
    out = await run(cmds, "s-cg", template.format(n=t.number))
    assert "其他同事" not in out and "负责人" not in out
    assert (await s.get(t.number)).version > before.version


# ---------------------------------------------------------------- reminders count right


async def test_overdue_is_measured_to_now_and_reminders_are_counted_as_sent(env):
    s = env.service
    t = await s.create(citizen_id="c1", description="路灯不亮", category="城乡建设")
    await run(env.cmds, "h-cg", f"/claim {t.number}")
    # down from Monday 09:30 until Wednesday 06:30: 43 hours past the 11:30 contact deadline
    env.clock.set(at(2026, 11, 25, 6, 30))
    await tick(s)
    notes = [n for n in await outbox(s) if f"remind:{t.number}:contact:red" in (n.dedup_key or "")]
    assert notes and all("已超时 43 小时" in n.reply.html for n in notes)
    reminded = [e.text for e in await s.events(t) if e.action == "remind" and "联系诉求人" in e.text]
    assert reminded == ["联系诉求人超时提醒"]  # the first breach message sent, whatever repeat it was
    env.clock.set(at(2026, 11, 26, 11, 45))  # the next repeat (72 h) falls due
    await tick(s)
    reminded = [e.text for e in await s.events(t) if e.action == "remind" and "联系诉求人" in e.text]
    assert reminded == ["联系诉求人超时提醒", "联系诉求人超时再次提醒（第2次）"]
    latest = [n for n in await outbox(s) if "contact:red:0:3:staff:h-cg" in (n.dedup_key or "")]
    assert "已超时 3 天" in latest[0].reply.html


# ---------------------------------------------------------------- priority


async def test_priority_is_shown_and_changed_with_its_reason_and_new_deadlines(env):
    s, cmds, clock = env.service, env.cmds, env.clock
    t = await s.create(citizen_id="c1", description="楼道里电线裸露", category="城乡建设")
    assert t.priority == "normal" and t.resolve_due == at(2026, 12, 8)
    assert "紧急" not in await run(cmds, "h-cg", "/tickets")
    await run(cmds, "h-cg", f"/claim {t.number}")
    clock.advance(minutes=10)
    assert "理由" in await run(cmds, "h-cg", f"/priority {t.number} urgent")
    assert "无效" in await run(cmds, "h-cg", f"/priority {t.number} 超级急 快")
    out = await run(cmds, "h-cg", f"/priority {t.number} 紧急 有老人被电到")
    assert "紧急诉求" in out
    t = await s.get(t.number)
    assert t.priority == "urgent" and t.policy == "urgent"
    assert t.contact_due == at(2026, 11, 23, 10, 30)  # one hour from creation under the urgent policy
    assert t.resolve_due == at(2026, 11, 27)  # three working days
    ev = [e for e in await s.events(t) if e.action == "priority"]
    assert len(ev) == 1 and "普通 → 紧急" in ev[0].text and "有老人被电到" in ev[0].text
    listing = await run(cmds, "h-cg", "/tickets")
    assert f"<code>{t.number}</code>｜<b>紧急</b>" in listing
    assert "已经是紧急" in await run(cmds, "h-cg", f"/priority {t.number} urgent 再说一遍")
    # a met milestone keeps the deadline it was met against
    await run(cmds, "h-cg", f"/contact {t.number} 已电话联系")
    contact_due = (await s.get(t.number)).contact_due
    await run(cmds, "h-cg", f"/priority {t.number} normal 已断电，险情排除")
    t = await s.get(t.number)
    assert t.priority == "normal" and t.contact_due == contact_due and t.resolve_due == at(2026, 12, 8)


async def test_priority_permissions(env):
    s, cmds = env.service, env.cmds
    t = await s.create(citizen_id="c1", description="楼道里电线裸露", category="城乡建设")
    assert "仅供工作人员" in await run(cmds, "c1", f"/priority {t.number} urgent 急")
    assert "城市管理局承办" in await run(cmds, "h-ga", f"/priority {t.number} urgent 急")
    assert "已调整为紧急" in await run(cmds, ADMIN, f"/priority {t.number} urgent 急")
    assert "用法" in await run(cmds, "h-cg", "/priority")
