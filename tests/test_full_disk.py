"""A database that refuses writes (a full disk, a read-only file, a busy lock): every staff command and button,
the citizen's intake, rating and comment, in the façade, the console and Telegram, answer with one polite
sentence that nothing was saved — never a raw database error, never an exception."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.adapters.console import STAFF, Console, OffsetClock
from bot.core import callbacks
from bot.core.callbacks import Prefix
from bot.core.messages import Incoming
from bot.core.storage import StoreWriteError
from bot.core.tickets.commands.registry import REGISTRY

FULL = "抱歉，系统存储空间不足，刚才的操作没有保存，请稍后再试或联系管理员。"
NOT_SAVED = "没有保存"
ADMIN, HANDLER, CITIZEN, RATER, COMMENTER = "a1", "h1", "c1", "c2", "c3"
DEPT = "住房和城乡建设局"
APPEAL = "我们小区门口的路灯坏了半个多月了也没人修，晚上很危险"


def refuse_writes(monkeypatch, store) -> None:
    """Every transaction of the store fails as SQLite's full disk does, after the polite translation."""

    @asynccontextmanager
    async def full():
        raise StoreWriteError(FULL)
        yield  # pragma: no cover - makes this an async generator

    monkeypatch.setattr(store.db, "transaction", full)


@pytest.fixture
async def desk(tmp_path, clock, build_app):
    """Tickets in every state the commands need, a rating awaited and a comment awaited; then writes fail."""
    app = await build_app(tmp_path / "t.db", clock, extra_admins={ADMIN, STAFF})
    a = app.assistant
    await a.handle(Incoming(ADMIN, ADMIN, text=f"/staff add {HANDLER} handler {DEPT} 小王"))
    s = a.service

    async def new(citizen: str) -> str:
        return (await s.create(citizen_id=citizen, description=APPEAL, category="城乡建设")).number

    claimed, unclaimed = await new(CITIZEN), await new(CITIZEN)
    resolved, rated = await new(RATER), await new(COMMENTER)
    for number in (claimed, resolved, rated):
        await s.claim(number, HANDLER)
    for number in (resolved, rated):
        await s.resolve(number, HANDLER, "已修复")
    await s.rate(rated, COMMENTER, 2)
    [ask] = await a.handle(Incoming(COMMENTER, COMMENTER, callback=callbacks.data(Prefix.COMMENT, rated)))
    assert "意见" in ask.html
    # a citizen half-way through an intake, at the summary
    await a.handle(Incoming(CITIZEN, CITIZEN, text=APPEAL))
    for data in ("in:ok", "in:skip", "in:nophone", "in:anon:0"):
        await a.handle(Incoming(CITIZEN, CITIZEN, callback=data))
    return app, {"claimed": claimed, "unclaimed": unclaimed, "resolved": resolved, "rated": rated}


def staff_lines(n: dict[str, str]) -> dict[str, str]:
    """A command line that writes, for every staff and admin command that changes something."""
    return {
        "claim": f"/claim {n['unclaimed']}",
        "assign": f"/assign {n['claimed']} {HANDLER}",
        "transfer": f"/transfer {n['claimed']} 公安局 不属于本部门",
        "contact": f"/contact {n['claimed']} 已电话联系",
        "reply": f"/reply {n['claimed']} 已安排维修",
        "note": f"/note {n['claimed']} 内部备注",
        "resolve": f"/resolve {n['claimed']} 已修复",
        "reopen": f"/reopen {n['resolved']} 复查未修好",
        # inside the rating window closing needs a reason (else it is refused before anything is written)
        "close": f"/close {n['resolved']} 诉求人来电表示满意",
        "staff": "/staff add 777 handler 公安局 小李",
    }


def said(replies) -> str:
    assert replies and all(r.html.strip() for r in replies), replies
    return " ".join(r.html for r in replies)


async def test_every_staff_command_says_nothing_was_saved(desk, monkeypatch):
    app, n = desk
    a = app.assistant
    refuse_writes(monkeypatch, app.store)
    for name, line in staff_lines(n).items():
        assert FULL in said(await a.handle(Incoming(ADMIN, ADMIN, text=line))), name
        # the same in a department's staff group, by the handler where the role allows it
        assert said(await a.handle(Incoming(HANDLER, "group:1", text=line, is_group=True))), name
    assert FULL in said(await a.handle(Incoming(ADMIN, ADMIN, text="/staff remove " + HANDLER)))
    # every other registered command (reading ones, and any added later) still answers, without an exception
    for name in REGISTRY.names():
        if name not in staff_lines(n):
            assert said(await a.handle(Incoming(ADMIN, ADMIN, text=f"/{name}"))), name
            assert said(await a.handle(Incoming(ADMIN, ADMIN, text=f"/{name} {n['claimed']}"))), name


async def test_outbox_retry_says_nothing_was_saved(desk, monkeypatch):
    app, _ = desk
    refuse_writes(monkeypatch, app.store)
    for line in ("/outbox retry all", "/outbox retry 1"):
        assert NOT_SAVED in said(await app.assistant.handle(Incoming(ADMIN, ADMIN, text=line))), line


