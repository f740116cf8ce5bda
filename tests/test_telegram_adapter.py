"""The Telegram adapter against the local Bot API stand-in, with a small scripted core.

These pin the adapter's own behaviour (keyboards, splitting, outbox retries, duplicates, rate limit, errors,
groups, menus, digests) independently of the real core; tests/test_telegram_e2e.py runs the real Assistant.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.telegram import bridge_of, build_application, start_polling, stop_polling
from bot.core.clock import FixedClock
from bot.core.messages import Button, Incoming, Notification, Recipient, Reply
from bot.core.scheduler import Scheduler
from bot.core.texts import Texts
from bot.core.tickets.commands.dispatch import command_menu
from bot.core.tickets.domain.calendar import WorkingCalendar
from bot.settings import Settings
from tests.tg_standin import TOKEN, BotApiStandIn

SH = ZoneInfo("Asia/Shanghai")
CITIZEN = 4242
STAFF = 555
ADMIN = 999
POLICE_GROUP = -1001001
CATCH_ALL_GROUP = -1009009


@dataclass
class Row:
    id: int
    notification: Notification
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None = None
    last_error: str | None = None
    parked_at: dt.datetime | None = None
    delivered: tuple[str, ...] = ()
    sending_at: dt.datetime | None = None


class FakeOutbox:
    """The core's outbox as the adapter sees it, in memory."""

    def __init__(self, clock: FixedClock):
        self.clock = clock
        self.rows: dict[int, Row] = {}
        self.keys: set[str] = set()

    async def enqueue(self, n: Notification) -> bool:
        if n.dedup_key is not None:
            if n.dedup_key in self.keys:
                return False
            self.keys.add(n.dedup_key)
        rid = len(self.rows) + 1
        self.rows[rid] = Row(rid, n, 0, self.clock.now())
        return True

    async def due(self, now: dt.datetime, limit: int = 50) -> list[Row]:
        due = [
            r
            for r in self.rows.values()
            if r.sent_at is None and r.parked_at is None and r.next_attempt_at <= now
        ]
        return sorted(due, key=lambda r: r.id)[:limit]

    async def claim(self, limit: int = 50, lease: dt.timedelta | None = None, now: dt.datetime | None = None):
        # one process: what is due is this process's
        return await self.due(now or self.clock.now(), limit)

    async def release(self, ids: list[int]) -> None:
        pass

    async def sending(
        self, id: int, hold: dt.timedelta, at: dt.datetime, mine: dt.datetime | None = None
    ) -> bool:
        row = self.rows[id]
        free = row.next_attempt_at <= at and row.parked_at is None if mine is None else row.sending_at == mine
        if row.sent_at is not None or not free:
            return False
        row.sending_at, row.next_attempt_at = at, at + hold
        return True

    async def sent(self, id: int, at: dt.datetime) -> None:
        self.rows[id].sent_at = at
        self.rows[id].sending_at = None

    async def failed(self, id: int, error: str, retry_at: dt.datetime, *, park: bool = False) -> None:
        row = self.rows[id]
        row.attempts += 1
        row.last_error = error
        row.next_attempt_at = retry_at
        row.parked_at = self.clock.now() if park else None
        row.sending_at = None

    async def delivered(self, id: int, chats: list[str]) -> None:
        self.rows[id].delivered = tuple(chats)

    def pending(self) -> list[Row]:
        return [r for r in self.rows.values() if r.sent_at is None]


