"""The channel-free facade that adapters (console, Telegram) talk to.

An adapter turns its updates into `Incoming`, calls `handle`, and sends back the returned replies to the same
chat. Notifications for anybody else (staff groups, the citizen when staff reply, reminders, digests) are queued
in the store's persisted outbox; the adapter drains it with `store.outbox_due` / `outbox_sent` / `outbox_failed`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.core import callbacks
from bot.core.answering.context import ContextStore
from bot.core.answering.dialogue import Dialogue, DialogueResult
from bot.core.answering.matcher import Matcher
from bot.core.answering.render import Renderer
from bot.core.clock import Clock
from bot.core.knowledge import KnowledgeBase
from bot.core.leases import Leases, process_owner
from bot.core.media_store import Fetch
from bot.core.messages import Incoming, Reply
from bot.core.outbox import Outbox
from bot.core.scheduler import Scheduler
from bot.core.storage.protocols import NOT_A_GAP, StoreWriteError
from bot.core.text.normalize import compact
from bot.core.text.unicode import encodable
from bot.core.texts import Texts
from bot.core.tickets.commands.dispatch import command_help, command_menu
from bot.core.tickets.commands.registry import Scope

if TYPE_CHECKING:
    from bot.core.answering.policy_dialogue import PolicyDialogue
    from bot.core.policies.desk import PolicyDesk
    from bot.core.storage import Store
    from bot.core.tickets.attachments import AttachmentDesk
    from bot.core.tickets.commands.dispatch import TicketCommands
    from bot.core.tickets.domain.sla import SlaPolicies
    from bot.core.tickets.intake.flow import IntakeFlow
    from bot.core.tickets.service import TicketService

log = logging.getLogger(__name__)

SAYINGS = "assistant.html.j2"  # the assistant's own few sentences
# how long an update id is remembered as handled: Telegram redelivers an update for up to a day
UPDATE_RETENTION = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Answering:
    """Everything that answers questions, built once from one knowledge base (see bot/app.py)."""

    kb: KnowledgeBase
    matcher: Matcher
    renderer: Renderer
    templates_dir: Path | None = None
    # taught entries of the learned overlay that were left out (their entry is gone, or they expired)
    overlay_skipped: tuple[str, ...] = ()


@dataclass
class TicketDesk:
    """The 诉求 side: the store, the lifecycle service, staff commands and the intake dialogue."""

    store: Store
    service: TicketService
    commands: TicketCommands
    intake: IntakeFlow
    # photos, files and pins outside an intake (bot/core/tickets/attachments.py)
    attachments: AttachmentDesk | None = None


class Facade(Protocol):
    """What an adapter may use: answer a message, drain the outbox, run the periodic work. Nothing else of the
    core (no store, no ticket internals) is an adapter's business."""

    clock: Clock
    outbox: Outbox | None
    scheduler: Scheduler | None

    async def handle(self, msg: Incoming) -> list[Reply]: ...
    async def first_time(self, update_id: int) -> bool: ...
    def command_menu(self, scope: Scope) -> list[tuple[str, str]]: ...
    async def tick(self) -> int: ...
    async def staff_user_ids(self) -> list[str]: ...
    async def close(self) -> None: ...
    def set_media_fetch(self, fetch: Fetch) -> None: ...


