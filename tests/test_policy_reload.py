"""/reload and SIGHUP read the 政策库 too: a new or changed policy is answered and pushed without a restart, in
the same swap as the rest of the base; a policy file with a mistake is refused, the old 政策库 keeps serving and
the admin is told the file, the policy and the field."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bot.core.knowledge.catalog import apply_import, plan_import
from bot.core.messages import Incoming

from .catalog_helpers import TODAY, write_departments_shape
from .conftest import make_settings

ADMIN = "admin1"
NEW_POLICY = """policies:
  - id: local-boat-subsidy
    name: 示例区游船更新补贴
    aliases: [游船更新补贴, 游船补贴]
    department: 财政局
    issuer: 示例区财政局
    document: 示例财〔2026〕9号（示例）
    level: 示例区
    summary: 本区经营游船的小微企业更新为新能源游船的，按购置价的20%给予补贴。
    amount: 按购置价的20%补贴，每艘最高5万元
    claim:
      mode: 免申即享
      how: 区财政局根据船舶登记数据直接拨付
    valid: {start: 2026-01-01, end: 2027-12-31}
    conditions:
      place: [示例区]
      size: [小型, 微型]
    source: 测试
    updated: 2026-11-26
"""
BAD_CONDITION = NEW_POLICY.replace("size: [小型, 微型]", 'industry: {include: ["99"]}')


@pytest.fixture
async def app(tmp_path, clock):
    from bot.app import build

    apply_import(
        plan_import(write_departments_shape(tmp_path / "catalogue.json"), tmp_path / "kb", today=TODAY)
    )
    app = await build(
        make_settings(knowledge_dir=tmp_path / "kb", database_path=tmp_path / "t.db"),
        clock=clock,
        extra_admins=frozenset({ADMIN}),
    )
    yield app
    await app.aclose()


def policy_file(tmp_path):
    return tmp_path / "kb" / "policies" / "boats.yaml"


async def say(app, text="", user="c1", callback=None):
    replies = await app.assistant.handle(Incoming(user, user, text=text or None, callback=callback))
    return replies


def html(replies):
    return "\n".join(r.html for r in replies)


async def test_a_new_policy_is_answered_after_reload_while_questions_keep_arriving(app, tmp_path):
    before = app.assistant.policy_desk
    assert "示例区游船更新补贴" not in html(await say(app, "游船更新补贴能拿吗，我们是示例区的小微企业"))
    policy_file(tmp_path).write_text(NEW_POLICY, encoding="utf-8")
    answers: list[str] = []
    stop = asyncio.Event()

    async def keep_asking(user: str) -> None:
        n = 0
        while not stop.is_set():
            answers.append(html(await say(app, "稳岗返还能拿吗", user=f"{user}-{n}")))
            n += 1
            await asyncio.sleep(0)

    askers = [asyncio.create_task(keep_asking(f"u{k}")) for k in range(3)]
    await asyncio.sleep(0.05)
    reply = html(await say(app, "/reload", user=ADMIN))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*askers)
    assert "已重新加载" in reply and f"{len(before.library) + 1} 条惠企政策" in reply
    assert app.assistant.policy_desk is not before and app.assistant.policy_desk.library.get(
        "local-boat-subsidy"
    )
    # every question was answered, by the old 政策库 or the new one, never by neither
    assert answers and all("稳岗返还" in a for a in answers)
    after = html(await say(app, "游船更新补贴能拿吗，我们是示例区的小微企业", user="later"))
    assert "示例区游船更新补贴" in after and "5万元" in after
    # /profile and /policystats read the same desk
    assert app.assistant.commands.policies is app.assistant.policy_desk


async def test_a_conversation_in_progress_carries_over_the_reload(app, tmp_path):
    first = await say(app, "我们是做软件的小微企业，有什么补贴")
    assert any(b.label == "先看结果" for r in first for row in r.buttons for b in row)
    policy_file(tmp_path).write_text(NEW_POLICY, encoding="utf-8")
    assert (await app.reload()).ok
    skip = next(b.data for r in first for row in r.buttons for b in row if b.label == "先看结果")
    listing = html(await say(app, callback=skip))
    assert "可以享受的政策" in listing and "软件" in listing


async def test_a_bad_condition_is_refused_by_name_and_the_old_library_keeps_serving(app, tmp_path):
    before = app.assistant.policy_desk
    policy_file(tmp_path).write_text(BAD_CONDITION, encoding="utf-8")
    reply = html(await say(app, "/reload", user=ADMIN))
    assert "原来的版本" in reply
    assert "boats.yaml" in reply and "local-boat-subsidy" in reply and "industry.include" in reply
    assert "99" in reply
    assert app.assistant.policy_desk is before
    assert "稳岗返还" in html(await say(app, "稳岗返还能拿吗"))
    policy_file(tmp_path).write_text(NEW_POLICY, encoding="utf-8")
    assert "已重新加载" in html(await say(app, "/reload", user=ADMIN))
    assert app.assistant.policy_desk is not before


async def test_after_a_reload_the_push_tells_subscribers_of_the_new_policy(app, tmp_path, clock):
    listing = await say(app, "我们是示例区的小微企业，做软件的，有什么补贴", user="boss")
    for _ in range(4):
        skip = [b.data for r in listing for row in r.buttons for b in row if b.label == "先看结果"]
        if not skip:
            break
        listing = await say(app, callback=skip[0], user="boss")
    save = next(b.data for r in listing for row in r.buttons for b in row if "保存" in b.label)
    consent = await say(app, callback=save, user="boss")
    subscribe = consent[0].buttons[0][0].data
    await say(app, callback=subscribe, user="boss")
    scheduler = app.assistant.scheduler
    await scheduler.tick(clock.now())
    await scheduler.tick(clock.now())  # the library has not changed since the profile was saved: nothing
    assert not [
        d for d in await app.assistant.outbox.due(clock.now(), 50) if "游船" in d.notification.reply.html
    ]
    policy_file(tmp_path).write_text(NEW_POLICY, encoding="utf-8")
    assert (await app.reload()).ok
    await scheduler.tick(clock.now())
    pushed = [
        d
        for d in await app.assistant.outbox.due(clock.now(), 50)
        if d.notification.recipient.id == "boss" and "游船" in d.notification.reply.html
    ]
    assert len(pushed) == 1 and "/unsubscribe" in pushed[0].notification.reply.html


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
async def test_sighup_reads_the_policy_library_and_tells_the_admins_when_it_cannot(app, tmp_path, clock):
    assert app.reload_on_sighup(asyncio.get_running_loop())
    try:
        before = app.assistant.policy_desk
        policy_file(tmp_path).write_text(NEW_POLICY, encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if app.assistant.policy_desk is not before:
                break
        assert app.assistant.policy_desk.library.get("local-boat-subsidy")
        serving = app.assistant.policy_desk
        policy_file(tmp_path).write_text(BAD_CONDITION, encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        due = []
        for _ in range(200):
            await asyncio.sleep(0.05)
            due = [
                d
                for d in await app.assistant.outbox.due(clock.now(), 10)
                if d.notification.recipient.kind == "admins"
            ]
            if due:
                break
        assert due and "boats.yaml" in due[0].notification.reply.html
        assert "local-boat-subsidy" in due[0].notification.reply.html
        assert app.assistant.policy_desk is serving
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)


async def test_a_broken_policy_cue_file_is_refused_and_the_old_desk_keeps_serving(tmp_path, clock):
    import shutil

    from bot.app import build
    from bot.core.resources import data_dir

    apply_import(
        plan_import(write_departments_shape(tmp_path / "catalogue.json"), tmp_path / "kb", today=TODAY)
    )
    intents = tmp_path / "intents"
    shutil.copytree(data_dir("intents"), intents)
    app = await build(
        make_settings(knowledge_dir=tmp_path / "kb", intents_dir=intents, database_path=tmp_path / "t.db"),
        clock=clock,
        extra_admins=frozenset({ADMIN}),
    )
    try:
        before = app.assistant.policy_desk
        (intents / "policies.yaml").write_text("intent: [\n", encoding="utf-8")
        reply = html(await say(app, "/reload", user=ADMIN))
        assert "原来的版本" in reply and "policies.yaml" in reply
        assert app.assistant.policy_desk is before
        assert "稳岗返还" in html(await say(app, "稳岗返还能拿吗"))
    finally:
        await app.aclose()
