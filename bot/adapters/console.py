"""A terminal chat over the same core as Telegram: no token, no server.

One terminal can play a citizen and a staff member in turn (`:staff`, `:citizen`, `:group 部门`), so the whole
诉求 flow can be tried without Telegram. Buttons are shown numbered; typing the number presses one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
from typing import TYPE_CHECKING, TextIO

from bot.core.clock import Clock, SystemClock
from bot.core.messages import Incoming, Reply
from bot.core.text.markup import html_to_text
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.core.assistant import Assistant

CITIZEN = "console:citizen"
STAFF = "console:staff"

HELP = """控制台命令（以冒号开头，不会发给助手）：
  :citizen          切换为市民身份（默认）
  :staff            切换为工作人员身份（控制台管理员）
  :group 部门        以工作人员身份在某部门工作群中发言（只处理命令和按钮）
  :later 2h / 3d    让时钟前进（演示提醒与时限），随后执行一次提醒检查
  :tick             立即执行一次提醒检查
  :digest [部门]     打印今日日报
  :help             显示本说明
  :quit             退出
数字：按下上一条回复中对应序号的按钮。"""


class OffsetClock:
    """System time plus an offset the console user can move forward, to try deadlines and reminders."""

    def __init__(self, base: Clock):
        self.base, self.tz, self.offset = base, base.tz, dt.timedelta()

    def now(self) -> dt.datetime:
        return self.base.now() + self.offset


class Console:
    def __init__(self, assistant: Assistant, clock: OffsetClock, out: TextIO = sys.stdout):
        self.a = assistant
        self.clock = clock
        self.out = out
        self.user, self.chat, self.group = CITIZEN, CITIZEN, False
        self.buttons: list[str] = []

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def show(self, replies: list[Reply]) -> None:
        self.buttons = []
        for r in replies:
            self.say(html_to_text(r.html))
            labels = []
            for row in r.buttons:
                for b in row:
                    self.buttons.append(b.data)
                    labels.append(f"[{len(self.buttons)}] {b.label}")
            if labels:
                self.say("  ".join(labels))
            self.say("")

    async def drain_outbox(self) -> None:
        outbox = self.a.outbox
        if outbox is None:
            return
        for row in await outbox.due(self.clock.now(), 100):
            rcpt, reply = row.notification.recipient, row.notification.reply
            who = {"user": "市民", "department": "部门工作群", "staff": "工作人员", "admins": "管理员"}.get(
                rcpt.kind, rcpt.kind
            )
            self.say(f"📨 通知 → {who} {rcpt.id}：")
            self.say("   " + html_to_text(reply.html).replace("\n", "\n   "))
            labels = [b.label for r in reply.buttons for b in r]
            if labels:
                self.say("   ［" + " | ".join(labels) + "］")
            await outbox.sent(row.id, self.clock.now())

    def prompt(self) -> str:
        who = "市民" if self.user == CITIZEN else ("工作群" if self.group else "工作人员")
        return f"[{who}] > "

    async def step(self, line: str) -> bool:
        """Handle one typed line; False when the user wants to quit."""
        text = line.rstrip("\n")
        cmd = text.strip()
        if cmd.startswith(":"):
            return await self.control(cmd[1:].split())
        if cmd.isdigit() and self.buttons and len(cmd) <= 2:
            if not 1 <= int(cmd) <= len(self.buttons):
                self.say(f"没有这个序号的按钮，请输入 1–{len(self.buttons)} 之间的数字。")
                return True
            msg = Incoming(self.user, self.chat, callback=self.buttons[int(cmd) - 1], is_group=self.group)
        else:
            msg = Incoming(self.user, self.chat, text=text, is_group=self.group)
        self.show(await self.a.handle(msg))
        await self.drain_outbox()
        return True

    async def control(self, args: list[str]) -> bool:
        name = args[0] if args else "help"
        if name in ("quit", "exit", "q"):
            return False
        if name == "citizen":
            self.user, self.chat, self.group = CITIZEN, CITIZEN, False
            self.say("已切换为市民身份。")
        elif name == "staff":
            self.user, self.chat, self.group = STAFF, STAFF, False
            self.say("已切换为工作人员身份（管理员）。可用 /tickets、/claim N、/reply N 文本 等命令。")
        elif name == "group":
            dept = " ".join(args[1:]) or "行政审批服务局"
            self.user, self.chat, self.group = STAFF, f"group:{dept}", True
            self.say(f"已进入「{dept}」工作群（以工作人员身份）。")
        elif name == "later":
            m = re.fullmatch(r"(\d+)([hdm])", args[1] if len(args) > 1 else "")
            if not m:
                self.say("用法：:later 2h、:later 3d 或 :later 30m")
                return True
            n, unit = int(m.group(1)), m.group(2)
            self.clock.offset += dt.timedelta(**{{"h": "hours", "d": "days", "m": "minutes"}[unit]: n})
            self.say(f"时钟已前进到 {self.clock.now():%Y-%m-%d %H:%M}。")
            await self.tick()
        elif name == "tick":
            await self.tick()
        elif name == "digest":
            dept = " ".join(args[1:]) or None
            self.show([await self.a.digest(dept, self.clock.now().date())])
        else:
            self.say(HELP)
            # the chat commands, from the core's one registry (as staff the console is an admin)
            self.say(html_to_text(self.a.command_help("admin" if self.user == STAFF else "citizen")))
        return True

    async def tick(self) -> None:
        n = await self.a.tick()
        self.say(f"提醒检查完成，新产生 {n} 条通知。")
        await self.drain_outbox()


async def run_console(settings: Settings, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    from bot.app import build

    clock = OffsetClock(SystemClock(settings.timezone))
    app = await build(settings, clock=clock, extra_admins=frozenset({STAFF}))
    assistant = app.assistant
    console = Console(assistant, clock, out)
    interactive = stdin.isatty()
    console.say(html_to_text(assistant.renderer.render("help.html.j2")))
    console.say("\n（控制台模式：输入 :help 查看控制台命令，:quit 退出）\n")
    loop = asyncio.get_running_loop()
    try:
        while True:
            if interactive:
                try:
                    line = await loop.run_in_executor(None, input, console.prompt())
                except EOFError:
                    break
            else:
                line = stdin.readline()
                if not line:
                    break
                console.say(console.prompt() + line.rstrip("\n"))
            if not await console.step(line):
                break
    except KeyboardInterrupt:
        pass
    finally:
        await app.aclose()
        console.say("再见！")
    return 0
