"""Working-day deadlines on the State Council calendar: holidays off, 调休 weekends on; years without an official
notice computed from 《全国年节及纪念日放假办法》 and marked provisional."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from bot.core.tickets.domain.calendar import CalendarError, WorkingCalendar, add_working_days
from bot.core.tickets.domain.sla import load_policies
from tests.test_tickets_helpers import at

D = dt.date


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


def test_2027_is_provisional_and_still_counted():
    cal = WorkingCalendar()
    assert cal.is_official(2026) and not cal.is_official(2027)
    assert cal.is_provisional(D(2027, 3, 1)) and not cal.is_provisional(D(2026, 12, 31))
    # Thu 31 Dec 2026 -> Fri 1 Jan 2027 is 元旦 -> the weekend -> Mon 4 Jan, 24:00
    assert add_working_days(at(2026, 12, 31, 9), 1) == at(2027, 1, 5)
    assert cal.provisional_years(D(2026, 12, 20), D(2028, 1, 4)) == [2027, 2028]
    assert cal.spans_provisional(D(2026, 12, 20), D(2027, 1, 4))
    assert not cal.spans_provisional(D(2026, 12, 1), D(2026, 12, 31))


def test_a_deployment_can_add_2027_as_data():
    cal = WorkingCalendar({2027: {"holidays": ["2027-01-01"], "workdays": []}})
    assert cal.is_official(2027)
    # Thu 31 Dec 2026 -> Fri 1 Jan 2027 is a holiday -> Mon 4 Jan
    assert cal.add_working_days(at(2026, 12, 31, 9), 1) == at(2027, 1, 5)
    # the official data is the whole truth for 2027: no computed 春节 beyond what it lists
    assert cal.is_workday(D(2027, 2, 9))
    # 2028 is still provisional: 元旦 falls on a Saturday, so Monday 3 January is its 补假
    assert cal.is_provisional(D(2028, 1, 3)) and not cal.is_workday(D(2028, 1, 3))


def test_official_data_changes_the_fingerprint():
    plain, same = WorkingCalendar(), WorkingCalendar({})
    official = WorkingCalendar({2027: {"holidays": ["2027-01-01"]}})
    corrected = WorkingCalendar({2027: {"holidays": ["2027-01-01", "2027-02-08"]}})
    assert plain.fingerprint() == same.fingerprint()
    assert len({plain.fingerprint(), official.fingerprint(), corrected.fingerprint()}) == 3


def test_bad_calendar_data_is_refused():
    with pytest.raises(CalendarError, match="2027"):
        WorkingCalendar({2027: {"holidays": ["2026-01-01"]}})


def test_default_policy_is_2110():
    p = load_policies()
    policy = p.select("城乡建设", "normal")
    d = p.deadlines(policy, at(2026, 9, 30, 10))
    assert d.due == {"contact": at(2026, 9, 30, 12), "feedback": at(2026, 10, 9), "resolve": at(2026, 10, 21)}
    assert p.select("城乡建设", "urgent").name == "urgent"


# ---------------------------------------------------------------------------------------------- statutory rules
def _off(cal: WorkingCalendar, first: dt.date, last: dt.date) -> list[dt.date]:
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if not cal.is_workday(d)]


def _span(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_spring_festival_2027_with_its_make_up_days():
    # 除夕 Fri 5 Feb to 初三 Mon 8 Feb; 初一 and 初二 fall on the weekend, so Tue 9 and Wed 10 are made up
    cal = WorkingCalendar()
    assert _off(cal, D(2027, 2, 1), D(2027, 2, 14)) == _span(D(2027, 2, 5), D(2027, 2, 10)) + [
        D(2027, 2, 13),
        D(2027, 2, 14),
    ]
    assert cal.is_workday(D(2027, 2, 4)) and cal.is_workday(D(2027, 2, 11))
    # a ticket on Thursday 4 Feb: one working day is Thursday 11 Feb, 24:00
    assert cal.add_working_days(at(2027, 2, 4, 10), 1) == at(2027, 2, 12)


def test_national_day_2027_two_days_made_up_after_the_weekend():
    # 1 Oct is a Friday; 2 and 3 Oct fall on the weekend, so Monday 4 and Tuesday 5 are off too
    cal = WorkingCalendar()
    assert _off(cal, D(2027, 9, 29), D(2027, 10, 8)) == _span(D(2027, 10, 1), D(2027, 10, 5))
    assert cal.add_working_days(at(2027, 9, 30, 10), 1) == at(2027, 10, 7)
    # 劳动节 1–2 May is a weekend: Monday 3 and Tuesday 4 May are made up
    assert _off(cal, D(2027, 4, 30), D(2027, 5, 6)) == _span(D(2027, 5, 1), D(2027, 5, 4))
    # 中秋 Wed 15 Sep, 端午 Wed 9 Jun and 清明 Mon 5 Apr are single days
    assert [d for d in (D(2027, 9, 15), D(2027, 6, 9), D(2027, 4, 5)) if cal.is_workday(d)] == []
    assert cal.is_workday(D(2027, 9, 16)) and cal.is_workday(D(2027, 4, 6))


def test_the_rules_before_2025_have_a_shorter_spring_festival_and_may_day():
    rules = WorkingCalendar().rules
    assert "795" in rules.in_force(D(2025, 1, 1)).basis and "644" in rules.in_force(D(2024, 12, 31)).basis
    off_2024 = rules.days_off(2024)
    # 2024: 初一 Sat 10 Feb to 初三 Mon 12 Feb, two weekend days made up on 13 and 14 Feb; 除夕 not a holiday
    assert {d for d in off_2024 if d.month == 2} == set(_span(D(2024, 2, 10), D(2024, 2, 14)))
    assert D(2024, 5, 1) in off_2024 and D(2024, 5, 2) not in off_2024
    # under the 2025 rules 除夕 and 2 May are holidays
    off_2025 = rules.days_off(2025)
    assert D(2025, 1, 28) in off_2025 and D(2025, 5, 2) in off_2025


def _check_against_official(year: int) -> None:
    rules = WorkingCalendar().rules
    computed = rules.days_off(year)
    wrongly_off = sorted(d for d in computed if chinese_calendar.is_workday(d))
    assert wrongly_off == [], f"{year}: computed as off but official working days: {wrongly_off}"
    main = rules.in_force(D(year, 6, 1)).main_days(year)
    assert len(main) == 7
    for name, day in main.items():
        assert day in computed and not chinese_calendar.is_workday(day), f"{year} {name} {day}"


@pytest.mark.parametrize("year", [2025, 2026])
def test_provisional_computation_agrees_with_the_official_years(year):
    """Computed as if unofficial, 2025 and 2026 mark off only days the State Council also gave off, and every
    holiday's own day is among them (the official years add 调休, which cannot be computed)."""
    _check_against_official(year)


