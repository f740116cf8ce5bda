"""Photos, videos, files, voice messages and map pins during the intake (拍照反映, 定位).

At any step a person may send evidence: it is checked against the limits (MEDIA_KINDS, MEDIA_MAX_MB,
MEDIA_MAX_COUNT; what is over them gets a polite sentence and the rest is kept), added to the draft, and the
current step is asked again with a note of what was received. At the description step, before anything was
described, the captions are the description. A map pin (or a venue) sets the place, with its coordinates and
— when the knowledge base has boundaries for the district's 街道/乡镇 — the 属地 unit it lies in; at the place
step it answers the question and the intake goes on.

Nothing is downloaded here: a local copy is made only when the 诉求 is submitted, and only with
MEDIA_STORE_DIR set (bot/core/media_store.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.media import Location, Media, check_media, kind_counts
from bot.core.messages import Incoming, Reply
from bot.core.tickets.files import MEDIA, refusal_notes

from . import words
from .draft import Draft, Step

if TYPE_CHECKING:
    from .flow import IntakeFlow

PLACE_WORDS = "tickets/media.txt.j2"


async def on_media(flow: IntakeFlow, msg: Incoming, draft: Draft) -> list[Reply]:
    """A message with photos, files or a pin during the intake."""
    notes: list[str] = []
    pinned = take_pin(flow, draft, msg.location, notes) if msg.location is not None else False
    described = take_media(flow, draft, msg.media, notes) if msg.media else False
    if pinned and draft.step == Step.PLACE:
        return await flow._after_field(msg.user_id, draft, Step.PHONE, notes)
    if described:
        flow._classify_into(draft)
    return await flow._save_and_show(msg.user_id, draft, notes)


def take_media(flow: IntakeFlow, draft: Draft, media: Sequence[Media], notes: list[str]) -> bool:
    """Add what the limits allow to the draft; True when the captions became the description."""
    limits = flow.service.media_limits
    checked = check_media(media, limits, already=len(draft.media))
    have = {m.unique_id for m in draft.media}
    taken = [m for m in checked.taken if m.unique_id not in have]
    draft.media.extend(taken)
    if taken:
        notes.append(flow.texts.say(MEDIA, "received", counts=kind_counts(taken), total=len(draft.media)))
    notes.extend(refusal_notes(flow.texts, checked, limits))
    if draft.step != Step.DESCRIPTION or draft.description or not taken:
        return False
    caption = words.clean_text("\n".join(m.caption for m in taken if m.caption.strip()))
    if words.meaningful(caption) < 2:
        return False
    draft.description = flow._take_description(caption, notes)
    return True


def take_pin(flow: IntakeFlow, draft: Draft, location: Location | None, notes: list[str]) -> bool:
    """The pin as the draft's place; False (and a note) when its coordinates are not a place on Earth."""
    if location is None or not location.valid:
        notes.append(flow.texts.say(MEDIA, "pin_invalid"))
        return False
    boundaries = getattr(flow.kb, "boundaries", None)
    unit = boundaries.unit_at(location.lat, location.lon) if boundaries else None
    place = flow.texts.say(
        PLACE_WORDS,
        "place_from_pin",
        title=words.clean_text(location.title or "") or None,
        address=words.clean_text(location.address or "") or None,
        lat=location.lat,
        lon=location.lon,
    )
    from .flow import MAX_PLACE  # the flow imports this module

    draft.location, draft.unit, draft.place = location, unit, place[:MAX_PLACE]
    notes.append(place_note(flow, draft))
    return True


def place_note(flow: IntakeFlow, draft: Draft) -> str:
    """ "已按您发送的位置记下问题地点：…" (also when the place question is skipped: a pin answered it)."""
    return flow.texts.say(MEDIA, "pin_taken", place=draft.place or "")