class Assistant:
    def __init__(
        self,
        answering: Answering,
        clock: Clock,
        desk: TicketDesk | None = None,
        *,
        policies: SlaPolicies | None = None,
        context_ttl_minutes: int = 30,
        contexts: ContextStore | None = None,
        owner: str | None = None,
        review_days: int | None = None,
        policy_desk: PolicyDesk | None = None,
    ):
        self.clock = clock
        self.context_ttl = dt.timedelta(minutes=context_ttl_minutes)
        self.review_days = review_days  # the monthly 通报 lists entries not reviewed for longer
        self.texts = Texts(answering.templates_dir)
        # in memory, or shared through the database when several processes answer one person (bot/app.py)
        self.contexts = contexts or ContextStore(clock, context_ttl_minutes)
        # the answering parts and their dialogue, held as one value: a reload replaces it in one assignment
        # (swap_answering), so a message is always answered by one base whole, never half of each
        self._live = (
            answering,
            Dialogue(answering.kb, answering.matcher, answering.renderer, self.contexts),
        )
        # this process among those sharing the database: the owner of its outbox claims and leases
        self.owner = owner or process_owner()
        self._store = desk.store if desk else None
        self.service = desk.service if desk else None
        self.commands = desk.commands if desk else None
        self.intake = desk.intake if desk else None
        self.attachments = desk.attachments if desk else None
        self.policies = policies
        # 惠企政策 (bot/core/policies/desk.py): the policy questions and the push (直达快享), when the base has a 政策库
        self.policy_dialogue: PolicyDialogue | None = None
        if policy_desk is not None:
            # imported here: a command that answers without the 政策库 (ask, match) does not load it
            from bot.core.answering.policy_dialogue import PolicyDialogue

            self.policy_dialogue = PolicyDialogue(
                policy_desk, _entry_names(self.kb), self._looks_like_question
            )
        self._policy_desk = policy_desk
        # what adapters use besides handle(): the outbox they drain and the periodic work they schedule
        self.outbox: Outbox | None = None
        self.scheduler: Scheduler | None = None
        if desk is not None and policies is not None:
            self.outbox = Outbox(desk.store.outbox, clock, self.owner)
            learning = getattr(desk.service, "routing", None)
            self.scheduler = Scheduler(
                policies.calendar,
                self.outbox,
                clock,
                digest=self._daily_digest,
                tick=self._tick,
                leases=Leases(desk.store.leases, clock, self.owner),
                retrain=learning.due if learning is not None else None,
                push=policy_desk.push if policy_desk is not None else None,
                push_hours=policy_desk.push_hours if policy_desk is not None else None,
            )

    # -- the answering parts, reloadable ----------------------------------------------------------------------
    @property
    def answering(self) -> Answering:
        return self._live[0]

    @property
    def dialogue(self) -> Dialogue:
        return self._live[1]

    @property
    def kb(self) -> KnowledgeBase:
        return self._live[0].kb

    @property
    def matcher(self) -> Matcher:
        return self._live[0].matcher

    @property
    def renderer(self) -> Renderer:
        return self._live[0].renderer

    def swap_answering(self, answering: Answering) -> None:
        """Answer from now on with a newly built (and fully indexed) base; conversations keep their context."""
        contexts = self._live[1].contexts
        self._live = (answering, Dialogue(answering.kb, answering.matcher, answering.renderer, contexts))
        # the ticket side reads departments and 诉求 categories from the same base
        for part in (self.service, self.intake):
            if part is not None and hasattr(part, "kb"):
                part.kb = answering.kb

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()

    def command_menu(self, scope: Scope) -> list[tuple[str, str]]:
        """(command, description) pairs for the channel's command menu of `scope` (citizen, staff, admin)."""
        return command_menu(self.texts, scope)

    def command_help(self, scope: Scope) -> str:
        return command_help(self.texts, scope)

    def set_media_fetch(self, fetch: Fetch) -> None:
        """How the channel hands over a file's bytes (`async fetch(media) -> bytes`); used only when local
        copies are kept (MEDIA_STORE_DIR)."""
        keeper = getattr(self.service, "media_keeper", None)
        if keeper is not None:
            keeper.fetch = fetch

    async def staff_user_ids(self) -> list[str]:
        """Everyone registered as staff (for the channel's staff command menus)."""
        if self.service is None:
            return []
        return [m.user_id for m in await self.service.list_staff()]

    # -- entry point -------------------------------------------------------------------------------------
    async def first_time(self, update_id: int) -> bool:
        """True for the first delivery of a channel's update id, in whichever process sharing the database
        it arrives (ids are remembered for UPDATE_RETENTION); always True without a database."""
        if self._store is None:
            return True
        return await self._store.updates.first_time(update_id, self.clock.now())

    async def handle(self, msg: Incoming) -> list[Reply]:
        """Answer one message or button press; replies go to msg.chat_id."""
        try:
            return await self._handle(_storable(msg))
        except StoreWriteError as exc:
            # a full disk, a read-only or busy database: whatever was being written, the person hears that it
            # was not saved (the message says so politely); what was saved before stays as it was
            log.warning("a write for %s was refused: %s", msg.user_id, exc)
            return [Reply(str(exc))]

    async def _handle(self, msg: Incoming) -> list[Reply]:
        if msg.callback is not None:  # a button, even one whose data is empty
            return await self._callback(msg)
        text = msg.text or ""
        stripped = text.strip()
        if stripped.startswith("/"):
            return await self._command(msg, stripped)
        if msg.is_group:
            return []  # in staff groups only commands and buttons are for us
        if self.intake is not None and await self.intake.active(msg.user_id):
            return await self._intake(msg)
        if msg.media or msg.location is not None:
            # a bare photo, file or pin: "您是要反映问题吗？" with the 诉求 offer
            if self.attachments is None:
                return [Reply(self.texts.say(SAYINGS, "tickets_unavailable"))]
            return await self.attachments.offer(msg)
        if self.commands is not None:
            comment = await self.commands.take_comment(msg)
            if comment is not None:
                return comment
            rating = await self._typed_rating(msg, stripped)
            if rating is not None:
                return rating
        if self.policy_dialogue is not None:
            answered = await self.policy_dialogue.handle(msg)
            if answered is not None:
                return answered
        result = await self._respond(msg.user_id, text)
        await self._log_question(msg, result)
        return await self._finish(msg, result)

    async def _respond(
        self, user_id: str, text: str | None = None, callback: str | None = None
    ) -> DialogueResult:
        """The dialogue's answer to a message (or a button of its own), with the person's context read before
        and written after when it is shared between processes."""
        await self.contexts.load(user_id)
        if callback is not None:
            result = self.dialogue.callback(user_id, callback)
        else:
            result = self.dialogue.respond(user_id, text or "")
        try:
            await self.contexts.save(user_id)
        except Exception:  # noqa: BLE001 - the answer matters more than remembering it; logged
            log.exception("could not save the dialogue context of %s", user_id)
        return result

    async def _clarified(self, user_id: str) -> None:
        """The person picked one of the choices they were offered: their clarification was no gap."""
        if self._store is None:
            return
        try:
            await self._store.questions.clarified(user_id, self.clock.now() - self.context_ttl)
        except Exception:  # the answer matters more than the statistics; log and go on
            log.exception("could not mark a clarification as answered")

    async def _finish(self, msg: Incoming, result: DialogueResult) -> list[Reply]:
        replies = list(result.replies)
        if result.show_tickets and self.commands is not None:
            # "我的诉求怎么样了": the person's own tickets, as /my shows them
            mine = await self.commands.handle(Incoming(**{**msg.__dict__, "text": "/my"}))
            if mine is not None:
                replies = list(mine)
        if result.start_ticket is not None:
            if self.intake is None:
                replies.append(Reply(self.texts.say(SAYINGS, "tickets_unavailable")))
            else:
                replies += await self.intake.start(
                    msg,
                    result.start_ticket,
                    source_question=result.source_question or None,
                    urgent=result.urgent,
                )
        return replies

    async def _typed_rating(self, msg: Incoming, text: str) -> list[Reply] | None:
        """A score typed instead of pressed ("5") while one of the person's tickets waits for a rating."""
        score = unicodedata.normalize("NFKC", text).rstrip("分星 ")
        if len(score) != 1 or score not in "12345" or self.service is None or self.commands is None:
            return None
        ticket = await self.service.awaiting_rating_of(msg.user_id)
        if ticket is None:
            return None
        press = Incoming(
            msg.user_id, msg.chat_id, callback=callbacks.data(callbacks.Prefix.RATE, ticket.number, score)
        )
        return await self.commands.handle(press)

    async def _intake(self, msg: Incoming) -> list[Reply]:
        """A message or button during an intake. When the person chose to have a question answered first, it
        is answered and the intake's current step is asked again."""
        assert self.intake is not None
        outcome = await self.intake.handle(msg)
        if outcome.question is None:
            return outcome.replies
        result = await self._respond(msg.user_id, outcome.question)
        await self._log_question(Incoming(msg.user_id, msg.chat_id, text=outcome.question), result)
        return [*outcome.replies, *result.replies, *await self.intake.resume(msg.user_id)]

    async def _callback(self, msg: Incoming) -> list[Reply]:
        data = msg.callback or ""
        who = callbacks.owner(data)
        if who == "intake" and self.intake is not None:
            return await self._intake(msg)
        if who == "attachments" and self.attachments is not None:
            return await self.attachments.press(msg)
        if who == "dialogue":
            result = await self._respond(msg.user_id, callback=data)
            if result.picked:
                await self._clarified(msg.user_id)
            return await self._finish(msg, result)
        if who == "policies" and self.policy_dialogue is not None:
            return await self.policy_dialogue.callback(msg)
        if self.commands is not None:
            got = await self.commands.handle(msg)
            if got is not None:
                return got
        return [Reply(self.texts.say(SAYINGS, "button_expired"))]

    async def _command(self, msg: Incoming, text: str) -> list[Reply]:
        head = text.split()[0].split("@")[0].lower()
        if head in ("/start", "/help"):
            return [Reply(self.renderer.render("help.html.j2"))]
        if head == "/cancel":
            if self.intake is not None and await self.intake.active(msg.user_id):
                return (await self.intake.handle(Incoming(**{**msg.__dict__, "text": "取消"}))).replies
            return [Reply(self.texts.say(SAYINGS, "nothing_to_cancel"))]
        if self.commands is not None:
            got = await self.commands.handle(msg)
            if got is not None:
                return got
        return [Reply(self.renderer.render("unknown_command.html.j2", command=head))]

    async def _log_question(self, msg: Incoming, result: DialogueResult) -> None:
        u = result.understanding
        if result.picked:
            await self._clarified(msg.user_id)
        if self._store is None or u is None or u.intent == "smalltalk" or not compact(msg.text):
            return
        try:
            await self._store.questions.log(
                user_id=msg.user_id,
                text=msg.text[:500],
                intent=u.intent,
                target=u.target,
                answered=result.answered,
                at=self.clock.now(),
                gap=gap_kind(result),
            )
        except Exception:  # the answer matters more than the statistics; log and go on
            log.exception("could not log question")

    # -- periodic work -----------------------------------------------------------------------------------
    async def tick(self) -> int:
        """Queue due reminders (and auto-closes); returns how many were recorded."""
        return await self.scheduler.tick() if self.scheduler is not None else 0

    async def _tick(self, now: dt.datetime) -> int:
        from bot.core.tickets.reminders import tick

        assert self.service is not None and self._store is not None
        queued = await tick(self.service, now)
        # housekeeping of what processes share, done by whichever holds the tick
        await self._store.updates.forget(now - UPDATE_RETENTION)
        await self.contexts.purge()
        await self._retry_copies(now)
        return queued

    async def _retry_copies(self, now: dt.datetime) -> None:
        """Local copies of attachments that failed, tried again (only with MEDIA_STORE_DIR)."""
        keeper = getattr(self.service, "media_keeper", None)
        if keeper is None or self._store is None:
            return
        from bot.core.tickets.copies import retry_copies

        try:
            await retry_copies(self._store, keeper, now)
        except Exception:  # noqa: BLE001 - the reminders are queued; the copies wait for the next tick
            log.exception("retrying local copies of attachments failed")

    async def _daily_digest(self, department: str | None, day: dt.date) -> Reply:
        return await self.digest(department, day)

    async def digest(
        self, department: str | None = None, date: dt.date | None = None, period: str = "day"
    ) -> Reply:
        """The digest as it would be sent on `date` (default today) for one department or overall."""
        if self.service is None:
            return Reply(self.texts.say(SAYINGS, "no_digest"))
        from bot.core.tickets.reporting.digest import build_digest

        now = self.clock.now()
        if date is not None and date != now.date():
            now = dt.datetime.combine(date, dt.time(8, 30), tzinfo=now.tzinfo)
        return await build_digest(
            self.service.store,
            now=now,
            period=period,
            department=department,
            kb=self.kb,
            policies=self.service.policies,
            texts=self.service.texts,
            workflow=self.service.workflow,
            gap_key=self.matcher.gap_key,
            gap_grams=self.matcher.gap_grams,
            review_days=self.review_days,
        )

    def _looks_like_question(self, text: str) -> bool:
        """A message the matcher takes for a question about one entry, or a 诉求 (while a policy question is
        pending, such a message is answered as itself)."""
        u = self.answering.matcher.understand(text)
        return (u.intent in ("item", "exemption") and u.target is not None and not u.ambiguous) or (
            u.intent == "appeal"
        )


