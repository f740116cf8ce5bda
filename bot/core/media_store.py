"""Keeping local copies of attachments, only when MEDIA_STORE_DIR is set (by default nothing is downloaded).

The channel adapter supplies `fetch` (Telegram: getFile and download; the console: read the file). Each file
is written once under the directory, named by its unique id, never by the name the sender gave it. Photos —
and files that are pictures — lose the location in their EXIF data first: a phone writes where a picture was
taken into it, and a copy kept for a 诉求 must not carry where the person lives or walks beyond what they chose
to tell. A picture whose data cannot be read is not kept (the reference to it still is).
"""

from __future__ import annotations

import asyncio
import io
import logging
import mimetypes
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from bot.core.media import Media

log = logging.getLogger(__name__)

Fetch = Callable[[Media], Awaitable[bytes]]
GPS_IFD = 0x8825  # the EXIF tag that points to the GPS block
_SAFE = re.compile(r"[^A-Za-z0-9_-]")
_EXTENSIONS = {"photo": ".jpg", "voice": ".ogg", "video": ".mp4", "video_note": ".mp4", "animation": ".mp4"}


class NotAPicture(Exception):
    """The bytes are not a picture Pillow can read."""


def strip_location(data: bytes) -> bytes:
    """The picture without the GPS block of its EXIF data; everything else (orientation, pixels) is kept.
    JPEGs are re-saved with their own quantisation tables (quality="keep"), so they do not lose quality."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise NotAPicture(str(exc)) from None
    exif = image.getexif()
    if GPS_IFD not in exif:
        return data  # nothing to remove: the file is kept byte for byte
    exif.pop(GPS_IFD, None)
    out = io.BytesIO()
    fmt = image.format or "PNG"
    kwargs: dict[str, object] = {"exif": exif.tobytes()}
    if fmt == "JPEG":
        kwargs["quality"] = "keep"
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def is_picture(media: Media) -> bool:
    return media.kind == "photo" or (media.kind == "document" and (media.mime or "").startswith("image/"))


def extension(media: Media) -> str:
    if media.file_name and Path(media.file_name).suffix:
        suffix = Path(media.file_name).suffix.lower()
        if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
            return suffix
    if media.mime:
        guessed = mimetypes.guess_extension(media.mime)
        if guessed:
            return guessed
    return _EXTENSIONS.get(media.kind, ".bin")


class LocalMediaStore:
    """A `MediaKeeper` that writes copies under `directory`."""

    def __init__(self, directory: Path, fetch: Fetch | None):
        self.directory = Path(directory)
        # set by the channel once it is connected (Assistant.set_media_fetch)
        self.fetch = fetch

    @property
    def ready(self) -> bool:
        return self.fetch is not None

    def path_for(self, media: Media) -> Path:
        name = _SAFE.sub("_", media.unique_id)[:80] or "file"
        return self.directory / f"{name}{extension(media)}"

    async def keep(self, media: Media) -> Media:
        target = self.path_for(media)
        if target.exists():
            return replace(media, path=str(target))
        if self.fetch is None:
            raise RuntimeError("no channel to fetch attachments from")
        data = await self.fetch(media)
        if is_picture(media):
            try:
                data = await asyncio.to_thread(strip_location, data)
            except NotAPicture as exc:
                log.warning("附件 %s 不是可读的图片，未保存本地副本：%s", media.unique_id, exc)
                return media
        await asyncio.to_thread(self._write, target, data)
        return replace(media, path=str(target))

    def _write(self, target: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(data)
        partial.replace(target)  # a crash half-way never leaves a half file under the real name
