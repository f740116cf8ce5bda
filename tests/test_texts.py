"""The one Jinja2 set-up: dates read the same everywhere, HTML is escaped, plain-text templates are not."""

from __future__ import annotations

import datetime as dt

from bot.core.texts import Texts
from tests.test_tickets_helpers import at


def test_a_deadline_reads_one_way():
    texts = Texts()
    now = at(2026, 12, 20, 10)
    # midnight is 24:00 of the day before; the weekday is named; 暂定 when provisional
    assert texts.deadline(at(2027, 1, 5), True, now) == "2027年1月4日（周一）24:00前（暂定）"
    assert texts.deadline(at(2026, 12, 20, 12), False, now) == "12月20日（周日）12:00前"
    # without a reference time the year is never shown
    assert texts.deadline(at(2027, 1, 5)) == "1月4日（周一）24:00前"
    assert texts.deadline(None) == "未设定"
    assert texts.moment(at(2026, 12, 20, 12, 5), now) == "12月20日 12:05"
    assert texts.moment(at(2025, 12, 20, 12, 5), now) == "2025年12月20日 12:05"
    # the same filter inside a template
    rendered = texts.env.from_string("{{ d | deadline(True, now) }}｜{{ d | stamp }}").render(
        d=at(2027, 1, 5), now=now
    )
    assert rendered == "2027年1月4日（周一）24:00前（暂定）｜2027-01-05 00:00"


def test_a_deadline_in_another_timezone_is_shown_in_the_reference_ones():
    utc = dt.datetime(2026, 12, 20, 16, 0, tzinfo=dt.UTC)  # 2026-12-21 00:00 in Shanghai
    assert Texts().deadline(utc, False, at(2026, 12, 20, 10)) == "12月20日（周日）24:00前"


def test_html_templates_escape_and_text_templates_do_not():
    texts = Texts()
    assert (
        texts.say("tickets/notices.html.j2", "claimed", number="SQ1", department="<b>局</b>").count(
            "&lt;b&gt;"
        )
        == 1
    )
    assert texts.say("tickets/events.txt.j2", "assigned", name="A&B", user_id="<7>") == "指派给 A&B（<7>）"


def test_masking_and_shortening_filters():
    out = Texts().env.from_string("{{ t | mask | short(17) }}").render(t="电话 13812345678 请尽快处理，谢谢")
    assert out == "电话 138****5678 请…"
