"""惠企政策 through the channel-free façade, as the console and Telegram drive it: an enterprise asks in free text,
is asked only what is missing (with buttons), gets the policies it qualifies for with why, asks why one is not
there, saves its profile with consent, sees and edits it alone, and staff see counts only."""

import datetime as dt
import re

import pytest

from bot.core.clock import DEFAULT_TZ
from bot.core.messages import Incoming

STAFF = "s1"


@pytest.fixture
async def app(tmp_path, clock, build_app):
    return await build_app(tmp_path / "t.db", clock, extra_admins={STAFF})


async def say(app, text="", user="u1", callback=None):
    return await app.assistant.handle(Incoming(user, user, text=text or None, callback=callback))


def html(replies):
    return "\n".join(r.html for r in replies)


def labels(replies):
    return [b.label for r in replies for row in r.buttons for b in row]


def button(replies, label_part):
    for r in replies:
        for row in r.buttons:
            for b in row:
                if label_part in b.label:
                    return b.data
    raise AssertionError(f"no button with {label_part!r} in {labels(replies)}")


def expired_names(app, today):
    lib = app.assistant.kb.policies
    return [p.name for p in lib.policies.values() if p.valid.end and p.valid.end < today]


async def test_a_software_sme_is_asked_only_what_is_missing_then_told_what_it_qualifies_for(app, clock):
    replies = await say(app, "我们是做软件的小微企业，有什么补贴")
    text = html(replies)
    # what it understood is repeated, and one question is asked with buttons (never the size or industry it gave)
    assert "软件和信息技术服务业" in text and "小微" in text
    assert "规模是" not in text and "什么行业" not in text
    assert "先看结果" in labels(replies) and len(labels(replies)) >= 2
    asked = 1
    while "先看结果" in labels(replies) and asked < 5:
        first = replies[0].buttons[0][0].data
        replies = await say(app, callback=first)
        asked += 1
    assert asked <= 4  # at most three questions
    text = html(replies)
    assert "可以享受的政策" in text
    assert "✅ 符合" in text and "💰" in text and "📝" in text
    assert "可能符合（还需确认）" in text
    for name in expired_names(app, clock.now().date()):
        assert name not in text
    assert any(lab.startswith("详情") for lab in labels(replies))


async def test_skipping_lists_at_once_and_details_say_why_it_matches(app):
    replies = await say(app, "我们是示例区的小微企业，有啥优惠政策")
    replies = await say(app, callback=button(replies, "先看结果"))
    assert "可以享受的政策" in html(replies)
    detail = await say(app, callback=button(replies, "详情"))
    assert "贵企业符合条件" in html(detail) and "依据：" in html(detail)


async def test_why_not_names_the_condition_that_fails(app):
    await say(app, "我们是开饭店的个体户，小规模纳税人，有什么减税的")
    [r] = await say(app, "为什么没有研发费用加计扣除")
    assert "研发费用税前加计扣除" in r.html
    assert "暂不符合" in r.html and "❌" in r.html
    assert "餐饮" in r.html or "住宿和餐饮业" in r.html  # the failing condition is the industry


async def test_a_policy_not_in_the_library_is_said_so(app):
    [r] = await say(app, "为什么没有光伏发电补贴政策")
    assert "政策库中没有找到" in r.html


async def test_a_contradictory_size_is_questioned_not_guessed(app):
    replies = await say(app, "我们是微型企业，有500名员工，有什么补贴")
    text = html(replies)
    assert "微型" in text and "500" in text and "请确认" in text
    assert "可以享受的政策" not in text
    replies = await say(app, callback=button(replies, "中型"))
    replies = (
        await say(app, callback=button(replies, "先看结果")) if "先看结果" in labels(replies) else replies
    )
    assert "规模：中型" in html(replies)


async def test_an_unknown_industry_gets_the_nearest_sections(app):
    replies = await say(app, "我们是做直播带货的公司，有什么补贴")
    assert "直播带货" in html(replies) and "对应不到" in html(replies)
    sections = [lab for lab in labels(replies) if re.match(r"^[A-T] ", lab)]
    assert 2 <= len(sections) <= 4
    replies = await say(app, callback=button(replies, "批发零售"))
    assert "批发和零售业" in html(replies)


