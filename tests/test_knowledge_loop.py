"""The knowledge loop, on both engines: real gaps (no appeals, no answered clarifications, no small talk)
grouped in /gaps and the digest; /teach makes a question an alias and /unteach undoes it, each taking effect at
once; a closed 咨询 ticket's reply becomes a reviewed FAQ that expires; the knowledge files are never edited."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.core.knowledge.catalog import apply_import, plan_import
from bot.core.messages import Incoming

from .catalog_helpers import TODAY, write_departments_shape
from .conftest import make_settings

ADMIN = "admin1"
UNKNOWN = "养的柯基要办证吗"


def db_settings(engine) -> dict:
    return (
        {"database_path": engine.database} if engine.name == "sqlite" else {"database_url": engine.database}
    )


@pytest.fixture
async def app(engine, tmp_path, clock):
    from bot.app import build

    apply_import(
        plan_import(write_departments_shape(tmp_path / "catalogue.json"), tmp_path / "kb", today=TODAY)
    )
    app = await build(
        make_settings(knowledge_dir=tmp_path / "kb", **db_settings(engine)),
        clock=clock,
        extra_admins=frozenset({ADMIN}),
    )
    yield app
    await app.aclose()


async def ask(app, text, user="c1", callback=None):
    replies = await app.assistant.handle(Incoming(user, user, text=text, callback=callback))
    return "\n".join(r.html for r in replies), replies


async def staff(app, text, user=ADMIN):
    replies = await app.assistant.handle(Incoming(user, user, text=text))
    return "\n".join(r.html for r in replies), replies


def files_of(path):
    return {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}


async def test_teaching_a_gap_then_undoing_it(app, tmp_path):
    before = files_of(tmp_path / "kb")
    html, _ = await ask(app, UNKNOWN)
    assert "没有找到" in html or "不在" in html  # nothing in the base says it
    await ask(app, "养柯基犬要不要办证", user="c2")  # the same gap in other words
    await ask(app, "楼下饭店油烟太大了，我要投诉", user="c3")  # an appeal: not a gap
    await ask(app, "你好", user="c4")  # small talk: not a gap
    await ask(app, "烟草证怎么办", user="c5")
    await ask(app, "2", user="c5")  # a clarification the person answered: not a gap
    await ask(app, "烟草证", user="c6")  # one they never answered: a gap
    listing, _ = await staff(app, "/gaps")
    assert "2 次" in listing and "柯基" in listing
    assert "投诉" not in listing and "你好" not in listing
    assert listing.count("烟草证") == 1 and "反问后未选择" in listing
    gap_id = re.search(r"#(\d+) [^#]*柯基", listing).group(1)

    reply, _ = await staff(app, f"/teach {gap_id} 犬类准养证核发")
    assert "已把" in reply and "已生效" in reply
    learned_id = re.search(r"学习编号 (\d+)", reply).group(1)
    html, _ = await ask(app, UNKNOWN, user="c7")
    assert "犬类准养证核发" in html  # effective at once, no restart
    rows = await app.store.learned.recent(5)
    # the group is named by its latest question: that is the one taught, with who taught it and from where
    assert rows[0].question == "养柯基犬要不要办证" and rows[0].taught_by == ADMIN and rows[0].entry_id
    assert rows[0].source == f"q:{gap_id}"

    reply, _ = await staff(app, f"/unteach {learned_id}")
    assert "已撤销" in reply
    html, _ = await ask(app, UNKNOWN, user="c8")
    assert "犬类准养证核发" not in html.split("\n")[0]
    reply, _ = await staff(app, f"/unteach {learned_id}")
    assert "没有可撤销" in reply
    taught, _ = await staff(app, "/taught")
    assert "已撤销" in taught
    assert files_of(tmp_path / "kb") == before  # the knowledge files were never edited


async def test_teaching_refuses_what_it_cannot_do(app):
    reply, _ = await staff(app, "/teach 99999 犬类准养证核发")
    assert "没有找到编号" in reply
    reply, _ = await staff(app, "/teach 不存在的事项 狗证怎么办")
    assert "没有「不存在的事项」这个条目" in reply
    reply, _ = await staff(app, "/teach 犬类准养证核发 怎么办")
    assert "没有剩下" in reply
    reply, _ = await staff(app, "/teach", user="citizen9")
    assert "工作人员" in reply  # not for citizens
    reply, _ = await staff(app, "/reload", user="citizen9")
    assert "已重新加载" not in reply


async def test_a_closed_consultation_becomes_a_reviewed_faq_that_expires(app, clock):
    service = app.assistant.service
    question = "社区老年食堂的用餐补贴怎么领"
    ticket = await service.create(
        citizen_id="c1", description=question, category="其他", source_question=question
    )
    html, replies = await staff(
        app, f"/resolve {ticket.number} 您好，年满60周岁的本区户籍老人凭身份证到社区食堂登记，每餐补贴3元。"
    )
    data = next(b.data for r in replies for row in r.buttons for b in row if b.label == "加入知识库")
    preview, replies = await ask(app, "", user=ADMIN, callback=data)
    assert "将加入知识库的问答" in preview and question in preview and "每餐补贴3元" in preview
    confirm = next(b.data for r in replies for row in r.buttons for b in row if b.label == "确认加入")
    added, _ = await ask(app, "", user=ADMIN, callback=confirm)
    assert "已加入知识库" in added and "已生效" in added
    again, _ = await ask(app, "", user=ADMIN, callback=confirm)
    assert "已经在知识库里" in again  # pressed twice: added once
    html, _ = await ask(app, "老年食堂用餐补贴怎么领", user="c9")
    assert "每餐补贴3元" in html and "有效期至" in html
    (row,) = [r for r in await app.store.learned.recent(5) if r.kind == "faq"]
    assert row.taught_by == ADMIN and row.source == f"诉求 {ticket.number}"
    # after its expiry it is no longer used
    clock.set(clock.now() + dt.timedelta(days=app.settings.faq_expiry_days + 1))
    result = await app.reload()
    assert result.ok
    html, _ = await ask(app, "老年食堂用餐补贴怎么领", user="c10")
    assert "每餐补贴3元" not in html


async def test_an_appeal_ticket_gets_no_knowledge_button(app):
    service = app.assistant.service
    ticket = await service.create(citizen_id="c1", description="路灯坏了半个月", category="其他")
    _, replies = await staff(app, f"/resolve {ticket.number} 已修好")
    assert not any(b.label == "加入知识库" for r in replies for row in r.buttons for b in row)


async def test_the_digest_lists_grouped_gaps_only(app, clock):
    from bot.core.messages import Incoming as In

    for user in ("a", "b", "c"):
        await app.assistant.handle(In(user, user, text=UNKNOWN))
    await app.assistant.handle(In("d", "d", text="楼下饭店油烟太大了，我要投诉"))
    clock.set(clock.now() + dt.timedelta(days=1))
    html = (await app.assistant.digest()).html
    gaps = html.split("知识库待补充")[1]
    assert "柯基" in gaps and "3 次" in gaps and "油烟" not in gaps


async def test_store_gaps_and_learned_rows(engine, clock):
    from bot.core.storage.protocols import NOT_A_GAP, NewLearned

    store = await engine.open(clock=clock)
    try:
        q = store.questions
        await q.log("u1", "宠物护照", "unknown", None, False, gap="near")
        await q.log("u2", "烟草证", "item", "x", False, gap="clarify")
        await q.log("u3", "我要投诉", "appeal", None, False, gap=NOT_A_GAP)
        await q.log("u4", "不知道", "unknown", None, False)  # the old rule: unanswered and no match
        rows = await q.gaps(
            clock.now() - dt.timedelta(hours=1), clock.now() + dt.timedelta(hours=1), limit=10
        )
        assert sorted(r.gap for r in rows) == ["clarify", "near", "nomatch"]
        assert await q.clarified("u2", clock.now() - dt.timedelta(minutes=30)) == 1
        rows = await q.gaps(
            clock.now() - dt.timedelta(hours=1), clock.now() + dt.timedelta(hours=1), limit=10
        )
        assert sorted(r.text for r in rows) == ["不知道", "宠物护照"]
        assert (await q.get(rows[0].id)).text == rows[0].text
        learned = store.learned
        a = await learned.add(
            NewLearned(
                "alias", "宠物护照", "宠物护照怎么办", "q:1", "s1", "小王", clock.now(), entry_id="passport"
            )
        )
        f = await learned.add(
            NewLearned(
                "faq",
                "食堂补贴",
                "食堂补贴怎么领",
                "诉求 SQ1",
                "s1",
                "小王",
                clock.now(),
                answer="每餐3元",
                department="民政局",
                expires=clock.now() + dt.timedelta(days=1),
            )
        )
        assert [x.id for x in await learned.active(clock.now())] == [a.id, f.id]
        assert [x.id for x in await learned.active(clock.now() + dt.timedelta(days=2))] == [a.id]
        undone = await learned.undo(a.id, "s2", clock.now())
        assert undone is not None and undone.undone_by == "s2" and undone.undone_at is not None
        assert await learned.undo(a.id, "s2", clock.now()) is None
        assert [x.id for x in await learned.active(clock.now())] == [f.id]
        assert (await learned.get(f.id)).answer == "每餐3元" and [x.id for x in await learned.recent(5)] == [
            f.id,
            a.id,
        ]
    finally:
        await store.close()
