"""The monthly 通报 lists the most-asked 惠企政策 and the questions no policy answered, on both engines."""

import datetime as dt

import pytest

from bot.core.clock import DEFAULT_TZ
from bot.core.tickets.reporting.digest import build_digest


@pytest.fixture
async def store(engine, clock):
    s = await engine.open(clock=clock)
    yield s
    await s.close()


async def test_the_monthly_report_lists_most_asked_policies_and_unanswered_questions(store, clock, real_kb):
    october = dt.datetime(2026, 10, 15, 10, tzinfo=DEFAULT_TZ)
    for _ in range(3):
        await store.policies.log_question("软件企业有什么补贴", ["rd-super-deduction"], True, october)
    await store.policies.log_question("稳岗返还能拿吗", ["local-job-retention-2026"], True, october)
    await store.policies.log_question("直播带货有补贴吗，电话13812345678", [], False, october)
    await store.policies.log_question("十一月的问题", ["hnte-reduced-rate"], True, clock.now())
    reply = await build_digest(store, now=clock.now(), period="month", kb=real_kb)
    text = reply.html
    assert "惠企政策咨询" in text
    assert "研发费用税前加计扣除（100%）（税务局）：3 次" in text
    assert text.index("研发费用税前加计扣除") < text.index("示例区2026年度失业保险稳岗返还")
    assert "高新技术企业减按15%" not in text  # asked in November: not in October's report
    assert "直播带货有补贴吗" in text and "13812345678" not in text
    tax = (await build_digest(store, now=clock.now(), period="month", department="税务局", kb=real_kb)).html
    assert "研发费用税前加计扣除" in tax and "稳岗返还" not in tax and "直播带货" not in tax
    week = (await build_digest(store, now=clock.now(), period="week", kb=real_kb)).html
    assert "惠企政策咨询" not in week