@dataclass
class FakeAssistant:
    """A scripted core: enough behaviour to exercise every path of the adapter."""

    clock: FixedClock = field(default_factory=lambda: FixedClock(dt.datetime(2026, 11, 23, 8, 30, tzinfo=SH)))
    seen: list[Incoming] = field(default_factory=list)
    digests: list[str | None] = field(default_factory=list)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def __post_init__(self) -> None:
        self.outbox = FakeOutbox(self.clock)
        self.staff: list[str] = [str(STAFF)]
        self.scheduler = Scheduler(
            self.calendar, self.outbox, self.clock, digest=self.digest, tick=self._tick
        )

    async def staff_user_ids(self) -> list[str]:
        return list(self.staff)

    def command_menu(self, scope: str) -> list[tuple[str, str]]:
        return command_menu(Texts(), scope)

    async def first_time(self, update_id: int) -> bool:
        return True  # no database: the adapter's own memory of recent updates is all there is

    async def handle(self, msg: Incoming) -> list[Reply]:
        self.seen.append(msg)
        if msg.callback:
            return [Reply(f"您选择了：{html.escape(msg.callback)}")]
        text = msg.text
        if text == "出错":
            raise RuntimeError("sqlite3.OperationalError at /srv/app/db.py 联系电话13812345678")
        if text == "长答复":
            lines = [
                f"<b>第{i}条</b> 申请材料说明：" + "居民身份证原件及复印件一份，" * 8 for i in range(120)
            ]
            return [Reply("\n".join(lines), buttons=[[Button("材料", "a:m")]])]
        if text == "模糊":
            return [
                Reply(
                    "您想问的是哪一项？",
                    buttons=[[Button("1. 居民身份证补领", "pick:1")], [Button("2. 户口迁移", "pick:2")]],
                )
            ]
        if text.startswith("投诉"):
            await self.outbox.enqueue(
                Notification(
                    Recipient("department", "公安局"),
                    Reply("新诉求 SQ20261123-0001", buttons=[[Button("认领", "claim:1")]]),
                )
            )
            return [Reply("已为您登记诉求 SQ20261123-0001。")]
        if text.startswith("/staff add ") and msg.user_id == str(ADMIN):
            self.staff.append(text.split()[2])
            return [Reply("已登记。")]
        if text.startswith("/claim"):
            if msg.user_id != str(STAFF):
                return [Reply("抱歉，该命令仅限工作人员使用。")]
            return [Reply("已认领 SQ20261123-0001。")]
        return [Reply(f"您问的是：{html.escape(text)}")]

    async def tick(self) -> int:
        return await self.scheduler.tick()

    async def _tick(self, now: dt.datetime) -> int:
        return await self.outbox.enqueue(
            Notification(Recipient("department", "民政局"), Reply("提醒：诉求即将超时"))
        )

    async def digest(self, department: str | None, day: dt.date | None = None) -> Reply:
        self.digests.append(department)
        return Reply(f"<b>每日摘要</b> {html.escape(department or '全部部门')}")

    async def close(self) -> None:
        pass


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Env:
    stand: BotApiStandIn
    assistant: FakeAssistant
    app: Any
    sleeps: list[float]
    monotonic: FakeMonotonic

    @property
    def bridge(self):
        return bridge_of(self.app)


def make_settings(stand: BotApiStandIn, **over: Any) -> Settings:
    base = dict(
        telegram_bot_token=TOKEN,
        telegram_base_url=stand.base_url,
        staff_groups={"公安局": (POLICE_GROUP,), "*": (CATCH_ALL_GROUP,)},
        admin_ids=frozenset({ADMIN}),
        rate_limit=5,
    )
    base.update(over)
    return Settings(**base)


@pytest.fixture
async def env():
    stand = BotApiStandIn().start()
    assistant = FakeAssistant()
    mono = FakeMonotonic()
    app = build_application(make_settings(stand), assistant, monotonic=mono, jobs=False)
    sleeps: list[float] = []

    async def fake_sleep(s: float) -> None:
        sleeps.append(s)

    bridge_of(app).sender.sleep = fake_sleep
    await start_polling(app, poll_timeout=1)
    try:
        yield Env(stand, assistant, app, sleeps, mono)
    finally:
        await stop_polling(app)
        stand.stop()


