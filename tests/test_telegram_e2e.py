"""End to end on Telegram: the real core (knowledge, dialogue, tickets on SQLite and, when TEST_DATABASE_URL is
set, on PostgreSQL) behind the real python-telegram-bot stack, talking HTTP to the local Bot API stand-in. The
clock is fixed; jobs are triggered directly at simulated times."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram import bridge_of, build_application, start_polling, stop_polling
from bot.core.assistant import Assistant
from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.settings import Settings
from tests.tg_standin import TOKEN, BotApiStandIn

CITIZEN = 4242
OTHER_CITIZEN = 4343
STAFF = 555
ADMIN = 999
POLICE_GROUP = -1001001
CATCH_ALL_GROUP = -1009009
APPEAL = "我要举报，小区门口每天晚上有人聚众赌博，<b>吵得睡不着</b>"


@dataclass
class Env:
    stand: BotApiStandIn
    assistant: Assistant
    app: Any
    clock: FixedClock

    @property
    def bridge(self):
        return bridge_of(self.app)

    async def say(self, user: int, text: str, *, chat: int | None = None) -> dict:
        chat_id = chat if chat is not None else user
        before = len(self.stand.sent_messages(chat_id))
        self.stand.push_message(user, text, chat_id=chat_id)
        msgs = await self.stand.wait_for_messages(chat_id, before + 1)
        return msgs[-1]

    async def press(self, user: int, label: str, *, chat: int | None = None) -> dict:
        chat_id = chat if chat is not None else user
        before = len(self.stand.sent_messages(chat_id))
        self.stand.press(user, label, chat_id=chat_id)
        msgs = await self.stand.wait_for_messages(chat_id, before + 1)
        return msgs[-1]

    async def drain(self) -> int:
        return await self.bridge.drain_outbox()


@pytest.fixture
async def env(build_app, engine):
    # `engine`: the engine fixture's database, or a directory for an SQLite file (tests/test_full_disk.py enters
    # this fixture by hand with its tmp_path)
    db = engine / "tickets.db" if isinstance(engine, Path) else engine
    stand = BotApiStandIn().start()
    clock = FixedClock(dt.datetime(2026, 11, 23, 9, 30, tzinfo=DEFAULT_TZ))  # a Monday, a working day
    assistant = (await build_app(db, clock, admin_ids=frozenset({ADMIN}))).assistant
    settings = Settings(
        telegram_bot_token=TOKEN,
        telegram_base_url=stand.base_url,
        staff_groups={"公安局": (POLICE_GROUP,), "*": (CATCH_ALL_GROUP,)},
        admin_ids=frozenset({ADMIN}),
        rate_limit=100,
    )
    app = build_application(settings, assistant, jobs=False)
    await start_polling(app, poll_timeout=1)
    try:
        yield Env(stand, assistant, app, clock)
    finally:
        await stop_polling(app)
        await assistant.close()
        stand.stop()


async def add_staff(env: Env) -> None:
    reply = await env.say(ADMIN, f"/staff add {STAFF} handler 公安局 李警官")
    assert "已登记" in reply["text"]


async def file_appeal(
    env: Env, user: int = CITIZEN, phone: str | None = "13812345678", text: str = APPEAL
) -> str:
    first = await env.say(user, text)
    assert "登记诉求" in first["text"]
    await env.press(user, "公安政法")
    await env.press(user, "跳过")  # no place
    if phone:
        await env.say(user, phone)
    else:
        await env.press(user, "不留电话")
    summary = await env.press(user, "实名反映")
    assert "请核对" in summary["text"]
    done = await env.press(user, "提交")
    m = re.search(r"SQ\d{8}-\d{4}", done["text"])
    assert m, done["text"]
    return m.group(0)


async def test_question_gets_answer_and_aspect_button_answers(env: Env):
    answer = await env.say(CITIZEN, "身份证丢了怎么补办")
    assert "居民身份证补领" in answer["text"]
    assert answer["parse_mode"] == "HTML"
    labels = [label for row in answer["buttons"] for label, _ in row]
    assert "材料" in labels
    materials = await env.press(CITIZEN, "材料")
    assert "居民身份证补领" in materials["text"] and materials["text"] != answer["text"]


async def test_ambiguous_question_gets_choices_and_button_answers(env: Env):
    choices = await env.say(CITIZEN, "公积金")
    assert "哪一项" in choices["text"]
    assert any("住房公积金提取（租房）" in label for row in choices["buttons"] for label, _ in row)
    answer = await env.press(CITIZEN, "住房公积金提取（租房）")
    assert "<b>住房公积金提取（租房）</b>" in answer["text"]


async def test_appeal_ticket_claim_reply_resolve_rate(env: Env):
    await add_staff(env)
    number = await file_appeal(env)
    # the citizen's own words are shown escaped, never as markup
    intake_texts = env.stand.texts(CITIZEN)
    assert any("&lt;b&gt;吵得睡不着&lt;/b&gt;" in t for t in intake_texts)
    assert not any("<b>吵得睡不着</b>" in t for t in intake_texts)

    await env.drain()
    (posted,) = env.stand.sent_messages(POLICE_GROUP)
    assert number in posted["text"] and "新诉求" in posted["text"]
    assert "13812345678" not in posted["text"]  # phone masked in the group
    assert [label for row in posted["buttons"] for label, _ in row] == ["认领", "转派"]

    claimed = await env.press(STAFF, "认领", chat=POLICE_GROUP)
    assert "已认领" in claimed["text"] and number in claimed["text"]
    await env.drain()
    assert "受理" in env.stand.texts(CITIZEN)[-1]

    sent = await env.say(STAFF, f"/reply {number} 您好，民警今晚会到现场查看。", chat=POLICE_GROUP)
    assert "已发送" in sent["text"]
    await env.drain()
    assert "民警今晚会到现场查看" in env.stand.texts(CITIZEN)[-1]

    resolved = await env.say(
        STAFF, f"/resolve@zwfw_test_bot {number} 已联合社区清理赌博窝点", chat=POLICE_GROUP
    )
    assert "已办结" in resolved["text"]
    await env.drain()
    rating_request = env.stand.sent_messages(CITIZEN)[-1]
    assert "已联合社区清理赌博窝点" in rating_request["text"]
    assert "5 非常满意" in [label for row in rating_request["buttons"] for label, _ in row]

    thanks = await env.press(CITIZEN, "5 非常满意")
    assert "评价" in thanks["text"] or "感谢" in thanks["text"]
    mine = await env.say(CITIZEN, "/my")
    assert number in mine["text"]


async def test_citizen_cannot_use_staff_commands(env: Env):
    await add_staff(env)
    number = await file_appeal(env)
    refused = await env.say(OTHER_CITIZEN, f"/claim {number}")
    assert "仅供工作人员" in refused["text"]
    refused = await env.say(CITIZEN, f"/resolve {number} 自己办结")
    assert "仅供工作人员" in refused["text"]
    # and another citizen cannot read the ticket
    other = await env.say(OTHER_CITIZEN, f"/ticket {number}")
    assert "赌博" not in other["text"]


async def test_reminders_arrive_at_simulated_times_exactly_once(env: Env):
    number = await file_appeal(env)
    await env.drain()
    assert len(env.stand.sent_messages(POLICE_GROUP)) == 1  # the new-ticket post
    await env.bridge.reminder_tick()
    assert len(env.stand.sent_messages(POLICE_GROUP)) == 1  # nothing is due yet

    env.clock.advance(minutes=50)  # past 75% of the 1-hour contact window
    await env.bridge.reminder_tick()
    texts = env.stand.texts(POLICE_GROUP)
    assert len(texts) == 2 and number in texts[-1]
    await env.bridge.reminder_tick()  # the same warning is not sent twice
    assert len(env.stand.texts(POLICE_GROUP)) == 2

    env.clock.advance(minutes=15)  # the contact deadline has passed: a breach
    await env.bridge.reminder_tick()
    texts = env.stand.texts(POLICE_GROUP)
    assert len(texts) >= 3 and number in texts[-1]


async def test_digest_reaches_each_staff_group_on_working_day(env: Env):
    number = await file_appeal(env, text="我要举报，小区门口每天晚上有人聚众赌博，有事打我电话13912345678")
    await env.drain()
    env.clock.set(dt.datetime(2026, 11, 24, 8, 30, tzinfo=DEFAULT_TZ))  # Tuesday 08:30
    assert await env.bridge.send_digests() == 2
    police = env.stand.texts(POLICE_GROUP)[-1]
    overall = env.stand.texts(CATCH_ALL_GROUP)[-1]
    assert "日报" in police and "公安局" in police and number in police  # unclaimed and overdue
    assert "日报" in overall and number in overall
    for digest in (police, overall):
        assert "13912345678" not in digest and "13812345678" not in digest
    # the job firing again the same day sends nothing twice
    await env.bridge.send_digests()
    assert env.stand.texts(POLICE_GROUP).count(police) == 1
    # Saturday: no digest
    env.clock.set(dt.datetime(2026, 11, 28, 8, 30, tzinfo=DEFAULT_TZ))
    assert await env.bridge.send_digests() == 0


async def test_notifications_survive_429_and_500(env: Env):
    await add_staff(env)
    env.stand.fail_next(1, status=429, retry_after=3, chat_id=POLICE_GROUP)
    env.stand.fail_next(1, status=500, chat_id=POLICE_GROUP)
    number = await file_appeal(env)  # the new-ticket post is queued in the outbox
    await env.drain()
    await env.drain()
    assert not any(number in t for t in env.stand.texts(POLICE_GROUP))  # throttled: waits 3 s
    env.clock.advance(seconds=3)
    await env.drain()  # this attempt gets the 500
    failures = [c.status for c in env.stand.calls_of("sendMessage") if c.status != 200]
    assert failures == [429, 500]
    assert not any(number in t for t in env.stand.texts(POLICE_GROUP))
    env.clock.advance(minutes=1)
    await env.drain()
    posted = [t for t in env.stand.texts(POLICE_GROUP) if number in t]
    assert len(posted) == 1
    assert await env.assistant.outbox.pending_count() == 0


async def test_duplicated_submit_creates_one_ticket(env: Env):
    await env.say(CITIZEN, APPEAL)
    await env.press(CITIZEN, "公安政法")
    await env.press(CITIZEN, "跳过")
    await env.press(CITIZEN, "不留电话")
    await env.press(CITIZEN, "实名反映")
    msg = env.stand.sent_messages(CITIZEN)[-1]
    data = next(d for row in msg["buttons"] for label, d in row if "提交" in label)
    uid = env.stand.push_callback(CITIZEN, data, message_id=msg["message_id"])
    env.stand.push_update({"update_id": uid, **_callback_body(env, data, msg["message_id"])})
    await env.stand.wait_for(lambda: any("诉求已登记" in t for t in env.stand.texts(CITIZEN)))
    await env.stand.wait_for(lambda: env.stand.pending_updates() == 0)
    await env.drain()
    assert sum("诉求已登记" in t for t in env.stand.texts(CITIZEN)) == 1
    assert len(env.stand.sent_messages(CATCH_ALL_GROUP)) == 0
    assert len(env.stand.sent_messages(POLICE_GROUP)) == 1


def _callback_body(env: Env, data: str, message_id: int) -> dict:
    return {
        "callback_query": {
            "id": "dup",
            "from": {"id": CITIZEN, "is_bot": False, "first_name": "用户"},
            "chat_instance": "x",
            "message": {
                "message_id": message_id,
                "date": 0,
                "chat": {"id": CITIZEN, "type": "private"},
                "text": "…",
            },
            "data": data,
        }
    }


@pytest.mark.parametrize(
    ("started_at", "expected"),
    [
        (dt.datetime(2026, 11, 23, 10, 15, tzinfo=DEFAULT_TZ), 1),  # Monday, digest time passed while down
        (dt.datetime(2026, 11, 23, 8, 0, tzinfo=DEFAULT_TZ), 0),  # before digest time: the job will send it
        (dt.datetime(2026, 11, 28, 10, 15, tzinfo=DEFAULT_TZ), 0),  # Saturday: no digest at all
    ],
)
async def test_digest_missed_while_down_is_sent_once_at_start(build_app, engine, started_at, expected: int):
    stand = BotApiStandIn().start()
    clock = FixedClock(started_at)
    assistant = (await build_app(engine, clock)).assistant
    settings = Settings(
        telegram_bot_token=TOKEN,
        telegram_base_url=stand.base_url,
        staff_groups={"公安局": (POLICE_GROUP,)},
        rate_limit=0,
    )
    try:
        for _ in range(2):  # started, stopped, started again the same day
            app = build_application(settings, assistant)  # with jobs: the catch-up runs at start
            await start_polling(app, poll_timeout=1)
            await bridge_of(app)._catch_up_task
            await stop_polling(app)
    finally:
        await assistant.close()
        stand.stop()
    digests = [t for t in stand.texts(POLICE_GROUP) if "日报" in t]
    assert len(digests) == expected


async def test_two_group_notification_parked_then_requeued_by_admin_across_a_restart(build_app, engine):
    """A department with two groups; the bot was removed from the second. The first group gets the new ticket
    once, the second is parked after bounded attempts, and after a restart an admin re-queues it."""
    second_group = -1001002
    stand = BotApiStandIn().start()
    clock = FixedClock(dt.datetime(2026, 11, 23, 9, 30, tzinfo=DEFAULT_TZ))
    assistant = (await build_app(engine, clock, admin_ids=frozenset({ADMIN}))).assistant
    settings = Settings(
        telegram_bot_token=TOKEN,
        telegram_base_url=stand.base_url,
        staff_groups={"公安局": (POLICE_GROUP, second_group), "*": (CATCH_ALL_GROUP,)},
        admin_ids=frozenset({ADMIN}),
        rate_limit=0,
    )
    stand.fail_chat(second_group, description="Bad Request: chat not found")
    app = build_application(settings, assistant, jobs=False)
    await start_polling(app, poll_timeout=1)
    try:
        env = Env(stand, assistant, app, clock)
        number = await file_appeal(env)
        for _ in range(3):
            await env.drain()
            clock.advance(minutes=5)
        await stop_polling(app)
        # restart: a new application and dispatcher over the same database
        stand.clear_chat_failure(second_group)
        app = env.app = build_application(settings, assistant, jobs=False)
        await start_polling(app, poll_timeout=1)
        await env.drain()
        assert not any(number in t for t in stand.texts(second_group))  # parked: no automatic retry
        listing = await env.say(ADMIN, "/outbox")
        assert "chat not found" in listing["text"].lower() and "公安局工作群" in listing["text"]
        refused = await env.say(CITIZEN, "/outbox retry all")
        assert "仅供工作人员使用" in refused["text"]
        requeued = await env.say(ADMIN, "/outbox retry all")
        assert "已将 1 条通知重新排队" in requeued["text"]
        await env.drain()
        assert len([t for t in stand.texts(POLICE_GROUP) if number in t and "新诉求" in t]) == 1
        assert len([t for t in stand.texts(second_group) if number in t]) == 1
        assert "没有发送失败" in (await env.say(ADMIN, "/outbox"))["text"]
    finally:
        await stop_polling(app)
        await assistant.close()
        stand.stop()
