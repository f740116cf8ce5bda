"""The daily digest and the weekly 通报: the numbers staff act on, with personal numbers masked."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.core.clock import FixedClock
from bot.core.texts import Texts
from bot.core.tickets.domain.calendar import WorkingCalendar
from bot.core.tickets.reporting.digest import build_digest, period_window
from tests.test_tickets_helpers import TZ, Env, at, run

PHONE = "13812345678"
IDCARD = "110101199003071234"


@pytest.fixture
async def env(engine):
    e = Env(engine, FixedClock(at(2026, 11, 19, 10, 0)))  # Thursday
    await e.start()
    yield e
    await e.close()


async def _fill(env):
    s, cmds, clock = env.service, env.cmds, env.clock
    old = await s.create(citizen_id="c0", description=f"楼道堆物，联系人{PHONE}", category="城乡建设")
    clock.set(at(2026, 11, 20, 9, 0))  # Friday
    fri = await s.create(citizen_id="c1", description=f"身份证{IDCARD}丢失后补办被拒", category="公安政法")
    await run(cmds, "h-ga", f"/claim {fri.number}")
    await run(cmds, "h-ga", f"/reply {fri.number} 已核实，请周一来窗口")
    clock.set(at(2026, 11, 21, 10, 0))  # Saturday
    await run(cmds, "h-ga", f"/resolve {fri.number} 已为您补办")
    await run(cmds, "c1", callback=f"rate:{fri.number}:4")
    clock.set(at(2026, 11, 22, 20, 0))  # Sunday
    sun = await s.create(citizen_id="c2", description="周末装修噪音", category="城乡建设")
    for _ in range(3):
        await s.store.questions.log("c5", "身份证怎么补办", "item", "id-card-replace", True)
    await s.store.questions.log("c6", "社保卡", "item", "social-card", True)
    for _ in range(2):
        await s.store.questions.log("c7", f"我的电话{PHONE}为什么查不到", "unknown", None, False)
    clock.set(at(2026, 11, 23, 9, 0))  # Monday: the digest is sent
    return old, fri, sun


async def test_daily_digest_overall(env):
    old, fri, sun = await _fill(env)
    html = (await build_digest(env.service.store, now=env.clock.now(), policies=env.service.policies)).html
    assert "2026年11月20日—11月22日" in html  # Monday covers Friday to Sunday
    assert "新增 <b>2</b> 件" in html and "办结 <b>1</b> 件" in html  # Thursday's ticket is not counted
    assert "待受理 2 件" in html
    red = html.split("已超时")[1].split("临近时限")[0]
    assert old.number in red and sun.number in red and fri.number not in red
    assert re.search(rf"{old.number}.*超时 3 天.*未认领", red)  # contact was due Thu 12:00
    assert "138****5678" in html
    assert PHONE not in html and IDCARD not in html
    assert "满意度</b>：4.00 分（1 条评价）" in html
    assert "id-card-replace：3 次" in html and html.index("id-card-replace") < html.index("social-card")
    gaps = html.split("未能解答")[1]
    assert "我的电话138****5678为什么查不到：2 次" in gaps


async def test_daily_digest_for_one_department(env):
    old, fri, sun = await _fill(env)
    html = (
        await build_digest(
            env.service.store, now=env.clock.now(), department="公安局", policies=env.service.policies
        )
    ).html
    assert "公安局" in html
    assert old.number not in html and sun.number not in html
    assert "新增 <b>1</b> 件" in html and "办结 <b>1</b> 件" in html
    assert "已超时 0 件" in html
    assert "未能解答" not in html  # knowledge gaps go to the overall digest


async def test_id_numbers_masked_in_staff_lists_and_group_cards(env):
    _, fri, _ = await _fill(env)
    listing = await run(env.cmds, "s-cg", "/tickets")
    assert PHONE not in listing and "138****5678" in listing
    card = await run(env.cmds, "h-ga", f"/ticket {fri.number}", group=True)
    assert IDCARD not in card and "110101********1234" in card


async def test_weekly_report_ranks_departments_by_sla(env):
    await _fill(env)
    env.clock.set(at(2026, 11, 30, 9, 0))  # the next Monday: the week of 23–29 Nov
    html = (await build_digest(env.service.store, now=env.clock.now(), period="week")).html
    assert "周通报" in html and "11月23日—11月29日" in html
    ranking = html.split("各部门时限达标排名")[1]
    assert ranking.index("公安局") < ranking.index("城市管理局")  # 公安局 met its deadlines, 城管 did not
    assert re.search(r"1\. 公安局：达标率 100\.0%", ranking)
    assert re.search(r"2\. 城市管理局：达标率 0\.0%", ranking)


def label(win) -> str:
    """The window as the digest names it (统计日期)."""
    return Texts().say("_dates.html.j2", "days", first=win.first, last=win.last)


def test_monday_after_new_year_covers_thursday_to_sunday():
    # 2027 has no official notice yet: 元旦 Friday 1 Jan is computed, so the last digest went out on Thursday
    win = period_window("day", dt.date(2027, 1, 4), TZ, WorkingCalendar())
    assert (win.start, win.end) == (at(2026, 12, 31), at(2027, 1, 4))
    assert (win.first, win.last) == (dt.date(2026, 12, 31), dt.date(2027, 1, 3))
    assert label(win) == "2026年12月31日—2027年1月3日"


def test_digest_after_a_weekend_following_a_holiday():
    cal = WorkingCalendar()
    # 端午 on Friday 19 June 2026, then the weekend: Monday's digest covers Thursday to Sunday
    assert label(period_window("day", dt.date(2026, 6, 22), TZ, cal)) == "2026年6月18日—6月21日"
    # 2027 (provisional): 国庆 Friday 1 Oct, the weekend, and its 补假 on 4–5 Oct; Wednesday covers them all
    win = period_window("day", dt.date(2027, 10, 6), TZ, cal)
    assert (win.start, win.end) == (at(2027, 9, 30), at(2027, 10, 6))


async def test_saturdays_tickets_are_in_the_next_digest(engine):
    env = Env(engine, FixedClock(at(2026, 12, 30, 15)))
    s = await env.start()
    try:
        await s.create(citizen_id="c0", description="周三的诉求", category="城乡建设")
        for when in (at(2026, 12, 31, 10), at(2027, 1, 2, 10), at(2027, 1, 3, 10)):
            env.clock.set(when)
            await s.create(citizen_id=f"c{when.day}", description="节日前后的诉求", category="城乡建设")
        env.clock.set(at(2027, 1, 4, 8, 30))
        html = (await build_digest(s.store, now=env.clock.now(), policies=s.policies)).html
        assert "统计日期：2026年12月31日—2027年1月3日" in html
        assert "上个工作日以来新增 <b>3</b> 件" in html  # Thursday, Saturday and Sunday; not Wednesday
    finally:
        await env.close()
