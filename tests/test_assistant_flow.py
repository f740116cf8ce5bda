"""The whole product through the channel-free facade, as the console and Telegram drive it: a question, an
appeal that becomes a ticket, staff handling it by chat commands, the citizen told at each step and rating."""

import io
import re

import pytest

from bot.adapters.console import Console, OffsetClock
from bot.core.messages import Incoming

CITIZEN, STAFF = "c1", "s1"


@pytest.fixture
async def assistant(engine, clock, build_app):
    app = await build_app(engine, clock, extra_admins={STAFF})
    return app.assistant


async def as_citizen(a, text="", callback=None):
    return await a.handle(Incoming(CITIZEN, CITIZEN, text=text, callback=callback))


async def as_staff(a, text):
    return await a.handle(Incoming(STAFF, STAFF, text=text))


async def drain(a, clock):
    rows = await a.outbox.due(clock.now(), 100)
    for r in rows:
        await a.outbox.sent(r.id, clock.now())
    return [r.notification for r in rows]


def button(replies, label_part):
    for r in replies:
        for row in r.buttons:
            for b in row:
                if label_part in b.label:
                    return b.data
    raise AssertionError(
        f"no button with {label_part!r} in {[b.label for r in replies for row in r.buttons for b in row]}"
    )


async def file_ticket(a):
    replies = await as_citizen(a, "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险")
    replies = await as_citizen(a, callback=button(replies, "是这一类"))
    replies = await as_citizen(a, "幸福小区东门")
    replies = await as_citizen(a, "13812345678")
    replies = await as_citizen(a, callback=button(replies, "实名"))
    replies = await as_citizen(a, callback=button(replies, "提交"))
    text = " ".join(r.html for r in replies)
    number = re.search(r"SQ\d{8}-\d{4}", text).group(0)
    return number, text


async def test_question_is_answered_and_logged(assistant):
    [r] = await as_citizen(assistant, "社保卡丢了怎么补办")
    assert "社会保障卡挂失补换" in r.html


async def test_appeal_to_resolution_and_rating(assistant, clock):
    number, text = await file_ticket(assistant)
    assert "2小时" in text  # the contact deadline is shown
    notes = await drain(assistant, clock)
    group = [n for n in notes if n.recipient.kind == "department"]
    assert group and number in group[0].reply.html
    assert "138****5678" in group[0].reply.html and "13812345678" not in group[0].reply.html

    [claimed] = await as_staff(assistant, f"/claim {number}")
    assert number in claimed.html
    await as_staff(assistant, f"/reply {number} 您好，已通知路灯维护单位，明天上午维修。")
    to_citizen = [
        n for n in await drain(assistant, clock) if n.recipient == n.recipient.__class__("user", CITIZEN)
    ]
    assert any("明天上午维修" in n.reply.html for n in to_citizen)

    await as_staff(assistant, f"/resolve {number} 路灯已修复。")
    notes = await drain(assistant, clock)
    rating = [n for n in notes if n.recipient.kind == "user" and n.reply.buttons]
    assert rating, "the citizen is asked to rate"
    rate5 = next(b.data for row in rating[0].reply.buttons for b in row if b.data.endswith(":5"))
    thanks = await as_citizen(assistant, callback=rate5)
    assert thanks and "感谢" in thanks[0].html

    [mine] = await as_citizen(assistant, "/my")
    assert number in mine.html


async def test_citizen_cannot_use_staff_commands(assistant):
    number, _ = await file_ticket(assistant)
    [r] = await as_citizen(assistant, f"/claim {number}")
    assert "工作人员" in r.html or "权限" in r.html
    ticket = await assistant.service.get(number)
    assert ticket.handler is None


async def test_unanswered_question_can_become_a_ticket(assistant):
    replies = await as_citizen(assistant, "我家门口的古树想申请挂牌保护找谁")
    assert any("提交诉求" in b.label for r in replies for row in r.buttons for b in row)
    replies = await as_citizen(assistant, callback=button(replies, "提交诉求"))
    assert any("古树" in r.html for r in replies)


async def test_console_plays_both_sides(tmp_path, clock, build_app):
    oclock = OffsetClock(clock)
    a = (await build_app(tmp_path / "c.db", oclock, extra_admins={"console:staff"})).assistant
    out = io.StringIO()
    console = Console(a, oclock, out)
    for line in [
        "身份证丢了怎么办",
        "4",
        "楼上天天往下扔垃圾，差点砸到人，我要投诉",
        "1",
        "跳过",
        "不留",
        "2",
        "1",
        ":staff",
        "/tickets new",
    ]:
        assert await console.step(line)
    await a.close()
    text = out.getvalue()
    assert "居民身份证补领" in text and "收费标准" in text  # button 4 pressed: 费用
    assert re.search(r"SQ\d{8}-\d{4}", text)
    assert "通知 → 部门工作群" in text


async def _resolved_and_rated(a, clock, score: int):
    number, _ = await file_ticket(a)
    await as_staff(a, f"/claim {number}")
    await as_staff(a, f"/resolve {number} 路灯已修复。")
    notes = await drain(a, clock)
    rating = next(n for n in notes if n.recipient.kind == "user" and n.reply.buttons)
    rate = next(b.data for row in rating.reply.buttons for b in row if b.data.endswith(f":{score}"))
    return number, await as_citizen(a, callback=rate)


