"""The channel-free facade that adapters (console, Telegram) talk to.

An adapter turns its updates into `Incoming`, calls `handle`, and sends back the returned replies to the same
chat. Notifications for anybody else (staff groups, the citizen when staff reply, reminders, digests) are queued
in the store's persisted outbox; the adapter drains it with `store.outbox_due` / `outbox_sent` / `outbox_failed`.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.clock import DEFAULT_TZ, Clock, SystemClock
from bot.core.dialogue.context import ContextStore
from bot.core.dialogue.engine import Dialogue, DialogueResult
from bot.core.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.core.matching.matcher import Matcher
from bot.core.messages import Incoming, Reply
from bot.core.render import Renderer
from bot.core.text.normalize import compact

log = logging.getLogger(__name__)


@dataclass
class CoreConfig:
    """What the core needs to know; bot.config.Settings builds one from the environment."""

    knowledge_dir: Path | None = None
    intents_dir: Path | None = None
    templates_dir: Path | None = None
    database_path: str = "data/zwfw.db"
    timezone: dt.tzinfo = DEFAULT_TZ
    admin_ids: set[str] = field(default_factory=set)
    # minutes a dialogue context (last item, last choices) stays valid
    context_ttl_minutes: int = 30


class Assistant:
    def __init__(self, kb: KnowledgeBase, config: CoreConfig, clock: Clock, store=None):  # noqa: ANN001
        self.kb = kb
        self.config = config
        self.clock = clock
        self.matcher = Matcher(kb, intents_dir=config.intents_dir)
        self.renderer = Renderer(kb, config.templates_dir)
        self.dialogue = Dialogue(
            kb, self.matcher, self.renderer, ContextStore(clock, config.context_ttl_minutes)
        )
        self.store = store
        self.service = self.commands = self.intake = None
        self.policies = checked_policies(kb)
        # the working calendar of the configured knowledge base: deadlines, digest days
        self.calendar = self.policies.calendar
        if store is not None:
            from bot.core.tickets import TicketCommands, TicketService
            from bot.core.tickets.intake import IntakeFlow

            self.service = TicketService(store, kb, clock, self.policies, set(config.admin_ids))
            self.commands = TicketCommands(self.service)
            self.intake = IntakeFlow(self.service, store, kb, clock)

    @classmethod
    async def create(
        cls, config: CoreConfig, clock: Clock | None = None, *, with_tickets: bool = True
    ) -> Assistant:
        kb = load_knowledge(config.knowledge_dir)
        clock = clock or SystemClock(config.timezone)
        store = None
        if with_tickets:
            from bot.core.tickets import open_sqlite_store

            Path(config.database_path).parent.mkdir(parents=True, exist_ok=True)
            store = await open_sqlite_store(config.database_path, tz=config.timezone, clock=clock)
        try:
            assistant = cls(kb, config, clock, store)
            if assistant.service is not None:
                # the official notice of a provisional year may have arrived since the last start
                await assistant.service.sync_calendar()
        except BaseException:
            if store is not None:
                await store.close()
            raise
        return assistant

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()

    # -- entry point -------------------------------------------------------------------------------------
    async def handle(self, msg: Incoming) -> list[Reply]:
        """Answer one message or button press; replies go to msg.chat_id."""
        if msg.callback:
            return await self._callback(msg)
        text = msg.text or ""
        stripped = text.strip()
        if stripped.startswith("/"):
            return await self._command(msg, stripped)
        if msg.is_group:
            return []  # in staff groups only commands and buttons are for us
        if self.intake is not None and await self.intake.active(msg.user_id):
            return await self.intake.handle(msg)
        if self.commands is not None:
            comment = await self.commands.take_comment(msg)
            if comment is not None:
                return comment
        result = self.dialogue.respond(msg.user_id, text)
        await self._log_question(msg, result)
        return await self._finish(msg, result)

    async def _finish(self, msg: Incoming, result: DialogueResult) -> list[Reply]:
        replies = list(result.replies)
        if result.start_ticket is not None:
            if self.intake is None:
                replies.append(Reply("抱歉，诉求登记暂不可用，请拨打 12345 热线反映。"))
            else:
                replies += await self.intake.start(
                    msg, result.start_ticket, source_question=result.source_question or None
                )
        return replies

    async def _callback(self, msg: Incoming) -> list[Reply]:
        data = msg.callback or ""
        prefix = data.split(":", 1)[0]
        if prefix == "in" and self.intake is not None:
            return await self.intake.handle(msg)
        if prefix in ("a", "pick", "t"):
            return await self._finish(msg, self.dialogue.callback(msg.user_id, data))
        if self.commands is not None:
            got = await self.commands.handle(msg)
            if got is not None:
                return got
        return [Reply("这个按钮已过期，请重新操作。")]

    async def _command(self, msg: Incoming, text: str) -> list[Reply]:
        head = text.split()[0].split("@")[0].lower()
        if head in ("/start", "/help"):
            return [Reply(self.renderer.render("help.html.j2"))]
        if head == "/cancel":
            if self.intake is not None and await self.intake.active(msg.user_id):
                return await self.intake.handle(Incoming(**{**msg.__dict__, "text": "取消"}))
            return [Reply("当前没有进行中的操作。")]
        if self.commands is not None:
            got = await self.commands.handle(msg)
            if got is not None:
                return got
        return [Reply(self.renderer.render("unknown_command.html.j2", command=head))]

    async def _log_question(self, msg: Incoming, result: DialogueResult) -> None:
        u = result.understanding
        if self.store is None or u is None or u.intent == "smalltalk" or not compact(msg.text):
            return
        try:
            await self.store.log_question(
                user_id=msg.user_id,
                text=msg.text[:500],
                intent=u.intent,
                target=u.target,
                answered=result.answered,
                at=self.clock.now(),
            )
        except Exception:  # the answer matters more than the statistics; log and go on
            log.exception("could not log question")

    # -- periodic work -----------------------------------------------------------------------------------
    async def tick(self) -> int:
        """Queue due reminders (and auto-closes); returns how many notifications were queued."""
        if self.service is None:
            return 0
        from bot.core.tickets import tick

        return await tick(self.service, self.clock.now())

    async def digest(
        self, department: str | None = None, date: dt.date | None = None, period: str = "day"
    ) -> Reply:
        """The digest as it would be sent on `date` (default today) for one department or overall."""
        if self.service is None:
            return Reply("诉求功能未启用，没有日报可看。")
        from bot.core.tickets import build_digest

        now = self.clock.now()
        if date is not None and date != now.date():
            now = dt.datetime.combine(date, dt.time(8, 30), tzinfo=now.tzinfo)
        return await build_digest(
            self.store,
            now=now,
            period=period,
            department=department,
            kb=self.kb,
            policies=self.service.policies,
        )


def checked_policies(kb: KnowledgeBase):  # noqa: ANN202 - SlaPolicies, imported lazily with the ticket package
    """The SLA policies and working calendar of the knowledge base; a bad sla.yaml or calendar.yaml stops
    start-up like any other knowledge file."""
    from bot.core.tickets.calendar import CalendarError
    from bot.core.tickets.sla import SlaConfigError, policies_from_kb

    try:
        return policies_from_kb(kb)
    except (CalendarError, SlaConfigError) as exc:
        raise KnowledgeError([str(exc)]) from None


def freeze_startup_objects() -> None:
    """Call once the assistant is built, in a long-running process (the bot, the console).

    The knowledge base, the indexes and jieba's dictionaries are ~250,000 objects that live as long as the
    process; each full cyclic-GC pass walked them all and paused answering for ~100 ms (the max latencies in
    bench/bench_telegram.py). Frozen, they are left out of collections; nothing else changes."""
    gc.collect()
    gc.freeze()
