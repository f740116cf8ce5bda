"""Photos, videos, files, voice messages and map pins, the same for every channel.

A `Media` is a *reference* to a file the channel keeps (Telegram keeps what people send and hands out a file id
that can be sent again); nothing is downloaded unless a `MediaKeeper` is configured (MEDIA_STORE_DIR). An album
is several `Media` sent together (the same `group`). A `Location` is a map pin: coordinates and, for a venue,
its name and address.

`MediaLimits` are the rules every attachment is checked against (kinds accepted, size, how many per 诉求);
`check_media` sorts what came in into what is taken and what is refused, with the reason, so the caller can
answer politely. Words (kind names, refusals) are in templates; this module holds data only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

# what a channel may hand over; the intake accepts MediaLimits.kinds of them
MediaKind = Literal["photo", "video", "document", "voice", "audio", "animation", "video_note"]
MEDIA_KINDS: tuple[str, ...] = ("photo", "video", "document", "voice", "audio", "animation", "video_note")
DEFAULT_KINDS: frozenset[str] = frozenset({"photo", "video", "document", "voice"})
# sent together as one album (sendMediaGroup): photos and videos mix; documents only with documents
ALBUM_KINDS = frozenset({"photo", "video"})
ALBUM_MAX = 10  # Telegram's limit per album
MB = 1024 * 1024


@dataclass(frozen=True)
class Media:
    """One photo, video, file or voice message, as the channel identifies it.

    file_id: what the channel needs to send it again (opaque; never shown to a person);
    unique_id: the same file's stable id (the same photo sent twice has the same one);
    size: bytes, when the channel says; caption: the sender's words with it (plain text);
    sender: the user id of who sent it; at: when; group: the album it came in (Telegram's media_group_id);
    path: a local copy (the console's `:attach`, or a file kept under MEDIA_STORE_DIR).
    """

    kind: str
    file_id: str
    unique_id: str
    size: int | None = None
    caption: str = ""
    mime: str | None = None
    file_name: str | None = None
    sender: str = ""
    at: dt.datetime | None = None
    group: str | None = None
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_id": self.file_id,
            "unique_id": self.unique_id,
            "size": self.size,
            "caption": self.caption,
            "mime": self.mime,
            "file_name": self.file_name,
            "sender": self.sender,
            "at": self.at.isoformat() if self.at else None,
            "group": self.group,
            "path": self.path,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Media:
        at = data.get("at")
        return cls(
            kind=str(data["kind"]),
            file_id=str(data["file_id"]),
            unique_id=str(data.get("unique_id") or data["file_id"]),
            size=int(data["size"]) if data.get("size") is not None else None,
            caption=str(data.get("caption") or ""),
            mime=data.get("mime"),
            file_name=data.get("file_name"),
            sender=str(data.get("sender") or ""),
            at=dt.datetime.fromisoformat(at) if at else None,
            group=data.get("group"),
            path=data.get("path"),
        )

    def with_caption(self, caption: str) -> Media:
        return replace(self, caption=caption)


def media_to_json(items: Iterable[Media]) -> list[dict[str, Any]]:
    return [m.to_json() for m in items]


def media_from_json(raw: Iterable[dict[str, Any]] | None) -> tuple[Media, ...]:
    return tuple(Media.from_json(d) for d in (raw or []))


@dataclass(frozen=True)
class Location:
    """A map pin (WGS-84, as phones and Telegram give it); a venue also has a name and an address."""

    lat: float
    lon: float
    title: str | None = None
    address: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"lat": self.lat, "lon": self.lon, "title": self.title, "address": self.address}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Location | None:
        if not data:
            return None
        return cls(float(data["lat"]), float(data["lon"]), data.get("title"), data.get("address"))

    @property
    def valid(self) -> bool:
        return -90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0


def map_url(lat: float, lon: float) -> str:
    """A map link for staff. OpenStreetMap takes WGS-84 as the pin gives it (Chinese map apps expect GCJ-02
    and would show the place a few hundred metres off)."""
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"


# ---------------------------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class MediaLimits:
    """MEDIA_KINDS, MEDIA_MAX_MB and MEDIA_MAX_COUNT (bot/settings.py): what the 诉求 takes."""

    kinds: frozenset[str] = DEFAULT_KINDS
    max_bytes: int = 20 * MB
    max_count: int = 10

    @property
    def max_mb(self) -> int:
        return self.max_bytes // MB


Refusal = Literal["kind", "size", "count"]


@dataclass
class Checked:
    """What `check_media` took and what it refused (each with why)."""

    taken: list[Media] = field(default_factory=list)
    refused: list[tuple[Media, Refusal]] = field(default_factory=list)

    def reasons(self) -> dict[Refusal, list[Media]]:
        out: dict[Refusal, list[Media]] = {}
        for m, why in self.refused:
            out.setdefault(why, []).append(m)
        return out


def check_media(items: Sequence[Media], limits: MediaLimits, already: int = 0) -> Checked:
    """Sort `items` by the limits; `already` attachments count against max_count. The same file sent twice
    (same unique_id) is taken once."""
    out = Checked()
    seen: set[str] = set()
    room = max(0, limits.max_count - already)
    for m in items:
        if m.kind not in limits.kinds:
            out.refused.append((m, "kind"))
        elif m.size is not None and m.size > limits.max_bytes:
            out.refused.append((m, "size"))
        elif m.unique_id in seen:
            continue
        elif len(out.taken) >= room:
            out.refused.append((m, "count"))
        else:
            seen.add(m.unique_id)
            out.taken.append(m)
    return out


def kind_counts(items: Iterable[Media]) -> dict[str, int]:
    """How many of each kind, in MEDIA_KINDS order (for "照片 3、视频 1")."""
    counts: dict[str, int] = {}
    for m in items:
        counts[m.kind] = counts.get(m.kind, 0) + 1
    return {
        k: counts[k] for k in sorted(counts, key=lambda k: MEDIA_KINDS.index(k) if k in MEDIA_KINDS else 99)
    }


def sending_groups(items: Sequence[Media]) -> list[list[Media]]:
    """How to send media: runs of photos/videos as albums of up to 10, documents as albums of their own, voice
    and everything else one by one (Telegram cannot put those in an album). The order is kept."""
    groups: list[list[Media]] = []
    for m in items:
        family = "visual" if m.kind in ALBUM_KINDS else ("document" if m.kind == "document" else None)
        last = groups[-1] if groups else None
        if (
            family is not None
            and last
            and len(last) < ALBUM_MAX
            and ("visual" if last[0].kind in ALBUM_KINDS else last[0].kind) == family
        ):
            last.append(m)
        else:
            groups.append([m])
    return groups


class MediaKeeper(Protocol):
    """Keeps a local copy of an attachment (only when MEDIA_STORE_DIR says so); returns the media with its
    `path`. See bot/core/media_store.py."""

    @property
    def ready(self) -> bool:
        """Whether a channel is connected to fetch files from."""
        ...

    async def keep(self, media: Media) -> Media: ...
