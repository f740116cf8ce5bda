"""Shared builders for the ticket tests: a small fixture knowledge base, a service on a temp database (an SQLite
file, or the `engine` fixture's database: SQLite, or a PostgreSQL schema of its own when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.core.knowledge.loader import KnowledgeBase
from bot.core.knowledge.models import AppealCategory, Department
from bot.core.messages import Incoming
from bot.core.storage.sqlite import open_sqlite_store
from bot.core.tickets.commands.dispatch import TicketCommands
from bot.core.tickets.domain.models import StaffMember
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.service import TicketService

TZ = DEFAULT_TZ
ADMIN = "admin-1"


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


def small_kb() -> KnowledgeBase:
    kb = KnowledgeBase(root=Path("."))
    for name, aliases in [
        ("公安局", ["公安", "派出所"]),
        ("民政局", ["民政"]),
        ("城市管理局", ["城管", "城管局"]),
        ("行政审批服务局", ["审批局"]),
    ]:
        kb.departments[name] = Department(
            name=name,
            aliases=aliases,
            window="1号窗口",
            address="人民路100号",
            phone="0000-1",
            hours="工作日",
        )
    for cat, dept in [
        ("城乡建设", "城市管理局"),
        ("公安政法", "公安局"),
        ("劳动和社会保障", "民政局"),
        ("其他", "行政审批服务局"),
    ]:
        kb.appeal_categories[cat] = AppealCategory(name=cat, department=dept, keywords=[cat])
    return kb


# where a test's tickets live: an SQLite file, or an engine of tests/store_engines.py (anything with `open`)
Where = Path | str | Any


async def make_service(where: Where, clock: FixedClock, *, staff: bool = True) -> TicketService:
    if isinstance(where, (Path, str)):
        store = await open_sqlite_store(Path(where), clock=clock)
    else:
        store = await where.open(clock=clock)
    service = TicketService(store, small_kb(), clock, load_policies(), {ADMIN})
    if staff:
        for m in [
            StaffMember("h-cg", "城管小王", "handler", ("城市管理局",)),
            StaffMember("h-cg2", "城管小李", "handler", ("城市管理局",)),
            StaffMember("s-cg", "城管张科长", "supervisor", ("城市管理局",)),
            StaffMember("h-ga", "民警小赵", "handler", ("公安局",)),
        ]:
            await store.staff.upsert(m, ADMIN, clock.now())
    return service


def say(user: str, text: str = "", callback: str | None = None, group: bool = False) -> Incoming:
    return Incoming(
        user_id=user, chat_id=("group" if group else user), text=text, callback=callback, is_group=group
    )


async def run(
    cmds: TicketCommands, user: str, text: str = "", callback: str | None = None, group: bool = False
) -> str:
    replies = await cmds.handle(say(user, text, callback, group))
    assert replies is not None, f"not handled: {text or callback}"
    return "\n".join(r.html for r in replies)


class Env:
    def __init__(self, path: Where, clock: FixedClock):
        self.path = path  # each start() opens it again, as another process would
        self.clock = clock
        self.service: TicketService | None = None

    async def start(self, *, staff: bool = True) -> TicketService:
        self.service = await make_service(self.path, self.clock, staff=staff)
        return self.service

    async def restart(self) -> TicketService:
        """Close the database and open it again, as a new bot process would."""
        assert self.service is not None
        await self.service.store.close()
        return await self.start(staff=False)

    @property
    def cmds(self) -> TicketCommands:
        assert self.service is not None
        return TicketCommands(self.service)

    async def close(self) -> None:
        if self.service is not None:
            await self.service.store.close()


async def outbox(service: TicketService) -> list:
    return [
        r.notification
        for r in await service.store.outbox.due(service.clock.now() + dt.timedelta(days=3650), 10_000)
    ]