async def test_question_gets_its_answer_in_html(env: Env):
    env.stand.push_message(CITIZEN, "身份证丢了怎么补办")
    (msg,) = await env.stand.wait_for_messages(CITIZEN, 1)
    assert msg["text"] == "您问的是：身份证丢了怎么补办"
    assert msg["parse_mode"] == "HTML"
    seen = env.assistant.seen[0]
    assert (seen.user_id, seen.chat_id, seen.is_group) == (str(CITIZEN), str(CITIZEN), False)
    assert seen.display_name == f"用户{CITIZEN}"


async def test_user_markup_is_escaped(env: Env):
    env.stand.push_message(CITIZEN, "<b>加粗</b> & <a href='x'>链接</a>")
    (msg,) = await env.stand.wait_for_messages(CITIZEN, 1)
    assert "<b>" not in msg["text"] and "&lt;b&gt;加粗&lt;/b&gt;" in msg["text"]
    assert "&amp;" in msg["text"]


async def test_ambiguous_question_gets_keyboard_and_button_answers(env: Env):
    env.stand.push_message(CITIZEN, "模糊")
    (msg,) = await env.stand.wait_for_messages(CITIZEN, 1)
    assert msg["buttons"] == [[("1. 居民身份证补领", "pick:1")], [("2. 户口迁移", "pick:2")]]
    env.stand.press(CITIZEN, "居民身份证补领")
    msgs = await env.stand.wait_for_messages(CITIZEN, 2)
    assert msgs[1]["text"] == "您选择了：pick:1"
    assert env.assistant.seen[-1].callback == "pick:1"
    # the button press is acknowledged so the client stops its spinner
    await env.stand.wait_for(lambda: env.stand.calls_of("answerCallbackQuery"))


async def test_long_answer_is_split_at_line_boundaries_with_keyboard_on_last(env: Env):
    env.stand.push_message(CITIZEN, "长答复")
    await env.stand.wait_for(lambda: any(m["buttons"] for m in env.stand.sent_messages(CITIZEN)))
    msgs = env.stand.sent_messages(CITIZEN)
    assert len(msgs) >= 3
    for m in msgs:
        assert len(m["text"]) <= 4096
        assert m["text"].count("<b>") == m["text"].count("</b>")
        assert m["text"].startswith("<b>第")  # each part starts at a line start
    assert [bool(m["buttons"]) for m in msgs] == [False] * (len(msgs) - 1) + [True]
    joined = "\n".join(m["text"] for m in msgs)
    assert joined.count("<b>第") == 120


async def test_appeal_notifies_department_group_with_buttons(env: Env):
    env.stand.push_message(CITIZEN, "投诉 窗口人员态度差")
    await env.stand.wait_for_messages(CITIZEN, 1)
    await env.bridge.drain_outbox()
    (note,) = await env.stand.wait_for_messages(POLICE_GROUP, 1)
    assert "SQ20261123-0001" in note["text"]
    assert note["buttons"] == [[("认领", "claim:1")]]
    assert not env.assistant.outbox.pending()


async def test_outbox_retries_429_and_500_and_loses_nothing(env: Env):
    store = env.assistant.outbox
    env.stand.fail_next(1, status=429, retry_after=7)
    await store.enqueue(Notification(Recipient("department", "公安局"), Reply("通知一")))
    await store.enqueue(Notification(Recipient("user", str(CITIZEN)), Reply("通知二")))
    assert await env.bridge.drain_outbox() == 0
    # flood control: nothing is sent before the time Telegram asked for
    row = store.rows[1]
    assert row.attempts == 1 and "Flood" in (row.last_error or "")
    assert row.next_attempt_at == env.assistant.clock.now() + dt.timedelta(seconds=7)
    # the round stopped at the 429; the next drain delivers what else was due, not the throttled one
    assert await env.bridge.drain_outbox() == 1
    assert env.stand.texts(POLICE_GROUP) == []
    env.assistant.clock.advance(seconds=7)
    env.stand.fail_next(1, status=500)
    assert await env.bridge.drain_outbox() == 0
    assert store.rows[1].attempts == 2 and "Internal Server Error" in (store.rows[1].last_error or "")
    env.assistant.clock.advance(seconds=10)  # exponential backoff: 5 s, 10 s, 20 s, …
    assert await env.bridge.drain_outbox() == 1
    assert not store.pending()
    assert env.stand.texts(POLICE_GROUP) == ["通知一"]
    assert env.stand.texts(CITIZEN) == ["通知二"]


