"""When the official notice of a provisional year is added to calendar.yaml, the next start recomputes the
deadlines of every ticket still running, each change with its event, and 暂定 disappears."""

from __future__ import annotations

import shutil

import pytest

from bot.app import build
from bot.core.assistant import Assistant
from bot.core.clock import FixedClock
from bot.core.messages import Incoming
from bot.core.tickets.domain.models import Change, EventIn
from tests.conftest import FIXTURE_KB, make_settings
from tests.test_tickets_helpers import at, outbox

ADMIN = "admin-9"
# a made-up notice for the test: 元旦 joined to Monday 4 January, Saturday 9 January worked instead
OFFICIAL_2027 = """
working_calendar:
  2027:
    source: 测试用的2027年放假安排
    holidays: [2027-01-01, 2027-01-04]
    workdays: [2027-01-09]
"""


@pytest.fixture
def kb_dir(tmp_path):
    d = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, d)
    return d


async def _start(kb_dir, tmp_path, clock) -> Assistant:
    settings = make_settings(knowledge_dir=kb_dir, database_path=tmp_path / "t.db")
    return (await build(settings, clock=clock, extra_admins=frozenset({ADMIN}))).assistant


async def _card(a: Assistant, number: str) -> str:
    return "\n".join(r.html for r in await a.handle(Incoming(ADMIN, ADMIN, f"/ticket {number}")))


async def test_official_year_arriving_recomputes_open_deadlines_at_start(kb_dir, tmp_path):
    clock = FixedClock(at(2026, 11, 20, 10))
    a = await _start(kb_dir, tmp_path, clock)
    s = a.service
    november = await s.create(citizen_id="c0", description="十一月的诉求", category="其他")
    clock.set(at(2026, 12, 20, 10))
    running = await s.create(citizen_id="c1", description="年底停水", category="其他")
    assert running.resolve_due == at(2027, 1, 5)  # provisional: Monday 4 Jan is the 10th working day
    closed = await s.create(citizen_id="c2", description="已关闭的诉求", category="其他")
    await s.close(closed.number, ADMIN, "重复诉求")
    # a ticket left without a resolve deadline by an earlier version (the bug this replaces)
    gap = await s.create(citizen_id="c3", description="旧版本留下的诉求", category="其他")
    await s.store.tickets.apply(
        Change(gap, clock.now(), {"resolve_due": None}, [EventIn("system", "deadline_unset", "旧版本")])
    )
    clock.set(at(2026, 12, 29, 10))
    rated = await s.create(citizen_id="c4", description="待评价的诉求", category="其他")
    clock.set(at(2026, 12, 30, 9))
    await s.resolve(rated.number, ADMIN, "已办结")
    assert (await s.get(rated.number)).rating_due == at(2027, 1, 6)  # 31 Dec, 4 and 5 Jan
    assert "（暂定）" in await _card(a, running.number)
    clock.set(at(2027, 1, 5, 9))
    await a.tick()  # the provisional resolve deadline has passed: a red reminder was sent
    await a.close()

    (kb_dir / "calendar.yaml").write_text(OFFICIAL_2027, encoding="utf-8")
    clock.set(at(2027, 1, 5, 10))
    a = await _start(kb_dir, tmp_path, clock)
    s = a.service
    try:
        t = await s.get(running.number)
        assert t.resolve_due == at(2027, 1, 6)  # 4 January is now a holiday
        assert t.feedback_due == at(2026, 12, 22)  # within 2026: unchanged
        (event,) = [e for e in await s.events(t) if e.action == "deadline_recomputed"]
        assert event.actor == "system" and "工作日历更新" in event.text
        assert "办结 1月4日（周一）24:00前 → 1月5日（周二）24:00前" in event.text  # recomputed in 2027
        card = await _card(a, running.number)
        assert "暂定" not in card.split("办理记录")[0] and "时限重新计算" in card

        r = await s.get(rated.number)
        assert r.rating_due == at(2027, 1, 7)
        assert any("评价期限" in e.text for e in await s.events(r) if e.action == "deadline_recomputed")

        filled = await s.get(gap.number)
        assert filled.resolve_due == at(2027, 1, 6)
        assert any("未设定 → 1月5日" in e.text for e in await s.events(filled))

        for untouched in (november, closed):
            assert all(e.action != "deadline_recomputed" for e in await s.events(untouched))
        assert (await s.get(closed.number)).resolve_due == at(2027, 1, 5)

        await a.tick()  # the reminders go on from the new deadline, which is final now
        yellow = [n for n in await outbox(s) if f"{t.number}:resolve:yellow" in (n.dedup_key or "")]
        assert yellow and all("时限为 1月5日（周二）24:00前，即将到期" in n.reply.html for n in yellow)
        clock.set(at(2027, 1, 6, 0, 30))
        await a.tick()
    finally:
        await a.close()

    a = await _start(kb_dir, tmp_path, clock)  # the same calendar again: nothing to do
    try:
        events = await a.service.events(await a.service.get(running.number))
        assert sum(e.action == "deadline_recomputed" for e in events) == 1
    finally:
        await a.close()


async def test_recompute_goes_through_every_ticket_in_batches(kb_dir, tmp_path):
    clock = FixedClock(at(2026, 12, 21, 10))
    a = await _start(kb_dir, tmp_path, clock)
    try:
        s = a.service
        tickets = [
            await s.create(citizen_id=f"c{i}", description=f"诉求{i}", category="其他") for i in range(7)
        ]
        # pretend they were all created by the version that left 2027 deadlines unset
        for t in tickets:
            await s.store.tickets.apply(Change(t, clock.now(), {"resolve_due": None}, []))
        assert await s.recompute_deadlines(batch=3) == 7
        assert {(await s.get(t.number)).resolve_due for t in tickets} == {at(2027, 1, 6)}
        assert await s.recompute_deadlines(batch=3) == 0  # nothing moved the second time
        admin = [n for n in await outbox(s) if n.recipient.kind == "admins"]
        assert [n.dedup_key for n in admin] == ["calendar:provisional:2027"]
    finally:
        await a.close()


async def test_a_bad_calendar_file_stops_start_up_naming_the_file(kb_dir, tmp_path):
    from bot.core.knowledge import KnowledgeError

    (kb_dir / "calendar.yaml").write_text("working_calendar:\n  2027:\n    holidays: [2027年1月1日]\n")
    with pytest.raises(KnowledgeError, match="calendar.yaml.*2027.*2027年1月1日"):
        await _start(kb_dir, tmp_path, FixedClock(at(2026, 12, 21, 10)))
