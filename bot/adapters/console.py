"""A terminal chat over the same core as Telegram: no token, no server.

One terminal can play a citizen and a staff member in turn (`:staff`, `:citizen`, `:group 部门`), so the whole
诉求 flow can be tried without Telegram. Buttons are shown numbered; typing the number presses one. What the
console itself prints is in templates/console.txt.j2.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import mimetypes
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.core.clock import Clock, SystemClock
from bot.core.media import Location, Media
from bot.core.messages import Incoming, Reply
from bot.core.storage.protocols import StoreWriteError
from bot.core.text.markup import html_to_text
from bot.core.text.unicode import encodable
from bot.core.texts import Texts
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.core.assistant import Assistant

CITIZEN = "console:citizen"
STAFF = "console:staff"

SAYINGS = "console.txt.j2"
DEFAULT_GROUP = "行政审批服务局"  # data: the department of `:group` without a name
LATER_MAX = dt.timedelta(days=366)  # one `:later` step; further would leave the calendar's years


class OffsetClock:
    """System time plus an offset the console user can move forward, to try deadlines and reminders."""

    def __init__(self, base: Clock):
        self.base, self.tz, self.offset = base, base.tz, dt.timedelta()

    def now(self) -> dt.datetime:
        return self.base.now() + self.offset


class Console:
    def __init__(
        self, assistant: Assistant, clock: OffsetClock, out: TextIO = sys.stdout, texts: Texts | None = None
    ):
        self.a = assistant
        self.clock = clock
        self.out = out
        self.texts = texts or getattr(assistant, "texts", None) or Texts()
        self.user, self.chat, self.group = CITIZEN, CITIZEN, False
        self.buttons: list[str] = []

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def words(self, what: str, /, **facts: object) -> str:
        """One of the console's own sentences (templates/console.txt.j2)."""
        return self.texts.say(SAYINGS, what, **facts)

    def show(self, replies: list[Reply]) -> None:
        self.buttons = []
        for r in replies:
            self.show_media(r.media)
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
        try:
            await self._drain_outbox()
        except StoreWriteError as exc:  # shown, but not marked sent: they are shown again next time
            self.say(str(exc))

    async def _drain_outbox(self) -> None:
        outbox = self.a.outbox
        if outbox is None:
            return
        for row in await outbox.due(self.clock.now(), 100):
            rcpt, reply = row.notification.recipient, row.notification.reply
            self.say(self.words("notification", kind=rcpt.kind, id=rcpt.id))
            self.show_media(reply.media, indent="   ")
            self.say("   " + html_to_text(reply.html).replace("\n", "\n   "))
            labels = [b.label for r in reply.buttons for b in r]
            if labels:
                self.say("   ［" + " | ".join(labels) + "］")
            await outbox.sent(row.id, self.clock.now())

    def show_media(self, media: tuple[Media, ...], indent: str = "") -> None:
        for m in media:
            name = Path(m.path).name if m.path else m.file_name
            self.say(indent + self.words("media_line", kind=m.kind, name=name, caption=m.caption))

    def prompt(self) -> str:
        role = "citizen" if self.user == CITIZEN else ("group" if self.group else "staff")
        return self.words("prompt", role=role) + " "

    async def step(self, line: str) -> bool:
        """Handle one typed line; False when the user wants to quit."""
        text = encodable(line.rstrip("\n"))  # a lone surrogate could be neither stored nor printed
        cmd = text.strip()
        if cmd.startswith(":"):
            return await self.control(cmd[1:].split())
        # ASCII digits only: "²" and "١" pass isdigit() but are no button number int() can read
        if cmd.isascii() and cmd.isdigit() and self.buttons and len(cmd) <= 2:
            if not 1 <= int(cmd) <= len(self.buttons):
                self.say(self.words("no_such_button", count=len(self.buttons)))
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
            self.say(self.words("as_citizen"))
        elif name == "staff":
            self.user, self.chat, self.group = STAFF, STAFF, False
            self.say(self.words("as_staff"))
        elif name == "group":
            dept = " ".join(args[1:]) or DEFAULT_GROUP
            self.user, self.chat, self.group = STAFF, f"group:{dept}", True
            self.say(self.words("in_group", department=dept))
        elif name == "later":
            m = re.fullmatch(r"(\d+)([hdm])", args[1] if len(args) > 1 else "")
            if not m:
                self.say(self.words("later_usage"))
                return True
            n, unit = int(m.group(1)), m.group(2)
            step = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "m": dt.timedelta(minutes=1)}[unit]
            if n > LATER_MAX // step:
                self.say(self.words("later_too_far", days=LATER_MAX.days))
                return True
            self.clock.offset += n * step
            self.say(self.words("clock_moved", now=self.clock.now()))
            await self.tick()
        elif name == "tick":
            await self.tick()
        elif name == "attach":
            await self.attach(args[1:])
        elif name == "pin":
            await self.pin(args[1:])
        elif name == "digest":
            department = " ".join(args[1:]) or None
            self.show([await self.a.digest(department, self.clock.now().date())])
        else:
            self.say(self.words("help"))
            # the chat commands, from the core's one registry (as staff the console is an admin)
            self.say(html_to_text(self.a.command_help("admin" if self.user == STAFF else "citizen")))
        return True

    async def attach(self, args: list[str]) -> None:
        """`:attach PATH [说明]`: a local file as the channel would hand it over. A caption that is a command
        (/reply 7 已修好) is the message's text, as under a photo on Telegram."""
        if not args:
            self.say(self.words("attach_usage"))
            return
        caption = " ".join(args[1:])
        text = caption if caption.startswith("/") else ""
        try:
            media = await asyncio.to_thread(
                local_media, args[0], "" if text else caption, self.user, self.clock.now()
            )
        except OSError:
            self.say(self.words("no_such_file", path=args[0]))
            return
        await self.send(Incoming(self.user, self.chat, text=text, is_group=self.group, media=(media,)))

    async def pin(self, args: list[str]) -> None:
        try:
            lat, lon = float(args[0]), float(args[1])
        except (IndexError, ValueError):
            self.say(self.words("pin_usage"))
            return
        title = " ".join(args[2:]) or None
        await self.send(
            Incoming(self.user, self.chat, is_group=self.group, location=Location(lat, lon, title))
        )

    async def send(self, msg: Incoming) -> None:
        self.show(await self.a.handle(msg))
        await self.drain_outbox()

    async def tick(self) -> None:
        try:
            n = await self.a.tick()
        except StoreWriteError as exc:
            self.say(str(exc))
            return
        self.say(self.words("ticked", count=n))
        await self.drain_outbox()


