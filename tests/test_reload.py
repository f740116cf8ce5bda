"""Live reload: /reload (admins), SIGHUP and every /teach read the knowledge base again without a restart. The
swap is one assignment: questions asked meanwhile are all answered, each by the old base or the new one; a base
that fails validation is not swapped in, the old one keeps serving and the admin is told why."""

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
NEW_ITEM = """items:
  - id: boat-licence
    name: 游船经营许可
    department: 县水务局
    imported: {file: by-hand.yaml}
    source: 测试
    updated: 2026-11-26
"""


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


async def ask(app, text, user="c1"):
    replies = await app.assistant.handle(Incoming(user, user, text=text))
    return "\n".join(r.html for r in replies)


async def test_reloading_while_questions_keep_arriving(app, tmp_path):
    assert "游船经营许可" not in await ask(app, "游船经营许可怎么办")
    (tmp_path / "kb" / "imported" / "by-hand.yaml").write_text(NEW_ITEM, encoding="utf-8")
    answers: list[str] = []
    stop = asyncio.Event()

    async def keep_asking(user: str) -> None:
        n = 0
        while not stop.is_set():
            question = ("烟草证快到期了", "游船经营许可怎么办")[n % 2]
            answers.append(await ask(app, question, user=f"{user}-{n}"))
            n += 1
            await asyncio.sleep(0)

    askers = [asyncio.create_task(keep_asking(f"u{k}")) for k in range(3)]
    await asyncio.sleep(0.05)
    old = app.assistant.answering
    during = len(answers)
    result = await app.reload()  # built in a worker thread: the askers keep being answered meanwhile
    during = len(answers) - during
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*askers)
    assert result.ok and result.entries == len(old.kb.entries) + 1
    assert app.assistant.answering is not old and app.answering is app.assistant.answering
    assert during > 0 and all(answers)  # every question got its answer, during the reload too
    renew = [a for a in answers if "烟草" in a]
    assert renew and all("烟草专卖零售许可证延续" in a for a in renew)  # never a half-built index
    assert "游船经营许可" in await ask(app, "游船经营许可怎么办", user="after")
    # the people's conversations survive the swap
    await ask(app, "烟草证怎么办", user="ctx")
    await app.reload()
    assert "烟草专卖零售许可证补办" in await ask(app, "丢了", user="ctx")


async def test_reloading_a_broken_base_keeps_the_old_one_and_says_why(app, tmp_path):
    before = app.assistant.answering
    (tmp_path / "kb" / "imported" / "broken.yaml").write_text("items:\n  - id: [oops\n", encoding="utf-8")
    reply = await ask(app, "/reload", user=ADMIN)
    assert "知识库有错误" in reply and "broken.yaml" in reply and "原来的版本" in reply
    assert app.assistant.answering is before
    assert "烟草专卖零售许可证延续" in await ask(app, "烟草证快到期了")
    (tmp_path / "kb" / "imported" / "broken.yaml").unlink()
    reply = await ask(app, "/reload", user=ADMIN)
    assert "已重新加载" in reply and app.assistant.answering is not before


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
async def test_sighup_reloads_and_tells_the_admins_when_it_cannot(app, tmp_path, clock):
    assert app.reload_on_sighup(asyncio.get_running_loop())
    try:
        (tmp_path / "kb" / "imported" / "by-hand.yaml").write_text(NEW_ITEM, encoding="utf-8")
        before = app.assistant.answering
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if app.assistant.answering is not before:
                break
        assert "游船经营许可" in await ask(app, "游船经营许可怎么办")
        (tmp_path / "kb" / "imported" / "broken.yaml").write_text("items: [", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            await asyncio.sleep(0.05)
            due = await app.assistant.outbox.due(clock.now(), 10)
            if due:
                break
        assert any(
            r.notification.recipient.kind == "admins" and "broken.yaml" in r.notification.reply.html
            for r in due
        )
        assert "游船经营许可" in await ask(app, "游船经营许可怎么办")
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