def _entry_names(kb: KnowledgeBase) -> list[str]:
    return [n for e in kb.entries.values() for n in (e.name, *e.aliases)]


def _storable(msg: Incoming) -> Incoming:
    """The message with lone surrogates replaced (bot/core/text/unicode.py): every channel passes here."""
    text, callback, name = encodable(msg.text), msg.callback, encodable(msg.display_name)
    callback = encodable(callback) if callback else callback
    if (text, callback, name) == (msg.text, msg.callback, msg.display_name):
        return msg
    return dataclasses.replace(msg, text=text, callback=callback, display_name=name)


def gap_kind(result: DialogueResult) -> str:
    """Whether a question shows a gap in the knowledge base: a clarifying question (until the person answers
    it), no answer to a question that had a subject, or only a near entry. Appeals, emergencies, small talk,
    the centre's facts, a number on its own and a follow-up with nothing to follow are not gaps."""
    u = result.understanding
    if u is None:
        return NOT_A_GAP
    if result.clarified:
        return "clarify"
    if result.answered or u.intent != "unknown" or u.topic or u.bare or u.empty or u.urgent:
        return NOT_A_GAP
    if u.near:
        return "near"
    return "nomatch" if u.subject else NOT_A_GAP


def freeze_startup_objects() -> None:
    """Call once the assistant is built, in a long-running process (the bot, the console).

    The knowledge base, the indexes and jieba's dictionaries are ~250,000 objects that live as long as the
    process; each full cyclic-GC pass walked them all and paused answering for ~100 ms (the max latencies in
    bench/bench_telegram.py). Frozen, they are left out of collections; nothing else changes."""
    gc.collect()
    gc.freeze()
