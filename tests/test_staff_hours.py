"""Staff notifications held to working hours (workflow.yaml `hold_staff_notifications`, `staff_hours`), with the
working-day calendar: queued at once, sent when the next working period starts; citizens and urgent tickets
are never held. On both engines: the outbox releases a held notification by its first attempt time."""

from __future__ import annotations

import datetime as dt

from bot.core.clock import FixedClock
from bot.core.messages import Notification, Recipient, Reply
from bot.core.tickets.domain.models import StaffMember
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.reminders import tick
from bot.core.tickets.service import TicketService
from bot.core.tickets.workflow.config import WorkflowConfig
from bot.core.tickets.workflow.hours import StaffHours
from tests.test_tickets_helpers import ADMIN, at, small_kb

HOURS = {
    "hold_staff_notifications": True,
    "staff_hours": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "17:30"}],
}


def hours() -> StaffHours:
    return StaffHours(load_policies().calendar, WorkflowConfig.from_data(HOURS).staff_hours)


def test_the_next_working_period_follows_the_calendar():
    h = hours()
    assert h.next_start(at(2026, 11, 23, 10)) == at(2026, 11, 23, 10)  # within: now
    assert h.next_start(at(2026, 11, 23, 12, 15)) == at(2026, 11, 23, 13, 30)  # the lunch break
    assert h.next_start(at(2026, 11, 23, 7)) == at(2026, 11, 23, 9)
    assert h.next_start(at(2026, 11, 27, 18)) == at(2026, 11, 30, 9)  # Friday evening -> Monday
    assert h.next_start(at(2026, 9, 30, 18)) == at(2026, 10, 8, 9)  # before 国庆: after the whole break
    assert h.next_start(at(2026, 10, 9, 18)) == at(2026, 10, 10, 9)  # a 调休 Saturday is a working day


async def _service(engine, clock: FixedClock, data: dict | None = None) -> TicketService:
    store = await engine.open(clock=clock)
    workflow = WorkflowConfig.from_data(HOURS if data is None else data)
    service = TicketService(store, small_kb(), clock, load_policies(), {ADMIN}, workflow=workflow)
    await store.staff.upsert(StaffMember("h-cg", "城管小王", "handler", ("城市管理局",)), ADMIN, clock.now())
    return service


async def due(service: TicketService, when: dt.datetime) -> list[Notification]:
    return [r.notification for r in await service.store.outbox.due(when, 1000)]


async def test_a_saturday_ticket_reaches_staff_on_monday_morning_and_the_citizen_at_once(engine):
    clock = FixedClock(at(2026, 11, 28, 10))  # Saturday
    s = await _service(engine, clock)
    try:
        t = await s.create(citizen_id="c1", description="小区门口占道经营", category="城乡建设")
        assert not [n for n in await due(s, clock.now()) if n.dedup_key == f"new:{t.number}"]
        await s.store.outbox.enqueue(Notification(Recipient("user", "c9"), Reply("您好"), "citizen-now"))
        assert "citizen-now" in {n.dedup_key for n in await due(s, clock.now())}  # citizens: never held
        sunday_night = await due(s, at(2026, 11, 30, 8, 59))
        assert f"new:{t.number}" not in {n.dedup_key for n in sunday_night}
        monday = {n.dedup_key for n in await due(s, at(2026, 11, 30, 9))}
        assert f"new:{t.number}" in monday
        # an urgent ticket goes to staff at once, whatever the day
        urgent = await s.create(
            citizen_id="c2", description="燃气泄漏，闻到很大的煤气味", category="城乡建设", priority="urgent"
        )
        assert urgent.priority == "urgent"
        assert f"new:{urgent.number}" in {n.dedup_key for n in await due(s, clock.now())}
        # a staff member's reply to the citizen is not held
        clock.set(at(2026, 11, 30, 9, 30))
        await s.claim(t.number, "h-cg")
        clock.set(at(2026, 11, 30, 20))
        await s.reply(t.number, "h-cg", "您好，已安排人员明天上午处理。")
        assert any(
            "明天上午" in n.reply.html for n in await due(s, clock.now()) if n.recipient.kind == "user"
        )
    finally:
        await s.store.close()


async def test_reminders_falling_due_at_night_wait_for_the_morning(engine):
    clock = FixedClock(at(2026, 11, 23, 16))
    s = await _service(engine, clock)
    try:
        await s.create(citizen_id="c1", description="路灯不亮", category="城乡建设")
        night = at(2026, 11, 24, 22)  # Tuesday night: the 签收 and contact deadlines have passed
        assert await tick(s, night) > 0

        async def reminders(when: dt.datetime) -> set[str | None]:
            return {n.dedup_key for n in await due(s, when) if (n.dedup_key or "").startswith("remind:")}

        queued = await reminders(at(2030, 1, 1))
        assert queued and not await reminders(night)  # queued at night, not sent at night
        assert await reminders(at(2026, 11, 25, 9)) == queued  # sent when the next working period starts
    finally:
        await s.store.close()


async def test_without_holding_staff_are_told_at_once(engine):
    clock = FixedClock(at(2026, 11, 28, 10))  # Saturday
    s = await _service(engine, clock, {})
    try:
        t = await s.create(citizen_id="c1", description="小区门口占道经营", category="城乡建设")
        assert f"new:{t.number}" in {n.dedup_key for n in await due(s, clock.now())}
    finally:
        await s.store.close()
