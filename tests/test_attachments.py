"""Photos, files and map pins in 诉求, through the channel-free façade (as the console and Telegram drive it):
evidence in the intake, 补充材料 after submission, limits, pins inside and outside the example boundaries, a
bare photo or voice message outside an intake, staff replying with a photo, who may see attachments again, and
exports that list them without their content."""

from __future__ import annotations

import io
import json
import re

import pytest

from bot.core.media import Location, Media
from bot.core.messages import Incoming, Reply
from bot.core.tickets.domain.models import StaffMember

CITIZEN, OTHER = "c1", "c2"
ADMIN, HANDLER, POLICE = "a1", "h-js", "h-ga"
APPEAL = "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险"
DEPARTMENT = "城市管理局"  # where the 派单目录 sends 路灯 without a known place (issue 14)


@pytest.fixture
async def app(tmp_path, clock, build_app):
    app = await build_app(tmp_path / "t.db", clock, extra_admins={ADMIN})
    service = app.assistant.service
    await service.add_staff(StaffMember(HANDLER, "住建小王", "handler", (DEPARTMENT,)), ADMIN)
    await service.add_staff(StaffMember(POLICE, "民警小赵", "handler", ("公安局",)), ADMIN)
    return app


def photo(n: int, caption: str = "", *, sender: str = CITIZEN, size: int = 200_000, group: str | None = "g1"):
    return Media("photo", f"file{n}", f"uniq{n}", size, caption, "image/jpeg", None, sender, None, group)


def voice(sender: str = CITIZEN) -> Media:
    return Media("voice", "voice1", "uvoice1", 30_000, "", "audio/ogg", None, sender)


async def send(a, user=CITIZEN, text="", callback=None, media=(), location=None, group=False) -> list[Reply]:
    chat = "group" if group else user
    return await a.handle(
        Incoming(
            user, chat, text=text, callback=callback, media=tuple(media), location=location, is_group=group
        )
    )


def html(replies: list[Reply]) -> str:
    return "\n".join(r.html for r in replies)


def button(replies: list[Reply], label_part: str) -> str:
    for r in replies:
        for row in r.buttons:
            for b in row:
                if label_part in b.label:
                    return b.data
    raise AssertionError(
        f"no button {label_part!r} in {[b.label for r in replies for row in r.buttons for b in row]}"
    )


async def drain(a, clock):
    rows = await a.outbox.due(clock.now(), 100)
    for r in rows:
        await a.outbox.sent(r.id, clock.now())
    return [r.notification for r in rows]


async def through_to_summary(a, replies: list[Reply]) -> list[Reply]:
    """From the category question to the summary: category confirmed, no place (unless pinned), no phone."""
    replies = await send(a, callback=button(replies, "是这一类"))
    if "地点" in html(replies) and "跳过" in [b.label for r in replies for row in r.buttons for b in row]:
        replies = await send(a, callback=button(replies, "跳过"))
    replies = await send(a, callback=button(replies, "不留电话"))
    return await send(a, callback=button(replies, "实名"))


async def submit(a, replies: list[Reply]) -> str:
    replies = await send(a, callback=button(replies, "提交"))
    return re.search(r"SQ\d{8}-\d{4}", html(replies)).group(0)


# ------------------------------------------------------------------------------------------- the intake


async def test_an_album_in_the_intake_goes_with_the_ticket_to_staff(app, clock):
    a = app.assistant
    await send(a, text=APPEAL)
    album = [photo(1, "东门这根路灯，电话 13812345678"), photo(2), photo(3)]
    replies = await send(a, media=album)
    assert "已收到照片 3 张" in html(replies)
    assert "这个分类对吗" in html(replies)  # the intake goes on where it was
    summary = await through_to_summary(a, replies)
    assert "附件：照片 3 张" in html(summary)
    number = await submit(a, summary)

    ticket = await a.service.get(number)
    kept = await a.service.attachments_of(ticket)
    assert [x.media.file_id for x in kept] == ["file1", "file2", "file3"]
    assert all(x.role == "citizen" and x.media.sender == CITIZEN for x in kept)
    assert kept[0].media.caption == "东门这根路灯，电话 13812345678"  # kept whole for the ticket
    events = await a.service.events(ticket)
    assert [e.action for e in events].count("attach") == 3
    assert "照片：东门这根路灯" in events[1].text

    (post,) = [n for n in await drain(a, clock) if n.recipient.kind == "department"]
    assert post.recipient.id == DEPARTMENT and number in post.reply.html
    assert "附件：照片 3 张" in post.reply.html
    assert [m.file_id for m in post.reply.media] == ["file1", "file2", "file3"]
    assert post.reply.media[0].caption == "东门这根路灯，电话 138****5678"  # a group post is masked


