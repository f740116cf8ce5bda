"""The 接诉即办 loop (issue 8): 签收, 退单 / 改派 / 延期 reviewed by the dispatcher, SLA pauses across a holiday,
supporting departments, the 督办 step of the escalation ladder, 回访, 差评整改 and 申诉, and the citizen's 撤回.
Each runs on both engines: requests are stored with their ticket's change."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.core.clock import FixedClock
from bot.core.tickets.commands.dispatch import TicketCommands
from bot.core.tickets.domain.models import CLOSED, IN_PROGRESS, PENDING, StaffMember
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.reminders import tick
from bot.core.tickets.reporting.digest import build_digest
from bot.core.tickets.service import TicketService
from bot.core.tickets.workflow.config import WorkflowConfig
from tests.test_tickets_helpers import ADMIN, at, outbox, run, say, small_kb

SECOND = dt.timedelta(seconds=1)
STAFF = [
    StaffMember("h-cg", "城管小王", "handler", ("城市管理局",)),
    StaffMember("h-cg2", "城管小李", "handler", ("城市管理局",)),
    StaffMember("s-cg", "城管张科长", "supervisor", ("城市管理局",)),
    StaffMember("h-ga", "民警小赵", "handler", ("公安局",)),
    StaffMember("s-ga", "公安刘所长", "supervisor", ("公安局",)),
]


@dataclasses.dataclass
class Desk:
    service: TicketService
    clock: FixedClock

    @property
    def cmds(self) -> TicketCommands:
        return TicketCommands(self.service)

    async def ticket(self, text: str = "占道经营，堵住了小区出口") -> str:
        t = await self.service.create(citizen_id="c1", description=text, category="城乡建设")
        return t.number

    async def notes(self, recipient_kind: str, recipient_id: str | None = None) -> list:
        return [
            n
            for n in await outbox(self.service)
            if n.recipient.kind == recipient_kind and (recipient_id is None or n.recipient.id == recipient_id)
        ]


@pytest.fixture
async def desk(engine):
    clock = FixedClock(at(2026, 11, 23, 9, 30))  # Monday
    store = await engine.open(clock=clock)
    service = TicketService(store, small_kb(), clock, load_policies(), {ADMIN})
    for m in STAFF:
        await store.staff.upsert(m, ADMIN, clock.now())
    yield Desk(service, clock)
    await store.close()


async def history(desk: Desk, number: str) -> list[tuple[str, str]]:
    t = await desk.service.get(number)
    return [(e.action, e.text) for e in await desk.service.store.tickets.events(t.id)]


# ---------------------------------------------------------------- 签收


async def test_signing_for_a_ticket_is_recorded_once_and_only_by_its_department(desk):
    n = await desk.ticket()
    assert "抱歉" in await run(desk.cmds, "c1", f"/sign {n}")  # a citizen
    assert "城市管理局" in await run(desk.cmds, "h-ga", f"/sign {n}")  # another department: refused
    assert (await desk.service.get(n)).dispatch_met is None
    assert "已签收诉求" in await run(desk.cmds, "h-cg", f"/sign {n}")
    t = await desk.service.get(n)
    assert t.dispatch_met == desk.clock.now() and t.state == PENDING and t.handler is None  # not a claim
    assert "已于" in await run(desk.cmds, "h-cg2", f"/sign {n}")
    assert [a for a, _ in await history(desk, n)].count("sign") == 1


# ---------------------------------------------------------------- 退单 / 改派, reviewed by the dispatcher


async def test_a_return_goes_to_the_dispatchers_queue_and_is_rerouted_when_approved(desk):
    n = await desk.ticket()
    await run(desk.cmds, "h-cg", f"/claim {n}")
    assert "理由" in await run(desk.cmds, "h-cg", f"/return {n}")  # usage: a reason is needed
    out = await run(desk.cmds, "h-cg", f"/return {n} 属于治安问题，不是城管职责")
    assert "已提交派单员审核" in out
    [alert] = await desk.notes("admins")
    assert "城市管理局申请退单" in alert.reply.html and "不是城管职责" in alert.reply.html
    assert "/approve" in alert.reply.html
    # one waiting request per ticket
    assert "等待审核" in await run(desk.cmds, "h-cg", f"/extend {n} 3 情况复杂")
    queue = await run(desk.cmds, ADMIN, "/requests")
    assert n in queue and "退单" in queue
    # only the dispatcher (an admin) decides; a 退单 needs the department it goes to
    assert "管理员" in await run(desk.cmds, "s-cg", f"/approve {n} 公安局")
    assert "改派到哪个部门" in await run(desk.cmds, ADMIN, f"/approve {n}")
    assert "已批准" in await run(desk.cmds, ADMIN, f"/approve {n} 公安局")
    t = await desk.service.get(n)
    assert (t.department, t.handler, t.state) == ("公安局", None, PENDING)
    assert "目前没有待审核的申请" in await run(desk.cmds, ADMIN, "/requests")
    told = [x.reply.html for x in await desk.notes("department", "城市管理局")]
    assert any("退单申请已批准" in h and "公安局" in h for h in told)
    assert any("已转交公安局" in x.reply.html for x in await desk.notes("user", "c1"))
    assert [n for n in await desk.notes("department", "公安局")]  # the new department gets the ticket
    counts = await desk.service.store.requests.counts(at(2026, 11, 1), at(2026, 12, 1))
    assert counts == {("城市管理局", "return", "approved"): 1}


async def test_a_rejected_reroute_goes_back_with_the_reason(desk):
    n = await desk.ticket()
    await run(desk.cmds, "h-cg", f"/claim {n}")
    assert "没有找到部门" in await run(desk.cmds, "h-cg", f"/reroute {n} 火星局 不归我们管")
    assert "已提交" in await run(desk.cmds, "h-cg", f"/reroute {n} 公安局 涉及打架斗殴")
    assert "写明理由" in await run(desk.cmds, ADMIN, f"/reject {n}")
    assert "已驳回" in await run(desk.cmds, ADMIN, f"/reject {n} 占道经营属城管职责，请继续办理")
    t = await desk.service.get(n)
    assert (t.department, t.handler, t.state) == ("城市管理局", "h-cg", IN_PROGRESS)
    back = [x.reply.html for x in await desk.notes("staff", "h-cg")]
    assert any("改派申请未获批准" in h and "占道经营属城管职责" in h for h in back)
    actions = [a for a, _ in await history(desk, n)]
    assert "request_reroute" in actions and "reject" in actions
    assert "没有等待审核的申请" in await run(desk.cmds, ADMIN, f"/approve {n}")


# ---------------------------------------------------------------- 延期


async def test_an_extension_approved_moves_the_deadline_and_tells_the_citizen(desk):
    n = await desk.ticket()
    await run(desk.cmds, "h-cg", f"/claim {n}")
    before = (await desk.service.get(n)).resolve_due
    assert "工作日" in await run(desk.cmds, "h-cg", f"/extend {n} 0 情况复杂")
    assert "用法" in await run(desk.cmds, "h-cg", f"/extend {n} 三天 情况复杂")
    await run(desk.cmds, "h-cg", f"/extend {n} 5 需协调产权单位")
    [alert] = await desk.notes("admins")
    [[button]] = alert.reply.buttons  # approve with one press
    assert "已批准" in await run(desk.cmds, ADMIN, callback=button.data)
    t = await desk.service.get(n)
    # 24:00 of the 5th working day after the day the deadline ended
    assert t.resolve_due == desk.service.policies.calendar.add_working_days(before - SECOND, 5)
    told = [x.reply.html for x in await desk.notes("user", "c1") if "延长" in x.reply.html]
    assert len(told) == 1 and "5 个工作日" in told[0]
    assert "12月14日（周一）24:00前" in told[0]


async def test_an_extension_must_be_asked_and_approved_before_the_deadline(desk):
    n = await desk.ticket()
    await run(desk.cmds, "h-cg", f"/claim {n}")
    await run(desk.cmds, "h-cg", f"/extend {n} 3 需要现场测量")
    due = (await desk.service.get(n)).resolve_due
    desk.clock.set(due + dt.timedelta(minutes=1))
    assert "已过" in await run(desk.cmds, ADMIN, f"/approve {n}")  # too late to approve
    assert (await desk.service.get(n)).resolve_due == due
    assert "已驳回" in await run(desk.cmds, ADMIN, f"/reject {n} 已超过时限")
    assert "已过" in await run(desk.cmds, "h-cg", f"/extend {n} 3 再申请一次")


# ---------------------------------------------------------------- SLA pause


async def test_a_pause_across_the_national_day_holiday_moves_the_deadline_by_working_time_only(desk):
    desk.clock.set(at(2026, 9, 28, 9, 0))  # Monday before the National Day week
    n = await desk.ticket()
    await run(desk.cmds, "h-cg", f"/claim {n}")
    due = (await desk.service.get(n)).resolve_due
    desk.clock.set(at(2026, 9, 30, 10, 0))
    assert "不是可以暂停计时的原因" in await run(desk.cmds, "h-cg", f"/pause {n} 出差")
    assert "暂停计时" in await run(desk.cmds, "h-cg", f"/pause {n} 补充材料 请提供房产证复印件")
    t = await desk.service.get(n)
    assert t.pause_reason == "等待补充材料" and t.next_due_at is None  # no reminders while paused
    told = [x.reply.html for x in await desk.notes("user", "c1") if "暂停计时" in x.reply.html]
    assert told and "房产证复印件" in told[0]
    desk.clock.set(at(2026, 10, 8, 10, 0))  # 8 days later, 7 of them days off
    assert await tick(desk.service) == 0  # paused: nothing fell due
    assert "已恢复计时" in await run(desk.cmds, "h-cg", f"/resume {n} 材料已收到")
    t = await desk.service.get(n)
    # 14 h on 9/30 and 10 h on 10/8 were working time: one working day, not eight days
    assert t.resolve_due == desk.service.policies.calendar.add_working_days(due - SECOND, 1)
    assert t.paused_at is None and t.paused_work == 24 * 3600
    [(_, text)] = [(a, x) for a, x in await history(desk, n) if a == "resume"]
    assert "暂停 192.0 小时（其中工作日 24.0 小时）" in text
    assert "没有暂停计时" in await run(desk.cmds, "h-cg", f"/resume {n}")


# ---------------------------------------------------------------- 主办 + 协办


async def test_a_supporting_department_sees_notes_and_is_reminded_but_only_the_lead_resolves(desk):
    n = await desk.ticket()
    await run(desk.cmds, "h-cg", f"/claim {n}")
    assert "负责人" in await run(desk.cmds, "h-cg", f"/cohost {n} 公安局")  # a handler may not
    assert "协办" in await run(desk.cmds, "s-cg", f"/cohost {n} 公安")
    assert (await desk.service.get(n)).co_departments == ("公安局",)
    assert "已经在办理" in await run(desk.cmds, "s-cg", f"/cohost {n} 公安局")
    assert any("请协办诉求" in x.reply.html for x in await desk.notes("department", "公安局"))
    assert "办理记录" in await run(desk.cmds, "h-ga", f"/ticket {n}")  # the supporting department sees it
    assert "备注" in await run(desk.cmds, "h-ga", f"/note {n} 已安排民警配合")
    out = await run(desk.cmds, "h-ga", f"/resolve {n} 已处理")
    assert "由城市管理局主办" in out
    assert (await desk.service.get(n)).state == IN_PROGRESS
    desk.clock.set((await desk.service.get(n)).resolve_due + dt.timedelta(hours=1))
    await tick(desk.service)
    reminded = [x for x in await desk.notes("department", "公安局") if "超时" in x.reply.html]
    assert reminded


# ---------------------------------------------------------------- escalation: 催办 → 督办


async def test_a_breach_left_a_day_is_supervised_by_the_departments_supervisor(desk):
    n = await desk.ticket()
    await run(desk.cmds, "h-cg", f"/claim {n}")
    due = (await desk.service.get(n)).resolve_due
    desk.clock.set(due + dt.timedelta(hours=2))
    await tick(desk.service)
    assert not [x for x in await desk.notes("staff", "s-cg") if "督办" in x.reply.html]
    desk.clock.set(due + dt.timedelta(hours=25))
    await tick(desk.service)
    supervised = [x.reply.html for x in await desk.notes("staff", "s-cg") if "督办" in x.reply.html]
    assert len(supervised) == 1 and "已超时 1 天" not in supervised[0] and "25 小时" in supervised[0]
    assert not [x for x in await desk.notes("staff", "h-cg") if "督办" in x.reply.html]
    assert any("超时督办" in text for _, text in await history(desk, n))
    desk.clock.set(due + dt.timedelta(hours=30))
    await tick(desk.service)
    assert len([x for x in await desk.notes("staff", "s-cg") if "督办" in x.reply.html]) == 1  # once


# ---------------------------------------------------------------- 回访, 整改, 申诉


async def _resolve(desk: Desk, n: str) -> None:
    await run(desk.cmds, "h-cg", f"/claim {n}")
    await run(desk.cmds, "h-cg", f"/resolve {n} 已劝离并张贴告知书")


def _visit_buttons(replies: list, number: str) -> dict[str, str]:
    return {
        b.label: b.data
        for r in replies
        for row in r.buttons
        for b in row
        if b.data.startswith(f"visit:{number}:")
    }


async def test_the_visit_asks_whether_it_was_solved_and_unsolved_reopens(desk):
    n = await desk.ticket()
    await _resolve(desk, n)
    round_ = (await desk.service.get(n)).round
    rated = await desk.cmds.handle(say("c1", callback=f"rate:{n}:4"))
    assert rated and "问题解决了吗" in rated[0].html
    buttons = _visit_buttons(rated, n)
    assert set(buttons) == {"✅ 已解决", "❌ 未解决"}
    assert "只有提出该诉求的本人" in await run(desk.cmds, "c2", callback=buttons["❌ 未解决"])
    assert "已重新交办" in await run(desk.cmds, "c1", callback=buttons["❌ 未解决"])
    t = await desk.service.get(n)
    assert t.state == IN_PROGRESS and t.visit_result == 0 and t.round == round_ + 1
    assert any("回访结果" in x.reply.html for x in await desk.notes("staff", "s-cg"))
    assert "不需要回访" in await run(desk.cmds, "c1", callback=buttons["✅ 已解决"])
    assert "按钮已过期" in await run(desk.cmds, "c1", callback=f"visit:{n}:maybe")


async def test_a_solved_visit_is_recorded(desk):
    n = await desk.ticket()
    await _resolve(desk, n)
    rated = await desk.cmds.handle(say("c1", callback=f"rate:{n}:5"))
    assert "感谢您的确认" in await run(desk.cmds, "c1", callback=_visit_buttons(rated, n)["✅ 已解决"])
    t = await desk.service.get(n)
    assert t.visit_result == 1 and t.visited_at == desk.clock.now() and t.state == "已办结"
    assert ("visit", "问题解决了吗？诉求人回复：已解决") in await history(desk, n)
    # asked once: rating again (a changed mind) does not ask again
    again = await desk.cmds.handle(say("c1", callback=f"rate:{n}:4"))
    assert again is not None and not _visit_buttons(again, n)


async def test_a_low_rating_opens_a_rectification_that_an_upheld_appeal_cancels(desk):
    n = await desk.ticket()
    await _resolve(desk, n)
    await run(desk.cmds, "c1", callback=f"rate:{n}:1")
    t = await desk.service.get(n)
    [task] = await desk.service.store.requests.list(ticket_id=t.id, kinds=("rectify",))
    assert task.state == "pending" and task.department == "城市管理局"
    assert task.due_at == desk.service.policies.calendar.add_working_days(desk.clock.now(), 15)
    assert "负责人" in await run(desk.cmds, "h-cg", f"/appeal {n} 诉求人要求超出职责范围")
    assert "已提交" in await run(desk.cmds, "s-cg", f"/appeal {n} 诉求人要求超出职责范围")
    assert "已批准" in await run(desk.cmds, ADMIN, f"/approve {n}")
    t = await desk.service.get(n)
    assert t.rating_excluded
    [task] = await desk.service.store.requests.list(ticket_id=t.id, kinds=("rectify",))
    assert task.state == "cancelled"
    assert "没有可以申诉的评价" in await run(desk.cmds, "s-cg", f"/appeal {n} 再申诉一次")


async def test_resolving_again_completes_the_rectification(desk):
    n = await desk.ticket()
    await _resolve(desk, n)
    await run(desk.cmds, "c1", callback=f"rate:{n}:2")
    await run(desk.cmds, "h-cg", f"/resolve {n} 已清理现场并设置隔离栏")
    t = await desk.service.get(n)
    [task] = await desk.service.store.requests.list(ticket_id=t.id, kinds=("rectify",))
    assert task.state == "done" and task.decision == "已清理现场并设置隔离栏"


# ---------------------------------------------------------------- 撤回


async def test_the_citizen_withdraws_only_their_own_ticket_before_it_is_handled(desk):
    n = await desk.ticket()
    assert "只有提出该诉求的本人" in await run(desk.cmds, "c2", f"/withdraw {n}")
    assert "已撤回" in await run(desk.cmds, "c1", f"/withdraw {n} 已自行解决")
    t = await desk.service.get(n)
    assert t.state == CLOSED
    assert any("已由诉求人撤回" in x.reply.html for x in await desk.notes("department", "城市管理局"))
    m = await desk.ticket("噪音扰民")
    await run(desk.cmds, "h-cg", f"/claim {m}")
    assert "不能撤回" in await run(desk.cmds, "c1", f"/withdraw {m}")
    assert (await desk.service.get(m)).state == IN_PROGRESS


# ---------------------------------------------------------------- settings as data


def test_a_wrong_workflow_file_names_the_field():
    from bot.core.tickets.workflow.config import WorkflowConfigError

    assert WorkflowConfig.from_data(None).rectify_working_days == 15
    cfg = WorkflowConfig.from_data({"rectify_working_days": 10, "rates": {"response": 0.95}})
    assert cfg.rectify_working_days == 10 and cfg.rates["response"] == 0.95 and cfg.rates["resolution"] == 0.8
    for bad, field in [
        ({"rates": {"response": 95}}, "response"),
        ({"rates": {"speed": 0.9}}, "rates"),
        ({"rectify_working_days": 0}, "rectify_working_days"),
        ({"rectfy_working_days": 10}, "rectfy_working_days"),
    ]:
        with pytest.raises(WorkflowConfigError, match=field):
            WorkflowConfig.from_data(bad)


# ---------------------------------------------------------------- 并单


async def test_a_merge_handles_duplicates_once_and_tells_both_reporters(desk):
    main = await desk.ticket("小区门口占道经营，堵住出口")
    dup = (
        await desk.service.create(citizen_id="c2", description="小区门口摆摊堵路", category="城乡建设")
    ).number
    assert "负责人" in await run(desk.cmds, "h-cg", f"/merge {dup} {main}")  # a handler may not
    assert "不能与自身合并" in await run(desk.cmds, "s-cg", f"/merge {dup} {dup}")
    assert "已并入" in await run(desk.cmds, "s-cg", f"/merge {dup} {main}")
    d = await desk.service.get(dup)
    assert d.merged_into == main and d.next_due_at is None  # its clock is off: no reminders
    assert any("已并入诉求" in x.reply.html and main in x.reply.html for x in await desk.notes("user", "c2"))
    assert any(a == "merged" and dup in text for a, text in await history(desk, main))
    other = await desk.ticket("噪音扰民")
    assert f"已并入诉求 {main}" in await run(
        desk.cmds, "s-cg", f"/merge {other} {dup}"
    )  # not into a duplicate
    await run(desk.cmds, "h-cg", f"/claim {main}")
    await run(desk.cmds, "h-cg", f"/resolve {main} 已清理摊位并设置隔离栏")
    d = await desk.service.get(dup)
    assert d.state == "已办结" and d.resolution == "已清理摊位并设置隔离栏"
    for citizen, number in (("c1", main), ("c2", dup)):
        told = [
            x
            for x in await desk.notes("user", citizen)
            if "已办结" in x.reply.html and number in x.reply.html
        ]
        assert len(told) == 1 and "隔离栏" in told[0].reply.html
        assert [b.data for row in told[0].reply.buttons for b in row] == [
            f"rate:{number}:{s}" for s in (5, 4, 3, 2, 1)
        ]
    assert "感谢您的评价" in await run(desk.cmds, "c2", callback=f"rate:{dup}:5")
    assert (await desk.service.get(dup)).rating == 5


# ---------------------------------------------------------------- 三率


async def test_departments_are_ranked_on_the_three_rates_and_those_below_are_named_monthly(desk):
    cmds = desk.cmds

    async def resolved(text: str, category: str, handler: str) -> str:
        t = await desk.service.create(citizen_id="c1", description=text, category=category)
        await run(cmds, handler, f"/claim {t.number}")
        await run(cmds, handler, f"/resolve {t.number} 已处理完毕")
        return t.number

    a = await resolved("占道经营", "城乡建设", "h-cg")
    b = await resolved("违章搭建", "城乡建设", "h-cg")
    c = await resolved("噪音扰民", "城乡建设", "h-cg")
    d = await resolved("小区门口有人打架", "公安政法", "h-ga")
    await run(cmds, "c1", callback=f"visit:{a}:yes")
    await run(cmds, "c1", callback=f"rate:{a}:5")
    await run(cmds, "c1", callback=f"visit:{b}:no")
    await run(cmds, "c1", callback=f"rate:{c}:1")
    await run(cmds, "s-cg", f"/appeal {c} 诉求人要求超出职责范围")
    await run(cmds, ADMIN, f"/approve {c}")  # upheld: the rating leaves the 满意率
    await run(cmds, "c1", callback=f"visit:{d}:yes")
    await run(cmds, "c1", callback=f"rate:{d}:2")

    desk.clock.advance(days=2)  # the 签收 and contact deadlines have fallen due: counted
    stats = await run(cmds, "s-cg", "/stats month")
    assert "三率：响应率 100.0%｜解决率 50.0%｜满意率 100.0%" in stats
    assert "满意度：5.00 分（1 条评价）" in stats  # the rating upheld on appeal is not counted
    monthly = await build_digest(
        desk.service.store,
        now=at(2026, 12, 1, 8, 30),
        period="month",
        policies=desk.service.policies,
        texts=desk.service.texts,
        workflow=WorkflowConfig(rates={"response": 0.9, "resolution": 0.8, "satisfaction": 0.85}),
    )
    text = monthly.html
    ranking = text.split("“三率”排名")[1]
    assert ranking.index("城市管理局：100.0%｜50.0%｜100.0%") < ranking.index("公安局：100.0%｜100.0%｜0.0%")
    named = text.split("低于考核要求的单位")[1]
    assert "城市管理局：解决率 50.0%（要求不低于 80.0%）" in named
    assert "公安局：满意率 0.0%（要求不低于 85.0%）" in named
    weekly = await build_digest(
        desk.service.store,
        now=at(2026, 11, 30, 8, 30),
        period="week",
        policies=desk.service.policies,
        texts=desk.service.texts,
        workflow=WorkflowConfig(rates={"response": 0.9, "resolution": 0.8, "satisfaction": 0.85}),
    )
    assert "“三率”排名" in weekly.html and "低于考核要求" not in weekly.html  # named monthly
    # requests are counted per department
    assert "· 城市管理局：申诉 1 件，批准 1 件" in monthly.html


# ---------------------------------------------------------------- escalation: 通报


async def test_the_weekly_report_names_tickets_still_late_five_working_days_after_the_supervision(desk):
    late = await desk.ticket("路灯不亮")
    done = await desk.ticket("井盖缺失")
    paused = await desk.ticket("违章搭建")
    await run(desk.cmds, "h-cg", f"/claim {late}")
    await run(desk.cmds, "h-cg", f"/pause {paused} 第三方鉴定 等待房屋安全鉴定")
    t = await desk.service.get(late)
    assert t.resolve_due == at(2026, 12, 8)  # 10 working days: 24:00 on Monday 12-07
    desk.clock.set(at(2026, 12, 10, 10))
    await run(desk.cmds, "h-cg", f"/resolve {done} 已补装井盖")

    async def weekly(day: dt.datetime) -> str:
        reply = await build_digest(
            desk.service.store,
            now=day,
            period="week",
            policies=desk.service.policies,
            texts=desk.service.texts,
            workflow=WorkflowConfig(report_after_working_days=5),
        )
        return reply.html

    # 督办 on 12-09; five more working days end at 24:00 on 12-15: not yet on Monday 12-14
    assert "督办后仍超期" not in await weekly(at(2026, 12, 14, 8, 30))
    text = await weekly(at(2026, 12, 21, 8, 30))
    named = text.split("督办后仍超期未办结的诉求（1 件）")[1].split("\n\n")[0]
    assert late in named and "城管小王" in named and "超时 13 天" in named
    assert done not in text and paused not in text


async def test_the_staff_view_shows_likely_duplicates_to_merge(desk):
    s = desk.service
    first = await s.create(
        citizen_id="c1",
        description="人民路菜市场门口占道经营，堵住出口",
        category="城乡建设",
        place="人民路菜市场",
    )
    again = await s.create(
        citizen_id="c2",
        description="人民路菜市场门口有人占道经营，堵住出口了",
        category="城乡建设",
        place="人民路菜市场",
    )
    other = await s.create(
        citizen_id="c3", description="夜里施工噪音太大", category="城乡建设", place="幸福小区"
    )
    police = await s.create(
        citizen_id="c4", description="人民路菜市场门口占道经营，堵住出口", category="公安政法"
    )
    view = await run(desk.cmds, "s-cg", f"/ticket {again.number}")
    assert "疑似重复诉求" in view and first.number in view and f"/merge {again.number}" in view
    assert other.number not in view and police.number not in view  # other words, other department
    assert "疑似重复" not in await run(desk.cmds, "s-cg", f"/ticket {other.number}")
    await run(desk.cmds, "s-cg", f"/merge {again.number} {first.number}")
    assert "疑似重复" not in await run(desk.cmds, "s-cg", f"/ticket {first.number}")  # merged: handled once
    desk.clock.advance(days=8)  # the first report is now outside the window of workflow.yaml (7 days)
    late = await s.create(
        citizen_id="c5",
        description="人民路菜市场门口占道经营，堵住出口",
        category="城乡建设",
        place="人民路菜市场",
    )
    assert first.number not in await run(desk.cmds, "s-cg", f"/ticket {late.number}")


# ---------------------------------------------------------------- canned replies


async def test_supervisors_manage_canned_replies_that_staff_use_with_variables(desk):
    n = await desk.ticket()
    assert "负责人" in await run(desk.cmds, "h-cg", "/template set 受理 您好，已受理")  # a handler may not
    assert "无法自动填写" in await run(desk.cmds, "s-cg", "/template set 受理 {地址}的问题已受理")
    out = await run(desk.cmds, "s-cg", "/template set 受理 {姓名}您好，诉求 {编号} 已受理，将于{时限}办结。")
    assert "已保存城市管理局的答复模板 #受理" in out
    assert "#受理" in await run(desk.cmds, "h-cg", "/template")
    assert "还没有常用答复模板" in await run(desk.cmds, "h-ga", "/template list")  # per department
    missing = await run(desk.cmds, "h-cg", f"/reply {n} #催告")
    assert "没有名为 #催告" in missing and "#受理" in missing
    assert "已发送" in await run(desk.cmds, "h-cg", f"/reply {n} #受理")
    [told] = [x.reply.html for x in await desk.notes("user", "c1") if "已受理，将于" in x.reply.html]
    assert f"市民朋友您好，诉求 {n} 已受理" in told and "12月7日（周一）24:00前办结" in told
    assert "{" not in told
    assert "已删除" in await run(desk.cmds, "s-cg", "/template remove 受理")
    assert "没有找到" in await run(desk.cmds, "s-cg", "/template remove 受理")
    assert "没有名为 #受理" in await run(desk.cmds, "h-cg", f"/reply {n} #受理")


def test_a_citizens_name_is_masked_in_a_canned_reply():
    from bot.core.tickets.workflow.canned import masked_name

    assert masked_name("张三丰") == "张**" and masked_name("李") is None and masked_name(None) is None


async def test_a_new_tickets_card_names_likely_duplicates_and_merges_them_with_one_press(desk):
    s = desk.service
    first = await s.create(
        citizen_id="c1",
        description="人民路菜市场门口占道经营，堵住出口",
        category="城乡建设",
        place="人民路菜市场",
    )
    again = await s.create(
        citizen_id="c2",
        description="人民路菜市场门口有人占道经营，堵住出口了",
        category="城乡建设",
        place="人民路菜市场",
    )
    cards = {n.dedup_key: n.reply for n in await desk.notes("department", "城市管理局")}
    assert "疑似重复" not in cards[f"new:{first.number}"].html
    card = cards[f"new:{again.number}"]
    assert "疑似重复" in card.html and first.number in card.html
    press = f"merge:{again.number}:{first.number}"
    assert press in [b.data for row in card.buttons for b in row]
    assert "负责人" in await run(desk.cmds, "h-cg", callback=press, group=True)  # a handler may not merge
    assert (await s.get(again.number)).merged_into is None
    assert "已并入" in await run(desk.cmds, "s-cg", callback=press, group=True)
    assert (await s.get(again.number)).merged_into == first.number
    assert any(a == "merged" and again.number in text for a, text in await history(desk, first.number))
    assert any("已并入诉求" in x.reply.html for x in await desk.notes("user", "c2"))
    # pressed again: refused by name, nothing changes twice
    assert f"已并入诉求 {first.number}" in await run(desk.cmds, "s-cg", callback=press, group=True)


# ---------------------------------------------------------------- 回访 of citizens who never rate


async def test_a_ticket_closed_unrated_gets_a_phone_revisit_that_counts_once_and_never_by_default(desk):
    cmds = desk.cmds
    numbers = []
    for text in ("路灯不亮", "井盖缺失", "占道经营"):
        n = await desk.ticket(text)
        await run(cmds, "h-cg", f"/claim {n}")
        await run(cmds, "h-cg", f"/resolve {n} 已处理完毕")
        numbers.append(n)
    reached, unreached, rated_late = numbers
    assert "没有待办的回访任务" in await run(
        cmds, "h-cg", f"/revisit {reached} 已解决 5"
    )  # still in its window
    desk.clock.set(at(2026, 11, 30, 10))  # the 3-working-day rating window has ended
    await tick(desk.service)
    for n in numbers:
        assert (await desk.service.get(n)).state == CLOSED
    asks = [x for x in await desk.notes("department", "城市管理局") if "请电话回访" in x.reply.html]
    assert {n for n in numbers if any(n in x.reply.html for x in asks)} == set(numbers)
    assert f"/revisit {reached}" in asks[0].reply.html or any(
        f"/revisit {reached}" in x.reply.html for x in asks
    )
    stats = await run(cmds, "s-cg", "/stats week")
    assert "满意率 100.0%" not in stats  # nobody rated: nobody is counted as satisfied

    assert "已解决|未解决" in await run(cmds, "h-cg", f"/revisit {reached} 也许吧")  # usage, nothing recorded
    assert "城市管理局" in await run(cmds, "h-ga", f"/revisit {reached} 已解决 5")  # another department
    assert (await desk.service.get(reached)).rating is None
    assert "已记录" in await run(cmds, "h-cg2", f"/revisit {reached} 已解决 4 说已经修好了")
    t = await desk.service.get(reached)
    assert (t.visit_result, t.rating, t.state) == (1, 4, CLOSED)
    assert any(a == "revisit" and "评价 4 分" in text for a, text in await history(desk, reached))
    assert "没有待办的回访任务" in await run(cmds, "h-cg", f"/revisit {reached} 已解决 5")  # done once

    assert "未联系上" in await run(cmds, "h-cg", f"/revisit {unreached} 未联系上 电话无人接听")
    u = await desk.service.get(unreached)
    assert (u.visit_result, u.rating) == (None, None)

    await run(cmds, "c1", callback=f"rate:{rated_late}:5")  # the citizen rated after all: no call needed
    assert "没有待办的回访任务" in await run(cmds, "h-cg", f"/revisit {rated_late} 已解决 3")

    desk.clock.advance(hours=1)
    stats = await run(cmds, "s-cg", "/stats week")
    # 解决率: the one reached (已解决); 满意率: the phone score 4 and the late rating 5; the unreached: neither
    assert "解决率 100.0%" in stats and "满意率 100.0%" in stats
    assert "满意度：4.50 分（2 条评价）" in stats


async def test_a_revisit_answered_unsolved_reopens_the_ticket(desk):
    n = await desk.ticket("路灯不亮")
    await run(desk.cmds, "h-cg", f"/claim {n}")
    await run(desk.cmds, "h-cg", f"/resolve {n} 已更换灯泡")
    desk.clock.set(at(2026, 11, 30, 10))
    await tick(desk.service)
    assert "重新办理" in await run(desk.cmds, "h-cg", f"/revisit {n} 未解决 2 还是不亮")
    t = await desk.service.get(n)
    assert t.state == IN_PROGRESS and t.visit_result == 0  # reopened; counted in 解决率 as unsolved
