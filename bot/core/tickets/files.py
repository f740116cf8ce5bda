"""Photos and files of a ticket, the pieces the service, the views and the intake share: each attachment's
history event, the copies staff see (captions masked in groups), local copies (only with MEDIA_STORE_DIR), and
the words for what the limits refused. The words themselves are in templates/tickets/media.html.j2."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from bot.core.media import MEDIA_KINDS, Checked, Media, MediaKeeper, MediaLimits, kind_counts
from bot.core.text.mask import mask_pii
from bot.core.texts import Texts, short
from bot.core.tickets.domain.models import EventIn

log = logging.getLogger(__name__)

MEDIA = "tickets/media.html.j2"
CAPTION_LIMIT = 200  # of a caption kept in the history (the whole caption stays with the attachment)


def attach_events(views: Any, actor: str, media: Iterable[Media], action: str = "attach") -> list[EventIn]:
    """One history event per attachment: its kind and caption (action "attach", or "supplement" for a
    补充材料 after submission)."""
    return [
        EventIn(actor, action, views.event("attached", kind=m.kind, caption=short(m.caption, CAPTION_LIMIT)))
        for m in media
    ]


def masked(media: Iterable[Media], *, group: bool = True) -> tuple[Media, ...]:
    """The media as staff get them: in groups phone and ID-card numbers in captions are masked."""
    return tuple(replace(m, caption=mask_pii(m.caption)) if group and m.caption else m for m in media)


async def keep_all(keeper: MediaKeeper | None, media: Sequence[Media]) -> list[Media]:
    """Local copies when a keeper is configured; a copy that fails is logged and the reference kept."""
    if keeper is None:
        return list(media)
    out = []
    for m in media:
        try:
            out.append(await keeper.keep(m))
        except Exception:  # noqa: BLE001 - the attachment still counts: the channel keeps the file
            # the reference is kept; the periodic tick tries the copy again (bot/core/tickets/copies.py)
            log.exception("no local copy of attachment %s yet; it will be tried again", m.unique_id)
            out.append(m)
    return out


def refusal_notes(texts: Texts, checked: Checked, limits: MediaLimits) -> list[str]:
    """One polite sentence per reason something was refused (kind, size, count)."""
    notes = []
    for reason, items in checked.reasons().items():
        notes.append(
            texts.say(
                MEDIA,
                "refused",
                reason=reason,
                counts=kind_counts(items),
                max_mb=limits.max_mb,
                max_count=limits.max_count,
                accepted=sorted(limits.kinds, key=_kind_order),
            )
        )
    return notes


def _kind_order(kind: str) -> int:
    return MEDIA_KINDS.index(kind) if kind in MEDIA_KINDS else 99
