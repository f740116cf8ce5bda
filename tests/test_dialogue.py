"""The conversation a person has: answers, follow-ups, choices, and an offer of a 诉求 when we cannot answer."""

import pytest

from bot.core.assistant import Assistant
from bot.core.messages import Incoming


@pytest.fixture
def assistant(mini_answering, clock):
    return Assistant(mini_answering, clock)


async def say(a, text, user="u1"):
    return await a.handle(Incoming(user, user, text=text))


async def press(a, data, user="u1"):
    return await a.handle(Incoming(user, user, callback=data))


def buttons(reply):
    return [b for row in reply.buttons for b in row]


async def test_answer_lists_materials_marks_exempt_ones_and_names_source(assistant):
    [r] = await say(assistant, "身份证丢了要带什么材料")
    assert "居民身份证补领" in r.html and "申请材料" in r.html
    assert "居民户口簿" in r.html
    assert "<s>户口簿复印件</s>" in r.html and "不再需要提交" in r.html and "数据共享核验" in r.html
    assert "信息来源：测试数据" in r.html and "2026年11月1日" in r.html
    labels = [b.label for b in buttons(r)]
    assert "费用" in labels and "没解决，提交诉求" in labels


async def test_follow_up_question_uses_the_item_just_discussed(assistant):
    await say(assistant, "身份证丢了怎么办")
    [r] = await say(assistant, "那要多少钱")
    assert "居民身份证补领" in r.html and "20元/证" in r.html


async def test_follow_up_without_context_asks_which_item(assistant):
    [r] = await say(assistant, "那要多少钱")
    assert "哪个事项" in r.html


async def test_context_expires(assistant, clock):
    await say(assistant, "身份证丢了怎么办")
    clock.advance(hours=2)
    [r] = await say(assistant, "那要多少钱")
    assert "哪个事项" in r.html


async def test_aspect_button_answers_that_aspect(assistant):
    [r] = await say(assistant, "身份证丢了")
    fee = next(b for b in buttons(r) if b.label == "费用")
    [r2] = await press(assistant, fee.data)
    assert "收费标准" in r2.html and "20元/证" in r2.html


async def test_ambiguous_question_offers_choices_and_second_one_is_picked(assistant):
    [r] = await say(assistant, "结婚")
    assert "哪一项" in r.html
    names = [b.label for b in buttons(r)]
    assert any("结婚登记" in n for n in names) and any("补领结婚证" in n for n in names)
    [r2] = await say(assistant, "第二个")
    second = r.buttons[1][0].label.split(". ", 1)[1]
    assert second in r2.html


async def test_unanswerable_question_offers_a_ticket(assistant):
    [r] = await say(assistant, "红烧肉怎么做")
    assert "没有找到" in r.html and "提交诉求" in r.html
    assert any(b.data == "t:new" for b in buttons(r))


async def test_exemption_answer_says_it_is_no_longer_needed(assistant):
    [r] = await say(assistant, "结婚登记还要户口本复印件吗")
    assert "免证明" in r.html and "不用再自己开具" in r.html and "结婚登记" in r.html


async def test_user_text_never_becomes_markup(assistant):
    replies = await say(assistant, "<b>红烧肉</b><script>alert(1)</script>")
    for r in replies:
        assert "<script>" not in r.html and "<b>红烧肉" not in r.html


async def test_group_chat_chatter_is_ignored_but_help_command_works(assistant):
    assert await assistant.handle(Incoming("u1", "g1", text="大家好", is_group=True)) == []
    [r] = await assistant.handle(Incoming("u1", "g1", text="/help", is_group=True))
    assert "政务服务助手" in r.html
