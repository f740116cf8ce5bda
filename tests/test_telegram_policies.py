"""惠企政策 end to end on Telegram: the real core behind the real python-telegram-bot stack, talking HTTP to the
local Bot API stand-in (tests/tg_standin.py), on SQLite and, with TEST_DATABASE_URL, PostgreSQL. An enterprise
asks in free text, answers the bot's questions with buttons, gets its policies and why, saves its profile with
consent, sees it alone, and is pushed a changed policy once, with /unsubscribe."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.policies.desk import PolicyDesk
from bot.core.texts import Texts
from tests.test_telegram_e2e import CITIZEN, OTHER_CITIZEN, POLICE_GROUP, Env
from tests.test_telegram_e2e import env as e2e_env  # noqa: F401 - the e2e tests' fixture, used by `tg`


@pytest.fixture
async def tg(e2e_env: Env) -> Env:  # noqa: F811
    return e2e_env


def labels(msg: dict) -> list[str]:
    return [label for row in msg.get("buttons", []) for label, _ in row]


async def ask_until_listed(env: Env, text: str) -> dict:
    msg = await env.say(CITIZEN, text)
    asked = 0
    while "先看结果" in labels(msg):
        asked += 1
        assert asked <= 3, msg["text"]  # at most three questions
        msg = await env.press(CITIZEN, labels(msg)[0])  # the first answer offered
    return msg


async def test_an_enterprise_is_asked_with_buttons_then_told_its_policies_and_why(tg: Env):
    env = tg
    first = await env.say(CITIZEN, "我们是做软件的小微企业，有什么补贴")
    assert first["parse_mode"] == "HTML"
    assert "软件和信息技术服务业" in first["text"] and "先看结果" in labels(first)
    listing = await ask_until_listed(env, "我们是做软件的小微企业，有什么补贴")
    text = listing["text"]
    assert "可以享受的政策" in text and "✅ 符合" in text and "💰" in text
    today = env.clock.now().date()
    expired = [
        p.name
        for p in env.assistant.policy_desk.library.policies.values()
        if p.valid.end and p.valid.end < today
    ]
    assert expired and not [name for name in expired if name in text]  # an expired policy is never offered
    detail = await env.press(CITIZEN, "详情")
    assert "贵企业符合条件" in detail["text"] and "依据：" in detail["text"]
    why = await env.say(CITIZEN, "为什么没有研发费用加计扣除")
    assert "研发费用税前加计扣除" in why["text"]
    unknown = await env.say(CITIZEN, "我们是做直播带货的公司，有什么补贴")
    assert len([label for label in labels(unknown) if label != "先看结果"]) == 4  # the nearest sections


async def test_the_profile_is_saved_with_consent_and_seen_by_its_owner_only(tg: Env):
    env = tg
    await ask_until_listed(env, "我们是示例区做软件的小微企业，有什么补贴")
    consent = await env.press(CITIZEN, "保存企业画像")
    assert "只有您本人能查看" in consent["text"]
    saved = await env.press(CITIZEN, "同意保存，并订阅新政策提醒")
    assert "已保存您的企业画像" in saved["text"] and "/unsubscribe" in saved["text"]
    mine = await env.say(CITIZEN, "/profile")
    assert "您的企业画像" in mine["text"] and "软件" in mine["text"] and "已订阅" in mine["text"]
    other = await env.say(OTHER_CITIZEN, "/profile")
    assert "还没有保存企业画像" in other["text"] and "软件" not in other["text"]
    group = await env.say(CITIZEN, "/profile", chat=POLICE_GROUP)
    assert "软件" not in group["text"]


async def test_a_changed_policy_is_pushed_once_in_working_hours_and_unsubscribe_stops_it(tg: Env):
    env = tg
    await ask_until_listed(env, "我们是示例区做软件的小微企业，有什么补贴")
    await env.press(CITIZEN, "保存企业画像")
    await env.press(CITIZEN, "同意保存，并订阅新政策提醒")
    before = len(env.stand.sent_messages(CITIZEN))
    await env.bridge.reminder_tick()
    assert len(env.stand.sent_messages(CITIZEN)) == before  # nothing new since the list it was shown

    desk = env.assistant.policy_desk
    told = (await desk.saved(str(CITIZEN))).notified
    pid = sorted(told)[0]
    env.assistant.swap(env.assistant.answering, changed(env, desk, pid, "标准提高：测试"))  # as /reload does
    await env.bridge.reminder_tick()
    pushed = env.stand.sent_messages(CITIZEN)[before:]
    assert len(pushed) == 1
    assert "直达快享" in pushed[0]["text"] and desk.library.get(pid).name in pushed[0]["text"]
    assert "内容有调整" in pushed[0]["text"] and "/unsubscribe" in pushed[0]["text"]
    await env.bridge.reminder_tick()  # the same news is never sent twice
    assert len(env.stand.sent_messages(CITIZEN)) == before + 1

    stop = await env.say(CITIZEN, "/unsubscribe")
    assert "退订" in stop["text"]
    env.clock.advance(days=1)
    env.assistant.swap(
        env.assistant.answering, changed(env, env.assistant.policy_desk, pid, "标准再次提高：测试")
    )
    await env.bridge.reminder_tick()
    assert not [m for m in env.stand.sent_messages(CITIZEN)[before + 2 :] if "直达快享" in m["text"]]


def changed(env: Env, desk: PolicyDesk, pid: str, amount: str) -> PolicyDesk:
    """A desk over the same 政策库 with one policy's amount changed (what a reload of an edited file gives)."""
    lib = desk.library
    policy = lib.policies[pid].model_copy(update={"amount": amount})
    return PolicyDesk(
        replace(lib, policies={**lib.policies, pid: policy}),
        env.clock,
        Texts(env.assistant.answering.templates_dir),
        desk.store,
        cues=desk.cues,
        push_hours=desk.push_hours,
    )
