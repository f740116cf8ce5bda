"""Types (咨询, 求助, 投诉, 建议, 举报, 表扬) and urgency tiers as data: classified at intake, confirmable, changed
with a reason, each with its own time limits; the dispatch (签收) window by tier; sla.yaml validated."""

from __future__ import annotations

import pytest

from bot.core.clock import FixedClock
from bot.core.tickets.domain.sla import SlaConfigError, SlaPolicies, load_policies
from tests.test_intake_flow import Env as IntakeEnv
from tests.test_intake_flow import datas, text_of
from tests.test_tickets_helpers import ADMIN, Env, at, run

BASE = {
    "policies": [{"name": "p", "contact": {"hours": 2}, "feedback": {"hours": 8}, "resolve": {"hours": 9}}]
}


@pytest.fixture(scope="module")
def appeals_kb(tmp_path_factory):
    import shutil

    from bot.core.knowledge.loader import load_knowledge
    from tests.conftest import ROOT

    d = tmp_path_factory.mktemp("kb_types")
    for name in ("appeals.yaml", "departments.yaml"):
        shutil.copy(ROOT / "knowledge" / name, d / name)
    return load_knowledge(d)


@pytest.fixture
async def env(tmp_path):
    e = Env(tmp_path / "t.db", FixedClock(at(2026, 11, 23, 9, 30)))  # Monday
    await e.start()
    yield e
    await e.close()


async def test_type_and_tier_are_classified_from_the_words(env):
    s = env.service
    complaint = await s.create(
        citizen_id="c1", description="我要投诉物业态度恶劣，报修一周没人来", category="城乡建设"
    )
    assert complaint.appeal_type == "投诉" and complaint.tier == "general"
    assert complaint.dispatch_due == at(2026, 11, 24, 9, 30)  # signed for within 24 hours
    water = await s.create(citizen_id="c1", description="小区停水两天了，老人没水喝", category="城乡建设")
    assert water.tier == "utilities" and water.dispatch_due == at(2026, 11, 23, 11, 30)  # 水电气热: 2 hours
    urgent = await s.create(
        citizen_id="c1", description="楼道有人触电倒地", category="城乡建设", priority="urgent"
    )
    assert urgent.tier == "emergency" and urgent.dispatch_due == at(2026, 11, 23, 10, 30)  # 1 hour
    question = await s.create(
        citizen_id="c1", description="请问老旧小区加装电梯怎么申请补贴", category="城乡建设"
    )
    assert question.appeal_type == "咨询"
    assert question.resolve_due == at(2026, 11, 27)  # a 咨询 is resolved within three working days
    plain = await s.create(citizen_id="c1", description="路灯坏了", category="城乡建设")
    assert plain.appeal_type == "求助"  # the default type when no word says otherwise
    assert plain.resolve_due == at(2026, 12, 8)


async def test_claiming_signs_for_the_ticket(env):
    s, cmds, clock = env.service, env.cmds, env.clock
    t = await s.create(citizen_id="c1", description="路灯坏了", category="城乡建设")
    clock.advance(minutes=20)
    await run(cmds, "h-cg", f"/claim {t.number}")
    assert (await s.get(t.number)).dispatch_met == at(2026, 11, 23, 9, 50)


async def test_type_change_needs_a_reason_recomputes_deadlines_and_lists_show_it(env):
    s, cmds = env.service, env.cmds
    t = await s.create(citizen_id="c1", description="路灯坏了", category="城乡建设")
    assert "求助｜待受理" in await run(cmds, "h-cg", "/tickets")
    assert "理由" in await run(cmds, "h-cg", f"/type {t.number} 咨询")
    assert "可选：咨询、求助、投诉、建议、举报、表扬" in await run(
        cmds, "h-cg", f"/type {t.number} 抱怨 随便"
    )
    assert "城市管理局承办" in await run(cmds, "h-ga", f"/type {t.number} 咨询 只是问问")
    assert "仅供工作人员" in await run(cmds, "c1", f"/type {t.number} 咨询 只是问问")
    out = await run(cmds, "h-cg", f"/type {t.number} 建议 诉求人是建议增设路灯")
    assert "建议类" in out
    t = await s.get(t.number)
    assert t.appeal_type == "建议" and t.resolve_due == at(2026, 12, 15)  # fifteen working days
    assert t.feedback_due == at(2026, 11, 26)  # a 建议's first feedback: two working days
    (ev,) = [e for e in await s.events(t) if e.action == "type"]
    assert "求助 → 建议" in ev.text and "增设路灯" in ev.text
    assert "建议｜待受理" in await run(cmds, "h-cg", "/tickets")
    assert "已经是建议类" in await run(cmds, ADMIN, f"/type {t.number} 建议 再说一遍")