async def test_comment_after_a_low_rating_reaches_the_department(assistant, clock):
    number, rated = await _resolved_and_rated(assistant, clock, 1)
    await drain(assistant, clock)
    [ask] = await as_citizen(assistant, callback=button(rated, "写几句意见"))
    assert "请直接输入您的意见" in ask.html
    [thanks] = await as_citizen(assistant, "修了两天又坏了，联系电话13812345678")
    assert "已收到您的意见" in thanks.html
    notes = await drain(assistant, clock)
    dept = [n for n in notes if n.recipient.kind == "department" and "评价意见" in n.reply.html]
    assert dept and "又坏了" in dept[0].reply.html and "13812345678" not in dept[0].reply.html
    ticket = await assistant.service.get(number)
    assert ticket.comment.startswith("修了两天又坏了")
    # the next message is a question again, not a second comment
    [answer] = await as_citizen(assistant, "社保卡丢了怎么补办")
    assert "社会保障卡挂失补换" in answer.html


async def test_comment_can_be_cancelled_and_expires(assistant, clock):
    number, rated = await _resolved_and_rated(assistant, clock, 5)
    offer = button(rated, "写几句意见")
    await as_citizen(assistant, callback=offer)
    [cancelled] = await as_citizen(assistant, "取消")
    assert "不填写意见" in cancelled.html
    assert (await assistant.service.get(number)).comment is None
    await as_citizen(assistant, callback=offer)
    clock.advance(hours=1)  # asked long ago: the message is a question
    [answer] = await as_citizen(assistant, "社保卡丢了怎么补办")
    assert "社会保障卡挂失补换" in answer.html
    assert (await assistant.service.get(number)).comment is None


async def test_a_question_in_the_middle_of_an_intake_is_offered_not_swallowed(assistant):
    replies = await as_citizen(assistant, "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险")
    await as_citizen(assistant, callback=button(replies, "是这一类"))  # now the place is asked
    held = await as_citizen(assistant, "身份证丢了怎么补办")
    assert "补充到当前诉求" in held[0].html or button(held, "补充到当前诉求")
    answered = await as_citizen(assistant, callback=button(held, "先回答这个问题"))
    text = "\n".join(r.html for r in answered)
    assert "居民身份证补领" in text  # the question is answered
    assert "什么地方" in answered[-1].html  # and the intake asks for the place again
    # the intake goes on where it was: the question was not taken as the place
    await as_citizen(assistant, "幸福小区东门")
    replies = await as_citizen(assistant, "不留")
    replies = await as_citizen(assistant, callback=button(replies, "实名"))
    assert "幸福小区东门" in replies[0].html and "身份证丢了" not in replies[0].html


async def test_another_problem_in_the_middle_of_an_intake_can_be_added_to_it(assistant):
    replies = await as_citizen(assistant, "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险")
    await as_citizen(assistant, callback=button(replies, "是这一类"))
    held = await as_citizen(assistant, "还有小区旁边的饭店每天半夜噪音扰民，我要投诉")
    added = await as_citizen(assistant, callback=button(held, "补充到当前诉求"))
    assert "已把这段话补充到问题描述里" in added[0].html and "什么地方" in added[0].html


async def test_a_typed_score_rates_the_ticket_waiting_for_a_rating(assistant, clock):
    number, _ = await file_ticket(assistant)
    await as_staff(assistant, f"/resolve {number} 路灯已修复。")
    [thanks] = await as_citizen(assistant, "４")  # a full-width digit typed instead of the button
    assert "感谢您的评价（满意）" in thanks.html
    assert (await assistant.service.get(number)).rating == 4
    [again] = await as_citizen(assistant, "4")  # nothing waits any more: not a rating
    assert "感谢您的评价" not in again.html


async def test_an_emergency_becomes_an_urgent_ticket_after_the_numbers_to_call(assistant):
    replies = await as_citizen(assistant, "家里燃气灶那边一股味道，头有点晕")
    first = replies[0].html
    assert "119" in first or "110" in first or "120" in first
    replies = await as_citizen(assistant, callback=button(replies, "紧急诉求"))
    for _ in range(6):  # answer whatever the intake asks until the summary
        labels = [b.label for r in replies for row in r.buttons for b in row]
        if any("提交" in label for label in labels):
            break
        choice = next((lb for lb in labels if lb in ("✅ 是这一类", "跳过", "不留电话", "实名反映")), None)
        if choice is None:
            replies = await as_citizen(assistant, callback=button(replies, labels[0]))
        else:
            replies = await as_citizen(assistant, callback=button(replies, choice))
    assert "紧急" in replies[0].html
    done = await as_citizen(assistant, callback=button(replies, "提交"))
    number = re.search(r"SQ\d{8}-\d{4}", done[0].html).group(0)
    assert (await assistant.service.get(number)).priority == "urgent"


async def test_cancel_command_during_an_intake_cancels_it(assistant):
    replies = await as_citizen(assistant, "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险")
    assert any(r.buttons for r in replies)  # the intake has started
    [r] = await as_citizen(assistant, "/cancel")
    assert "已取消" in r.html and "没有提交" in r.html
    [r] = await as_citizen(assistant, "/cancel")  # nothing left to cancel
    assert "已取消" not in r.html
