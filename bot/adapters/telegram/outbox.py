"""The outbox dispatcher: sends the core's persisted notifications (new tickets to staff groups, replies to
citizens, reminders) and records the outcome in the core's outbox.

Transient failures (429 RetryAfter, timeouts, network errors, 5xx) are retried with exponential backoff for
as long as it takes: nothing is dropped. Permanent failures (chat not found, bot blocked, bad request) are
retried a bounded number of times and then parked with the error kept; an admin lists them with `/outbox` and
re-queues them with `/outbox retry` once the cause is fixed (e.g. the bot added back to a group).

A notification for several chats (a department with two groups) records each chat it reaches, so a restart
half-way does not post it to the first group again.

Several bot processes may drain one outbox (PostgreSQL): each takes its rows with the core's `claim`, which
hands a row to one process for a lease, so every notification is sent by one process. A batch is sent only
while less than half of its lease has passed (what is left is given back for anyone to take), so a claim never
runs out while its row is being sent. A process killed while holding claims delays those rows until the lease
ends; the one row it may have sent without recording it is the only one that can go out twice.

Delivery is at least once. Each notification is taken (marked in flight, `sending`, one conditional update
that succeeds only while it is due and nobody else has it: a second guard behind the claim, for a claim that
ran out or a sender that read rows with `due`) before its request goes out, and recorded as sent the moment
Telegram answers. The Bot API has no idempotency key and no way to ask whether a
message arrived, so a notification whose request was under way when the process died is sent again — but only
once `IN_FLIGHT_HOLD` (longer than any request can take) has passed since it went out, so a request that may
still be under way is never raced by its own resend. What can still arrive twice: the one notification per
sending process whose request Telegram had accepted when the process died, before its `sent` was recorded (one
network round trip and one commit).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from telegram.error import RetryAfter

from bot.core.messages import Recipient
from bot.core.outbox import CLAIM_LEASE
from bot.core.storage.protocols import StoreWriteError
from bot.settings import Settings

from .sending import ReplySender, describe_error, is_transient, retry_after_seconds

if TYPE_CHECKING:
    from bot.core.outbox import Outbox

log = logging.getLogger(__name__)

# longer than one Bot API request can take: the HTTP client's pool, connect, write and read timeouts add up to
# 25 s (bot/adapters/telegram/http.py; PTB's own client is configured alike), plus a margin
IN_FLIGHT_HOLD = dt.timedelta(seconds=30)
BACKOFF_FIRST = 5.0
BACKOFF_MAX = 15 * 60.0
PERMANENT_ATTEMPTS = 3


def backoff(attempts: int) -> dt.timedelta:
    """5 s, 10 s, 20 s, … capped at 15 minutes (attempts = failures so far, before this one)."""
    return dt.timedelta(seconds=min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts)))


def resolve_chats(recipient: Recipient, settings: Settings) -> list[int | str]:
    """Recipient -> Telegram chat ids: user/staff -> their private chat; department -> its staff group(s)
    (or the catch-all group); admins -> every admin."""
    if recipient.kind in ("user", "staff"):
        return [_chat_id(recipient.id)]
    if recipient.kind == "department":
        return list(settings.chats_for_department(recipient.id))
    if recipient.kind == "admins":
        return sorted(settings.admin_ids)
    return []


def _chat_id(raw: str) -> int | str:
    try:
        return int(raw)
    except ValueError:
        return raw


class OutboxDispatcher:
    def __init__(
        self,
        outbox: Outbox,
        settings: Settings,
        sender: ReplySender,
        now: Callable[[], dt.datetime],
        *,
        batch: int = 50,
        permanent_attempts: int = PERMANENT_ATTEMPTS,
        lease: dt.timedelta = CLAIM_LEASE,
        monotonic: Callable[[], float] = time.monotonic,
        in_flight_hold: dt.timedelta = IN_FLIGHT_HOLD,
    ):
        self.outbox = outbox
        self.settings = settings
        self.sender = sender
        self.now = now
        self.batch = batch
        self.permanent_attempts = permanent_attempts
        self.lease = lease
        self._monotonic = monotonic
        self.in_flight_hold = in_flight_hold
        self._lock = asyncio.Lock()
        self._kick: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.sent = 0
        self.failed = 0

    def kick(self, delay: float = 0.05) -> None:
        """Drain soon (debounced): called after an update that may have queued notifications."""
        if self._kick is not None:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._kick = None
            task = loop.create_task(self._drain_soon())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._kick = loop.call_later(delay, fire)

    async def _drain_soon(self) -> None:
        try:
            await self.drain()
        except StoreWriteError as exc:
            # the database takes no writes now: nothing was marked sent, the periodic drain tries again
            log.warning("发送通知时未能写入数据库（%s），稍后重试。", exc)

    async def close(self) -> None:
        if self._kick is not None:
            self._kick.cancel()
            self._kick = None
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)

    async def drain(self, max_rounds: int = 20) -> int:
        """Send every due notification; returns how many were delivered."""
        delivered = 0
        async with self._lock:
            for _ in range(max_rounds):
                # sends from this batch stop once half its lease has passed; the rest is given back
                deadline = self._monotonic() + self.lease.total_seconds() / 2
                rows = await self.outbox.claim(self.batch, self.lease, self.now())
                if not rows:
                    break
                n, stop = await self._send_rows(rows, deadline)
                delivered += n
                if stop or len(rows) < self.batch:
                    break
        return delivered

    async def _send_rows(self, rows: list[Any], deadline: float) -> tuple[int, bool]:
        delivered = 0
        for i, row in enumerate(rows):
            if self._monotonic() >= deadline:
                log.warning("发送耗时过长，本批剩余 %d 条通知交回，稍后再发", len(rows) - i)
                await self.outbox.release([r.id for r in rows[i:]])
                return delivered, True
            notification = row.notification
            chats = resolve_chats(notification.recipient, self.settings)
            if not chats:
                await self._fail(
                    row,
                    f"没有可发送的聊天：{notification.recipient.kind}={notification.recipient.id}"
                    "（请检查 STAFF_GROUPS / ADMIN_IDS）",
                    transient=False,
                )
                continue
            done = set(row.delivered)
            taken: dt.datetime | None = None  # when this sender took the row (marked it in flight)
            elsewhere = False  # another sender took it after we read it (or sent it): theirs to finish
            reply = notification.reply
            try:
                for chat in chats:
                    if str(chat) in done:
                        continue
                    # in flight from here until sent/failed: not sent again while this request may be under
                    # way; a row another sender took after we read it is left to that sender
                    at = self.now()
                    if not await self.outbox.sending(row.id, self.in_flight_hold, at, mine=taken):
                        elsewhere = True
                        break
                    if taken is None and row.sending_at is not None:
                        log.warning(
                            "通知 #%s 上次发送时（%s）程序中断，无法确认是否已送达，现在重发（可能重复一次）",
                            row.id,
                            row.sending_at.isoformat(timespec="seconds"),
                        )
                    taken = at
                    # photos went out but not the text: a retry sends only the text ("<chat>#media")
                    media_key = f"{chat}#media"
                    await self.sender.send(
                        chat,
                        reply,
                        retry=False,
                        skip_media=media_key in done,
                        media_sent=partial(self._media_sent, row.id, done, media_key)
                        if reply.media
                        else None,
                    )
                    done.add(str(chat))
                    if len(chats) > 1:
                        await self.outbox.delivered(row.id, sorted(done))
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is lost
                await self._fail(row, describe_error(exc), transient=is_transient(exc), exc=exc)
                if isinstance(exc, RetryAfter):
                    # flood control: stop this round, the rest waits for the next drain (claims given back)
                    await self.outbox.release([r.id for r in rows[i + 1 :]])
                    return delivered, True
                continue
            if elsewhere:
                continue
            await self.outbox.sent(row.id, self.now())
            self.sent += 1
            delivered += 1
        return delivered, False

    async def _media_sent(self, row_id: int, done: set[str], key: str) -> None:
        done.add(key)
        await self.outbox.delivered(row_id, sorted(done))

    async def _fail(self, row: Any, error: str, *, transient: bool, exc: BaseException | None = None) -> None:
        now = self.now()
        self.failed += 1
        if isinstance(exc, RetryAfter):
            retry_at = now + dt.timedelta(seconds=retry_after_seconds(exc))
        elif transient:
            retry_at = now + backoff(row.attempts)
        elif row.attempts + 1 >= self.permanent_attempts:
            log.error(
                "通知 #%s 多次发送失败，已停止重试并保留记录（管理员可用 /outbox 查看、重发）：%s",
                row.id,
                error,
            )
            await self.outbox.failed(row.id, error, now, park=True)
            return
        else:
            retry_at = now + dt.timedelta(minutes=1) * (row.attempts + 1)
        if transient:
            log.warning(
                "通知 #%s 发送失败（第 %d 次），%s 重试：%s",
                row.id,
                row.attempts + 1,
                retry_at.isoformat(timespec="seconds"),
                error,
            )
        await self.outbox.failed(row.id, error, retry_at)