async def test_a_type_never_makes_an_urgent_ticket_wait_longer(env):
    s = env.service
    t = await s.create(
        citizen_id="c1",
        description="建议在路口装护栏，刚才有孩子差点被撞",
        category="城乡建设",
        priority="urgent",
    )
    assert t.appeal_type == "建议" and t.policy == "urgent"
    assert t.resolve_due == at(2026, 11, 27)  # urgent's three working days, not a 建议's fifteen


async def test_the_type_is_shown_at_intake_and_can_be_changed(tmp_path, appeals_kb, clock):
    e = await IntakeEnv(tmp_path / "i.db", appeals_kb, clock).open()
    try:
        await e.start("我要投诉楼下烧烤店油烟太大，晚上十二点还很吵")
        await e.press("in:ok")
        await e.press("in:skip")
        await e.press("in:nophone")
        r = await e.press("in:anon:0")
        assert "诉求类型：投诉" in text_of(r)
        await e.press("in:edit")
        r = await e.press("in:e:type")
        assert [d for d in datas(r) if d.startswith("in:t:")] == [f"in:t:{i}" for i in range(6)]
        r = await e.say("建议")  # typed instead of pressed
        assert "诉求类型：建议" in text_of(r)
        await e.press("in:edit")
        await e.press("in:e:type")
        r = await e.press("in:t:4")
        assert "诉求类型：举报" in text_of(r)
        await e.press("in:submit")
        (t,) = await e.tickets()
        assert t.appeal_type == "举报"
        assert t.resolve_due == at(2026, 12, 15)  # a 举报's fifteen working days from Monday
    finally:
        await e.close()


def test_sla_yaml_types_and_tiers_are_validated_naming_the_entry_and_field():
    def problem(**data) -> str:
        with pytest.raises(SlaConfigError) as err:
            SlaPolicies.from_data({**BASE, **data})
        return str(err.value)

    assert "types「投诉」 的 resolve 需要且只能有 hours 或 working_days 之一" in problem(
        types=[{"name": "投诉", "resolve": {"days": 3}}]
    )
    assert "types「投诉」 有不认识的字段：dispach" in problem(
        types=[{"name": "投诉", "dispach": {"hours": 1}}]
    )
    assert "types「咨询」 的 cues 应为非空字符串的列表" in problem(types=[{"name": "咨询", "cues": "请问"}])
    assert "types 第 2 条缺少 name" in problem(types=[{"name": "咨询"}, {"cues": ["x"]}])
    assert "default_type「表扬」不是已定义的诉求类型" in problem(
        types=[{"name": "咨询"}], default_type="表扬"
    )
    assert "tiers「emergency」 缺少 dispatch" in problem(tiers=[{"name": "emergency", "priority": "urgent"}])
    assert "tiers「x」 的 dispatch 的 hours 应为正数" in problem(
        tiers=[{"name": "x", "dispatch": {"hours": 0}}]
    )
    assert "pause_reasons" in problem(pause_reasons=[])
    # without types and tiers: no type, and one 24-hour dispatch window
    plain = SlaPolicies.from_data(BASE)
    assert plain.type_of("我要投诉") is None and plain.windows("p")["dispatch"].hours == 24


def test_the_shipped_file_has_the_six_types_and_three_tiers():
    p = load_policies()
    assert list(p.types) == ["咨询", "求助", "投诉", "建议", "举报", "表扬"]
    assert [(t.name, t.dispatch.hours) for t in p.tiers.values()] == [
        ("emergency", 1),
        ("utilities", 2),
        ("general", 24),
    ]
    assert p.type_of("强烈要求表扬社区王书记") == "表扬"
    assert p.tier_of("暴雨后小区地下车库积水") == "utilities"
