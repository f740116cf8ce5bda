"""Every kind of bad input gets a sensible, polite reply — never an exception, never injected markup."""

import pytest

from bot.core.assistant import Assistant
from bot.core.messages import Incoming

BAD = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "ten_thousand": "我想问一下社保卡怎么补办" + "啊" * 10_000,
    "emoji_only": "😭😭😭🙏",
    "control": "\x00\x01\x02身份证\x1b[31m丢了",
    "html": "<a href='http://evil'>点我</a><i>身份证</i>",
    "mixed_scripts": "Привет こんにちは 身份证 lost السلام",
    "binary": bytes(range(256)).decode("latin-1"),
    "only_punctuation": "？？？！！！。。。",
}


@pytest.fixture(scope="module")
def assistant(real_answering):
    from bot.core.clock import SystemClock

    return Assistant(real_answering, SystemClock())


@pytest.mark.parametrize("name", list(BAD))
async def test_bad_input_gets_a_reply(assistant, name):
    replies = await assistant.handle(Incoming("bad", "bad", text=BAD[name]))
    assert replies, name
    for r in replies:
        assert r.html.strip()
        assert "<script" not in r.html and "href='http://evil'" not in r.html and "<i>身份证" not in r.html
        assert len(r.html) < 20_000


async def test_emoji_only_is_answered_kindly(assistant):
    [r] = await assistant.handle(Incoming("e", "e", text="👍👍"))
    assert "文字" in r.html


async def test_very_long_question_is_still_understood(assistant):
    replies = await assistant.handle(Incoming("l", "l", text=BAD["ten_thousand"]))
    assert any("社会保障卡" in r.html for r in replies)
    assert any("比较长" in r.html for r in replies)
