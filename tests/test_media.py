"""The channel-neutral media model and its rules (limits, how albums are sent), local copies without the
photo's location, the settings that configure them, and the console's :attach and :pin."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from bot.core.media import Location, Media, MediaLimits, check_media, kind_counts, sending_groups
from bot.core.media_store import LocalMediaStore, strip_location
from bot.settings import ConfigError
from tests.conftest import make_settings


def m(kind: str, n: int, size: int | None = 100) -> Media:
    return Media(kind, f"f{n}", f"u{n}", size)


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneCam"
    exif[0x8825] = {1: "N", 2: (30.0, 3.0, 40.0), 3: "E", 4: (120.0, 3.0, 12.0)}
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def test_limits_sort_what_came_in():
    limits = MediaLimits(kinds=frozenset({"photo", "voice"}), max_bytes=1000, max_count=3)
    checked = check_media(
        [
            m("photo", 1),
            m("photo", 1),
            m("video", 2),
            m("photo", 3, 5000),
            m("voice", 4),
            m("photo", 5),
            m("photo", 6),
        ],
        limits,
        already=1,
    )
    assert [x.file_id for x in checked.taken] == ["f1", "f4"]  # room for 2; the same file once
    assert [(x.file_id, why) for x, why in checked.refused] == [
        ("f2", "kind"),
        ("f3", "size"),
        ("f5", "count"),
        ("f6", "count"),
    ]
    assert kind_counts([m("voice", 1), m("photo", 2), m("photo", 3)]) == {"photo": 2, "voice": 1}


def test_albums_are_sent_the_way_telegram_allows():
    items = [m("photo", i) for i in range(12)] + [
        m("document", 20),
        m("document", 21),
        m("voice", 30),
        m("video", 31),
    ]
    groups = [[x.file_id for x in g] for g in sending_groups(items)]
    assert groups == [
        [f"f{i}" for i in range(10)],
        ["f10", "f11"],
        ["f20", "f21"],
        ["f30"],
        ["f31"],
    ]


def test_media_and_locations_round_trip_as_json():
    full = Media("document", "f", "u", 12, "说明", "application/pdf", "a.pdf", "c1", None, "g", "/tmp/a.pdf")
    assert Media.from_json(full.to_json()) == full
    assert Location.from_json(Location(30.1, 120.2, "小区", "路").to_json()) == Location(
        30.1, 120.2, "小区", "路"
    )
    assert not Location(91, 0).valid and Location(-90, 180).valid


def test_a_kept_photo_loses_its_gps_block_and_keeps_the_rest():
    data = jpeg_with_gps()
    cleaned = strip_location(data)
    tags = Image.open(io.BytesIO(cleaned)).getexif()
    assert 0x8825 not in tags and tags[0x010F] == "PhoneCam"
    without = io.BytesIO()
    Image.new("RGB", (4, 4)).save(without, "PNG")
    assert strip_location(without.getvalue()) == without.getvalue()  # nothing to remove: byte for byte


async def test_the_store_keeps_copies_by_unique_id_and_not_what_is_no_picture(tmp_path):
    fetched: list[str] = []
    payload = {"p": jpeg_with_gps(), "d": b"%PDF-1.4", "bad": b"not a jpeg"}

    async def fetch(media: Media) -> bytes:
        fetched.append(media.file_id)
        return payload[media.file_id]

    store = LocalMediaStore(tmp_path / "media", fetch)
    kept = await store.keep(Media("photo", "p", "AgAD/x+1", 10))
    assert Path(kept.path).name == "AgAD_x_1.jpg" and Path(kept.path).parent == tmp_path / "media"
    assert 0x8825 not in Image.open(kept.path).getexif()
    again = await store.keep(Media("photo", "p", "AgAD/x+1", 10))
    assert again.path == kept.path and fetched == ["p"]  # the same file is fetched once
    doc = await store.keep(
        Media("document", "d", "doc1", 8, mime="application/pdf", file_name="../../申请.PDF")
    )
    assert (
        Path(doc.path).name == "doc1.pdf"
        and await asyncio.to_thread(Path(doc.path).read_bytes) == b"%PDF-1.4"
    )
    bad = await store.keep(Media("photo", "bad", "bad1", 10))
    assert bad.path is None and not (tmp_path / "media" / "bad1.jpg").exists()


def test_media_settings_are_checked():
    s = make_settings(
        media_kinds="photo, voice", media_max_mb="5", media_max_count="3", album_wait_seconds="0.3"
    )
    assert s.media_kinds == ("photo", "voice") and s.media_max_mb == 5 and s.media_max_count == 3
    assert s.album_wait_seconds == 0.3 and s.media_store_dir is None
    for name, value, words in [
        ("media_kinds", "photo,sticker", "MEDIA_KINDS"),
        ("media_max_mb", "0", "MEDIA_MAX_MB"),
        ("media_max_count", "many", "MEDIA_MAX_COUNT"),
        ("album_wait_seconds", "60", "ALBUM_WAIT_SECONDS"),
    ]:
        with pytest.raises(ConfigError) as failed:
            make_settings(**{name: value})
        assert failed.value.variable == words


async def test_the_console_attaches_a_local_file_and_sends_a_pin(tmp_path, clock, build_app):
    from bot.adapters.console import Console, OffsetClock

    app = await build_app(tmp_path / "t.db", clock, extra_admins={"console:staff"})
    picture = tmp_path / "路灯.jpg"
    picture.write_bytes(jpeg_with_gps())
    out = io.StringIO()
    console = Console(app.assistant, OffsetClock(clock), out)
    await console.step("我们小区门口的路灯坏了半个多月了也没人修，晚上很危险")
    await console.step(f":attach {picture} 东门那根")
    await console.step(":pin 30.0612 120.0534 幸福小区东门")
    await console.step(":attach /no/such/file.jpg")
    await console.step(":pin north east")
    text = out.getvalue()
    assert "已收到照片 1 张" in text
    assert "已按您发送的位置记下问题地点：幸福小区东门" in text
    assert "找不到文件：/no/such/file.jpg" in text and "用法：:pin 纬度 经度" in text