def local_media(name: str, caption: str, sender: str, at: dt.datetime) -> Media:
    """A file on this machine as a `Media`: the kind from its type, the unique id from its content."""
    path = Path(name).expanduser()
    data = path.read_bytes()
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    kind = "document"
    if mime.startswith("image/") and mime != "image/gif":
        kind = "photo"
    elif mime.startswith("video/"):
        kind = "video"
    elif mime in ("audio/ogg", "audio/opus"):
        kind = "voice"
    elif mime.startswith("audio/"):
        kind = "audio"
    digest = hashlib.sha256(data).hexdigest()[:32]
    return Media(
        kind,
        f"local:{path.resolve()}",
        digest,
        len(data),
        caption,
        mime,
        path.name,
        sender,
        at,
        path=str(path.resolve()),
    )


async def read_local(media: Media) -> bytes:
    """The bytes of a console attachment (for MEDIA_STORE_DIR)."""
    return await asyncio.to_thread(Path(media.path or media.file_id.removeprefix("local:")).read_bytes)


async def run_console(
    settings: Settings, stdin: TextIO | None = sys.stdin, out: TextIO | None = sys.stdout
) -> int:
    from bot.app import build

    if out is None:  # started with its output closed (`>&-`): there is nobody to talk to
        return 0
    clock = OffsetClock(SystemClock(settings.timezone))
    app = await build(settings, clock=clock, extra_admins=frozenset({STAFF}))
    app.reload_on_sighup(asyncio.get_running_loop())  # kill -HUP <pid>, as for the Telegram bot
    try:
        assistant = app.assistant
        assistant.set_media_fetch(read_local)
        console = Console(assistant, clock, out)
        console.say(html_to_text(assistant.renderer.render("help.html.j2")))
        console.say("\n" + console.words("welcome") + "\n")
        await _converse(console, stdin)
    except KeyboardInterrupt:
        pass
    finally:  # always, or the database's threads would keep the process from exiting
        await app.aclose()
    console.say(console.words("goodbye"))
    return 0


async def _converse(console: Console, stdin: TextIO | None) -> None:
    """Read lines until the input ends (EOF, or no input at all: `<&-`) or the person quits."""
    if stdin is None:
        return
    if hasattr(stdin, "reconfigure"):  # bytes that are not UTF-8 become "�" instead of stopping the chat
        stdin.reconfigure(errors="replace")
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            try:
                line = await loop.run_in_executor(None, input, console.prompt())
            except EOFError:
                return
        else:
            line = stdin.readline()
            if not line:
                return
            console.say(console.prompt() + line.rstrip("\n"))
        if not await console.step(line):
            return