async def test_a_caption_is_the_description_when_nothing_was_described(app):
    a = app.assistant
    replies = await send(a, media=[photo(1, "人民路上有个大坑，已经有电动车摔倒了")])
    assert "您是要反映问题吗" in html(replies)
    replies = await send(a, callback=button(replies, "反映新问题"))
    text = html(replies)
    assert "人民路上有个大坑" in text and "已收到照片 1 张" in text
    assert "这个分类对吗" in text


async def test_without_a_caption_the_intake_asks_for_words_and_keeps_the_photo(app):
    a = app.assistant
    replies = await send(a, media=[photo(1)])
    replies = await send(a, callback=button(replies, "反映新问题"))
    assert "已收到照片 1 张" in html(replies) and "请用文字" in html(replies)
    replies = await send(a, text=APPEAL)
    summary = await through_to_summary(a, replies)
    assert "附件：照片 1 张" in html(summary)


async def test_limits_get_a_polite_answer_and_the_rest_is_kept(tmp_path, clock, build_app):
    app = await build_app(tmp_path / "l.db", clock, media_max_count=2, media_max_mb=1, media_kinds=("photo",))
    a = app.assistant
    await send(a, text=APPEAL)
    big = photo(9, size=3 * 1024 * 1024, group=None)
    video = Media("video", "v1", "uv1", 500_000, "", "video/mp4", None, CITIZEN)
    replies = await send(a, media=[photo(1), photo(2), photo(3), big, video])
    text = html(replies)
    assert "已收到照片 2 张" in text
    assert "最多附 2 个材料" in text and "照片 1 张超出了数量" in text
    assert "超过了单个 1 MB 的大小限制" in text
    assert "视频 1 段暂时无法接收" in text and "诉求可以附照片" in text
    summary = await through_to_summary(a, replies)
    assert "附件：照片 2 张" in html(summary)
    # full: the next one is refused too, nothing is lost of what was kept
    replies = await send(a, media=[photo(4)])
    assert "最多附 2 个材料" in html(replies) and "已收到" not in html(replies)


async def test_the_same_photo_twice_is_kept_once(app):
    a = app.assistant
    await send(a, text=APPEAL)
    await send(a, media=[photo(1)])
    replies = await send(a, media=[photo(1)])
    assert "已收到" not in html(replies)
    summary = await through_to_summary(a, replies)
    assert "附件：照片 1 张" in html(summary)


# ------------------------------------------------------------------------------------------- places


async def test_a_pin_inside_the_example_boundaries_sets_the_place_and_its_unit(app, clock):
    a = app.assistant
    replies = await send(a, text=APPEAL)
    replies = await send(a, callback=button(replies, "是这一类"))
    assert "也可以直接发送定位" in html(replies)
    replies = await send(a, location=Location(30.0612, 120.0534))
    assert "已按您发送的位置记下问题地点：地图位置（北纬 30.06120，东经 120.05340）" in html(replies)
    assert "联系电话" in html(replies)  # the pin answered the place question
    replies = await send(a, callback=button(replies, "不留电话"))
    summary = await send(a, callback=button(replies, "实名"))
    assert "地点：地图位置" in html(summary)
    number = await submit(a, summary)
    ticket = await a.service.get(number)
    assert (ticket.latitude, ticket.longitude, ticket.unit) == (30.0612, 120.0534, "南湖街道")
    assert app.kb.boundaries.unit_at(30.0612, 120.0534) == "南湖街道"
    (post,) = [n for n in await drain(a, clock) if n.recipient.kind == "department"]
    assert "openstreetmap.org/?mlat=30.061200&amp;mlon=120.053400" in post.reply.html
    assert "属地：南湖街道" in post.reply.html


