"""A ticket's life as people see it: creation, claim, reply, transfer, resolve, rating, reopen, close."""

from __future__ import annotations

import pytest

from bot.core.clock import FixedClock
from bot.core.tickets.domain.models import CLOSED, IN_PROGRESS, PENDING, RESOLVED
from bot.core.tickets.reminders import tick
from bot.core.tickets.service import TicketError
from tests.test_tickets_helpers import Env, at, outbox, run


@pytest.fixture
async def env(engine):
    e = Env(engine, FixedClock(at(2026, 11, 23, 9, 30)))
    await e.start()
    yield e
    await e.close()


async def test_create_gives_readable_number_deadlines_and_notifies_the_department(env):
    s = env.service
    t = await s.create(citizen_id="c1", description="小区路灯坏了", category="城乡建设", phone="13812345678")
    t2 = await s.create(citizen_id="c2", description="噪音扰民", category="其他")
    assert t.number == "SQ20261123-0001" and t2.number == "SQ20261123-0002"
    assert t.department == "城市管理局" and t2.department == "行政审批服务局"
    assert t.state == PENDING
    assert t.contact_due == at(2026, 11, 23, 11, 30)
    assert t.feedback_due == at(2026, 11, 25)  # Tue 24 Nov, 24:00
    assert t.resolve_due == at(2026, 12, 8)  # Mon 7 Dec, 24:00
    new = [n for n in await outbox(s) if n.dedup_key == f"new:{t.number}"]
    assert len(new) == 1 and new[0].recipient.id == "城市管理局"
    datas = [b.data for row in new[0].reply.buttons for b in row]
    assert datas == [f"claim:{t.number}", f"xfer:{t.number}"]
    assert "138****5678" in new[0].reply.html and "13812345678" not in new[0].reply.html
    assert (await s.events(t))[0].action == "create"


async def test_empty_description_is_refused_politely(env):
    with pytest.raises(TicketError, match="不能为空"):
        await env.service.create(citizen_id="c1", description="   ", category="其他")


async def test_full_lifecycle_records_every_step_and_tells_the_citizen(env):
    s, cmds, clock = env.service, env.cmds, env.clock
    t = await s.create(citizen_id="c1", description="人行道井盖缺失，很危险", category="城乡建设")
    assert "已认领" in await run(cmds, "h-cg", callback=f"claim:{t.number}", group=True)
    clock.advance(minutes=30)
    assert "已记录" in await run(cmds, "h-cg", f"/contact {t.seq} 电话联系了诉求人，约定明天查看")
    await run(cmds, "h-cg", f"/note {t.seq} 需要市政配合")
    clock.advance(hours=3)
    await run(cmds, "h-cg", f"/reply {t.seq} 您好，已安排人员今天下午放置警示标志。")
    await run(cmds, "h-cg", f"/transfer {t.seq} 城管 已在本部门")  # same department: refused
    out = await run(cmds, "h-cg", f"/transfer {t.number} 公安局 涉及交通安全")
    assert "公安局" in out
    t = await s.get(t.number)
    assert t.department == "公安局" and t.state == PENDING and t.handler is None
    await run(cmds, "h-ga", f"/claim {t.number}")
    clock.advance(days=2)
    await run(cmds, "h-ga", f"/resolve {t.number} 已补装井盖并设置警示。")
    t = await s.get(t.number)
    assert t.state == RESOLVED
    assert t.contact_met == at(2026, 11, 23, 10, 0)  # /contact met the contact milestone
    assert t.feedback_met == at(2026, 11, 23, 13, 0)  # the first reply met first feedback
    assert t.resolve_met == at(2026, 11, 25, 13, 0)
    assert "感谢" in await run(cmds, "c1", callback=f"rate:{t.number}:5")
    await run(cmds, "h-ga", f"/close {t.number}")
    t = await s.get(t.number)
    assert t.state == CLOSED and t.rating == 5

    actions = [e.action for e in await s.events(t)]
    assert actions == [
        "create",
        "claim",
        "contact",
        "note",
        "reply",
        "transfer",
        "claim",
        "resolve",
        "rate",
        "close",
    ]
    to_citizen = [n for n in await outbox(s) if n.recipient.kind == "user" and n.recipient.id == "c1"]
    texts = "\n".join(n.reply.html for n in to_citizen)
    assert "已由城市管理局受理" in texts
    assert "已安排人员今天下午放置警示标志" in texts
    assert "已转交公安局办理" in texts
    assert "已补装井盖并设置警示" in texts
    assert "需要市政配合" not in texts  # internal notes never reach the citizen
    resolved = [n for n in to_citizen if "已办结" in n.reply.html][0]
    assert [b.data for row in resolved.reply.buttons for b in row] == [
        f"rate:{t.number}:{n}" for n in (5, 4, 3, 2, 1)
    ]
    assert resolved.reply.buttons[0][0].label.endswith("非常满意")
    assert resolved.reply.buttons[-1][0].label.endswith("非常不满意")


