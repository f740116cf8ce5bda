"""Commands that run the assistant for people: chat (the terminal console) and run (Telegram)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("chat", help="在终端里与助手对话（无需 Telegram）")
    p.add_argument("--db", default=None, help="诉求数据库路径（默认环境变量 DATABASE_PATH 或 data/zwfw.db）")
    p.set_defaults(run=cmd_chat)
    p = sub.add_parser("run", help="启动 Telegram 机器人（读取 .env）")
    p.set_defaults(run=cmd_run)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.console import run_console

    return asyncio.run(run_console(settings))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_token()
    from bot.adapters.telegram import run

    return run(settings)
