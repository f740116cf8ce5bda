"""A local stand-in for the Telegram Bot API, so tests run the real python-telegram-bot networking stack
without touching Telegram.

An HTTP/1.1 server on 127.0.0.1 (asyncio streams, its own event loop in a background thread) answering
getMe, getUpdates (serving queued updates, long-polling), sendMessage, editMessageText,
editMessageReplyMarkup, answerCallbackQuery, setMyCommands, getMyCommands, deleteMyCommands, deleteWebhook,
setWebhook, getWebhookInfo, sendPhoto, sendVideo, sendDocument, sendVoice, sendAudio, sendAnimation,
sendVideoNote, sendMediaGroup, getFile (and the file download URL), and recording every call. Incoming photos
(alone or as an album), documents, voice messages, locations and venues can be pushed like text. Failures can be injected for the next N calls
(429 with retry_after, 500, …) or for a chat (chat not found, blocked). A token other than its own gets
401 Unauthorized, as Telegram answers a revoked token.

    stand = BotApiStandIn().start()
    app = ApplicationBuilder().token(TOKEN).base_url(stand.base_url).base_file_url(stand.base_file_url)...
    stand.push_message(42, "身份证丢了怎么补办")
    await stand.wait_for(lambda: stand.sent_messages(42))

Several bot processes can share it, each with a base URL of its own (`base_url_for(n)`), so every call is
recorded with the process that made it (`Call.worker`). Webhook mode: after `deliver_to(url)`, pushed updates
are POSTed to `url` (with the secret of the last setWebhook) instead of being served by getUpdates, and
retried like Telegram does when the answer is not 200.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-standin-token-abcdefghijklmnop"

# parameters that python-telegram-bot sends JSON-encoded (strings are sent raw)
_JSON_PARAMS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "allowed_updates",
    "reply_markup",
    "commands",
    "scope",
    "show_alert",
    "cache_time",
    "link_preview_options",
    "reply_parameters",
    "disable_notification",
    "protect_content",
    "entities",
    "drop_pending_updates",
    "max_connections",
    "media",
}
# the Bot API's methods that send one file, and the parameter that names it
_SEND_FILE = {
    "sendPhoto": "photo",
    "sendVideo": "video",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendAnimation": "animation",
    "sendVideoNote": "video_note",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    server_seconds: float  # the stand-in's own handling time (long-poll waiting excluded)
    at: float = field(default_factory=time.monotonic)
    worker: int | None = None  # which bot process called (the n of base_url_for(n)), when one was named


@dataclass
class _FailRule:
    remaining: int
    status: int
    description: str
    retry_after: int | None
    methods: frozenset[str] | None
    chat_id: int | None = None


_WORKER_PATH = re.compile(r"^/w(\d+)/")


def _u16len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


class BotApiStandIn:
    def __init__(
        self,
        *,
        bot_id: int = 7000001,
        username: str = "zwfw_test_bot",
        token: str = TOKEN,
        latency: float = 0.0,
    ):
        self.token = token
        # seconds each call but getUpdates takes before answering: the network and Telegram's servers
        # (benchmarks: concurrency only pays off when the other side is not instant)
        self.latency = latency
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "政务服务助手",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.port = 0
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        # getUpdates calls received with a valid token (a call is recorded in _calls only when it ends)
        self._polls_started = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._callback_chats: dict[
            str, int
        ] = {}  # callback query id -> chat, to attribute answerCallbackQuery
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._fail_rules: list[_FailRule] = []
        self._chat_failures: dict[int, tuple[int, str]] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        # file id -> (unique id, bytes): what getFile and the download URL serve for files people sent
        self.files: dict[str, tuple[str, bytes]] = {}
        self._file_ids = itertools.count(1)
        self._album_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._new_update: asyncio.Event | None = None
        self._ready = threading.Event()
        self._in_caller_loop = False
        # webhook mode: where updates are POSTed, and what became of each attempt (update_id, status)
        self._webhook_target: str | None = None
        self._webhook_secret: str | None = None
        self.deliveries: list[tuple[int, int]] = []
        self._sent_by_chat: dict[int, list[Call]] = {}  # successful sendMessage calls per chat, in order
        self._delivering: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> BotApiStandIn:
        self._thread = threading.Thread(target=self._run, name="bot-api-standin", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("stand-in did not start")
        return self

    async def start_here(self) -> BotApiStandIn:
        """Serve on the caller's event loop instead of a thread (benchmarks: no GIL hand-offs between
        the stand-in and the bot; the stand-in's own time is still measured per call)."""
        self._loop = asyncio.get_running_loop()
        self._new_update = asyncio.Event()
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        self._in_caller_loop = True
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._in_caller_loop:
            assert self._server is not None
            self._server.close()
            self._loop = None
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> BotApiStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def base_url_for(self, worker: int) -> str:
        """The base URL for bot process number `worker`: its calls are recorded with Call.worker = worker."""
        return f"http://127.0.0.1:{self.port}/w{worker}/bot"

    # ------------------------------------------------------------------ webhook mode

    def deliver_to(self, url: str | None) -> None:
        """Webhook mode: POST every pushed update to `url` (the local stand-in for the public WEBHOOK_URL, e.g.
        a dispatcher in front of several bot processes) instead of keeping it for getUpdates."""
        self._webhook_target = url

    def undelivered(self) -> int:
        """Updates whose delivery is still being attempted."""
        return sum(not t.done() for t in list(self._delivering))

    async def _deliver(self, update: dict[str, Any]) -> None:
        import aiohttp

        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self._webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
        wait = 0.2
        for _ in range(30):  # Telegram keeps trying a webhook that does not answer 200
            target = self._webhook_target
            status = 0
            if target is not None:
                try:
                    async with aiohttp.ClientSession() as session:
                        async with session.post(target, data=body, headers=headers) as resp:
                            status = resp.status
                except (TimeoutError, aiohttp.ClientError, OSError):
                    status = 0
            with self._lock:
                self.deliveries.append((int(update["update_id"]), status))
            if status == 200:
                return
            await asyncio.sleep(wait)
            wait = min(2.0, wait * 2)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._new_update = asyncio.Event()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]

        loop.run_until_complete(serve())
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    # ------------------------------------------------------------------ injecting updates

    def _user(self, user_id: int, first_name: str | None = None) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"用户{user_id}",
            "language_code": "zh-hans",
        }

    @staticmethod
    def _chat(chat_id: int, chat_type: str | None = None, first_name: str | None = None) -> dict[str, Any]:
        kind = chat_type or ("private" if chat_id > 0 else "supergroup")
        if kind == "private":
            return {"id": chat_id, "type": "private", "first_name": first_name or f"用户{chat_id}"}
        return {"id": chat_id, "type": kind, "title": f"工作群{chat_id}"}

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update (an update_id is assigned when missing); returns its update_id. In webhook mode
        it is POSTed to the webhook instead."""
        with self._lock:
            if "update_id" not in update:
                update = {"update_id": next(self._update_ids), **update}
            if self._webhook_target is None:
                self._updates.append(update)
        if self._webhook_target is not None:
            loop = self._loop
            assert loop is not None
            loop.call_soon_threadsafe(self._start_delivery, update)
            return int(update["update_id"])
        self._wake()
        return int(update["update_id"])

    def _start_delivery(self, update: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(update))
        self._delivering.add(task)
        task.add_done_callback(self._delivering.discard)

    def push_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        update_id: int | None = None,
    ) -> int:
        chat = self._chat(chat_id if chat_id is not None else user_id, first_name=first_name)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self._user(user_id, first_name),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": _u16len(text.split()[0])}]
        update: dict[str, Any] = {"message": message}
        if update_id is not None:
            update["update_id"] = update_id
        return self.push_update(update)

    def push_sticker(self, user_id: int) -> int:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(user_id),
            "from": self._user(user_id),
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "s1u",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        }
        return self.push_update({"message": message})

    def _media_message(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id if chat_id is not None else user_id),
            "from": self._user(user_id),
        }
        if caption:
            message["caption"] = caption
            if caption.startswith("/"):
                message["caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _u16len(caption.split()[0])}
                ]
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return message

    def add_file(self, data: bytes, *, unique_id: str | None = None) -> tuple[str, str]:
        """Register a file people could send; returns (file_id, file_unique_id)."""
        n = next(self._file_ids)
        file_id, unique = f"F{n:06d}", unique_id or f"U{n:06d}"
        with self._lock:
            self.files[file_id] = (unique, data)
        return file_id, unique

    def push_photo(
        self,
        user_id: int,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
        media_group_id: str | None = None,
        data: bytes = b"\xff\xd8 photo",
        file_size: int | None = None,
        unique_id: str | None = None,
    ) -> int:
        """A photo as Telegram sends it: several sizes, the largest last."""
        file_id, unique = self.add_file(data, unique_id=unique_id)
        message = self._media_message(
            user_id, chat_id=chat_id, caption=caption, media_group_id=media_group_id
        )
        size = file_size if file_size is not None else len(data)
        message["photo"] = [
            {
                "file_id": f"{file_id}s",
                "file_unique_id": f"{unique}s",
                "width": 90,
                "height": 67,
                "file_size": 900,
            },
            {"file_id": file_id, "file_unique_id": unique, "width": 1280, "height": 960, "file_size": size},
        ]
        return self.push_update({"message": message})

    def push_album(
        self, user_id: int, count: int, caption: str | None = None, *, chat_id: int | None = None
    ) -> list[int]:
        """`count` photos with one media_group_id, the caption on the first (as Telegram clients send them)."""
        group = f"album{next(self._album_ids)}"
        return [
            self.push_photo(user_id, caption if i == 0 else None, chat_id=chat_id, media_group_id=group)
            for i in range(count)
        ]

    def push_file(
        self,
        user_id: int,
        kind: str = "document",
        caption: str | None = None,
        *,
        chat_id: int | None = None,
        file_size: int | None = None,
        file_name: str = "材料.pdf",
        mime_type: str = "application/pdf",
        data: bytes = b"%PDF-1.4 stand-in",
        duration: int = 3,
    ) -> int:
        """A document, voice message, video or audio (kind: document | voice | video | audio)."""
        file_id, unique = self.add_file(data)
        message = self._media_message(user_id, chat_id=chat_id, caption=caption)
        item: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": file_size if file_size is not None else len(data),
        }
        if kind == "document":
            item.update(file_name=file_name, mime_type=mime_type)
        elif kind == "voice":
            item.update(duration=duration, mime_type="audio/ogg")
        elif kind == "video":
            item.update(duration=duration, width=640, height=480, mime_type="video/mp4")
        elif kind == "audio":
            item.update(duration=duration, mime_type="audio/mpeg")
        message[kind] = item
        return self.push_update({"message": message})

    def push_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        title: str | None = None,
        address: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        """A location pin, or a venue when `title` is given."""
        message = self._media_message(user_id, chat_id=chat_id)
        location = {"latitude": latitude, "longitude": longitude}
        message["location"] = location
        if title is not None:
            message["venue"] = {"location": location, "title": title, "address": address or ""}
        return self.push_update({"message": message})

    def push_callback(
        self, user_id: int, data: str, *, chat_id: int | None = None, message_id: int | None = None
    ) -> int:
        chat_id = chat_id if chat_id is not None else user_id
        with self._lock:
            stored = self._messages.get((chat_id, message_id or 0))
        message = {
            "message_id": message_id or 1,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self.bot_user,
            "text": (stored or {}).get("text", "…"),
        }
        query_id = str(next(self._callback_ids))
        with self._lock:
            self._callback_chats[query_id] = chat_id
        query = {
            "id": query_id,
            "from": self._user(user_id),
            "chat_instance": f"ci{chat_id}",
            "message": message,
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def press(self, user_id: int, label: str, *, chat_id: int | None = None) -> int:
        """Press the button labelled `label` (exactly, or contained in the label) on the newest message in
        the chat that has one."""
        chat_id = chat_id if chat_id is not None else user_id
        for msg in reversed(self.sent_messages(chat_id)):
            for row in msg.get("buttons", []):
                for text, data in row:
                    if text == label or label in text:
                        return self.push_callback(
                            user_id, data, chat_id=chat_id, message_id=msg["message_id"]
                        )
        raise AssertionError(f"没有找到按钮“{label}”；会话 {chat_id} 的消息：{self.texts(chat_id)}")

    def _wake(self) -> None:
        loop, ev = self._loop, self._new_update
        if loop is not None and ev is not None:
            loop.call_soon_threadsafe(ev.set)

    # ------------------------------------------------------------------ injecting failures

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
        methods: Iterable[str] | None = ("sendMessage",),
        chat_id: int | None = None,
    ) -> None:
        """The next `n` calls (of `methods`, None = any method but getUpdates; to `chat_id` if given) fail
        with `status`. `methods=("getUpdates",)` makes polling fail (409 Conflict, 502, …)."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                400: "Bad Request: chat not found",
                409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                403: "Forbidden: bot was blocked by the user",
            }.get(status, f"Error {status}")
        with self._lock:
            self._fail_rules.append(
                _FailRule(
                    n,
                    status,
                    description,
                    retry_after if status == 429 else None,
                    frozenset(methods) if methods is not None else None,
                    chat_id,
                )
            )

    def fail_chat(
        self, chat_id: int, *, status: int = 400, description: str = "Bad Request: chat not found"
    ) -> None:
        """Every send to `chat_id` fails (permanently) until `clear_chat_failure`."""
        with self._lock:
            self._chat_failures[chat_id] = (status, description)

    def revoke_token(self) -> None:
        """As @BotFather's /revoke does: from now on the bot's token gets 401, a waiting long poll too."""
        self.token = f"{self.token}-revoked"
        self._wake()

    def clear_chat_failure(self, chat_id: int) -> None:
        with self._lock:
            self._chat_failures.pop(chat_id, None)

    # ------------------------------------------------------------------ records

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_since(self, index: int) -> list[Call]:
        """The calls recorded after the first `index` (a poller's cursor: no copy of the whole record)."""
        with self._lock:
            return self._calls[index:]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._sent_by_chat.clear()

    def sends_to(self, chat_id: int) -> list[Call]:
        """The successful sendMessage calls to one chat, in order (with the worker that made each)."""
        with self._lock:
            return list(self._sent_by_chat.get(chat_id, ()))

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent successfully (in order), with text, parse_mode and buttons [(label, data)]."""
        if chat_id is not None:
            return [self._describe(c.params) for c in self.sends_to(chat_id)]
        return [self._describe(c.params) for c in self.calls if c.method == "sendMessage" and c.status == 200]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [m["text"] for m in self.sent_messages(chat_id)]

    def sent_media(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Photos and files the bot sent successfully, in order: one entry per call, with the method, the items
        [(type, file id, caption)], the caption's parse mode and the buttons."""
        out = []
        for c in self.calls:
            if c.status != 200 or (c.method not in _SEND_FILE and c.method != "sendMediaGroup"):
                continue
            if chat_id is not None and int(c.params.get("chat_id", 0)) != chat_id:
                continue
            if c.method == "sendMediaGroup":
                items = [
                    (m.get("type"), m.get("media"), m.get("caption", "")) for m in c.params.get("media") or []
                ]
            else:
                param = _SEND_FILE[c.method]
                items = [(param, c.params.get(param), c.params.get("caption", ""))]
            described = self._describe(c.params)
            out.append(
                {
                    "method": c.method,
                    "chat_id": int(c.params.get("chat_id", 0)),
                    "items": items,
                    "parse_mode": c.params.get("parse_mode"),
                    "buttons": described["buttons"],
                }
            )
        return out

    @staticmethod
    def _describe(params: dict[str, Any]) -> dict[str, Any]:
        markup = params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        buttons = [
            [(b.get("text", ""), b.get("callback_data", "")) for b in row]
            for row in (markup.get("inline_keyboard") or [])
        ]
        return {
            "chat_id": int(params.get("chat_id", 0)),
            "text": params.get("text", ""),
            "parse_mode": params.get("parse_mode"),
            "buttons": buttons,
            "message_id": params.get("_message_id"),
        }

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    def polls_started(self) -> int:
        """getUpdates calls received so far with the current token, finished or still waiting: the bot is
        polling once this is above zero (calls_of() lists a long poll only when it has been answered)."""
        with self._lock:
            return self._polls_started

    async def wait_for(self, predicate: Callable[[], Any], limit: float = 10.0, what: str = "") -> Any:
        """Wait (on the caller's loop) until predicate() is truthy; fail with the recent calls if it never is."""
        deadline = time.monotonic() + limit
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                recent = [(c.method, c.status, str(c.params.get("text", ""))[:60]) for c in self.calls[-10:]]
                raise AssertionError(f"等待超时：{what or predicate}；最近的调用：{recent}")
            await asyncio.sleep(0.01)

    async def wait_for_messages(self, chat_id: int, count: int, limit: float = 10.0) -> list[dict[str, Any]]:
        await self.wait_for(
            lambda: len(self.sent_messages(chat_id)) >= count, limit, f"会话 {chat_id} 收到 {count} 条消息"
        )
        return self.sent_messages(chat_id)

    # ------------------------------------------------------------------ HTTP

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                headers: dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = line.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                started = time.perf_counter()
                parts = request_line.decode("latin-1").split()
                path = parts[1] if len(parts) > 1 else "/"
                download = self._download(path)
                if download is not None:
                    status, data, kind = *download, b"application/octet-stream"
                else:
                    status, payload = await self._dispatch(
                        path, headers.get("content-type", ""), body, started
                    )
                    data, kind = json.dumps(payload, ensure_ascii=False).encode("utf-8"), b"application/json"
                writer.write(
                    b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                    b"Connection: keep-alive\r\n\r\n"
                    % (status, b"OK" if status == 200 else b"Error", kind, len(data))
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    def _download(self, path: str) -> tuple[int, bytes] | None:
        """GET /file/bot<token>/<file_path>: the file's bytes (None: not a download)."""
        prefix = f"/file/bot{self.token}/"
        if not path.startswith("/file/"):
            return None
        if not path.startswith(prefix):
            return 401, b"Unauthorized"
        file_id = path[len(prefix) :].rsplit("/", 1)[-1].split(".")[0]
        with self._lock:
            self._calls.append(Call("download", {"file_id": file_id}, 200, 0.0))
            found = self.files.get(file_id)
        return (200, found[1]) if found else (404, b"Not Found")

    def _parse(self, content_type: str, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        if "application/json" in content_type:
            # like the Bot API: an object parameter may come as an object or as a JSON-serialised string
            params = json.loads(body)
            for k in _JSON_PARAMS & params.keys():
                if isinstance(params[k], str):
                    try:
                        params[k] = json.loads(params[k])
                    except ValueError:
                        pass
            return params
        params: dict[str, Any] = {}
        for k, v in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            if k in _JSON_PARAMS:
                try:
                    params[k] = json.loads(v)
                    continue
                except ValueError:
                    pass
            params[k] = v
        return params

    async def _dispatch(
        self, path: str, content_type: str, body: bytes, started: float
    ) -> tuple[int, dict[str, Any]]:
        worker = None
        tagged = _WORKER_PATH.match(path)
        if tagged:
            worker, path = int(tagged.group(1)), path[tagged.end(1) :]
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            if not path.startswith("/bot"):
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            # like Telegram: a token it does not know gets 401 Unauthorized, recorded under the method asked
            method = path.rsplit("/", 1)[-1].split("?")[0]
            with self._lock:
                self._calls.append(Call(method, {"_unknown_token": True}, 401, 0.0))
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix) :].split("?")[0]
        params = self._parse(content_type, body)
        waited = 0.0
        failure = self._take_failure(method, params)
        if failure is not None:
            status, payload = failure
        elif method == "getUpdates":
            status, payload, waited = await self._get_updates(params)
        else:
            if self.latency:
                await asyncio.sleep(self.latency)
            status, payload = self._handle(method, params)
        server_seconds = time.perf_counter() - started - waited
        with self._lock:
            if method == "answerCallbackQuery":
                params = {
                    **params,
                    "_chat_id": self._callback_chats.get(str(params.get("callback_query_id"))),
                }
            call = Call(method, params, status, server_seconds, worker=worker)
            self._calls.append(call)
            if method == "sendMessage" and status == 200:
                self._sent_by_chat.setdefault(int(params.get("chat_id", 0)), []).append(call)
        return status, payload

    def _take_failure(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            chat = params.get("chat_id")
            if chat is not None and int(chat) in self._chat_failures and method.startswith(("send", "edit")):
                status, description = self._chat_failures[int(chat)]
                return status, {"ok": False, "error_code": status, "description": description}
            for rule in self._fail_rules:
                if (
                    rule.remaining > 0
                    # getUpdates fails only when named: methods=("getUpdates",)
                    and (method in rule.methods if rule.methods is not None else method != "getUpdates")
                    and (rule.chat_id is None or (chat is not None and int(chat) == rule.chat_id))
                ):
                    rule.remaining -= 1
                    payload: dict[str, Any] = {
                        "ok": False,
                        "error_code": rule.status,
                        "description": rule.description,
                    }
                    if rule.retry_after is not None:
                        payload["parameters"] = {"retry_after": rule.retry_after}
                    return rule.status, payload
        return None

    def _send_file(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """sendPhoto & co. and sendMediaGroup: the file must be one the stand-in knows (sent by file id)."""
        chat_id = int(params.get("chat_id", 0))

        def bad(description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}

        if method == "sendMediaGroup":
            items = params.get("media")
            if not isinstance(items, list) or not 2 <= len(items) <= 10:
                return bad("media must include 2-10 items")
            kinds = {i.get("type") for i in items}
            if not (kinds <= {"photo", "video"} or kinds == {"document"} or kinds == {"audio"}):
                return bad("can't mix these media types in an album")
            files = [(i.get("type"), i.get("media"), i.get("caption")) for i in items]
        else:
            param = _SEND_FILE[method]
            files = [(param, params.get(param), params.get("caption"))]
        for _, file_id, caption in files:
            if not isinstance(file_id, str) or file_id.rstrip("s") not in self.files:
                return bad("wrong remote file identifier specified")
            if caption and _u16len(caption) > 1024:
                return bad("message caption is too long")
        messages = []
        for kind, file_id, caption in files:
            mid = next(self._message_ids)
            message: dict[str, Any] = {
                "message_id": mid,
                "date": int(time.time()),
                "chat": self._chat(chat_id),
                "from": self.bot_user,
            }
            if kind == "photo":
                message["photo"] = [
                    {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1, "height": 1}
                ]
            else:
                message[kind] = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
            if caption:
                message["caption"] = caption
            messages.append(message)
        params["_message_id"] = messages[0]["message_id"]
        return 200, {"ok": True, "result": messages if method == "sendMediaGroup" else messages[0]}

    async def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
        token = self.token
        with self._lock:
            self._polls_started += 1
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        waited = 0.0
        deadline = time.monotonic() + timeout
        assert self._new_update is not None
        while True:
            if self.token != token:  # revoked while this long poll was waiting
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, waited
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                batch = self._updates[:limit]
                if batch:
                    return 200, {"ok": True, "result": batch}, waited
                self._new_update.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return 200, {"ok": True, "result": []}, waited
            t0 = time.perf_counter()
            try:
                await asyncio.wait_for(self._new_update.wait(), min(remaining, 0.5))
            except TimeoutError:
                pass
            waited += time.perf_counter() - t0

    def _handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        ok = lambda result: (200, {"ok": True, "result": result})  # noqa: E731
        if method in ("getMe",):
            return ok(self.bot_user)
        if method == "setWebhook":
            self._webhook_secret = params.get("secret_token") or None
            return ok(True)
        if method in ("deleteWebhook", "close", "logOut"):
            return ok(True)
        if method == "getWebhookInfo":
            return ok({"url": "", "has_custom_certificate": False, "pending_update_count": 0})
        if method == "setMyCommands":
            key = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
            with self._lock:
                self.commands[key] = list(params.get("commands") or [])
            return ok(True)
        if method == "getMyCommands":
            key = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
            with self._lock:
                return ok(self.commands.get(key, []))
        if method == "deleteMyCommands":
            key = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
            with self._lock:
                self.commands.pop(key, None)
            return ok(True)
        if method == "answerCallbackQuery":
            return ok(True)
        if method == "sendChatAction":
            return ok(True)
        if method == "sendMessage":
            text = str(params.get("text", ""))
            if not text:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty",
                }
            if _u16len(text) > 4096:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message is too long",
                }
            chat_id = int(params["chat_id"])
            mid = next(self._message_ids)
            params["_message_id"] = mid
            message = {
                "message_id": mid,
                "date": int(time.time()),
                "chat": self._chat(chat_id),
                "from": self.bot_user,
                "text": text,
            }
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            with self._lock:
                self._messages[(chat_id, mid)] = message
            return ok(message)
        if method in _SEND_FILE or method == "sendMediaGroup":
            return self._send_file(method, params)
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            with self._lock:
                found = self.files.get(file_id)
            if found is None:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            unique, data = found
            return ok(
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_size": len(data),
                    "file_path": f"files/{file_id}.bin",
                }
            )
        if method in ("editMessageText", "editMessageReplyMarkup"):
            chat_id = int(params.get("chat_id", 0))
            mid = int(params.get("message_id", 0))
            with self._lock:
                message = self._messages.get((chat_id, mid))
                if message is None:
                    return 400, {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: message to edit not found",
                    }
                if method == "editMessageText":
                    message["text"] = str(params.get("text", ""))
                if params.get("reply_markup"):
                    message["reply_markup"] = params["reply_markup"]
                else:
                    message.pop("reply_markup", None)
                return ok(dict(message))
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