async def test_every_button_says_nothing_was_saved(desk, monkeypatch):
    app, n = desk
    a = app.assistant
    refuse_writes(monkeypatch, app.store)
    presses = [
        (ADMIN, callbacks.data(Prefix.CLAIM, n["unclaimed"])),
        (ADMIN, callbacks.data(Prefix.TRANSFER, n["claimed"], 0)),
        (RATER, callbacks.data(Prefix.RATE, n["resolved"], 5)),
        (RATER, callbacks.data(Prefix.COMMENT, n["rated"])),  # not theirs: refused, nothing to write
        (COMMENTER, callbacks.data(Prefix.RATE, n["rated"], 4)),
    ]
    for user, data in presses:
        text = said(await a.handle(Incoming(user, user, callback=data)))
        assert "Error" not in text and "sqlite" not in text.lower(), data
    assert FULL in said(await a.handle(Incoming(ADMIN, ADMIN, callback=presses[0][1])))
    assert FULL in said(await a.handle(Incoming(RATER, RATER, callback=presses[2][1])))
    # typed instead of pressed
    assert FULL in said(await a.handle(Incoming(RATER, RATER, text="5")))


async def test_a_comment_after_rating_says_nothing_was_saved(desk, monkeypatch):
    app, _ = desk
    refuse_writes(monkeypatch, app.store)
    assert FULL in said(await app.assistant.handle(Incoming(COMMENTER, COMMENTER, text="修得太慢了")))


async def test_intake_submit_keeps_the_draft_and_says_not_submitted(desk, monkeypatch):
    app, _ = desk
    a = app.assistant
    refuse_writes(monkeypatch, app.store)
    text = said(await a.handle(Incoming(CITIZEN, CITIZEN, callback="in:submit")))
    assert "没有提交成功" in text and "已经保存" in text
    # every other step of the intake: told the answer was not saved, the draft where it was
    text = said(await a.handle(Incoming(CITIZEN, CITIZEN, callback="in:edit")))
    assert FULL in text
    monkeypatch.undo()
    [again] = await a.handle(Incoming(CITIZEN, CITIZEN, callback="in:submit"))
    assert "SQ" in again.html  # the saved draft was submitted once the disk had room


async def test_starting_an_intake_says_nothing_was_saved(desk, monkeypatch):
    app, _ = desk
    refuse_writes(monkeypatch, app.store)
    assert FULL in said(await app.assistant.handle(Incoming("c9", "c9", text=APPEAL)))


async def test_the_console_says_nothing_was_saved(desk, monkeypatch):
    app, n = desk
    out = io.StringIO()
    console = Console(app.assistant, OffsetClock(app.clock), out)
    refuse_writes(monkeypatch, app.store)
    await console.control(["staff"])
    for line in staff_lines(n).values():
        before = out.tell()
        assert await console.step(line + "\n")
        assert FULL in out.getvalue()[before:], line
    await console.control(["citizen"])
    before = out.tell()
    assert await console.step(APPEAL + "\n")
    assert FULL in out.getvalue()[before:]


async def test_telegram_staff_command_says_nothing_was_saved(monkeypatch, build_app, tmp_path):
    from tests.test_telegram_e2e import ADMIN as TG_ADMIN
    from tests.test_telegram_e2e import Env, add_staff, file_appeal
    from tests.test_telegram_e2e import env as env_fixture

    # the e2e environment, entered by hand (a fixture of another module)
    gen = env_fixture.__wrapped__(build_app, tmp_path)
    env: Env = await gen.__anext__()
    try:
        await add_staff(env)
        number = await file_appeal(env)
        refuse_writes(monkeypatch, env.assistant._store)
        reply = await env.say(TG_ADMIN, f"/note {number} 内部备注")
        assert reply["text"] == FULL
        reply = await env.say(TG_ADMIN, f"/claim {number}")
        assert reply["text"] == FULL
    finally:
        with pytest.raises(StopAsyncIteration):
            await gen.__anext__()


def _mount_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    return done.returncode == 0


def _fill(path: Path) -> None:
    """Write zeros until the file system has no free byte left."""
    with open(path, "wb", buffering=0) as filler:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    filler.write(b"\0" * size)
            except OSError:
                pass


def _unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


async def test_a_really_full_disk(tmp_path, clock, build_app):
    """On a real full file system (a small tmpfs, where this machine allows mounting one)."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "4m"):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        app = await build_app(disk / "t.db", clock, extra_admins={ADMIN})
        a = app.assistant
        number = (await a.service.create(citizen_id=CITIZEN, description=APPEAL, category="城乡建设")).number
        await a.service.claim(number, ADMIN)
        _fill(disk / "filler")
        texts = []
        for i in range(400):  # each note grows the database until a page cannot be written
            texts.append(
                said(await a.handle(Incoming(ADMIN, ADMIN, text=f"/note {number} 备注{i}" + "很长" * 200)))
            )
            if FULL in texts[-1]:
                break
        assert FULL in texts[-1], texts[-1]
        await app.aclose()
    finally:
        _unmount(disk)


async def test_a_telegram_job_that_cannot_write_is_one_warning_line_without_traceback(caplog):
    import logging
    from types import SimpleNamespace

    from bot.adapters.telegram.app import TelegramBridge
    from tests.conftest import make_settings

    bridge = TelegramBridge(make_settings(), SimpleNamespace(outbox=None), jobs=False)
    with caplog.at_level(logging.WARNING, logger="bot.telegram"):
        await bridge.on_error(None, SimpleNamespace(error=StoreWriteError(FULL)))
    [record] = caplog.records
    assert record.levelno == logging.WARNING and FULL in record.getMessage() and record.exc_info is None
