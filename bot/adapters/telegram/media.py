"""Photos, videos, files, voice messages and map pins on Telegram, both ways.

Receiving: a message's photo (the largest size Telegram made), video, document, voice, audio, animation or
video note becomes a channel-neutral `Media` (bot/core/media.py) — the file id and unique id, size, caption,
MIME type, file name, who sent it and when; a location or venue becomes a `Location`. Telegram sends an album
as one message per photo with the same `media_group_id`, usually within milliseconds of each other:
`AlbumCollector` gathers them until none has come for ALBUM_WAIT_SECONDS and hands them over as one message.

Sending: `send_media` sends a reply's media before its text — photos and videos as albums (sendMediaGroup, up
to 10 each), documents as albums of their own, voice and the rest one by one (sendPhoto, sendDocument,
sendVoice…), each by its file id, captions as plain text (they are people's words, never markup). A single
photo whose reply text fits in a caption goes as one message with the text and buttons (`caption_fits`).

Files are never downloaded here except through `TelegramFiles.fetch`, which the core calls only when local
copies are configured (MEDIA_STORE_DIR).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    Bot,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
)

from bot.core.media import Location, Media, sending_groups
from bot.core.text.markup import html_to_text

log = logging.getLogger(__name__)
# media go through do_api_request like sendMessage (sending.py): raw JSON, no Message objects built
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(sendPhoto|sendVideo|sendDocument|sendVoice|sendAudio|sendAnimation"
    r"|sendVideoNote|sendMediaGroup)'",
    category=UserWarning,
)

CAPTION_LIMIT = 1024  # characters of a caption, after entities are parsed
# kind -> (Bot API method, its file parameter)
SEND_ONE = {
    "photo": ("sendPhoto", "photo"),
    "video": ("sendVideo", "video"),
    "document": ("sendDocument", "document"),
    "voice": ("sendVoice", "voice"),
    "audio": ("sendAudio", "audio"),
    "animation": ("sendAnimation", "animation"),
    "video_note": ("sendVideoNote", "video_note"),
}
NO_CAPTION = frozenset({"video_note"})
# the items of an album: PTB serialises sendMediaGroup's `media` from these (plain dicts are not accepted)
ALBUM_ITEM = {
    "photo": InputMediaPhoto,
    "video": InputMediaVideo,
    "document": InputMediaDocument,
    "audio": InputMediaAudio,
}

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]


# ---------------------------------------------------------------------------------------------- receiving


def media_of(message: Message) -> Media | None:
    """The photo, video, file or voice message of a message, as a core `Media`; None when it has none."""
    sender = str(message.from_user.id) if message.from_user else ""
    common: dict[str, Any] = {
        "caption": message.caption or "",
        "sender": sender,
        "at": message.date,
        "group": message.media_group_id,
    }
    if message.photo:
        biggest = message.photo[-1]  # Telegram lists the sizes smallest first
        return Media(
            "photo", biggest.file_id, biggest.file_unique_id, biggest.file_size, mime="image/jpeg", **common
        )
    # an animation also fills `document`: look at it first
    for kind in ("animation", "video", "video_note", "voice", "audio", "document"):
        item = getattr(message, kind, None)
        if item is not None:
            return Media(
                kind,
                item.file_id,
                item.file_unique_id,
                item.file_size,
                mime=getattr(item, "mime_type", None),
                file_name=getattr(item, "file_name", None),
                **common,
            )
    return None


def location_of(message: Message) -> Location | None:
    """A venue (a named place) or a location pin; None when the message has neither."""
    if message.venue is not None:
        v = message.venue
        return Location(v.location.latitude, v.location.longitude, v.title or None, v.address or None)
    if message.location is not None:
        return Location(message.location.latitude, message.location.longitude)
    return None


def has_media(message: Message) -> bool:
    return media_of(message) is not None or location_of(message) is not None


@dataclass
class _Album:
    messages: list[Message] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class AlbumCollector:
    """Gathers the messages of one album (chat, media_group_id) until `wait` seconds pass without another,
    then calls `deliver(messages)` (in message order) in a task of its own."""

    def __init__(self, wait: float, deliver: Callable[[list[Message]], Coroutine[Any, Any, None]]):
        self.wait = wait
        self.deliver = deliver
        self._albums: dict[tuple[int, str], _Album] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, message: Message) -> None:
        key = (message.chat_id, str(message.media_group_id))
        album = self._albums.setdefault(key, _Album())
        album.messages.append(message)
        if album.timer is not None:
            album.timer.cancel()
        album.timer = asyncio.get_running_loop().call_later(self.wait, self._fire, key)

    def _fire(self, key: tuple[int, str]) -> None:
        album = self._albums.pop(key, None)
        if album is None:
            return
        messages = sorted(album.messages, key=lambda m: m.message_id)
        task = asyncio.get_running_loop().create_task(self.deliver(messages))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Deliver every album still gathering now, and wait for the deliveries (shutdown, tests)."""
        for key, album in list(self._albums.items()):
            if album.timer is not None:
                album.timer.cancel()
            self._fire(key)
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)


# ---------------------------------------------------------------------------------------------- sending


def caption_fits(media: Sequence[Media], html: str) -> bool:
    """One photo (or other single item without a caption of its own) and a text short enough for a caption:
    sent as one message, with the buttons."""
    if len(media) != 1 or media[0].caption or media[0].kind in NO_CAPTION or media[0].kind not in SEND_ONE:
        return False
    return bool(html.strip()) and len(html_to_text(html)) <= CAPTION_LIMIT


def _caption(m: Media) -> str:
    return m.caption[:CAPTION_LIMIT] if m.kind not in NO_CAPTION else ""


async def send_media(call: Call, chat_id: int | str, media: Sequence[Media]) -> list[Any]:
    """Send the media in order (albums where Telegram allows); `call(method, kwargs)` does one Bot API call."""
    sent: list[Any] = []
    for group in sending_groups([m for m in media if m.kind in SEND_ONE]):
        if len(group) == 1:
            sent.append(await send_one(call, chat_id, group[0]))
            continue
        items = [ALBUM_ITEM[m.kind](media=m.file_id, caption=_caption(m) or None) for m in group]
        sent.append(await call("sendMediaGroup", {"chat_id": chat_id, "media": items}))
    return sent


async def send_one(
    call: Call,
    chat_id: int | str,
    m: Media,
    *,
    caption_html: str | None = None,
    markup: dict[str, Any] | None = None,
) -> Any:
    """One item by its file id; `caption_html` (the reply's text, HTML) instead of its own caption."""
    method, param = SEND_ONE[m.kind]
    kwargs: dict[str, Any] = {"chat_id": chat_id, param: m.file_id}
    if caption_html is not None:
        kwargs["caption"], kwargs["parse_mode"] = caption_html, "HTML"
    elif m.caption and m.kind not in NO_CAPTION:
        kwargs["caption"] = _caption(m)
    if markup is not None:
        kwargs["reply_markup"] = markup
    return await call(method, kwargs)


# ---------------------------------------------------------------------------------------------- files


class TelegramFiles:
    """Downloads an attachment's bytes (getFile, then the file URL); used only for MEDIA_STORE_DIR."""

    def __init__(self, bot: Bot, *, timeout: float = 60.0):
        self.bot = bot
        self.timeout = timeout

    async def fetch(self, media: Media) -> bytes:
        file = await self.bot.get_file(media.file_id)
        return bytes(await file.download_as_bytearray(read_timeout=self.timeout))
