"""Commands are defined once: the registry's handlers, the catalog's words, the menus and the help all agree."""

from __future__ import annotations

from bot.core.texts import Texts
from bot.core.tickets.commands.dispatch import command_help, command_menu
from bot.core.tickets.commands.registry import CATALOG, REGISTRY, CommandTexts


def test_every_registered_command_has_words_and_every_word_a_command():
    texts = Texts()
    catalog = set(texts.variable(CATALOG, "commands"))
    assert catalog == set(REGISTRY.names())
    words = CommandTexts(texts)
    for name in REGISTRY.names():
        assert words.summary(name), name


def test_menus_by_scope():
    texts = Texts()
    citizen = [n for n, _ in command_menu(texts, "citizen")]
    staff = [n for n, _ in command_menu(texts, "staff")]
    admin = [n for n, _ in command_menu(texts, "admin")]
    assert {"start", "help", "my", "ticket", "cancel", "withdraw", "profile", "unsubscribe"} == set(citizen)
    assert {"claim", "reply", "resolve", "tickets", "transfer"} <= set(staff) and "staff" not in staff
    assert set(staff) < set(admin) and {"staff", "outbox"} <= set(admin)
    assert all(0 < len(desc) <= 256 for _, desc in command_menu(texts, "admin"))


def test_help_lists_what_the_menu_lists():
    texts = Texts()
    text = command_help(texts, "staff")
    for name, _ in command_menu(texts, "staff"):
        assert f"/{name}" in text
    assert "/staff" not in text.replace("/stats", "")


async def test_usage_comes_from_the_catalog(tmp_path):
    from bot.core.clock import FixedClock
    from tests.test_tickets_helpers import ADMIN, at, make_service, run, say

    service = await make_service(tmp_path / "t.db", FixedClock(at(2026, 11, 23, 10)))
    try:
        from bot.core.tickets.commands.dispatch import TicketCommands

        out = await run(TicketCommands(service), ADMIN, "/transfer")
        assert "用法" in out and "/transfer 编号 部门 理由 — 转派到其他部门" in out
        assert await TicketCommands(service).handle(say(ADMIN, "/nosuchcommand")) is None
    finally:
        await service.store.close()