async def test_a_question_about_an_item_stays_with_the_service_guide(app):
    [r] = await say(app, "创业担保贷款怎么申请")
    assert "办理流程" in r.html or "申请" in r.html
    assert "可以享受的政策" not in r.html
    [r] = await say(app, "社保卡丢了怎么补办")
    assert "社会保障卡挂失补换" in r.html


async def test_a_policy_ending_soon_is_flagged(app, clock):
    clock.set(dt.datetime(2026, 12, 10, 10, 0, tzinfo=DEFAULT_TZ))
    [r] = await say(
        app, "示例区稳岗返还能拿吗，我们是示例区的制造业企业，员工80人，参加失业保险满一年了，去年没裁员"
    )
    assert "2026年12月31日到期" in r.html and "还剩 21 天" in r.html


async def test_the_profile_is_saved_with_consent_seen_and_edited_by_its_owner_only_and_deleted(app):
    replies = await say(app, "我们是示例区做软件的小微企业，一般纳税人，2020年成立，有什么补贴")
    consent = await say(app, callback=button(replies, "保存企业画像"))
    assert "只有您本人能查看" in html(consent) and "不含姓名、电话、证件号码" in html(consent)
    [saved] = await say(app, callback=button(consent, "同意保存，并订阅"))
    assert "已保存" in saved.html and "/unsubscribe" in saved.html
    [view] = await say(app, "/profile")
    assert "软件和信息技术服务业" in view.html and "已订阅" in view.html
    [other] = await say(app, "/profile", user="u2")
    assert "还没有保存" in other.html and "软件" not in other.html
    _, edited = await say(app, "/profile 从业人数 50")
    assert "从业人数：50" in edited.html
    [bad] = await say(app, "/profile 成立年份 去年吧")
    assert "成立年份" in bad.html and "2021" in bad.html
    [unsub] = await say(app, "/unsubscribe")
    assert "已退订" in unsub.html
    [view] = await say(app, "/profile")
    assert "未订阅" in view.html
    [gone] = await say(app, "/profile 删除")
    assert "已删除" in gone.html
    [view] = await say(app, "/profile")
    assert "还没有保存" in view.html


async def test_declining_consent_saves_nothing(app):
    replies = await say(app, "我们是示例区做软件的小微企业，一般纳税人，2020年成立，有什么补贴")
    consent = await say(app, callback=button(replies, "保存企业画像"))
    [r] = await say(app, callback=button(consent, "不保存"))
    assert "不保存" in r.html
    assert await app.store.policies.get_profile("u1") is None


async def test_staff_see_counts_only_and_citizens_not_even_those(app):
    replies = await say(app, "我们是示例区做软件的小微企业，一般纳税人，2020年成立，有什么补贴")
    consent = await say(app, callback=button(replies, "保存企业画像"))
    await say(app, callback=button(consent, "只保存"))
    await say(app, "为什么没有研发费用加计扣除")
    [r] = await say(app, "/policystats", user=STAFF)
    assert "保存画像 1 户" in r.html and "订阅新政策提醒 0 户" in r.html
    assert "2020" not in r.html and "一般纳税人" not in r.html  # nothing of the profile itself
    assert re.search(r"规模：小微 1\n行业：", r.html)
    assert "问得最多的政策：研发费用税前加计扣除（100%）（1）" in r.html
    [refused] = await say(app, "/policystats")
    assert "仅供工作人员" in refused.html


