"""Turn core replies into Telegram messages: split long HTML, attach inline keyboards, retry what is
retryable."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.core.messages import Button, Reply
from bot.core.text.markup import html_to_text

from .media import caption_fits, send_media, send_one
from .splitting import split_html

log = logging.getLogger(__name__)
# sendMessage goes through do_api_request on purpose (see _send_part); PTB warns about that on every call
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=UserWarning)

CALLBACK_DATA_LIMIT = 64
# Bot API objects as plain JSON-ready dicts: python-telegram-bot would build and serialise its own objects
# for every message (InlineKeyboardMarkup.to_dict was ~7% of the CPU per update in bench/bench_telegram.py)
NO_PREVIEW = {"is_disabled": True}
Markup = dict[str, list[list[dict[str, str]]]]


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asks us to wait. RetryAfter.retry_after is a timedelta (PTB_TIMEDELTA, set for the
    process in bot/adapters/telegram/__init__.py); plain seconds only if someone set PTB_TIMEDELTA=false."""
    value = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    return max(0.0, seconds)


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying without limit: flood control, timeouts, network trouble and 5xx answers.
    (python-telegram-bot reports 5xx as NetworkError; BadRequest/Forbidden are its subclasses' siblings.)"""
    return isinstance(exc, RetryAfter | TimedOut) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
    )


def keyboard(buttons: Sequence[Sequence[Button]]) -> Markup | None:
    """An InlineKeyboardMarkup as the Bot API's JSON; buttons whose callback data is too long are left out."""
    rows: list[list[dict[str, str]]] = []
    for row in buttons:
        out: list[dict[str, str]] = []
        for b in row:
            if len(b.data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
                log.error("按钮数据超过 64 字节，已略去该按钮：%r", b.label)
                continue
            out.append({"text": b.label, "callback_data": b.data})
        if out:
            rows.append(out)
    return {"inline_keyboard": rows} if rows else None


def media_refused(exc: BadRequest) -> bool:
    """Telegram refused the photos or files themselves, not the chat (which the text would hit as well)."""
    text = str(exc).lower()
    return not any(word in text for word in ("chat", "rights", "thread", "forbidden"))


class ReplySender:
    """Sends replies to one chat. Direct answers retry a few times in place (honouring RetryAfter up to
    `max_wait` seconds in all); what still fails raises, so the caller can park it in the outbox."""

    def __init__(
        self,
        bot: Bot,
        *,
        attempts: int = 4,
        max_wait: float = 15.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        media_failed: str = "",
    ):
        self.bot = bot
        self.attempts = attempts
        self.max_wait = max_wait
        self.sleep = sleep
        # said under the text when Telegram refuses a reply's photos or files for good (HTML)
        self.media_failed = media_failed

    async def send(
        self,
        chat_id: int | str,
        reply: Reply,
        *,
        retry: bool = True,
        skip_media: bool = False,
        media_sent: Callable[[], Awaitable[None]] | None = None,
    ) -> list[dict]:
        """The reply's media first (see media.py), then its text with the buttons. `skip_media`: they were
        sent before (a retry); `media_sent` is awaited once they are, before the text."""
        markup = keyboard(reply.buttons)
        sent: list[Any] = []
        html = reply.html
        if reply.media and not skip_media:

            def call(method: str, kwargs: dict[str, Any]) -> Awaitable[Any]:
                return self.call(method, kwargs, retry=retry)

            try:
                if caption_fits(reply.media, reply.html):  # one photo with the text as its caption
                    return [
                        await send_one(call, chat_id, reply.media[0], caption_html=reply.html, markup=markup)
                    ]
                sent += await send_media(call, chat_id, reply.media)
            except BadRequest as exc:
                if not media_refused(exc):
                    raise
                # a file Telegram will never send (an id of another bot, a file gone): the text still goes,
                # saying so, rather than the whole reply (a new ticket's card) failing for good
                log.warning("发送到 %s 的附件被拒绝（%s），只发送文字", chat_id, exc)
                html = "\n\n".join(filter(None, [reply.html, self.media_failed]))
            if media_sent is not None:
                await media_sent()
        parts = split_html(html) if html.strip() else []
        if not parts:
            if markup is None:
                return sent
            parts = ["请选择："]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            sent.append(await self._send_part(chat_id, part, markup if last else None, retry=retry))
        return sent

    async def call(self, method: str, kwargs: dict[str, Any], *, retry: bool = True) -> Any:
        """One Bot API call (photos, files), retried like a text message (RetryAfter, timeouts, 5xx)."""
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.bot.do_api_request(method, api_kwargs=kwargs)
            except ChatMigrated as exc:
                log.warning(
                    "群组 %s 已升级为超级群 %s，请更新 STAFF_GROUPS。", kwargs.get("chat_id"), exc.new_chat_id
                )
                kwargs = {**kwargs, "chat_id": exc.new_chat_id}
            except TelegramError as exc:
                if not retry or not is_transient(exc) or attempt >= self.attempts:
                    raise
                delay = retry_after_seconds(exc) if isinstance(exc, RetryAfter) else 0.25 * 2 ** (attempt - 1)
                if waited + delay > self.max_wait:
                    raise
                waited += delay
                log.warning("发送到 %s 失败（%s），%.1f 秒后重试", kwargs.get("chat_id"), exc, delay)
                await self.sleep(delay)

    async def _send_part(self, chat_id: int | str, text: str, markup: Markup | None, *, retry: bool) -> dict:
        waited = 0.0
        attempt = 0
        plain = False
        while True:
            attempt += 1
            try:
                # do_api_request returns the raw JSON: nobody reads the sent Message back, and building
                # it is a large share of python-telegram-bot's cost per update
                kwargs: dict = {"chat_id": chat_id, "link_preview_options": NO_PREVIEW}
                if markup is not None:
                    kwargs["reply_markup"] = markup
                if plain:
                    kwargs["text"] = html_to_text(text)
                else:
                    kwargs["text"], kwargs["parse_mode"] = text, ParseMode.HTML
                return await self.bot.do_api_request("sendMessage", api_kwargs=kwargs)
            except ChatMigrated as exc:
                log.warning("群组 %s 已升级为超级群 %s，请更新 STAFF_GROUPS。", chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
                continue
            except BadRequest as exc:
                if not plain and "parse entities" in str(exc).lower():
                    # should never happen (the core escapes); still better a plain message than none
                    log.error("HTML 无法解析，改为纯文本发送：%s", exc)
                    plain = True
                    continue
                raise
            except TelegramError as exc:
                if not retry or not is_transient(exc) or attempt >= self.attempts:
                    raise
                delay = retry_after_seconds(exc) if isinstance(exc, RetryAfter) else 0.25 * 2 ** (attempt - 1)
                if waited + delay > self.max_wait:
                    raise
                waited += delay
                log.warning("发送到 %s 失败（%s），%.1f 秒后重试", chat_id, exc, delay)
                await self.sleep(delay)


def describe_error(exc: BaseException) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:500]