@pytest.mark.parametrize("year", range(2016, 2025))
def test_rules_before_2025_agree_with_the_official_years(year):
    # 2015 is the known exception: 中秋 fell on Sunday 27 Sep and its 补假 was folded into 国庆 instead of
    # falling on Monday 28 Sep; a notice may do that, which is why computed years are only provisional
    _check_against_official(year)


def test_main_days_are_the_holidays_own_days():
    main = WorkingCalendar().rules.in_force(D(2027, 1, 1)).main_days(2027)
    assert main == {
        "元旦": D(2027, 1, 1),
        "春节": D(2027, 2, 6),  # 初一, not 除夕
        "清明节": D(2027, 4, 5),
        "劳动节": D(2027, 5, 1),
        "端午节": D(2027, 6, 9),
        "中秋节": D(2027, 9, 15),
        "国庆节": D(2027, 10, 1),
    }


def _rules(**holiday) -> dict:
    base = {"name": "春节", "anchor": "除夕", "days": 4}
    return {
        "statutory_rules": [{"from": "2025-01-01", "basis": "国务院令第795号", "holidays": [base | holiday]}]
    }


@pytest.mark.parametrize(
    ("holiday", "words"),
    [
        ({"anchor": "lunar 12-30"}, ["calendar.yaml", "2025-01-01", "春节", "除夕"]),
        ({"anchor": "solar 2-29"}, ["calendar.yaml", "春节", "solar 2-29"]),
        ({"anchor": "农历正月初一"}, ["calendar.yaml", "春节", "anchor"]),
        ({"days": 0}, ["calendar.yaml", "春节", "days"]),
        ({"day": 1}, ["calendar.yaml", "春节", "未知字段"]),
    ],
)
def test_bad_statutory_rules_name_the_file_the_rule_and_the_entry(holiday, words):
    with pytest.raises(CalendarError) as info:
        WorkingCalendar.from_data(_rules(**holiday))
    for w in words:
        assert w in str(info.value)


def test_statutory_rules_need_a_basis_and_a_date():
    data = _rules()
    data["statutory_rules"][0]["from"] = "2025年"
    with pytest.raises(CalendarError, match="from"):
        WorkingCalendar.from_data(data)
    data = _rules()
    del data["statutory_rules"][0]["basis"]
    with pytest.raises(CalendarError, match="basis"):
        WorkingCalendar.from_data(data)


def test_a_deployment_calendar_without_rules_uses_the_shipped_ones():
    cal = WorkingCalendar.from_data({"working_calendar": {}})
    assert not cal.is_workday(D(2027, 10, 5))
