"""Hot spots (诉求 clustered by place and subject, rising week over week) in the daily digest, and the digest's
chart: drawn with a CJK font the system has (Debian's fonts-wqy-microhei in CI), never tofu; without such a
font the log says so and the digest goes as text alone. The chart travels through the outbox on both
engines, and the Telegram sender sends it before the text."""

from __future__ import annotations

import logging
import os

import pytest

from bot.core import charts
from bot.core.clock import FixedClock
from bot.core.messages import Notification, Recipient, Reply
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.reporting.digest import build_digest
from bot.core.tickets.reporting.hotspots import hot_key
from bot.core.tickets.service import TicketService
from tests.test_tickets_helpers import ADMIN, at, small_kb

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_hot_key_is_place_and_subject_and_needs_a_place():
    assert hot_key("幸福家园 东门", "城乡建设") == "幸福家园东门｜城乡建设"
    assert hot_key(None, "城乡建设") is None and hot_key("  ", "城乡建设") is None

    class Known:
        name = "幸福家园"

    class Entry:
        matter = "占道经营"

    class Decision:
        place, entry = Known(), Entry()

    assert hot_key("幸福家园小区3号楼", "城乡建设", Decision()) == "幸福家园｜占道经营"


async def _service(engine, clock: FixedClock) -> TicketService:
    store = await engine.open(clock=clock)
    return TicketService(store, small_kb(), clock, load_policies(), {ADMIN})


async def test_the_daily_digest_names_places_whose_reports_rise_week_over_week(engine):
    clock = FixedClock(at(2026, 11, 16, 10))  # the week before
    s = await _service(engine, clock)
    try:
        for text in ("人民路积水", "人民路积水严重", "人民路又积水了"):
            await s.create(citizen_id="c1", description=text, category="城乡建设", place="人民路")
        await s.create(citizen_id="c1", description="菜市场占道", category="城乡建设", place="幸福家园")
        clock.set(at(2026, 11, 23, 10))  # this week
        for i in range(4):
            await s.create(citizen_id=f"c{i}", description="占道经营", category="城乡建设", place="幸福家园")
        for text in ("人民路积水", "人民路积水", "人民路积水"):  # as many as last week: not rising
            await s.create(citizen_id="c1", description=text, category="城乡建设", place="人民路")
        await s.create(citizen_id="c9", description="噪音", category="城乡建设")  # no place: no hot spot
        digest = await build_digest(s.store, now=at(2026, 11, 24, 8, 30), policies=s.policies)
        hot = digest.html.split("热点诉求")[1].split("\n\n")[0]
        assert "幸福家园" in hot and "4 件" in hot and "上周同期 1 件" in hot
        assert "人民路" not in hot
        scoped = await build_digest(
            s.store, now=at(2026, 11, 24, 8, 30), policies=s.policies, department="公安局"
        )
        assert "幸福家园" not in scoped.html  # another department's hot spot
        assert digest.photo is None  # the chart only when asked for (the groups' scheduled digest)
    finally:
        await s.store.close()


async def test_the_scheduled_digest_carries_a_chart_drawn_with_a_cjk_font(engine):
    if charts.cjk_font() is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs fonts-wqy-microhei (.ci/run): matplotlib should find a CJK font")
        pytest.skip("no CJK font on this machine (apt-get install fonts-wqy-microhei)")
    clock = FixedClock(at(2026, 11, 23, 10))
    s = await _service(engine, clock)
    try:
        for i in range(3):
            await s.create(citizen_id=f"c{i}", description="占道经营", category="城乡建设", place="幸福家园")
        daily = await build_digest(s.store, now=at(2026, 11, 24, 8, 30), policies=s.policies, chart=True)
        weekly = await build_digest(s.store, now=at(2026, 11, 30, 8, 30), period="week", chart=True)
        for reply in (daily, weekly):
            assert reply.photo is not None and reply.photo.startswith(PNG) and len(reply.photo) > 5000
        assert "幸福家园" in daily.html  # the text is complete without the picture
    finally:
        await s.store.close()


def test_without_a_cjk_font_the_log_says_so_and_no_chart_is_drawn(monkeypatch, caplog):
    class NoFonts:
        ttflist: list = []

    from matplotlib import font_manager

    charts.cjk_font.cache_clear()
    monkeypatch.setattr(font_manager, "fontManager", NoFonts())
    try:
        with caplog.at_level(logging.WARNING, logger="bot.core.charts"):
            assert charts.bar_chart("标题", [("诉求", [("城市管理局", 3.0)], "count")]) is None
        assert "no CJK font" in caplog.text and "without a chart" in caplog.text
    finally:
        charts.cjk_font.cache_clear()


async def test_a_chart_goes_through_the_outbox_with_its_notification(engine):
    clock = FixedClock(at(2026, 11, 23, 10))
    store = await engine.open(clock=clock)
    try:
        picture = PNG + b"\x00" * 100
        await store.outbox.enqueue(
            Notification(Recipient("department", "公安局"), Reply("<b>日报</b>", photo=picture), "digest:x")
        )
        await store.outbox.enqueue(Notification(Recipient("user", "1"), Reply("您好"), "plain"))
        rows = {
            r.notification.dedup_key: r.notification.reply for r in await store.outbox.due(clock.now(), 10)
        }
        assert rows["digest:x"].photo == picture and rows["plain"].photo is None
    finally:
        await store.close()


async def test_the_telegram_sender_sends_the_chart_before_the_text_and_the_text_when_the_chart_is_refused():
    from telegram.error import BadRequest

    from bot.adapters.telegram.sending import ReplySender

    calls: list[tuple[str, object]] = []

    class Bot:
        refuse = False

        async def send_photo(self, chat_id, photo):
            if self.refuse:
                raise BadRequest("Bad Request: IMAGE_PROCESS_FAILED")
            calls.append(("photo", photo))

        async def do_api_request(self, method, api_kwargs):
            calls.append((method, api_kwargs["text"]))
            return {"message_id": len(calls)}

    bot = Bot()
    sender = ReplySender(bot)  # type: ignore[arg-type]
    await sender.send(-100, Reply("<b>日报</b>", photo=PNG))
    assert calls == [("photo", PNG), ("sendMessage", "<b>日报</b>")]
    calls.clear()
    bot.refuse = True
    await sender.send(-100, Reply("<b>日报</b>", photo=PNG))
    assert calls == [("sendMessage", "<b>日报</b>")]  # the text is the fallback
