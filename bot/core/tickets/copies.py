"""Local copies that failed are tried again, not dropped (only with MEDIA_STORE_DIR).

A copy is made when a 诉求 is submitted, a 补充材料 added or staff reply with a photo. When the download fails
(the network, Telegram answering 5xx, the bot restarting half-way) the attachment is stored without its copy
(the channel still keeps the file, so nothing is lost) and the periodic tick tries it again: after 1, 2, 4…
minutes, COPY_ATTEMPTS times in all (about four hours), then the error is logged for an administrator and the
reference stays. A file that is no readable picture is not tried again: another download would not change it.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.core.media import MediaKeeper
from bot.core.storage import Store

log = logging.getLogger(__name__)

COPY_ATTEMPTS = 8  # 1 + 2 + 4 + … + 128 minutes between them
BATCH = 20  # copies tried per tick: a tick stays short even after a long outage


async def retry_copies(store: Store, keeper: MediaKeeper | None, now: dt.datetime) -> int:
    """Try the copies that are due again; returns how many were made."""
    if keeper is None or not keeper.ready:
        return 0  # no copies wanted, or no channel yet to fetch from (a try now would only count as failed)
    made = 0
    for pending in await store.attachments.without_copy(now, BATCH, COPY_ATTEMPTS):
        a = pending.attachment
        attempts = pending.attempts + 1
        try:
            copy = await keeper.keep(a.media)
        except Exception as exc:  # noqa: BLE001 - any failure is one more attempt; the reference stays
            await store.attachments.copy_failed(a.id, now, attempts)
            if attempts >= COPY_ATTEMPTS:
                log.error(
                    "no local copy of attachment %s (ticket id %s) after %s tries; given up, the channel keeps it: %s",
                    a.media.unique_id,
                    a.ticket_id,
                    attempts,
                    exc,
                )
            else:
                log.warning(
                    "local copy of attachment %s failed (try %s); tried again later: %s",
                    a.media.unique_id,
                    attempts,
                    exc,
                )
            continue
        if copy.path is None:  # not a readable picture (media_store.py logged why): no use trying again
            await store.attachments.copy_failed(a.id, now, COPY_ATTEMPTS)
            continue
        await store.attachments.copy_kept(a.id, copy.path)
        made += 1
    return made
