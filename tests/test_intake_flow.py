"""诉求 intake dialogue, driven as a citizen would: typed text and button presses, on the real SQLite store and
ticket service (a temporary database), with the shipped appeal categories."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.core.knowledge.loader import load_knowledge
from bot.core.messages import Incoming, Reply
from bot.core.storage.sqlite import open_sqlite_store
from bot.core.tickets.domain.models import TicketQuery
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.intake.draft import Draft
from bot.core.tickets.intake.flow import MAX_DESCRIPTION, MAX_PLACE, IntakeFlow
from bot.core.tickets.service import TicketError, TicketService

ROOT = Path(__file__).resolve().parents[1]
USER = "10001"
APPEAL = "我家楼下的烧烤店油烟太大，晚上十二点还很吵，影响休息"


@pytest.fixture(scope="module")
def appeals_kb(tmp_path_factory):
    d = tmp_path_factory.mktemp("kb_intake")
    for name in ("appeals.yaml", "departments.yaml"):
        shutil.copy(ROOT / "knowledge" / name, d / name)
    return load_knowledge(d)


@pytest.fixture
def clock() -> FixedClock:
    # Monday 23 November 2026, 09:30 — a working day
    return FixedClock(dt.datetime(2026, 11, 23, 9, 30, tzinfo=DEFAULT_TZ))


class Env:
    def __init__(self, path, kb, clock: FixedClock):
        self.path, self.kb, self.clock = path, kb, clock

    async def open(self, service_factory=None) -> Env:
        # a file, or the `engine` fixture's database (SQLite, or a PostgreSQL schema of its own)
        if isinstance(self.path, Path):
            self.store = await open_sqlite_store(self.path, clock=self.clock)
        else:
            self.store = await self.path.open(clock=self.clock)
        self.service = TicketService(self.store, self.kb, self.clock, load_policies())
        svc = service_factory(self.service) if service_factory else self.service
        self.flow = IntakeFlow(svc, self.store.state, self.kb, self.clock, texts=self.service.texts)
        return self

    async def close(self) -> None:
        await self.store.close()

    async def start(self, text: str = APPEAL, **kw) -> Reply:
        return one(await self.flow.start(Incoming(USER, USER, text), text, **kw))

    async def say(self, text: str) -> Reply:
        return one((await self.flow.handle(Incoming(USER, USER, text))).replies)

    async def press(self, data: str) -> Reply:
        return one((await self.flow.handle(Incoming(USER, USER, "", callback=data))).replies)

    async def step(self) -> str | None:
        draft = await self.store.state.load(USER)
        return draft["step"] if draft else None

    async def tickets(self):
        return await self.store.tickets.list(TicketQuery(citizen_id=USER))


@pytest.fixture
async def env(engine, appeals_kb, clock):
    e = await Env(engine, appeals_kb, clock).open()
    yield e
    await e.close()


def one(replies: list[Reply]) -> Reply:
    assert len(replies) == 1, replies
    return replies[0]


def datas(reply: Reply) -> list[str]:
    return [b.data for row in reply.buttons for b in row]


def labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def text_of(reply: Reply) -> str:
    return re.sub(r"<[^>]+>", "", reply.html)


# ---------------------------------------------------------------------------------------------- the full path
async def test_full_path_from_appeal_to_ticket_number_and_deadlines(env):
    r = await env.start()
    assert "环境保护" in r.html and "生态环境局" in r.html
    assert APPEAL in r.html  # the description is shown back
    assert "in:ok" in datas(r) and "in:cats" in datas(r) and "in:x" in datas(r)

    r = await env.press("in:ok")
    assert "什么地方" in r.html and "in:skip" in datas(r)

    r = await env.press("in:skip")
    assert "联系电话" in r.html and "in:nophone" in datas(r)

    r = await env.say("1234567")
    assert "不是有效的电话号码" in r.html and "1234567" in r.html
    assert "in:nophone" in datas(r)  # the same question again
    assert await env.step() == "phone"

    r = await env.say("138 1234 5678")
    assert "匿名" in r.html and {"in:anon:0", "in:anon:1"} <= set(datas(r))

    r = await env.press("in:anon:0")
    summary = text_of(r)
    assert "请核对" in summary
    for expected in (APPEAL, "环境保护", "生态环境局", "13812345678", "实名", "地点：未填写"):
        assert expected in summary
    assert datas(r) == ["in:submit", "in:edit", "in:x"]

    r = await env.press("in:submit")
    done = text_of(r)
    number = re.search(r"SQ\d{8}-\d{4}", done).group(0)
    assert "生态环境局" in done
    # each deadline, in Chinese, computed from Monday 09:30 under the 2110 policy
    assert "2小时内联系您：11月23日（周一）11:30前" in done
    assert "1个工作日内首次答复您：11月24日（周二）24:00前" in done
    assert "10个工作日内办结：12月7日（周一）24:00前" in done
    assert "暂定" not in done  # all within 2026, an official year

    tickets = await env.tickets()
    assert [t.number for t in tickets] == [number]
    t = tickets[0]
    assert (t.description, t.category, t.department) == (APPEAL, "环境保护", "生态环境局")
    assert (t.place, t.phone, t.anonymous) == (None, "13812345678", False)
    assert not await env.flow.active(USER)


async def test_a_deadline_in_a_year_without_official_notice_is_marked_provisional(env):
    env.clock.set(dt.datetime(2026, 12, 20, 10, 0, tzinfo=DEFAULT_TZ))  # Sunday; 2027 is not official yet
    await _reach(env, "summary")
    done = text_of(await env.press("in:submit"))
    assert "2小时内联系您：12月20日（周日）12:00前\n" in done
    assert "1个工作日内首次答复您：12月21日（周一）24:00前\n" in done
    assert "10个工作日内办结：2027年1月4日（周一）24:00前（暂定）" in done
    assert "带“暂定”的时限按国家放假办法推算，国务院公布2027年放假安排后将自动更新。" in done


async def test_place_phone_in_a_sentence_and_anonymous_are_kept_on_the_ticket(env):
    await env.start("有个工厂每天晚上偷偷排放废水，河水都变黑了", source_question="工厂排污找谁")
    await env.say("对")
    r = await env.say("幸福路88号化工厂后门的小河")
    assert "联系电话" in r.html
    await env.say("我的电话是0571-87654321")
    r = await env.say("匿名")
    assert "反映方式：匿名" in text_of(r) and "幸福路88号化工厂后门的小河" in r.html
    r = await env.say("提交")
    assert "已登记" in r.html and "匿名" in r.html
    (t,) = await env.tickets()
    assert (t.place, t.phone, t.anonymous) == ("幸福路88号化工厂后门的小河", "0571-87654321", True)
    assert t.source_question == "工厂排污找谁"


# ---------------------------------------------------------------------------------------------- category
async def test_picking_another_category_by_button_and_by_typed_name(env):
    await env.start()
    r = await env.press("in:cats")
    assert "in:c:城乡建设" in datas(r) and "in:c:其他" in datas(r)
    assert len(datas(r)) == 11 + 2  # every category, 修改描述 and 取消
    r = await env.press("in:c:城乡建设")
    assert "城乡建设" in r.html and "住房和城乡建设局" in r.html and "什么地方" in r.html

    await env.close()
    await env.open()
    await env.flow.start(Incoming(USER, USER, APPEAL), APPEAL)
    r = await env.say("市场监管")
    assert "市场监督管理局" in r.html and await env.step() == "place"


async def test_typing_a_short_category_name_picks_it(env):
    await env.start()
    await env.say("交通")
    draft = await env.store.state.load(USER)
    assert draft["category"] == "交通运输" and draft["step"] == "place"


async def test_a_message_without_any_domain_word_asks_for_the_category(env):
    r = await env.start("我想反映一个情况，希望有人管一管")
    assert "暂时没能判断" in r.html
    assert "in:c:其他" in datas(r) and "in:ok" not in datas(r)
    r = await env.say("这个不知道")  # neither a category nor a button
    assert "请点下面的按钮选择类别" in r.html and await env.step() == "category_pick"
    r = await env.press("in:c:其他")
    assert "行政审批服务局" in r.html and await env.step() == "place"


async def test_more_description_at_the_category_question_is_added_and_classified_again(env):
    r = await env.start("我想反映一个情况")
    assert "暂时没能判断" in r.html
    r = await env.say("公交车班次太少了，早上等车要等四十分钟")
    assert "已把这段话补充到问题描述里" in r.html and "交通运输" in r.html and await env.step() == "category"
    r = await env.say("而且司机经常不到站就开走，乘客都追不上")
    assert "已把这段话补充到问题描述里" in r.html
    draft = await env.store.state.load(USER)
    assert "乘客都追不上" in draft["description"] and draft["category"] == "交通运输"


# ---------------------------------------------------------------------------------------------- editing
async def test_edit_description_before_the_category_is_confirmed(env):
    r = await env.start()
    assert "环境保护" in r.html
    r = await env.press("in:desc")
    assert "替换原来的内容" in r.html and await env.step() == "description"
    r = await env.say("公司拖欠了我三个月工资，老板一直不给")
    assert "劳动和社会保障" in r.html and "人力资源和社会保障局" in r.html
    draft = await env.store.state.load(USER)
    assert draft["description"] == "公司拖欠了我三个月工资，老板一直不给"


async def test_edit_each_field_from_the_summary_and_come_back(env):
    await env.start()
    await env.press("in:ok")
    await env.say("人民路1号")
    await env.press("in:nophone")
    r = await env.press("in:anon:0")
    assert "联系电话：未留" in r.html

    r = await env.press("in:edit")
    assert {
        "in:e:desc",
        "in:e:cat",
        "in:e:type",
        "in:e:place",
        "in:e:phone",
        "in:e:anon",
        "in:back",
        "in:x",
    } == set(datas(r))
    await env.press("in:e:phone")
    r = await env.say("13912345678")
    assert "请核对" in r.html and "13912345678" in r.html  # straight back to the summary

    await env.say("修改")
    await env.press("in:e:place")
    r = await env.say("人民路2号东门")
    assert "地点：人民路2号东门" in r.html

    await env.press("in:edit")
    await env.press("in:e:desc")
    r = await env.say("烧烤店油烟和噪音扰民，每天到凌晨两点")
    assert "问题描述已更新" in r.html and "烧烤店油烟和噪音扰民，每天到凌晨两点" in r.html

    await env.press("in:edit")
    await env.press("in:e:cat")
    r = await env.press("in:c:市场监管")
    assert "类别：市场监管（市场监督管理局办理）" in text_of(r)

    await env.press("in:edit")
    await env.press("in:e:anon")
    r = await env.press("in:anon:1")
    assert "反映方式：匿名" in text_of(r)

    await env.press("in:edit")
    r = await env.press("in:back")
    assert "请核对" in r.html

    await env.press("in:submit")
    (t,) = await env.tickets()
    assert (t.description, t.category, t.place, t.phone, t.anonymous) == (
        "烧烤店油烟和噪音扰民，每天到凌晨两点",
        "市场监管",
        "人民路2号东门",
        "13912345678",
        True,
    )


# ---------------------------------------------------------------------------------------------- cancel
async def _reach(env, step: str) -> None:
    path = {
        "description": [("press", "in:desc")],
        "category": [],
        "category_pick": [("press", "in:cats")],
        "place": [("press", "in:ok")],
        "phone": [("press", "in:ok"), ("press", "in:skip")],
        "anonymous": [("press", "in:ok"), ("press", "in:skip"), ("press", "in:nophone")],
        "summary": [
            ("press", "in:ok"),
            ("press", "in:skip"),
            ("press", "in:nophone"),
            ("press", "in:anon:0"),
        ],
        "edit": [
            ("press", "in:ok"),
            ("press", "in:skip"),
            ("press", "in:nophone"),
            ("press", "in:anon:0"),
            ("press", "in:edit"),
        ],
    }[step]
    await env.start()
    for kind, value in path:
        await (env.press(value) if kind == "press" else env.say(value))
    assert await env.step() == step


STEPS = ["description", "category", "category_pick", "place", "phone", "anonymous", "summary", "edit"]


@pytest.mark.parametrize("how", ["in:x", "取消", "算了", "不办了", " 取消。"])
@pytest.mark.parametrize("step", STEPS)
async def test_cancel_at_every_step(env, step, how):
    await _reach(env, step)
    if step not in ("edit",):
        # every question offers the cancel button
        reply = env.flow._render_step(Draft.from_json(await env.store.state.load(USER)), [])
        assert "in:x" in datas(reply)
    r = await (env.press(how) if how.startswith("in:") else env.say(how))
    assert "已取消" in r.html and "没有提交" in r.html
    assert not await env.flow.active(USER)
    assert await env.tickets() == []


async def test_a_button_after_the_intake_ended_says_so(env):
    await env.start()
    await env.press("in:x")
    r = await env.press("in:ok")
    assert "已经结束" in r.html
    assert await env.tickets() == []


# ---------------------------------------------------------------------------------------------- bad input
async def test_empty_or_emoji_only_description_is_asked_again(env):
    r = await env.start("")
    assert "请用文字简单说说" in r.html and await env.step() == "description"
    r = await env.say("   ")
    assert "内容是空的" in r.html and await env.step() == "description"
    r = await env.say("😡😡😡👎")
    assert "没有看到文字内容" in r.html and await env.step() == "description"
    r = await env.say("小区门口的路灯坏了一个月了")
    assert "城乡建设" in r.html and await env.step() == "category"


async def test_a_very_long_description_is_kept_up_to_the_limit_and_the_person_is_told(env):
    long = "工地夜间施工噪音扰民。" * 1000  # 11,000 characters
    r = await env.start(long)
    assert f"已保留前 {MAX_DESCRIPTION} 字" in r.html and "11000" in r.html
    assert len(r.html) < 3 * MAX_DESCRIPTION
    await env.press("in:ok")
    await env.press("in:skip")
    await env.press("in:nophone")
    await env.press("in:anon:0")
    await env.press("in:submit")
    (t,) = await env.tickets()
    assert len(t.description) == MAX_DESCRIPTION and t.description == long[:MAX_DESCRIPTION]


async def test_html_and_control_characters_never_become_markup(env):
    nasty = '<script>alert(1)</script><a href="x">物业</a>乱收费\x00\x07'
    r = await env.start(nasty)
    assert "<script>" not in r.html and "<a href" not in r.html
    assert "&lt;script&gt;" in r.html
    assert "\x00" not in r.html and "\x07" not in r.html
    await env.press("in:ok")
    r = await env.say("<b>人民路</b>")
    assert "<b>人民路</b>" not in r.html
    await env.press("in:nophone")
    r = await env.press("in:anon:0")
    assert "&lt;b&gt;人民路&lt;/b&gt;" in r.html
    assert "<script>" not in r.html
    r = await env.press("in:submit")
    (t,) = await env.tickets()
    assert t.description == '<script>alert(1)</script><a href="x">物业</a>乱收费'  # stored as typed, cleaned


async def test_bad_place_input_is_answered_and_the_question_repeated(env):
    await _reach(env, "place")
    r = await env.say("🏠🏠")
    assert "没有看到地点的文字" in r.html and "in:skip" in datas(r) and await env.step() == "place"
    r = await env.say("")
    assert "没有看到地点的文字" in r.html and await env.step() == "place"
    r = await env.say("东门" * 5000)
    assert f"已保留前 {MAX_PLACE} 个字" in r.html and await env.step() == "phone"
    draft = await env.store.state.load(USER)
    assert len(draft["place"]) == MAX_PLACE


@pytest.mark.parametrize(
    "bad", ["abc", "12345", "", "😀😀", "1" * 10_000, "13812345678或13912345678", "<b>1</b>"]
)
async def test_a_phone_number_that_is_not_one_gets_a_clear_answer_and_the_same_question(env, bad):
    await _reach(env, "phone")
    r = await env.say(bad)
    assert ("不是有效的电话号码" if bad else "没有收到电话号码") in r.html
    assert "11 位手机号" in r.html and "in:nophone" in datas(r)
    assert "<b>1</b>" not in r.html
    assert len(r.html) < 500  # a 10,000-character input is not echoed back whole
    assert await env.step() == "phone"
    r = await env.say("不留")
    assert "匿名" in r.html and await env.step() == "anonymous"


async def test_unclear_answers_to_the_anonymous_and_summary_questions_are_asked_again(env):
    await _reach(env, "anonymous")
    r = await env.say("嗯……随便")
    assert "实名" in r.html and "匿名" in r.html and await env.step() == "anonymous"
    r = await env.say("不匿名")
    assert "反映方式：实名" in text_of(r) and await env.step() == "summary"
    r = await env.say("🤔")
    assert "请确认下面的内容" in r.html and await env.step() == "summary"
    r = await env.say("这是什么")
    assert await env.step() == "summary" and datas(r) == ["in:submit", "in:edit", "in:x"]
    assert await env.tickets() == []


async def test_a_stale_button_does_not_skip_a_step(env):
    await _reach(env, "summary")
    r = await env.press("in:skip")  # from the place question, long gone
    assert "按钮已经失效" in r.html and "请核对" in r.html and await env.step() == "summary"
    r = await env.press("in:c:../../etc")
    assert "按钮已经失效" in r.html
    r = await env.press("garbage")
    assert "按钮已经失效" in r.html
    assert await env.tickets() == []


# ---------------------------------------------------------------------------------------------- persistence
async def test_a_restart_in_the_middle_loses_nothing(env):
    await env.start()
    await env.press("in:ok")
    await env.say("人民路1号")
    await env.close()

    await env.open()  # a new process: new store connection, new flow object
    assert await env.flow.active(USER)
    r = await env.say("13812345678")
    assert "匿名" in r.html
    await env.press("in:anon:0")
    await env.press("in:submit")
    (t,) = await env.tickets()
    assert (t.place, t.phone) == ("人民路1号", "13812345678")


async def test_an_abandoned_draft_expires_after_a_day(env, clock):
    await env.start()
    clock.advance(hours=23)
    assert await env.flow.active(USER)
    await env.press("in:ok")  # activity keeps it alive
    clock.advance(hours=23)
    assert await env.flow.active(USER)
    clock.advance(hours=2)
    assert not await env.flow.active(USER)
    r = await env.press("in:skip")
    assert "已经结束" in r.html


async def test_pressing_submit_twice_creates_one_ticket(env):
    await _reach(env, "summary")
    first = await env.press("in:submit")
    second = await env.press("in:submit")
    assert "已登记" in first.html and "已经结束" in second.html
    assert len(await env.tickets()) == 1


async def test_every_button_is_prefixed_and_fits_telegram(env):
    seen: list[str] = []
    r = await env.start()
    seen += datas(r)
    for action in ["in:cats", "in:c:城乡建设", "in:skip", "in:nophone", "in:anon:1", "in:edit"]:
        seen += datas(await env.press(action))
    assert len(set(seen)) >= 20
    for data in seen:
        assert data.startswith("in:") and len(data.encode("utf-8")) <= 64, data


# ---------------------------------------------------------------------------------------------- service trouble
async def test_when_creation_fails_the_person_is_told_and_the_draft_is_kept(tmp_path, appeals_kb, clock):
    calls = {"n": 0}

    class Flaky:
        def __init__(self, real):
            self.real, self.policies, self.views = real, real.policies, real.views

        async def create(self, **kw):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("database is locked")
            return await self.real.create(**kw)

    e = await Env(tmp_path / "t.db", appeals_kb, clock).open(Flaky)
    try:
        await _reach(e, "summary")
        r = await e.press("in:submit")
        assert "没有提交成功" in r.html and "database" not in r.html  # no internals leak
        assert "in:submit" in datas(r) and await e.step() == "summary"
        r = await e.press("in:submit")
        assert "已登记" in r.html and len(await e.tickets()) == 1
    finally:
        await e.close()


async def test_a_polite_refusal_from_the_service_is_passed_on(tmp_path, appeals_kb, clock):
    class Refusing:
        policies = load_policies()

        async def create(self, **kw):
            raise TicketError("诉求内容不能为空，请简要说明您反映的问题。")

    e = await Env(tmp_path / "t.db", appeals_kb, clock).open(lambda real: Refusing())
    try:
        await _reach(e, "summary")
        r = await e.press("in:submit")
        assert "诉求内容不能为空" in r.html and await e.flow.active(USER)
    finally:
        await e.close()


async def test_typed_answers_work_like_the_buttons(env):
    await env.start()
    r = await env.say("是这一类")
    assert await env.step() == "place"
    r = await env.say("不知道具体地址")
    assert await env.step() == "phone" and "联系电话" in r.html
    r = await env.say("不想留")
    assert await env.step() == "anonymous"
    r = await env.say("匿名吧")
    assert "反映方式：匿名" in text_of(r)
    r = await env.say("确认无误")
    assert "已登记" in r.html
    (t,) = await env.tickets()
    assert (t.place, t.phone, t.anonymous) == (None, None, True)


async def test_typed_words_for_the_category_buttons(env):
    await env.start()
    r = await env.say("不对")
    assert await env.step() == "category_pick" and "in:c:城乡建设" in datas(r)
    await env.flow.start(Incoming(USER, USER, APPEAL), APPEAL)
    r = await env.say("换一个")
    assert await env.step() == "category_pick"
    await env.flow.start(Incoming(USER, USER, APPEAL), APPEAL)
    r = await env.say("修改描述")
    assert await env.step() == "description" and "替换原来的内容" in r.html


async def test_a_phone_number_typed_too_early_is_not_added_to_the_description(env):
    await env.start()
    r = await env.say("13812345678")
    assert "请点下面的按钮选择类别" in r.html
    draft = await env.store.state.load(USER)
    assert draft["description"] == APPEAL


# ---------------------------------------------------------------------------------------------- urgency
async def test_danger_in_the_description_makes_the_ticket_urgent(env):
    await env.start("我们楼道里燃气泄漏了，煤气味很重，物业电话打不通")
    await env.press("in:ok")
    await env.press("in:skip")
    await env.say("13812345678")
    r = await env.press("in:anon:0")
    summary = text_of(r)
    assert "紧急程度：紧急" in summary and "119" in summary
    r = await env.press("in:submit")
    assert "1小时内联系您" in text_of(r)  # the urgent policy's contact window
    (t,) = await env.tickets()
    assert (t.priority, t.policy) == ("urgent", "urgent")


async def test_ordinary_description_stays_normal_and_is_not_told_to_call_119(env):
    await env.start()
    await env.press("in:ok")
    await env.press("in:skip")
    await env.press("in:nophone")
    r = await env.press("in:anon:0")
    assert "紧急" not in text_of(r) and "119" not in text_of(r)
    await env.press("in:submit")
    (t,) = await env.tickets()
    assert (t.priority, t.policy) == ("normal", "2110")


def test_urgent_cues_must_be_a_list_of_words():
    from bot.core.tickets.domain.sla import SlaConfigError, SlaPolicies

    data = {
        "policies": [
            {"name": "p", "contact": {"hours": 2}, "feedback": {"hours": 8}, "resolve": {"hours": 9}}
        ]
    }
    assert SlaPolicies.from_data({**data, "urgent_cues": ["漏气"]}).priority_of("厨房漏 气了") == "urgent"
    with pytest.raises(SlaConfigError, match="urgent_cues"):
        SlaPolicies.from_data({**data, "urgent_cues": "漏气"})


# ---------------------------------------------------------------------------------------------- 重复诉求
async def test_the_summary_says_a_similar_open_appeal_is_already_being_handled_without_showing_it(env):
    other = await env.service.create(
        citizen_id="20002", description=APPEAL + "，请尽快处理", category="环境保护", phone="13900001111"
    )
    await env.start()
    await env.press("in:ok")
    await env.press("in:skip")
    await env.press("in:nophone")
    summary = text_of(await env.press("in:anon:0"))
    assert "近期已有 1 件相近的诉求正在办理" in summary and "仍可提交" in summary
    assert other.number not in summary and "13900001111" not in summary  # another person's 诉求 stays theirs
    done = text_of(await env.press("in:submit"))
    assert "诉求已登记" in done  # the hint never stops a submission
    unrelated = await env.start("小区里的路灯坏了好几天，晚上很黑")
    assert "相近的诉求" not in text_of(unrelated)


async def test_a_submission_outside_staff_hours_says_when_staff_are_next_at_work(env):
    env.clock.set(dt.datetime(2026, 9, 30, 19, 0, tzinfo=DEFAULT_TZ))  # the evening before 国庆
    await _reach(env, "summary")
    done = text_of(await env.press("in:submit"))
    assert "诉求已登记" in done and "非工作时间" in done
    assert "10月8日 09:00" in done  # after the whole holiday break (the working-day calendar)
    env.clock.set(dt.datetime(2026, 10, 8, 10, 0, tzinfo=DEFAULT_TZ))
    await _reach(env, "summary")
    assert "非工作时间" not in text_of(await env.press("in:submit"))
