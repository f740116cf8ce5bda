"""What tests/test_fuzz.py found, each pinned by a small test of its own."""

from __future__ import annotations

import io
import re

import pytest

from bot.adapters.console import STAFF, Console, OffsetClock
from bot.core.messages import Incoming

CITIZEN, ADMIN = "c1", "a1"
APPEAL = "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险"


@pytest.fixture
async def app(tmp_path, clock, build_app):
    return await build_app(tmp_path / "t.db", clock, extra_admins={ADMIN, STAFF})


async def file_ticket(a) -> str:
    await a.handle(Incoming(CITIZEN, CITIZEN, text=APPEAL))
    for data in ("in:ok", "in:skip", "in:nophone", "in:anon:0", "in:submit"):
        replies = await a.handle(Incoming(CITIZEN, CITIZEN, callback=data))
    return re.search(r"SQ\d{8}-\d{4}", replies[0].html).group(0)


async def test_a_lone_surrogate_in_a_staff_reply_is_kept_as_a_replacement_character(app):
    # a broken client (or JSON's "\ud800" escape) sent half of an emoji: the database cannot store it as it is
    a = app.assistant
    number = await file_ticket(a)
    [r] = await a.handle(
        Incoming(ADMIN, ADMIN, text=f"/reply {number} 已安排\ud83d维修", display_name="王\udc80")
    )
    assert "已" in r.html and "\ud83d" not in r.html
    [card] = await a.handle(Incoming(ADMIN, ADMIN, text=f"/ticket {number}"))
    assert "已安排\ufffd维修" in card.html


async def test_a_lone_surrogate_in_a_question_and_in_button_data(app):
    a = app.assistant
    [answer] = await a.handle(Incoming(CITIZEN, CITIZEN, text="社保卡丢了怎么补办\udfff"))
    assert "社会保障卡" in answer.html
    [expired] = await a.handle(Incoming(CITIZEN, CITIZEN, callback="rate:\ud800:5"))
    assert expired.html.strip()


@pytest.mark.parametrize("group", [False, True])
async def test_a_button_with_empty_data_is_answered_as_an_expired_button(app, group):
    # Telegram lets a client send a callback query without data; it is a button press, not an empty message
    chat = "group:x" if group else ADMIN
    [r] = await app.assistant.handle(Incoming(ADMIN, chat, callback="", is_group=group))
    assert "按钮" in r.html


async def test_cancel_command_during_an_intake_cancels_it(app):
    a = app.assistant
    await a.handle(Incoming(CITIZEN, CITIZEN, text=APPEAL))
    [r] = await a.handle(Incoming(CITIZEN, CITIZEN, text="/cancel"))
    assert "取消" in r.html
    assert not await a.intake.active(CITIZEN)


@pytest.mark.parametrize("typed", ["²", "١", "①"])
async def test_console_non_ascii_digit_is_text_not_a_button_number(app, typed):
    out = io.StringIO()
    console = Console(app.assistant, OffsetClock(app.clock), out)
    await console.step("社保卡丢了怎么补办\n")  # a reply with numbered buttons
    assert console.buttons
    assert await console.step(typed + "\n")
    assert out.getvalue().strip()


async def test_console_later_too_far_is_refused_politely(app):
    out = io.StringIO()
    clock = OffsetClock(app.clock)
    console = Console(app.assistant, clock, out)
    assert await console.step(":later 99999999d\n")
    assert "最多前进 366 天" in out.getvalue()
    assert clock.offset.total_seconds() == 0
    assert await console.step(":later 366d\n")
    assert clock.offset.days == 366


@pytest.mark.parametrize("digit", ["²", "١", "①", "۴"])
async def test_non_ascii_digits_in_rating_transfer_category_and_outbox_retry_are_answered(app, digit):
    # str.isdigit() accepts these and int() refuses them: each place that reads a number from a button or an
    # argument answers politely and changes nothing
    a = app.assistant
    number = await file_ticket(a)
    [r] = await a.handle(Incoming(ADMIN, ADMIN, callback=f"xfer:{number}:{digit}"))
    assert "部门选项已失效" in r.html
    [card] = await a.handle(Incoming(ADMIN, ADMIN, text=f"/ticket {number}"))
    assert "转派" not in card.html
    await a.handle(Incoming(ADMIN, ADMIN, text=f"/resolve {number} 已修复"))
    [r] = await a.handle(Incoming(CITIZEN, CITIZEN, callback=f"rate:{number}:{digit}"))
    assert "评价选项无效" in r.html
    [r] = await a.handle(Incoming(CITIZEN, CITIZEN, callback=f"rate:{number}:5"))
    assert "感谢" in r.html  # the rating was still waiting
    [r] = await a.handle(Incoming(ADMIN, ADMIN, text=f"/outbox retry {digit}"))
    assert "/outbox" in r.html  # the usage, not an error
    [r] = await a.handle(Incoming(ADMIN, ADMIN, text=f"/outbox retry 1 {digit}"))
    assert "/outbox" in r.html
    # the category list of an intake, pressed with such a digit, keeps the intake at that step
    await a.handle(Incoming(CITIZEN + "x", CITIZEN + "x", text=APPEAL))
    await a.handle(Incoming(CITIZEN + "x", CITIZEN + "x", callback="in:cats"))
    replies = await a.handle(Incoming(CITIZEN + "x", CITIZEN + "x", callback=f"in:ci:{digit}"))
    assert replies and all(r.html.strip() for r in replies)
    assert await a.intake.active(CITIZEN + "x")