async def test_citizen_text_never_becomes_markup(env):
    s, cmds = env.service, env.cmds
    t = await s.create(citizen_id="c1", description="<b>急</b><script>x</script>", category="其他")
    shown = await run(cmds, "c1", f"/ticket {t.number}")
    assert "<script>" not in shown and "&lt;script&gt;" in shown


async def test_low_rating_reopens_and_alerts_the_supervisor(env):
    s, cmds, clock = env.service, env.cmds, env.clock
    t = await s.create(citizen_id="c1", description="垃圾清运不及时", category="城乡建设")
    await run(cmds, "h-cg", f"/claim {t.number}")
    await run(cmds, "h-cg", f"/resolve {t.number} 已清运")
    clock.advance(hours=5)
    await run(cmds, "c2", callback=f"rate:{t.number}:1")  # somebody else cannot rate
    assert (await s.get(t.number)).rating is None
    reply = await run(cmds, "c1", callback=f"rate:{t.number}:2")
    assert "重新交办" in reply
    t = await s.get(t.number)
    assert t.state == IN_PROGRESS and t.handler == "h-cg" and t.round == 1 and t.resolve_met is None
    assert t.resolve_due == at(2026, 12, 8)  # ten working days from the reopening (Mon 23 Nov)
    alerts = [n for n in await outbox(s) if "lowrating" in (n.dedup_key or "")]
    assert {(n.recipient.kind, n.recipient.id) for n in alerts} == {
        ("staff", "s-cg"),
        ("department", "城市管理局"),
    }
    assert "不满意" in alerts[0].reply.html
    # the next resolution can be rated again, and a good rating does not reopen
    await run(cmds, "h-cg", f"/resolve {t.number} 已加派车辆每日清运")
    clock.advance(hours=1)
    await run(cmds, "c1", callback=f"rate:{t.number}:4")
    t = await s.get(t.number)
    assert t.state == RESOLVED and t.rating == 4
    assert "不在待评价状态" in await run(cmds, "c1", callback=f"rate:{t.number}:5")


async def test_unrated_ticket_closes_after_three_working_days(env):
    s, cmds, clock = env.service, env.cmds, env.clock
    t = await s.create(citizen_id="c1", description="公园长椅损坏", category="城乡建设")
    clock.set(at(2026, 11, 27, 15))  # Friday
    await run(cmds, "h-cg", f"/resolve {t.number} 已修复")
    clock.set(at(2026, 12, 2, 23, 59))  # Wed 2 Dec: still inside Mon, Tue, Wed
    await tick(s)
    assert (await s.get(t.number)).state == RESOLVED
    clock.set(at(2026, 12, 3, 0, 0))
    await tick(s)
    t = await s.get(t.number)
    assert t.state == CLOSED
    assert (await s.events(t))[-1].actor == "system"


async def test_short_number_is_understood_when_unambiguous(env):
    s, cmds, clock = env.service, env.cmds, env.clock
    await s.create(citizen_id="c1", description="A", category="城乡建设")
    t2 = await s.create(citizen_id="c1", description="B", category="城乡建设")
    assert t2.number in await run(cmds, "h-cg", "/claim 2")
    clock.advance(days=1)
    await s.create(citizen_id="c1", description="C", category="城乡建设")
    await s.create(citizen_id="c1", description="D", category="城乡建设")
    # two open tickets end in 0002 now: no guess (not even today's), the full number is asked for
    out = await run(cmds, "h-cg", "/claim 2")
    assert "请写完整编号" in out and "SQ20261123-0002" in out and "SQ20261124-0002" in out
    assert (await s.get("SQ20261124-0002")).handler is None
    assert "SQ20261124-0002" in await run(cmds, "h-cg", "/ticket SQ20261124-0002")