async def test_direct_reply_survives_429_and_500(env: Env):
    env.stand.fail_next(1, status=429, retry_after=2)
    env.stand.fail_next(1, status=500)
    env.stand.push_message(CITIZEN, "社保卡怎么办")
    (msg,) = await env.stand.wait_for_messages(CITIZEN, 1)
    assert msg["text"] == "您问的是：社保卡怎么办"
    failed = [c.status for c in env.stand.calls_of("sendMessage")]
    assert failed == [429, 500, 200]
    assert env.sleeps[0] == 2  # waited exactly as long as Telegram asked


async def test_direct_reply_parked_in_outbox_when_telegram_keeps_failing(env: Env):
    env.stand.fail_next(10, status=502)
    env.stand.push_message(CITIZEN, "公积金怎么提取")
    await env.stand.wait_for(lambda: env.assistant.outbox.pending(), what="回复进入待发通知")
    assert env.stand.texts(CITIZEN) == []
    env.stand.fail_next(0)
    env.stand._fail_rules.clear()
    env.assistant.clock.advance(minutes=1)
    await env.bridge.drain_outbox()
    assert env.stand.texts(CITIZEN) == ["您问的是：公积金怎么提取"]


async def test_permanent_failure_is_parked_with_error_after_bounded_attempts(env: Env):
    store = env.assistant.outbox
    env.stand.fail_chat(CITIZEN, status=403, description="Forbidden: bot was blocked by the user")
    await store.enqueue(Notification(Recipient("user", str(CITIZEN)), Reply("您的诉求已办结")))
    for _ in range(3):
        await env.bridge.drain_outbox()
        env.assistant.clock.advance(minutes=5)
    row = store.rows[1]
    assert row.attempts == 3 and "blocked" in (row.last_error or "")
    assert row.sent_at is None
    # parked, not retried every few seconds, but still in the store
    assert row.parked_at is not None
    calls = len(env.stand.calls_of("sendMessage"))
    await env.bridge.drain_outbox()
    assert len(env.stand.calls_of("sendMessage")) == calls


async def test_duplicated_update_is_processed_once(env: Env):
    env.stand.push_message(CITIZEN, "你好", update_id=500)
    env.stand.push_message(CITIZEN, "你好", update_id=500)
    env.stand.push_message(CITIZEN, "再见", update_id=501)
    await env.stand.wait_for_messages(CITIZEN, 2)
    await env.stand.wait_for(lambda: env.stand.pending_updates() == 0)
    assert [m.text for m in env.assistant.seen] == ["你好", "再见"]
    # webhook-style redelivery of an update that was already handled
    await env.app.process_update(
        __import__("telegram").Update.de_json(
            {
                "update_id": 501,
                "message": {
                    "message_id": 9,
                    "date": 0,
                    "chat": {"id": CITIZEN, "type": "private"},
                    "from": {"id": CITIZEN, "is_bot": False, "first_name": "x"},
                    "text": "再见",
                },
            },
            env.app.bot,
        )
    )
    assert [m.text for m in env.assistant.seen] == ["你好", "再见"]


async def test_rate_limit_answers_spam_politely_once(env: Env):
    for i in range(9):
        env.stand.push_message(CITIZEN, f"第{i}问")
    await env.stand.wait_for(lambda: env.stand.pending_updates() == 0)
    await env.stand.wait_for_messages(CITIZEN, 6)
    texts = env.stand.texts(CITIZEN)
    assert len(env.assistant.seen) == 5
    assert sum("请稍等" in t for t in texts) == 1
    # a minute later the person is served again
    env.monotonic.t += 61
    env.stand.push_message(CITIZEN, "现在可以了吗")
    await env.stand.wait_for(lambda: "您问的是：现在可以了吗" in env.stand.texts(CITIZEN))


