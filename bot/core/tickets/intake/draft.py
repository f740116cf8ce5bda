"""The intake's state between messages: which step waits for an answer, and what the person said so far.

Stored as JSON in the conversation state (one row per person), so a restart loses nothing. Version 1 drafts
(an untyped dict with the same keys) are read as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.media import Location, Media, media_from_json, media_to_json

VERSION = 1


class Step(StrEnum):
    DESCRIPTION = "description"
    CATEGORY = "category"  # confirm the category we guessed
    CATEGORY_PICK = "category_pick"  # choose one from all categories
    PLACE = "place"
    PHONE = "phone"
    ANONYMOUS = "anonymous"
    SUMMARY = "summary"
    EDIT = "edit"  # which field to change, from the summary
    TYPE_PICK = "type_pick"  # choose the 诉求类型 (咨询, 求助, 投诉…), from the edit step


@dataclass
class Draft:
    step: Step = Step.DESCRIPTION
    description: str = ""
    category: str | None = None
    alternatives: list[str] = field(default_factory=list)
    place: str | None = None
    phone: str | None = None
    anonymous: bool | None = None
    source_question: str | None = None
    # the assistant recognised an emergency: filed under the urgent policy whatever the words
    urgent: bool = False
    # the 诉求类型, classified from the words until the person picks one (type_chosen)
    appeal_type: str | None = None
    type_chosen: bool = False
    # how the person's channel names them (kept on the ticket; masked wherever staff see it)
    citizen_name: str | None = None
    # editing from the summary: after the field is answered, go back to the summary
    return_to_summary: bool = False
    # what the person typed at the phone step that is not a phone number (shown back to them)
    phone_error: str | None = None
    # a message that looked like a new question or another problem, waiting for "补充" or "先回答"
    held: str | None = None
    updated: dt.datetime | None = None
    # photos, videos, files, voice messages sent during the intake (references; see bot/core/media.py)
    media: list[Media] = field(default_factory=list)
    # a map pin for the place, and the 属地 unit (街道/乡镇) it lies in when the base has boundaries
    location: Location | None = None
    unit: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["alternatives"] = list(self.alternatives)
        data["step"] = self.step.value
        data["updated"] = self.updated.isoformat() if self.updated else None
        data["media"] = media_to_json(self.media)
        data["location"] = self.location.to_json() if self.location else None
        data["v"] = VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft | None:
        """The draft, or None when the data is not a draft this version can continue."""
        if data.get("v") != VERSION:
            return None
        try:
            step = Step(str(data.get("step")))
        except ValueError:
            step = Step.CATEGORY if data.get("category") else Step.CATEGORY_PICK
            if not data.get("description"):
                step = Step.DESCRIPTION
        try:
            updated = dt.datetime.fromisoformat(data["updated"]) if data.get("updated") else None
        except (TypeError, ValueError):
            updated = None
        known = {f.name for f in dataclasses.fields(cls)} - {"step", "updated"}
        values = {k: v for k, v in data.items() if k in known}
        values["alternatives"] = list(values.get("alternatives") or [])
        try:
            values["media"] = list(media_from_json(values.get("media")))
            values["location"] = Location.from_json(values.get("location"))
        except (KeyError, TypeError, ValueError):
            return None
        return cls(step=step, updated=updated, **values)