async def test_reopen_and_close_by_staff(env):
    s, cmds = env.service, env.cmds
    t = await s.create(citizen_id="c1", description="违章搭建", category="城乡建设")
    assert "仍在办理中" in await run(cmds, "s-cg", f"/reopen {t.number} 复查")
    assert "负责人" in await run(
        cmds, "h-cg", f"/close {t.number} 重复诉求"
    )  # handlers cannot close open ones
    await run(cmds, "s-cg", f"/close {t.number} 重复诉求")
    assert (await s.get(t.number)).state == CLOSED
    await run(cmds, "s-cg", f"/reopen {t.number} 诉求人补充了新情况")
    t = await s.get(t.number)
    assert t.state == PENDING and t.round == 1


async def test_my_lists_only_the_citizens_own_tickets_with_next_deadline(env):
    s, cmds = env.service, env.cmds
    mine = await s.create(citizen_id="c1", description="我的诉求", category="其他")
    other = await s.create(citizen_id="c2", description="别人的诉求", category="其他")
    out = await run(cmds, "c1", "/my")
    assert mine.number in out and other.number not in out and "联系诉求人" in out
    assert "只能查看本人" in await run(cmds, "c1", f"/ticket {other.number}")
    assert "没有提交过" in await run(cmds, "c3", "/my")


async def test_not_our_command_returns_none(env):
    from tests.test_tickets_helpers import say

    assert await env.cmds.handle(say("c1", "你好")) is None
    assert await env.cmds.handle(say("c1", "/start")) is None
    assert await env.cmds.handle(say("c1", callback="aspect:fee")) is None


async def test_anonymous_ticket_hides_the_citizen_from_staff(env):
    s, cmds = env.service, env.cmds
    t = await s.create(
        citizen_id="tg-998877",
        description="举报无证经营",
        category="城乡建设",
        phone="13812345678",
        anonymous=True,
    )
    new = [n for n in await outbox(s) if n.dedup_key == f"new:{t.number}"][0].reply.html
    card = await run(cmds, "h-cg", f"/ticket {t.number}")
    for shown in (new, card):
        assert "匿名" in shown
        assert "5678" not in shown and "tg-998877" not in shown
    assert "诉求人 登记" in card
    # the citizen is still told about progress
    await run(cmds, "h-cg", f"/claim {t.number}")
    assert any(n.recipient.id == "tg-998877" for n in await outbox(s))


async def test_ticket_lists_for_staff(env):
    s, cmds, clock = env.service, env.cmds, env.clock
    a = await s.create(citizen_id="c1", description="井盖松动", category="城乡建设")  # 09:30
    clock.set(at(2026, 11, 23, 10, 45))
    b = await s.create(citizen_id="c2", description="树枝压线", category="城乡建设")
    await run(cmds, "h-cg", f"/claim {b.number}")
    clock.set(
        at(2026, 11, 23, 12, 0)
    )  # a's contact deadline (11:30) passed; b's warning point (12:15) not yet
    overdue = await run(cmds, "s-cg", "/tickets overdue")
    assert a.number in overdue and b.number not in overdue and "共 1 件" in overdue
    clock.set(at(2026, 11, 23, 12, 20))
    due = await run(cmds, "s-cg", "/tickets due")
    assert b.number in due and a.number not in due
    assert a.number in await run(cmds, "s-cg", "/tickets new")
    assert b.number not in await run(cmds, "s-cg", "/tickets new")
    mine = await run(cmds, "h-cg", "/tickets mine")
    assert b.number in mine and a.number not in mine
    assert "暂无" in await run(cmds, "h-cg2", "/tickets mine")
    stats = await run(cmds, "s-cg", "/stats day")
    assert "新增 2 件" in stats and "已超时 1 件" in stats
