"""Photos, files and pins on Telegram, end to end: the real python-telegram-bot stack and the real core against
the local Bot API stand-in (albums as Telegram sends them — one message per photo with a media_group_id —,
sendMediaGroup / sendPhoto back, getFile and the download only when copies are kept)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram import bridge_of, build_application, start_polling, stop_polling
from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.settings import Settings
from tests.tg_standin import TOKEN, BotApiStandIn

CITIZEN, OTHER = 4242, 4343
STAFF, POLICE, ADMIN = 555, 556, 999
BUILDING_GROUP, POLICE_GROUP, CATCH_ALL_GROUP = -1002002, -1001001, -1009009
APPEAL = "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险"


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 120, 10)).save(buf, "JPEG")
    return buf.getvalue()


JPEG = _jpeg()


@dataclass
class Env:
    stand: BotApiStandIn
    assistant: Any
    app: Any
    clock: FixedClock

    @property
    def bridge(self):
        return bridge_of(self.app)

    async def say(self, user: int, text: str, *, chat: int | None = None) -> dict:
        chat_id = chat if chat is not None else user
        before = len(self.stand.sent_messages(chat_id))
        self.stand.push_message(user, text, chat_id=chat_id)
        return (await self.stand.wait_for_messages(chat_id, before + 1))[-1]

    async def press(self, user: int, label: str, *, chat: int | None = None) -> dict:
        chat_id = chat if chat is not None else user
        before = len(self.stand.sent_messages(chat_id))
        self.stand.press(user, label, chat_id=chat_id)
        return (await self.stand.wait_for_messages(chat_id, before + 1))[-1]

    async def next_message(self, chat: int, push) -> dict:  # noqa: ANN001 - a function that pushes updates
        before = len(self.stand.sent_messages(chat))
        push()
        return (await self.stand.wait_for_messages(chat, before + 1))[-1]

    async def drain(self) -> int:
        return await self.bridge.drain_outbox()


async def make_env(build_app, tmp_path: Path, *, rate_limit: int = 100, **settings: Any) -> Env:
    stand = BotApiStandIn().start()
    clock = FixedClock(dt.datetime(2026, 11, 23, 9, 30, tzinfo=DEFAULT_TZ))
    assistant = (
        await build_app(tmp_path / "tickets.db", clock, admin_ids=frozenset({ADMIN}), **settings)
    ).assistant
    adapter_settings = Settings(
        telegram_bot_token=TOKEN,
        telegram_base_url=stand.base_url,
        staff_groups={
            "城市管理局": (BUILDING_GROUP,),
            "公安局": (POLICE_GROUP,),
            "*": (CATCH_ALL_GROUP,),
        },
        admin_ids=frozenset({ADMIN}),
        rate_limit=rate_limit,
        album_wait_seconds=0.2,
    )
    app = build_application(adapter_settings, assistant, jobs=False)
    await start_polling(app, poll_timeout=1)
    env = Env(stand, assistant, app, clock)
    assert "已登记" in (await env.say(ADMIN, f"/staff add {STAFF} handler 城市管理局 住建小王"))["text"]
    assert "已登记" in (await env.say(ADMIN, f"/staff add {POLICE} handler 公安局 民警小赵"))["text"]
    return env


@pytest.fixture
async def env(build_app, tmp_path: Path):
    e = await make_env(build_app, tmp_path)
    try:
        yield e
    finally:
        await stop_polling(e.app)
        await e.assistant.close()
        e.stand.stop()


async def to_summary(env: Env, user: int = CITIZEN) -> dict:
    await env.press(user, "是这一类")
    await env.press(user, "跳过")
    await env.press(user, "不留电话")
    return await env.press(user, "实名反映")


async def submit(env: Env, user: int = CITIZEN) -> str:
    done = await env.press(user, "提交")
    return re.search(r"SQ\d{8}-\d{4}", done["text"]).group(0)


async def test_an_album_in_the_intake_is_one_message_and_reaches_the_group_as_an_album(env: Env):
    first = await env.say(CITIZEN, APPEAL)
    assert "登记诉求" in first["text"]
    before = len(env.stand.sent_messages(CITIZEN))
    env.stand.push_album(CITIZEN, 3, "东门这根，电话 13812345678")
    (noted,) = (await env.stand.wait_for_messages(CITIZEN, before + 1))[before:]
    assert "已收到照片 3 张" in noted["text"]
    await asyncio.sleep(
        0.5
    )  # longer than ALBUM_WAIT_SECONDS here: had the photos come apart, so would answers
    assert len(env.stand.sent_messages(CITIZEN)) == before + 1  # one answer for the album, not three
    summary = await to_summary(env)
    assert "附件：照片 3 张" in summary["text"]
    number = await submit(env)

    await env.drain()
    (album,) = env.stand.sent_media(BUILDING_GROUP)
    assert album["method"] == "sendMediaGroup" and [i[0] for i in album["items"]] == ["photo"] * 3
    assert album["items"][0][2] == "东门这根，电话 138****5678"  # masked in the group
    (card,) = env.stand.sent_messages(BUILDING_GROUP)
    assert number in card["text"] and "附件：照片 3 张" in card["text"]
    assert [label for row in card["buttons"] for label, _ in row] == ["认领", "转派"]
    # the group got the album before the card
    calls = [c.method for c in env.stand.calls if int(c.params.get("chat_id", 0) or 0) == BUILDING_GROUP]
    assert calls.index("sendMediaGroup") < calls.index("sendMessage")
    assert not env.stand.calls_of("getFile")  # nothing is downloaded unless MEDIA_STORE_DIR says so


async def test_a_supplement_after_submission_is_posted_to_staff_with_the_number(env: Env):
    await env.say(CITIZEN, APPEAL)
    await to_summary(env)
    number = await submit(env)
    await env.drain()
    env.stand.reset_calls()

    offer = await env.next_message(CITIZEN, lambda: env.stand.push_photo(CITIZEN, "今晚还是黑的"))
    assert "您是要反映问题吗" in offer["text"]
    added = await env.press(CITIZEN, f"补充到 {number}")
    assert f"补充到诉求 <b>{number}</b>" in added["text"]
    await env.drain()
    (post,) = env.stand.sent_media(BUILDING_GROUP)
    assert post["method"] == "sendPhoto" and post["items"][0][2] == "今晚还是黑的"  # the citizen's words
    (text,) = env.stand.sent_messages(BUILDING_GROUP)
    assert f"诉求 {number} 有补充材料" in text["text"] and "今晚还是黑的" in text["text"]
    assert [label for row in text["buttons"] for label, _ in row] == ["认领"]


async def test_staff_reply_with_a_photo_reaches_the_citizen(env: Env):
    await env.say(CITIZEN, APPEAL)
    await to_summary(env)
    number = await submit(env)
    await env.drain()
    before = len(env.stand.sent_messages(BUILDING_GROUP))
    env.stand.push_photo(STAFF, f"/reply@zwfw_test_bot {number} 路灯已修好，请看照片", chat_id=BUILDING_GROUP)
    (ack,) = (await env.stand.wait_for_messages(BUILDING_GROUP, before + 1))[before:]
    assert "答复已发送" in ack["text"]
    await env.drain()
    (sent,) = env.stand.sent_media(CITIZEN)
    assert sent["method"] == "sendPhoto"
    (_, file_id, caption) = sent["items"][0]
    assert number in caption and "路灯已修好" in caption and "/reply" not in caption
    history = await env.say(STAFF, f"/ticket {number}")
    assert "住建小王 答复：路灯已修好" in history["text"] and "住建小王 附件：照片" in history["text"]
    # a photo in the group without a command is nobody's business
    env.stand.reset_calls()
    env.stand.push_photo(STAFF, "午饭", chat_id=BUILDING_GROUP)
    await env.say(STAFF, "/tickets", chat=BUILDING_GROUP)
    assert not env.stand.sent_media(BUILDING_GROUP)
    assert len(env.stand.sent_messages(BUILDING_GROUP)) == 1


async def test_a_pin_at_the_place_step_sets_the_place_and_its_unit(env: Env):
    await env.say(CITIZEN, APPEAL)
    asked = await env.press(CITIZEN, "是这一类")
    assert "也可以直接发送定位" in asked["text"]
    phone = await env.next_message(CITIZEN, lambda: env.stand.push_location(CITIZEN, 30.0612, 120.0534))
    assert "已按您发送的位置记下问题地点" in phone["text"] and "联系电话" in phone["text"]
    await env.press(CITIZEN, "不留电话")
    await env.press(CITIZEN, "实名反映")
    number = await submit(env)
    # the pin's 街道 routes the street light (a local matter) to its office, which has no group of its own here
    assert (await env.assistant.service.get(number)).department == "南湖街道办事处"
    await env.drain()
    assert not env.stand.sent_messages(BUILDING_GROUP)
    (card,) = env.stand.sent_messages(CATCH_ALL_GROUP)
    assert number in card["text"] and "属地：南湖街道" in card["text"]
    assert 'href="https://www.openstreetmap.org/?mlat=30.061200&amp;mlon=120.053400' in card["text"]


async def test_a_venue_outside_the_boundaries_is_a_map_link_without_a_unit(env: Env):
    await env.say(CITIZEN, APPEAL)
    await env.press(CITIZEN, "是这一类")
    phone = await env.next_message(
        CITIZEN,
        lambda: env.stand.push_location(CITIZEN, 31.2304, 121.4737, title="外滩观景台", address="中山东一路"),
    )
    assert "外滩观景台（中山东一路）" in phone["text"]
    await env.press(CITIZEN, "不留电话")
    await env.press(CITIZEN, "实名反映")
    await submit(env)
    await env.drain()
    (card,) = env.stand.sent_messages(BUILDING_GROUP)
    assert "mlat=31.230400" in card["text"] and "属地" not in card["text"]


async def test_a_voice_message_outside_an_intake_gets_the_offer(env: Env):
    offer = await env.next_message(CITIZEN, lambda: env.stand.push_file(CITIZEN, "voice"))
    assert "您是要反映问题吗" in offer["text"] and "语音我暂时还听不了" in offer["text"]
    started = await env.press(CITIZEN, "反映新问题")
    assert "已收到语音 1 条" in started["text"] and "请用文字" in started["text"]


async def test_limits_exceeded_get_a_polite_answer(env: Env):
    await env.say(CITIZEN, APPEAL)
    too_big = await env.next_message(
        CITIZEN, lambda: env.stand.push_file(CITIZEN, "video", file_size=60 * 1024 * 1024)
    )
    assert "超过了单个 20 MB 的大小限制" in too_big["text"]
    sticker_like = await env.next_message(CITIZEN, lambda: env.stand.push_file(CITIZEN, "audio"))
    assert "音频 1 段暂时无法接收" in sticker_like["text"]
    before = len(env.stand.sent_messages(CITIZEN))
    env.stand.push_album(CITIZEN, 10)
    env.stand.push_album(CITIZEN, 2)
    msgs = await env.stand.wait_for_messages(CITIZEN, before + 2)
    assert "已收到照片 10 张" in msgs[before]["text"]
    assert "最多附 10 个材料，照片 2 张超出了数量" in msgs[before + 1]["text"]


async def test_attachments_are_resent_only_to_who_may_see_the_ticket(env: Env):
    await env.say(CITIZEN, APPEAL)
    before = len(env.stand.sent_messages(CITIZEN))
    env.stand.push_album(CITIZEN, 2, "我家门口")
    await env.stand.wait_for_messages(CITIZEN, before + 1)
    await to_summary(env)
    number = await submit(env)
    await env.drain()
    env.stand.reset_calls()

    card = await env.say(CITIZEN, f"/ticket {number}")
    assert "附件：照片 2 张" in card["text"]
    env.stand.press(CITIZEN, "查看附件（2）")
    await env.stand.wait_for(lambda: env.stand.sent_media(CITIZEN), what="附件重发给诉求人")
    assert env.stand.sent_media(CITIZEN)[0]["method"] == "sendMediaGroup"

    listing = await env.say(STAFF, f"/media {number}", chat=BUILDING_GROUP)
    assert f"诉求 {number} 的附件" in listing["text"]
    (album,) = env.stand.sent_media(BUILDING_GROUP)
    assert len(album["items"]) == 2

    refused = await env.say(OTHER, f"/media {number}")
    assert "只能查看本人提交的诉求" in refused["text"]
    refused = await env.next_message(OTHER, lambda: env.stand.push_callback(OTHER, f"att:show:{number}"))
    assert "只能查看本人提交的诉求" in refused["text"]
    refused = await env.say(POLICE, f"/media {number}", chat=POLICE_GROUP)
    assert "由城市管理局承办" in refused["text"]
    assert not env.stand.sent_media(OTHER) and not env.stand.sent_media(POLICE_GROUP)


async def test_stored_copies_lose_their_location_and_nothing_else_is_downloaded(build_app, tmp_path: Path):
    from PIL import Image

    img = Image.new("RGB", (32, 24), (120, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneCam"
    exif[0x8825] = {1: "N", 2: (30.0, 3.0, 40.0), 3: "E", 4: (120.0, 3.0, 12.0)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    store = tmp_path / "media"
    env = await make_env(build_app, tmp_path, media_store_dir=store)
    try:
        await env.say(CITIZEN, APPEAL)
        await env.next_message(CITIZEN, lambda: env.stand.push_photo(CITIZEN, data=buf.getvalue()))
        assert not env.stand.calls_of("getFile")  # not while the 诉求 is a draft
        await to_summary(env)
        await submit(env)
        assert len(env.stand.calls_of("getFile")) == 1
        (kept,) = list(store.iterdir())
        with Image.open(kept) as copy:
            tags = copy.getexif()
        assert 0x8825 not in tags and tags.get(0x010F) == "PhoneCam"
        assert 0x8825 in Image.open(io.BytesIO(buf.getvalue())).getexif()  # the original had it
    finally:
        await stop_polling(env.app)
        await env.assistant.close()
        env.stand.stop()


async def test_a_download_that_fails_is_tried_again_and_the_photo_still_reaches_staff(
    build_app, tmp_path: Path
):
    store = tmp_path / "media"
    env = await make_env(build_app, tmp_path, media_store_dir=store)
    try:
        await env.say(CITIZEN, APPEAL)
        await env.next_message(CITIZEN, lambda: env.stand.push_photo(CITIZEN, "东门这根", data=JPEG))
        await to_summary(env)
        env.stand.fail_next(1, status=500, methods=("getFile",))
        number = await submit(env)  # Telegram failing the download does not stop the 诉求
        assert len(env.stand.calls_of("getFile")) == 1 and not store.exists()
        await env.drain()
        (post,) = env.stand.sent_media(BUILDING_GROUP)
        assert post["items"][0][0] == "photo" and post["items"][0][2] == "东门这根"
        await env.bridge.reminder_tick()  # the next tick tries the copy again
        assert len(env.stand.calls_of("getFile")) == 2
        (kept,) = list(store.iterdir())
        assert kept.read_bytes()[:2] == b"\xff\xd8"
        (row,) = await env.assistant.service.attachments_of(await env.assistant.service.get(number))
        assert row.media.path == str(kept)
    finally:
        await stop_polling(env.app)
        await env.assistant.close()
        env.stand.stop()


async def test_a_file_telegram_refuses_does_not_keep_the_card_from_staff(env: Env):
    from bot.core.media import Media
    from bot.core.messages import Button, Notification, Recipient, Reply

    good, _ = env.stand.add_file(JPEG)
    album = (Media("photo", good, "u-good"), Media("photo", "F-of-another-bot", "u-gone"))
    card = Reply("<b>新诉求 SQ20261123-0001</b>", [[Button("认领", "claim:SQ20261123-0001")]], media=album)
    await env.assistant.outbox.enqueue(Notification(Recipient("department", "城市管理局"), card, "new:1"))
    await env.drain()
    (text,) = await env.stand.wait_for_messages(BUILDING_GROUP, 1)
    assert "新诉求 SQ20261123-0001" in text["text"] and "随附的照片或文件暂时无法显示" in text["text"]
    assert text["buttons"] == [[("认领", "claim:SQ20261123-0001")]]
    await env.drain()
    assert await env.assistant.outbox.pending_count() == 0 and await env.assistant.outbox.parked() == []
    assert len(env.stand.sent_messages(BUILDING_GROUP)) == 1


async def test_an_album_counts_once_against_the_rate_limit(build_app, tmp_path: Path):
    env = await make_env(build_app, tmp_path, rate_limit=4)
    try:
        before = len(env.stand.sent_messages(CITIZEN))
        env.stand.push_album(CITIZEN, 10, "人行道上的井盖丢了")
        offer = (await env.stand.wait_for_messages(CITIZEN, before + 1))[before]
        assert "收到您发来的照片 10 张" in offer["text"]
        assert all("稍等一分钟" not in m["text"] for m in env.stand.sent_messages(CITIZEN))
    finally:
        await stop_polling(env.app)
        await env.assistant.close()
        env.stand.stop()