async def test_group_chatter_ignored_but_commands_and_buttons_handled(env: Env):
    env.stand.push_message(STAFF, "大家早上好", chat_id=POLICE_GROUP)
    env.stand.push_message(STAFF, "/claim@zwfw_test_bot 1", chat_id=POLICE_GROUP)
    env.stand.push_message(STAFF, "/claim@other_bot 1", chat_id=POLICE_GROUP)
    await env.stand.wait_for_messages(POLICE_GROUP, 1)
    env.stand.push_callback(STAFF, "claim:1", chat_id=POLICE_GROUP, message_id=1)
    await env.stand.wait_for_messages(POLICE_GROUP, 2)
    await env.stand.wait_for(lambda: env.stand.pending_updates() == 0)
    seen = [(m.text, m.callback, m.is_group, m.chat_id) for m in env.assistant.seen]
    assert seen == [
        ("/claim 1", None, True, str(POLICE_GROUP)),
        ("", "claim:1", True, str(POLICE_GROUP)),
    ]


async def test_citizen_staff_command_is_refused(env: Env):
    env.stand.push_message(CITIZEN, "/claim 1")
    (msg,) = await env.stand.wait_for_messages(CITIZEN, 1)
    assert "仅限工作人员" in msg["text"]


async def test_error_is_logged_masked_and_person_told_politely(env: Env, caplog: pytest.LogCaptureFixture):
    from bot.adapters.telegram.masking import MaskingFilter

    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.ERROR, logger="bot.telegram"):
        env.stand.push_message(CITIZEN, "出错")
        (msg,) = await env.stand.wait_for_messages(CITIZEN, 1)
    assert "抱歉" in msg["text"] and "稍后再试" in msg["text"]
    assert "sqlite" not in msg["text"] and "/srv" not in msg["text"]
    logged = caplog.text
    assert "RuntimeError" in logged
    assert "13812345678" not in logged and "138****5678" in logged


async def test_non_text_message_gets_a_hint(env: Env):
    env.stand.push_sticker(CITIZEN)
    (msg,) = await env.stand.wait_for_messages(CITIZEN, 1)
    assert "文字" in msg["text"]
    assert env.assistant.seen == []


async def test_command_menus_per_scope(env: Env):
    cmds = env.stand.commands
    default = {c["command"] for c in cmds['{"type": "default"}']}
    assert {"start", "help", "my"} <= default and "claim" not in default
    group = {c["command"] for c in cmds[f'{{"chat_id": {POLICE_GROUP}, "type": "chat"}}']}
    assert {"claim", "reply", "resolve", "tickets"} <= group and "staff" not in group
    staff_private = {c["command"] for c in cmds[f'{{"chat_id": {STAFF}, "type": "chat"}}']}
    assert "claim" in staff_private
    admin = {c["command"] for c in cmds[f'{{"chat_id": {ADMIN}, "type": "chat"}}']}
    assert "staff" in admin


async def test_new_staff_get_staff_menu_without_restart(env: Env):
    key = '{"chat_id": 777, "type": "chat"}'
    assert key not in env.stand.commands
    env.stand.push_message(ADMIN, "/staff add 777 handler 公安局 王警官")
    await env.stand.wait_for_messages(ADMIN, 1)
    await env.stand.wait_for(lambda: key in env.stand.commands, what="staff menu for 777")
    assert "claim" in {c["command"] for c in env.stand.commands[key]}


async def test_reminder_tick_sends_to_catch_all_group(env: Env):
    await env.bridge.reminder_tick()
    assert env.stand.texts(CATCH_ALL_GROUP) == ["提醒：诉求即将超时"]