async def test_the_push_goes_through_the_outbox_once_in_working_hours_and_stops_on_unsubscribe(app, clock):
    from bot.core.policies.desk import LIBRARY_KEY

    a, store = app.assistant, app.store
    replies = await say(app, "我们是示例区做软件的小微企业，一般纳税人，2020年成立，有什么补贴")
    consent = await say(app, callback=button(replies, "保存企业画像"))
    await say(app, callback=button(consent, "同意保存，并订阅"))
    await a.scheduler.tick(clock.now())
    # what the list showed is not pushed again
    assert not [r for r in await a.outbox.due(clock.now(), 100) if r.notification.recipient.id == "u1"]

    async def library_changed():
        # as if every policy were new since the person was told: what a changed 政策库 looks like
        saved = await store.policies.get_profile("u1")
        await store.policies.save_profile("u1", saved.profile, clock.now(), notified={})
        await store.meta.set(LIBRARY_KEY, "an older library")

    await library_changed()
    evening = dt.datetime(2026, 11, 23, 20, 0, tzinfo=DEFAULT_TZ)
    await a.scheduler.tick(evening)
    assert not await a.outbox.due(evening, 100)
    saturday = dt.datetime(2026, 11, 28, 10, 0, tzinfo=DEFAULT_TZ)
    await a.scheduler.tick(saturday)
    assert not await a.outbox.due(saturday, 100)
    tuesday = dt.datetime(2026, 11, 24, 10, 0, tzinfo=DEFAULT_TZ)
    await a.scheduler.tick(tuesday)
    await a.scheduler.tick(tuesday + dt.timedelta(hours=1))
    rows = [r for r in await a.outbox.due(tuesday + dt.timedelta(hours=1), 100)]
    assert len(rows) == 1 and rows[0].notification.recipient.id == "u1"
    assert "直达快享" in rows[0].notification.reply.html and "/unsubscribe" in rows[0].notification.reply.html
    for r in rows:
        await a.outbox.sent(r.id, tuesday)

    await say(app, "/unsubscribe")
    await library_changed()
    wednesday = dt.datetime(2026, 11, 25, 10, 0, tzinfo=DEFAULT_TZ)
    await a.scheduler.tick(wednesday)
    assert not await a.outbox.due(wednesday, 100)


async def test_a_question_of_its_own_while_a_policy_question_is_pending_is_answered_as_itself(app):
    replies = await say(app, "我们是做软件的小微企业，有什么补贴")
    assert "登记注册" in html(replies)
    [r] = await say(app, "护照怎么办")
    assert "普通护照签发" in r.html and "属地：护照" not in r.html
    replies = await say(app, "在示例区")  # the conversation is still there
    assert "属地：示例区" in html(replies)


@pytest.mark.parametrize(
    "data",
    [
        "pol:why:no-such-policy",
        "pol:a:size:巨型",
        "pol:ind:ZZ",
        "pol:more",
        "pol:keep:sub",
        "pol:",
        "pol:a:founded:9",
    ],
)
async def test_forged_or_stale_policy_buttons_get_a_clear_answer(app, data):
    [r] = await say(app, callback=data, user="u9")
    assert "按钮已过期" in r.html
    assert await app.store.policies.get_profile("u9") is None


@pytest.mark.parametrize("value", ["17:00-09:00", "9-17", "09:00", "25:00-26:00"])
def test_a_bad_push_window_is_refused_with_the_setting_named(value):
    from bot.settings import ConfigError
    from tests.conftest import make_settings

    with pytest.raises(ConfigError, match="POLICY_PUSH_HOURS"):
        make_settings(policy_push_hours=value)


async def test_a_profile_is_never_shown_in_a_group(app):
    replies = await say(app, "我们是示例区做软件的小微企业，一般纳税人，2020年成立，有什么补贴", user=STAFF)
    consent = await say(app, callback=button(replies, "保存企业画像"), user=STAFF)
    await say(app, callback=button(consent, "只保存"), user=STAFF)
    in_group = Incoming(STAFF, "group:税务局", text="/profile", is_group=True)
    [r] = await app.assistant.handle(in_group)
    assert "私聊" in r.html and "软件" not in r.html
    pressed = Incoming(STAFF, "group:税务局", callback="pol:list", is_group=True)
    [r] = await app.assistant.handle(pressed)
    assert "私聊" in r.html and "可以享受的政策" not in r.html
