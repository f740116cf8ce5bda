"""Every staff command is refused to a citizen and to staff of another department, and nothing changes."""

from __future__ import annotations

import pytest

from bot.core.clock import FixedClock
from tests.test_tickets_helpers import ADMIN, Env, at, run

STAFF_COMMANDS = [
    "/claim {n}",
    "/assign {n} h-cg",
    "/transfer {n} 公安局 不归我们管",
    "/contact {n} 已联系",
    "/reply {n} 您好",
    "/note {n} 内部",
    "/resolve {n} 已处理",
    "/reopen {n} 复查",
    "/close {n}",
]


@pytest.fixture
async def env(engine):
    e = Env(engine, FixedClock(at(2026, 11, 23, 9, 30)))
    await e.start()
    yield e
    await e.close()


async def _snapshot(env, number):
    t = await env.service.get(number)
    return (t.state, t.handler, t.department, t.version, len(await env.service.events(t)))


@pytest.mark.parametrize(
    "template", [*STAFF_COMMANDS, "/tickets", "/tickets overdue", "/stats", "/staff list"]
)
async def test_citizen_is_refused_every_staff_command(env, template):
    t = await env.service.create(citizen_id="c1", description="路面塌陷", category="城乡建设")
    before = await _snapshot(env, t.number)
    out = await run(env.cmds, "c1", template.format(n=t.number))  # even the ticket's own citizen
    assert "仅供工作人员" in out or "仅限管理员" in out
    assert await _snapshot(env, t.number) == before


@pytest.mark.parametrize("template", STAFF_COMMANDS)
async def test_other_department_is_refused(env, template):
    t = await env.service.create(citizen_id="c1", description="路面塌陷", category="城乡建设")
    before = await _snapshot(env, t.number)
    out = await run(env.cmds, "h-ga", template.format(n=t.number))
    assert "城市管理局承办" in out and "公安局" in out
    assert await _snapshot(env, t.number) == before


async def test_other_department_cannot_view_or_list(env):
    t = await env.service.create(citizen_id="c1", description="路面塌陷", category="城乡建设")
    assert "城市管理局承办" in await run(env.cmds, "h-ga", f"/ticket {t.number}")
    assert "只能查看公安局" in await run(env.cmds, "h-ga", "/tickets dept 城市管理局")
    assert t.number not in await run(env.cmds, "h-ga", "/tickets")


async def test_buttons_are_checked_too(env):
    t = await env.service.create(citizen_id="c1", description="路面塌陷", category="城乡建设")
    before = await _snapshot(env, t.number)
    assert "城市管理局承办" in await run(env.cmds, "h-ga", callback=f"claim:{t.number}")
    assert "仅供工作人员" in await run(env.cmds, "c1", callback=f"xfer:{t.number}")
    assert "仅供工作人员" in await run(env.cmds, "c1", callback=f"xfer:{t.number}:0")
    assert await _snapshot(env, t.number) == before


async def test_handler_limits_inside_the_department(env):
    cmds = env.cmds
    t = await env.service.create(citizen_id="c1", description="占道经营", category="城乡建设")
    await run(cmds, "h-cg", f"/claim {t.number}")
    assert "已由 城管小王 认领" in await run(cmds, "h-cg2", f"/claim {t.number}")
    assert "其他同事" in await run(cmds, "h-cg2", f"/reply {t.number} 您好")
    assert "负责人" in await run(cmds, "h-cg2", f"/assign {t.number} h-cg2")
    assert "仅限管理员" in await run(cmds, "s-cg", "/staff add x handler 公安局")
    # the supervisor can reassign, and the colleague can then work on it
    assert "城管小李" in await run(cmds, "s-cg", f"/assign {t.number} h-cg2")
    assert "答复已发送" in await run(cmds, "h-cg2", f"/reply {t.number} 您好，已处理")
    assert "不属于城市管理局" in await run(cmds, "s-cg", f"/assign {t.number} h-ga")


async def test_admin_manages_staff(env):
    cmds = env.cmds
    assert "已登记" in await run(cmds, ADMIN, "/staff add u9 handler 公安,民政 老周")
    listing = await run(cmds, ADMIN, "/staff list")
    assert "老周" in listing and "公安局、民政局" in listing
    assert "没有找到部门" in await run(cmds, ADMIN, "/staff add u9 handler 火星局")
    assert "用法" in await run(cmds, ADMIN, "/staff dance")
    assert "已移除" in await run(cmds, ADMIN, "/staff remove u9")
    assert "仅供工作人员" in await run(cmds, "u9", "/tickets")


async def test_unknown_staff_subcommand_gives_usage(env):
    assert "用法" in await run(env.cmds, "h-cg", "/tickets whatever")
    assert "用法" in await run(env.cmds, "h-cg", "/claim")
    assert "用法" in await run(env.cmds, "h-cg", "/stats year")