async def test_a_venue_outside_the_boundaries_keeps_its_coordinates_as_a_map_link(app, clock):
    a = app.assistant
    replies = await send(a, text=APPEAL)
    replies = await send(a, callback=button(replies, "是这一类"))
    replies = await send(a, location=Location(31.2304, 121.4737, "外滩观景台", "中山东一路"))
    assert "外滩观景台（中山东一路）" in html(replies)
    replies = await send(a, callback=button(replies, "不留电话"))
    number = await submit(a, await send(a, callback=button(replies, "实名")))
    ticket = await a.service.get(number)
    assert ticket.unit is None and ticket.place == "外滩观景台（中山东一路）"
    (post,) = [n for n in await drain(a, clock) if n.recipient.kind == "department"]
    assert "mlat=31.230400" in post.reply.html and "属地" not in post.reply.html


async def test_a_pin_before_the_place_step_answers_it_and_a_bad_pin_is_refused(app):
    a = app.assistant
    await send(a, text=APPEAL)
    replies = await send(a, location=Location(123.0, 500.0))
    assert "坐标不正确" in html(replies)
    await send(a, location=Location(30.07, 120.10))  # 东城街道
    replies = await send(a, callback="in:ok")
    assert "已按您发送的位置记下问题地点" in html(replies) and "联系电话" in html(replies)


async def test_a_pin_outside_an_intake_is_offered_as_a_new_ticket(app):
    a = app.assistant
    replies = await send(a, location=Location(30.0612, 120.0534))
    assert "收到您发来的位置" in html(replies) and "您是要反映问题吗" in html(replies)
    replies = await send(a, callback=button(replies, "反映新问题"))
    assert "已按您发送的位置记下问题地点" in html(replies)


# ------------------------------------------------------------------------------------------- outside the intake


async def test_a_voice_message_outside_an_intake_gets_the_offer(app):
    a = app.assistant
    replies = await send(a, media=[voice()])
    text = html(replies)
    assert "收到您发来的语音 1 条" in text and "您是要反映问题吗" in text
    assert "语音我暂时还听不了" in text
    labels = [b.label for r in replies for row in r.buttons for b in row]
    assert labels[0] == "📝 反映新问题" and labels[-1] == "不用了"
    replies = await send(a, callback=button(replies, "不用了"))
    assert "没有保存" in html(replies)
    assert "过期" in html(await send(a, callback="att:new"))  # declined: nothing is waiting any more


async def test_a_supplement_after_submission_reaches_staff_with_the_ticket_number(app, clock):
    a = app.assistant
    replies = await send(a, text=APPEAL)
    number = await submit(a, await through_to_summary(a, replies))
    await drain(a, clock)
    replies = await send(a, media=[photo(7, "今天又黑了一晚")])
    replies = await send(a, callback=button(replies, f"补充到 {number}"))
    assert f"已把照片 1 张补充到诉求 <b>{number}</b>" in html(replies)
    (note,) = await drain(a, clock)
    assert note.recipient.kind == "department" and note.recipient.id == DEPARTMENT
    assert f"诉求 {number} 有补充材料" in note.reply.html and "今天又黑了一晚" in note.reply.html
    assert [m.file_id for m in note.reply.media] == ["file7"]
    ticket = await a.service.get(number)
    assert [e.action for e in await a.service.events(ticket)][-1] == "supplement"
    # the same as a caption command, /add N 说明
    replies = await send(a, text=f"/add {number} 白天拍的", media=[photo(8, group=None)])
    assert "补充到诉求" in html(replies)
    kept = await a.service.attachments_of(ticket)
    assert [x.media.caption for x in kept] == ["今天又黑了一晚", "白天拍的"]


