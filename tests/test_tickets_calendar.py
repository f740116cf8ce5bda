"""Working-day deadlines on the State Council calendar: holidays off, 调休 weekends on, unknown years refused."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.clock import FixedClock
from bot.core.tickets import CalendarError, WorkingCalendar, add_working_days, load_policies
from tests.test_tickets_helpers import Env, at, outbox


def test_national_day_2026_holidays_are_skipped():
    # Wed 30 Sep 2026; 1–7 Oct are off, so one working day ends at 24:00 on Thu 8 Oct
    assert add_working_days(at(2026, 9, 30, 10), 1) == at(2026, 10, 9)
    # ten working days: 8, 9, 10 (a Saturday 调休 workday), 12–16, 19, 20 Oct
    assert add_working_days(at(2026, 9, 30, 10), 10) == at(2026, 10, 21)


def test_saturday_make_up_workday_counts():
    cal = WorkingCalendar()
    assert cal.is_workday(dt.date(2026, 10, 10))  # Saturday, 调休 for 国庆
    assert not cal.is_workday(dt.date(2026, 10, 17))  # an ordinary Saturday
    # Friday 9 Oct: the next working day is Saturday 10 Oct, so the deadline is its 24:00
    assert add_working_days(at(2026, 10, 9, 15), 1) == at(2026, 10, 11)


def test_sunday_make_up_workday_counts():
    # Sunday 20 Sep 2026 is a 调休 workday: a ticket on Saturday 19 Sep is due at its 24:00
    assert add_working_days(at(2026, 9, 19, 9), 1) == at(2026, 9, 21)


def test_spring_festival_2026():
    # Fri 13 Feb; Sat 14 Feb is a 调休 workday; 15–23 Feb are off; Sat 28 Feb is a workday again
    assert add_working_days(at(2026, 2, 13, 10), 1) == at(2026, 2, 15)
    assert add_working_days(at(2026, 2, 13, 10), 2) == at(2026, 2, 25)
    assert add_working_days(at(2026, 2, 13, 10), 10) == at(2026, 3, 6)


def test_friday_ticket_is_due_after_the_weekend():
    assert add_working_days(at(2026, 11, 20, 16), 1) == at(2026, 11, 24)  # Monday 23 Nov, 24:00


def test_start_day_does_not_count_even_at_midnight():
    assert add_working_days(at(2026, 11, 23, 0, 0), 1) == at(2026, 11, 25)


def test_2027_is_a_clear_error_naming_the_year():
    with pytest.raises(CalendarError, match="2027") as info:
        add_working_days(at(2026, 12, 31, 9), 1)
    assert info.value.year == 2027
    with pytest.raises(CalendarError, match="2027"):
        WorkingCalendar().is_workday(dt.date(2027, 3, 1))


def test_a_deployment_can_add_2027_as_data():
    cal = WorkingCalendar({2027: {"holidays": ["2027-01-01"], "workdays": []}})
    # Thu 31 Dec 2026 -> Fri 1 Jan 2027 is a holiday -> Mon 4 Jan
    assert cal.add_working_days(at(2026, 12, 31, 9), 1) == at(2027, 1, 5)
    with pytest.raises(CalendarError, match="2028"):
        cal.is_workday(dt.date(2028, 1, 3))


def test_bad_calendar_data_is_refused():
    with pytest.raises(CalendarError, match="2027"):
        WorkingCalendar({2027: {"holidays": ["2026-01-01"]}})


def test_default_policy_is_2110():
    p = load_policies()
    policy = p.select("城乡建设", "normal")
    d = p.deadlines(policy, at(2026, 9, 30, 10))
    assert d.due == {"contact": at(2026, 9, 30, 12), "feedback": at(2026, 10, 9), "resolve": at(2026, 10, 21)}
    assert p.select("城乡建设", "urgent").name == "urgent"


async def test_ticket_past_the_calendar_is_kept_without_a_guess(tmp_path):
    env = Env(tmp_path / "t.db", FixedClock(at(2026, 12, 28, 10)))
    service = await env.start()
    try:
        t = await service.create(citizen_id="c1", description="年底小区停水", category="城乡建设")
        assert await service.get(t.number) is not None
        assert t.contact_due == at(2026, 12, 28, 12)
        assert t.feedback_due == at(2026, 12, 30)
        assert t.resolve_due is None  # would fall in January 2027
        events = await service.events(t)
        assert any(e.action == "deadline_unset" and "2027" in e.text for e in events)
        notes = await outbox(service)
        admin = [n for n in notes if n.recipient.kind == "admins"]
        assert admin and "2027" in admin[0].reply.html and t.number in admin[0].reply.html
    finally:
        await env.close()
