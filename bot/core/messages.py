"""Channel-free message types: what the core receives and what it answers.

Reply text is Telegram-style HTML that the core has already escaped: templates autoescape every value, so user
text never becomes markup. The console adapter turns the few tags we use (<b>, <i>, <code>, <a>) into plain text.
Buttons carry a short `data` string (≤ 64 bytes, Telegram's callback limit) that the core understands when it
comes back as a callback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.core.media import Location, Media


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    html: str
    buttons: list[list[Button]] = field(default_factory=list)
    # photos, files… sent with the text (an album first, then the text with its buttons; see bot/core/media.py)
    media: tuple[Media, ...] = ()


@dataclass(frozen=True)
class Incoming:
    """One message or button press from a person.

    user_id: stable id of the person in the channel (Telegram user id, or "console:citizen").
    chat_id: where to answer (same as user_id in a private chat; a group's id in a staff group).
    text: the typed text (empty for a button press).
    callback: the Button.data of a pressed button, if any.
    media: photos, videos, files, voice messages sent with it (an album: several); their captions are on each.
    location: a map pin (or a venue) the person sent.
    """

    user_id: str
    chat_id: str
    text: str = ""
    callback: str | None = None
    display_name: str = ""
    is_group: bool = False
    media: tuple[Media, ...] = ()
    location: Location | None = None


RecipientKind = Literal["user", "department", "staff", "admins"]


@dataclass(frozen=True)
class Recipient:
    """Who a notification goes to. The adapter resolves it to chats:
    user -> the person's private chat (id = user_id); department -> the department's staff group(s);
    staff -> a staff member's private chat (id = user_id); admins -> every admin.
    """

    kind: RecipientKind
    id: str


@dataclass(frozen=True)
class Notification:
    recipient: Recipient
    reply: Reply
    # stable key so the same notification is never queued twice (e.g. "remind:SQ..-0007:contact:yellow:0")
    dedup_key: str | None = None