async def test_nobody_adds_to_somebody_elses_or_a_closed_ticket(app, clock):
    a = app.assistant
    replies = await send(a, text=APPEAL)
    number = await submit(a, await through_to_summary(a, replies))
    refused = html(await send(a, OTHER, text=f"/add {number}", media=[photo(5, group=None, sender=OTHER)]))
    assert "只能给自己提交的诉求补充材料" in refused
    forged = html(await send(a, OTHER, callback=f"att:add:{number}"))
    assert "过期" in forged  # nothing of theirs was waiting; nothing was added
    await send(a, OTHER, media=[photo(6, sender=OTHER)])
    assert "只能给自己提交的诉求补充材料" in html(await send(a, OTHER, callback=f"att:add:{number}"))
    await a.service.close(number, ADMIN, "测试")
    assert "已经关闭" in html(await send(a, text=f"/add {number}", media=[photo(9, group=None)]))
    ticket = await a.service.get(number)
    assert await a.service.attachments_of(ticket) == []


# ------------------------------------------------------------------------------------------- staff


async def test_staff_reply_with_a_photo_reaches_the_citizen_and_is_kept(app, clock):
    a = app.assistant
    replies = await send(a, text=APPEAL)
    number = await submit(a, await through_to_summary(a, replies))
    await drain(a, clock)
    repaired = photo(20, sender=HANDLER, group=None)
    replies = await send(
        a, HANDLER, text=f"/reply {number} 路灯已修好，请看照片", media=[repaired], group=True
    )
    assert "答复已发送" in html(replies)
    (note,) = [n for n in await drain(a, clock) if n.recipient.kind == "user"]
    assert note.recipient.id == CITIZEN and "路灯已修好" in note.reply.html
    assert [m.file_id for m in note.reply.media] == ["file20"]
    ticket = await a.service.get(number)
    kept = await a.service.attachments_of(ticket)
    assert [(x.role, x.media.file_id) for x in kept] == [("staff", "file20")]
    assert [e.action for e in await a.service.events(ticket)][-2:] == ["reply", "attach"]
    # a photo alone (its caption only the command) is an answer too
    await send(a, HANDLER, text=f"/reply {number}", media=[photo(21, sender=HANDLER, group=None)], group=True)
    (note,) = [n for n in await drain(a, clock) if n.recipient.kind == "user"]
    assert "发来了照片 1 张" in note.reply.html


async def test_who_sees_attachments_again(app, clock):
    a = app.assistant
    replies = await send(a, text=APPEAL)
    await send(a, media=[photo(1, "我家门牌，电话 13812345678"), photo(2)])
    number = await submit(a, await through_to_summary(a, replies))

    # the citizen: /ticket N shows what is attached, with a button that sends it again
    replies = await send(a, text=f"/ticket {number}")
    assert "附件：照片 2 张" in html(replies)
    again = await send(a, callback=button(replies, "查看附件（2）"))
    assert [m.file_id for m in again[0].media] == ["file1", "file2"]
    assert again[0].media[0].caption == "我家门牌，电话 13812345678"  # their own, in private

    # staff of the department, in their group: the same, captions masked
    replies = await send(a, HANDLER, text=f"/media {number}", group=True)
    assert [m.file_id for m in replies[0].media] == ["file1", "file2"]
    assert replies[0].media[0].caption == "我家门牌，电话 138****5678"
    assert "138****5678" in replies[0].html and "13812345678" not in replies[0].html

    # another citizen, a forged button, staff of another department: refused, nothing sent
    for user, msg in [
        (OTHER, dict(text=f"/media {number}")),
        (OTHER, dict(callback=f"att:show:{number}")),
        (POLICE, dict(text=f"/media {number}")),
        (POLICE, dict(callback=f"att:show:{number}")),
    ]:
        replies = await send(a, user, **msg)
        assert all(not r.media for r in replies), (user, msg)
        assert "只能查看" in html(replies) or "没有找到" in html(replies), html(replies)


# ------------------------------------------------------------------------------------------- exports