async def test_digest_on_working_day_goes_to_each_group_once(env: Env):
    assert await env.bridge.send_digests() == 2  # Monday 2026-11-23
    assert env.stand.texts(POLICE_GROUP) == ["<b>每日摘要</b> 公安局"]
    assert env.stand.texts(CATCH_ALL_GROUP) == ["<b>每日摘要</b> 全部部门"]
    # the job firing twice the same day (e.g. after a restart) does not send twice
    await env.bridge.send_digests()
    assert len(env.stand.texts(POLICE_GROUP)) == 1


async def test_no_digest_on_holiday_but_on_tiaoxiu_saturday(env: Env):
    assert await env.bridge.send_digests(dt.date(2026, 10, 1)) == 0  # 国庆
    assert await env.bridge.send_digests(dt.date(2026, 11, 22)) == 0  # Sunday
    assert await env.bridge.send_digests(dt.date(2026, 10, 10)) == 2  # 调休 Saturday workday
    assert env.stand.texts(POLICE_GROUP) == ["<b>每日摘要</b> 公安局"]


async def test_digest_days_in_a_year_without_official_notice(env: Env):
    assert await env.bridge.send_digests(dt.date(2027, 1, 1)) == 0  # 元旦, provisional 2027
    assert await env.bridge.send_digests(dt.date(2027, 10, 4)) == 0  # 国庆's 补假 for the weekend
    assert await env.bridge.send_digests(dt.date(2027, 1, 4)) == 2  # the Monday after


async def test_digest_days_follow_the_assistants_calendar(env: Env):
    # a deployment's calendar.yaml says Monday 4 January 2027 is off: the bridge asks the assistant's calendar
    env.assistant.scheduler.calendar = WorkingCalendar({2027: {"holidays": ["2027-01-01", "2027-01-04"]}})
    assert await env.bridge.send_digests(dt.date(2027, 1, 4)) == 0
    assert await env.bridge.send_digests(dt.date(2027, 1, 5)) == 2


def test_jobs_are_scheduled_from_settings():
    stand = BotApiStandIn()
    settings = make_settings(stand, reminder_interval_seconds=45, digest_time=dt.time(9, 15))
    app = build_application(settings, FakeAssistant())
    pending = {j.name: j for j in app.job_queue.scheduler.get_jobs()}
    assert set(pending) >= {"outbox", "tick", "digest"}
    assert pending["tick"].trigger.interval == dt.timedelta(seconds=45)
    digest = pending["digest"].trigger
    assert "hour='9'" in str(digest) and "minute='15'" in str(digest)
    assert str(digest.timezone) == "Asia/Shanghai"


async def test_webhook_redelivery_handled_once_and_secret_enforced():
    import socket

    import httpx

    stand = BotApiStandIn().start()
    assistant = FakeAssistant()
    app = build_application(make_settings(stand), assistant, jobs=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await app.initialize()
    await bridge_of(app).on_startup(app)
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="tg/hook",
        webhook_url="https://bot.example.gov.cn/tg/hook",
        secret_token="s3cret",
    )
    await app.start()
    update = {
        "update_id": 77,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": CITIZEN, "type": "private"},
            "from": {"id": CITIZEN, "is_bot": False, "first_name": "x"},
            "text": "社保卡丢了怎么办",
        },
    }
    try:
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{port}/tg/hook"
            bad = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
            assert bad.status_code == 403
            for _ in range(2):  # Telegram retries a webhook it thinks failed
                ok = await client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
                )
                assert ok.status_code == 200
            later = {**update, "update_id": 78, "message": {**update["message"], "text": "再见"}}
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            assert (await client.post(url, json=later, headers=headers)).status_code == 200
        # one chat is handled in order, so once "再见" is answered the redelivery has been dealt with
        await stand.wait_for(lambda: "您问的是：再见" in stand.texts(CITIZEN))
        assert [m.text for m in assistant.seen] == ["社保卡丢了怎么办", "再见"]
        assert stand.calls_of("setWebhook")[0].params["secret_token"] == "s3cret"
    finally:
        await stop_polling(app)
        stand.stop()
