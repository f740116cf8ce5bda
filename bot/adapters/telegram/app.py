"""The Telegram adapter: python-telegram-bot v22 around the channel-free core.

Updates become `Incoming` messages for `Assistant.handle`; the replies go back to the same chat as HTML with
inline keyboards. Everything addressed to somebody else (staff groups, a citizen when staff reply, reminders,
digests) travels through the core's persisted outbox, drained by a JobQueue job. In groups only commands and
button presses are handled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import logging
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Conflict, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core.messages import Incoming, Notification, Recipient, Reply
from bot.core.scheduler import DIGEST_LEASE
from bot.core.storage.protocols import StoreWriteError
from bot.core.text.markup import html_to_text
from bot.core.texts import Texts
from bot.settings import CATCH_ALL, ConfigError, Settings

from .guards import PerChatUpdateProcessor, RateLimiter, UpdateDeduplicator
from .http import AiohttpRequest
from .masking import mask_sensitive
from .media import AlbumCollector, TelegramFiles, location_of, media_of
from .outbox import OutboxDispatcher
from .sending import ReplySender, is_transient

if TYPE_CHECKING:
    from bot.core.assistant import Facade

log = logging.getLogger("bot.telegram")

# httpcore calls `import sniffio` on every request to detect trio; when sniffio is not installed that failed
# import walks sys.path each time (about a third of the adapter's CPU per message in bench/bench_telegram.py).
# Recording the module as absent makes the failure instant; httpcore then assumes asyncio, which is what we run.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]

# what the adapter itself says to a person: macros error, rate_limit, not_text
MESSAGES = "telegram/messages.html.j2"
STARTUP = "telegram/startup.txt.j2"

_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(.*)$", re.S)


class TelegramBridge:
    """Holds the adapter's state and implements the handlers and jobs (tests call the jobs directly)."""

    def __init__(
        self,
        settings: Settings,
        assistant: Facade,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        dedup_capacity: int = 10_000,
        jobs: bool = True,
    ):
        self.settings = settings
        self.jobs = jobs
        self.assistant = assistant
        self.texts = Texts(settings.templates_dir)
        self.dedup = UpdateDeduplicator(dedup_capacity, shared=self._first_time_anywhere)
        self.limiter = RateLimiter(settings.rate_limit, monotonic=monotonic)
        self.bot_username: str = ""
        self.sender: ReplySender | None = None
        self.outbox: OutboxDispatcher | None = None
        self.application: Application | None = None
        self.handled = 0
        self._menu_task: asyncio.Task[None] | None = None
        self._catch_up_task: asyncio.Task[int] | None = None
        # an album arrives as one message per photo: gathered, then handed to the core as one message
        self.albums = AlbumCollector(settings.album_wait_seconds, self._album_ready)
        self._albums_counted: OrderedDict[tuple[int, str], None] = OrderedDict()

    def words(self, what: str) -> str:
        """One of the adapter's own sentences (templates/telegram/messages.html.j2)."""
        return self.texts.say(MESSAGES, what)

    # ------------------------------------------------------------------ lifecycle

    def now(self) -> dt.datetime:
        return self.assistant.clock.now()

    def attach(self, application: Application) -> None:
        self.application = application
        self.sender = ReplySender(application.bot, media_failed=self.words("media_failed"))
        set_fetch = getattr(self.assistant, "set_media_fetch", None)
        if set_fetch is not None:  # used only when copies are kept (MEDIA_STORE_DIR)
            set_fetch(TelegramFiles(application.bot).fetch)
        if self.assistant.outbox is not None:
            self.outbox = OutboxDispatcher(
                self.assistant.outbox,
                self.settings,
                self.sender,
                self.now,
                lease=dt.timedelta(seconds=self.settings.outbox_claim_seconds),
            )

    async def on_startup(self, application: Application) -> None:
        """After the bot is initialised (getMe done): remember our name, set the command menus."""
        self.bot_username = (application.bot.username or "").lower()
        await self.set_command_menus(application)
        if self.jobs:
            self._catch_up_task = asyncio.create_task(self.catch_up_digest())

    async def on_shutdown(self, application: Application) -> None:
        await self.albums.flush()  # an album still gathering is handled, not lost
        for task in (self._menu_task, self._catch_up_task):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        if self.outbox is not None:
            await self.outbox.close()

    async def set_command_menus(self, application: Application) -> None:
        bot = application.bot
        menus = {
            scope: [BotCommand(name, text[:256]) for name, text in self.assistant.command_menu(scope)]
            for scope in ("citizen", "staff", "admin")
        }
        scopes: list[tuple[list[BotCommand], Any]] = [(menus["citizen"], BotCommandScopeDefault())]
        admin_chats = set(self.settings.admin_ids)
        staff_chats: set[int] = set(self.settings.staff_chat_ids())
        try:
            for uid in await self.assistant.staff_user_ids():
                if uid.lstrip("-").isdigit():
                    staff_chats.add(int(uid))
        except Exception:  # noqa: BLE001 - menus are a convenience, never a reason not to start
            log.exception("读取工作人员名单失败，仅为工作群设置命令菜单")
        for chat in sorted(staff_chats - admin_chats):
            scopes.append((menus["staff"], BotCommandScopeChat(chat)))
        for chat in sorted(admin_chats):
            scopes.append((menus["admin"], BotCommandScopeChat(chat)))
        for commands, scope in scopes:
            try:
                await bot.set_my_commands(commands, scope=scope)
            except TelegramError as exc:
                # e.g. the bot is not (yet) a member of a configured group
                log.warning("设置命令菜单失败（%s）：%s", getattr(scope, "chat_id", scope.type), exc)

    # ------------------------------------------------------------------ guards (handler groups -3, -2)

    async def _first_time_anywhere(self, update_id: int) -> bool:
        """Whether no process sharing the database has taken this update yet (the core keeps the record)."""
        return await self.assistant.first_time(update_id)

    async def guard_duplicates(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.dedup.first_time(update.update_id):
            log.info("重复的更新 %s 已忽略", update.update_id)
            raise ApplicationHandlerStop

    async def guard_rate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or user.id in self.settings.admin_ids:
            return
        chat = update.effective_chat
        if chat is not None and chat.type != ChatType.PRIVATE and not self._is_group_input(update):
            return  # group chatter we ignore anyway must not eat anybody's allowance
        if not self._first_of_album(update):
            return  # the photos of one album are one message
        verdict = self.limiter.check(str(user.id))
        if verdict == "ok":
            return
        if update.callback_query is not None:
            await self._answer_callback(update, html_to_text(self.words("rate_limit")))  # a toast: plain text
        if verdict == "notify" and chat is not None:
            await self._send(chat.id, Reply(self.words("rate_limit")))
        raise ApplicationHandlerStop

    @staticmethod
    def _is_group_input(update: Update) -> bool:
        if update.callback_query is not None:
            return True
        msg = update.message
        command = (msg.text or msg.caption or "") if msg else ""
        return command.startswith("/")

    def _first_of_album(self, update: Update) -> bool:
        msg = update.message
        if msg is None or msg.media_group_id is None:
            return True
        key = (msg.chat_id, str(msg.media_group_id))
        if key in self._albums_counted:
            return False
        self._albums_counted[key] = None
        if len(self._albums_counted) > 1000:
            self._albums_counted.popitem(last=False)
        return True

    # ------------------------------------------------------------------ handlers

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.message
        user = update.effective_user
        chat = update.effective_chat
        if msg is None or user is None or chat is None or msg.text is None:
            return
        text = msg.text
        is_group = chat.type != ChatType.PRIVATE
        if text.startswith("/"):
            m = _COMMAND_RE.match(text)
            if m:
                command, target, rest = m.group(1), m.group(2), m.group(3)
                if target and self.bot_username and target.lower() != self.bot_username:
                    return  # a command for another bot in the same group
                text = f"/{command}{rest}"
        incoming = Incoming(
            user_id=str(user.id),
            chat_id=str(chat.id),
            text=text,
            display_name=user.full_name,
            is_group=is_group,
        )
        await self._handle(incoming, chat.id)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None:
            return
        await self._answer_callback(update)
        chat = query.message.chat if query.message is not None else None
        chat_id = chat.id if chat is not None else user.id
        incoming = Incoming(
            user_id=str(user.id),
            chat_id=str(chat_id),
            callback=query.data or "",
            display_name=user.full_name,
            is_group=chat is not None and chat.type != ChatType.PRIVATE,
        )
        await self._handle(incoming, chat_id)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, video, file, voice message, location or venue; an album's photos are gathered first."""
        msg = update.message
        if msg is None or update.effective_chat is None:
            return
        if msg.media_group_id is not None:
            self.albums.add(msg)
            return
        await self._media_message([msg])

    async def _album_ready(self, messages: list[Message]) -> None:
        try:
            await self._media_message(messages)
        except Exception as exc:  # noqa: BLE001 - outside PTB's handlers: report it as the error handler would
            chat = messages[0].chat
            log.error(
                "处理相册出错（会话 %s）：%s",
                chat.id,
                mask_sensitive(f"{type(exc).__name__}: {exc}"),
                exc_info=exc,
            )
            try:
                assert self.sender is not None
                await self.sender.send(chat.id, Reply(self.words("error")), retry=False)
            except Exception:  # noqa: BLE001 - nothing more we can do for this person now
                log.warning("无法向会话 %s 发送出错提示", chat.id)

    async def _media_message(self, messages: list[Message]) -> None:
        first = messages[0]
        chat, user = first.chat, first.from_user
        if user is None:
            return
        media = [m for m in (media_of(x) for x in messages) if m is not None]
        # a command as a caption ("/reply 7 已修好" under a photo) is the message's text, not the photo's words
        text = ""
        for i, item in enumerate(media):
            if item.caption.lstrip().startswith("/"):
                command = self._command_text(item.caption.strip())
                if command is None:
                    return  # a command for another bot
                text = command
                media[i] = item.with_caption("")
                break
        is_group = chat.type != ChatType.PRIVATE
        if is_group and not text:
            return  # in staff groups only commands are for us
        incoming = Incoming(
            user_id=str(user.id),
            chat_id=str(chat.id),
            text=text,
            display_name=user.full_name,
            is_group=is_group,
            media=tuple(media),
            location=location_of(first),
        )
        await self._handle(incoming, chat.id)

    def _command_text(self, text: str) -> str | None:
        """ "/cmd@bot rest" as "/cmd rest"; None when the command names another bot."""
        m = _COMMAND_RE.match(text)
        if not m:
            return text
        command, target, rest = m.group(1), m.group(2), m.group(3)
        if target and self.bot_username and target.lower() != self.bot_username:
            return None
        return f"/{command}{rest}"

    async def on_not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is not None:
            await self._send(chat.id, Reply(self.words("not_text")))

    async def _handle(self, incoming: Incoming, chat_id: int) -> None:
        replies = await self.assistant.handle(incoming)
        self.handled += 1
        await self.deliver(chat_id, replies)
        if self.outbox is not None:
            self.outbox.kick()
        if incoming.text.startswith("/staff") and self.application is not None:
            # the staff list may have changed: staff get their command menu without a restart
            if self._menu_task is None or self._menu_task.done():
                self._menu_task = asyncio.create_task(self.set_command_menus(self.application))

    async def deliver(self, chat_id: int | str, replies: list[Reply]) -> None:
        """Send replies in order. If Telegram keeps failing transiently, the rest is parked in the outbox
        (delivered later, in order) instead of being lost."""
        assert self.sender is not None
        for i, reply in enumerate(replies):
            try:
                await self.sender.send(chat_id, reply)
            except TelegramError as exc:
                if not is_transient(exc) or self.assistant.outbox is None:
                    raise
                log.warning("回复发送到 %s 暂时失败（%s），已转入待发通知稍后重发", chat_id, exc)
                for later in replies[i:]:
                    await self.assistant.outbox.enqueue(Notification(Recipient("user", str(chat_id)), later))
                return

    async def _send(self, chat_id: int | str, reply: Reply) -> None:
        assert self.sender is not None
        await self.sender.send(chat_id, reply)

    async def _answer_callback(self, update: Update, text: str | None = None) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer(text)
        except BadRequest as exc:
            # "query is too old": the person still gets the reply as a message
            log.info("answerCallbackQuery 失败：%s", exc)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        err = context.error
        if update is None and isinstance(err, Conflict):
            # getUpdates answered 409: python-telegram-bot keeps polling; say once per error what it means
            log.error(
                "另一个程序正在用同一个机器人令牌接收消息（%s）：同一令牌同时只能运行一个 python -m bot run，"
                "请停止另一个，或为它另建机器人。",
                mask_sensitive(str(err)),
            )
            return
        if update is None and isinstance(err, NetworkError):
            # polling hit a network error or a 5xx; python-telegram-bot retries by itself, no traceback needed
            log.warning(
                "与 Telegram 的连接暂时中断（%s），正在自动重试。",
                mask_sensitive(f"{type(err).__name__}: {err}"),
            )
            return
        if update is None and isinstance(err, StoreWriteError):
            # a job (outbox, reminders, digest) could not write: a full disk or a read-only database; what was
            # not recorded is simply done again on the next run, so one line says it, without a traceback
            log.warning("定时任务未能写入数据库（%s），将在下次运行时重试。", err)
            return
        if isinstance(update, Update) and isinstance(err, StoreWriteError):
            # refused before the core answered (the update's record, say): the person hears it was not saved
            log.warning("更新 %s 未能写入数据库：%s", update.update_id, err)
            text = str(err)
        else:
            where = ""
            if isinstance(update, Update):
                u = update.effective_user
                c = update.effective_chat
                where = f"（更新 {update.update_id}，用户 {u.id if u else '-'}，会话 {c.id if c else '-'}）"
            log.error("处理出错%s：%s", where, mask_sensitive(f"{type(err).__name__}: {err}"), exc_info=err)
            text = self.words("error")
        if isinstance(update, Update) and update.effective_chat is not None:
            try:
                assert self.sender is not None
                await self.sender.send(update.effective_chat.id, Reply(text), retry=False)
            except Exception:  # noqa: BLE001 - nothing more we can do for this person now
                log.warning("无法向会话 %s 发送出错提示", update.effective_chat.id)

    # ------------------------------------------------------------------ jobs

    async def drain_outbox(self) -> int:
        assert self.outbox is not None
        return await self.outbox.drain()

    async def reminder_tick(self) -> int:
        """The reminder tick: the core queues what fell due; the outbox sends it."""
        await self.assistant.tick()
        return await self.drain_outbox()

    async def send_digests(self, today: dt.date | None = None, *, look_again: bool = True) -> int:
        """Queue each staff group's digest for today (the core decides whether it is a working day) and send
        it. Returns the number of digests queued. A digest another process holds the lease for is looked at
        once more after that lease's time, in case that process died while building it."""
        assert self.assistant.scheduler is not None
        day = today or self.now().astimezone(self.settings.timezone).date()
        groups = {d: (None if d == CATCH_ALL else d) for d in self.settings.staff_groups}
        done = await self.assistant.scheduler.digest_round(day, groups)
        if not done.queued and not self.assistant.scheduler.is_workday(day):
            log.info("%s 不是工作日，不发送日报", day.isoformat())
        jq = self.application.job_queue if self.application is not None else None
        if done.elsewhere and look_again and self.jobs and jq is not None:
            wait = DIGEST_LEASE + dt.timedelta(seconds=30)
            jq.run_once(self._job_digest_again, when=wait, data=day, name="digest-again")
        await self.drain_outbox()
        return done.queued

    async def catch_up_digest(self) -> int:
        """At start-up: if today's digest time has passed (the bot was down then), send today's digest now.
        Digests already sent today are not sent again (each has a per-day key in the outbox)."""
        now = self.now().astimezone(self.settings.timezone)
        assert self.assistant.scheduler is not None
        if not self.assistant.scheduler.digest_missed(now, self.settings.digest_time):
            return 0
        try:
            queued = await self.send_digests(now.date())
        except Exception:  # noqa: BLE001 - the daily job will try again tomorrow; starting matters more
            log.exception("补发今日工作摘要失败")
            return 0
        if queued:
            log.info("启动时补发了今日工作摘要 %d 份（发送时间 %s 已过）", queued, self.settings.digest_time)
        return queued

    async def _job_outbox(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.drain_outbox()

    async def _job_tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.reminder_tick()

    async def _job_digest(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.send_digests()

    async def _job_digest_again(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.job is not None
        day = context.job.data  # the day run_once was given (see send_digests)
        assert day is None or isinstance(day, dt.date)
        await self.send_digests(day, look_again=False)


def _file_url(base_url: str) -> str:
    return (
        base_url[: -len("/bot")] + "/file/bot"
        if base_url.endswith("/bot")
        else base_url.rstrip("/") + "/file/bot"
    )


def build_application(
    settings: Settings,
    assistant: Facade,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    concurrency: int | None = None,
    pool_size: int | None = None,
    jobs: bool = True,
) -> Application:
    """The python-telegram-bot Application with every handler and job; the bridge is in bot_data."""
    if not settings.telegram_bot_token:
        raise ConfigError("TELEGRAM_BOT_TOKEN", Texts(settings.templates_dir).say(STARTUP, "token_missing"))
    bridge = TelegramBridge(settings, assistant, monotonic=monotonic, jobs=jobs)
    # Each update waits on the network for its Bot API calls (tens of ms to Telegram), so many are handled
    # at once (one at a time per chat); each may have one request in flight.
    concurrency = concurrency or settings.concurrent_updates
    pool = pool_size or concurrency
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .concurrent_updates(PerChatUpdateProcessor(concurrency))
        .post_init(bridge.on_startup)
        .post_shutdown(bridge.on_shutdown)
    )
    if settings.http_client == "aiohttp":
        builder = builder.request(AiohttpRequest(pool)).get_updates_request(AiohttpRequest(1))
    else:
        builder = builder.connection_pool_size(pool).pool_timeout(10.0)
    if settings.telegram_base_url:
        base = settings.telegram_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(_file_url(base))
    application = builder.build()
    application.bot_data["bridge"] = bridge
    bridge.attach(application)

    application.add_handler(TypeHandler(Update, bridge.guard_duplicates), group=-3)
    application.add_handler(TypeHandler(Update, bridge.guard_rate), group=-2)
    private_msg = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(private_msg & filters.TEXT, bridge.on_text))
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.COMMAND, bridge.on_text)
    )
    application.add_handler(CallbackQueryHandler(bridge.on_callback))
    # photos, videos, files, voice and pins go to the core (stickers and the like get a hint below)
    files = (
        filters.PHOTO
        | filters.VIDEO
        | filters.Document.ALL
        | filters.VOICE
        | filters.AUDIO
        | filters.ANIMATION
        | filters.VIDEO_NOTE
    )
    application.add_handler(
        MessageHandler(private_msg & (files | filters.LOCATION | filters.VENUE), bridge.on_media)
    )
    # in groups: a photo whose caption is a command (/reply N …), and the rest of its album
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & files, bridge.on_media)
    )
    application.add_handler(MessageHandler(private_msg & ~filters.TEXT, bridge.on_not_text))
    application.add_error_handler(bridge.on_error)

    jq = application.job_queue
    if jobs and jq is not None:
        jq.run_repeating(
            bridge._job_outbox, interval=settings.outbox_interval_seconds, first=1.0, name="outbox"
        )
        jq.run_repeating(
            bridge._job_tick, interval=settings.reminder_interval_seconds, first=5.0, name="tick"
        )
        jq.run_daily(
            bridge._job_digest, time=settings.digest_time.replace(tzinfo=settings.timezone), name="digest"
        )
    return application


def bridge_of(application: Application) -> TelegramBridge:
    return application.bot_data["bridge"]


async def start_polling(
    application: Application, *, poll_timeout: int = 10, poll_interval: float = 0.0
) -> None:
    """Start an application by hand (tests, benchmarks): initialise, run the start-up hook, poll."""
    await application.initialize()
    await bridge_of(application).on_startup(application)
    assert application.updater is not None

    def polling_error(exc: TelegramError) -> None:
        # what Application.run_polling does: errors while fetching updates go to the error handler
        application.create_task(application.process_error(update=None, error=exc))

    await application.updater.start_polling(
        poll_interval=poll_interval,
        timeout=poll_timeout,
        allowed_updates=ALLOWED_UPDATES,
        error_callback=polling_error,
    )
    await application.start()


async def stop_polling(application: Application) -> None:
    assert application.updater is not None
    if application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await bridge_of(application).on_shutdown(application)
    await application.shutdown()