async def test_the_export_lists_attachments_without_their_content(app, clock, tmp_path):
    from bot.cli.tickets import _export
    from tests.conftest import make_settings

    a = app.assistant
    replies = await send(a, text=APPEAL)
    await send(a, media=[photo(1, "电话 13812345678")])
    number = await submit(a, await through_to_summary(a, replies))
    settings = make_settings(database_path=tmp_path / "t.db")

    class Args:
        format, output, mask = "jsonl", None, True

    out = io.StringIO()
    assert await _export(Args, settings, out) == 0
    (row,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert row["number"] == number
    (listed,) = row["attachments"]
    assert listed["kind"] == "photo" and listed["size"] == 200_000 and listed["role"] == "citizen"
    assert listed["caption"] == "电话 138****5678"
    assert "file1" not in out.getvalue() and "uniq1" not in out.getvalue()


# ------------------------------------------------------------------------------------------- local copies


async def test_a_copy_that_fails_is_tried_again_with_a_growing_wait_then_given_up(tmp_path, clock, build_app):
    from bot.core.tickets.copies import COPY_ATTEMPTS

    app = await build_app(tmp_path / "t.db", clock, media_store_dir=tmp_path / "media")
    a = app.assistant
    tries: list[str] = []
    broken = True

    async def fetch(media: Media) -> bytes:
        tries.append(media.file_id)
        if broken:
            raise ConnectionError("network down")
        return b"%PDF-1.4 plan"

    a.set_media_fetch(fetch)
    await send(a, text=APPEAL)
    doc = Media("document", "doc1", "udoc1", 9, "", "application/pdf", "plan.pdf", CITIZEN)
    replies = await send(a, media=[doc, photo(1)])
    number = await submit(a, await through_to_summary(a, replies))  # the failure does not stop the 诉求
    ticket = await a.service.get(number)
    assert [x.media.path for x in await a.service.attachments_of(ticket)] == [None, None]
    assert tries == ["doc1", "file1"]

    await a.tick()  # the first retry at the next tick
    assert tries.count("doc1") == 2
    await a.tick()  # not again within the wait
    assert tries.count("doc1") == 2
    broken = False
    clock.advance(minutes=2)
    await a.tick()
    kept = await a.service.attachments_of(ticket)
    assert kept[0].media.path and (tmp_path / "media" / "udoc1.pdf").read_bytes() == b"%PDF-1.4 plan"
    assert kept[1].media.path is None  # "\xff…" is no picture: not kept, and not tried again
    before = len(tries)
    clock.advance(days=1)
    await a.tick()
    assert len(tries) == before

    # another 诉求 whose copy never succeeds: tried at submission, then COPY_ATTEMPTS times; the reference stays
    broken = True
    await send(a, text=APPEAL)
    other = Media("document", "doc2", "udoc2", 9, "", "application/pdf", "b.pdf", CITIZEN)
    number = await submit(a, await through_to_summary(a, await send(a, media=[other])))
    for _ in range(COPY_ATTEMPTS + 3):
        clock.advance(hours=5)
        await a.tick()
    assert tries.count("doc2") == 1 + COPY_ATTEMPTS
    (left,) = await a.service.attachments_of(await a.service.get(number))
    assert left.media.file_id == "doc2" and left.media.path is None


# ------------------------------------------------------------------------------------------- 属地


async def test_a_pin_routes_a_local_matter_to_the_street_it_lies_in(app, clock):
    a = app.assistant

    async def file_with_pin(location: Location) -> tuple[str, str]:
        replies = await send(a, text=APPEAL)  # 路灯: a matter the 派单目录 marks local
        replies = await send(a, callback=button(replies, "是这一类"))
        replies = await send(a, location=location)
        replies = await send(a, callback=button(replies, "不留电话"))
        summary = await send(a, callback=button(replies, "实名"))
        return html(summary), await submit(a, summary)

    summary, number = await file_with_pin(Location(30.07, 120.10))  # inside 东城街道 (example boundaries)
    assert "东城街道办事处办理" in summary
    ticket = await a.service.get(number)
    assert (ticket.unit, ticket.department) == ("东城街道", "东城街道办事处")
    # outside every unit, with no place the 派单目录 knows: the line department
    summary, number = await file_with_pin(Location(31.2304, 121.4737))
    ticket = await a.service.get(number)
    assert ticket.unit is None and ticket.department == "城市管理局"
