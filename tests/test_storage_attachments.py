"""Attachments, map pins and the media of notifications in the store, on every engine ([sqlite] always,
[postgres] when TEST_DATABASE_URL names a server): written in the same transaction as the ticket's creation or
change, read back as they were given."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.core.media import Media
from bot.core.messages import Button, Notification, Recipient, Reply
from bot.core.storage import ConflictError
from bot.core.tickets.domain.models import AttachmentIn, Change, EventIn, NewTicket

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=DEFAULT_TZ)


@pytest.fixture
async def store(engine):
    s = await engine.open(clock=FixedClock(NOW))
    yield s
    await s.close()


def photo(n: int, caption: str = "", **kw) -> Media:
    base = dict(size=1000 + n, caption=caption, mime="image/jpeg", sender="c1", at=NOW, group="album-1")
    base.update(kw)
    return Media("photo", f"file-{n}", f"uniq-{n}", **base)


def new_ticket(**kw) -> NewTicket:
    base = dict(
        citizen_id="c1",
        description="路灯坏了",
        category="城乡建设",
        department="住房和城乡建设局",
        created_at=NOW,
        policy="2110",
    )
    base.update(kw)
    return NewTicket(**base)


def hook(ticket):
    reply = Reply("新诉求", [[Button("认领", f"claim:{ticket.number}")]], media=(photo(1, "东门"), photo(2)))
    return [EventIn("c1", "create")], [
        Notification(Recipient("department", "住房和城乡建设局"), reply, "new")
    ]


async def test_a_ticket_is_created_with_its_attachments_pin_and_the_album_of_its_post(store):
    files = (photo(1, "东门\x00这根"), photo(2), Media("voice", "v-1", "uv-1", None, "", None, None, "c1"))
    t = await store.tickets.create(
        new_ticket(attachments=files, latitude=30.0612, longitude=120.0534, unit="南湖街道"), hook
    )
    assert (t.latitude, t.longitude, t.unit) == (30.0612, 120.0534, "南湖街道")
    assert await store.tickets.get(t.number) == t
    kept = await store.attachments.of_ticket(t.id)
    assert [a.media.file_id for a in kept] == ["file-1", "file-2", "v-1"]
    assert all(a.role == "citizen" and a.ticket_id == t.id for a in kept)
    assert kept[1].media == photo(2)  # every field back as it went in
    assert kept[2].media.size is None and kept[2].media.at == NOW  # no time of its own: the ticket's
    assert kept[0].media.caption in ("东门\x00这根", "东门\ufffd这根")  # PostgreSQL text holds no NUL
    (row,) = await store.outbox.due(NOW, 10)
    assert [m.file_id for m in row.notification.reply.media] == ["file-1", "file-2"]
    assert row.notification.reply.media[0].caption == "东门"
    assert row.notification.reply.buttons == [[Button("认领", f"claim:{t.number}")]]


async def test_a_ticket_without_a_pin_or_files_has_none(store):
    t = await store.tickets.create(new_ticket(), hook)
    assert (t.latitude, t.longitude, t.unit) == (None, None, None)
    assert await store.attachments.of_ticket(t.id) == []
    assert await store.attachments.of_tickets([t.id, 999]) == {t.id: [], 999: []}


async def test_a_change_writes_its_attachments_only_when_it_applies(store):
    t = await store.tickets.create(new_ticket(), hook)
    files = [AttachmentIn("citizen", photo(7, "补充")), AttachmentIn("staff", photo(8, sender="h1"))]
    note = Notification(Recipient("user", "c1"), Reply("修好了", media=(photo(8),)), "reply")
    changed = await store.tickets.apply(
        Change(
            t,
            NOW,
            {"handler": "h1"},
            [EventIn("c1", "supplement"), EventIn("h1", "attach")],
            [note],
            attachments=files,
        )
    )
    with pytest.raises(ConflictError):  # against the old version: nothing of it is written
        await store.tickets.apply(Change(t, NOW, {}, [], attachments=[AttachmentIn("citizen", photo(9))]))
    kept = await store.attachments.of_ticket(t.id)
    assert [(a.role, a.media.file_id) for a in kept] == [("citizen", "file-7"), ("staff", "file-8")]
    other = await store.tickets.create(new_ticket(citizen_id="c2"), hook)
    await store.tickets.apply(Change(other, NOW, {}, [], attachments=[AttachmentIn("citizen", photo(10))]))
    both = await store.attachments.of_tickets([changed.id, other.id])
    assert [a.media.file_id for a in both[other.id]] == ["file-10"] and len(both[changed.id]) == 2
    due = {r.notification.dedup_key: r for r in await store.outbox.due(NOW, 10)}
    assert [m.file_id for m in due["reply"].notification.reply.media] == ["file-8"]


async def test_an_enqueued_notification_keeps_its_media(store):
    reply = Reply("附件", media=(photo(3, "说明"),))
    assert await store.outbox.enqueue(Notification(Recipient("user", "c1"), reply, "k1"))
    (row,) = await store.outbox.due(NOW, 10)
    assert row.notification.reply == reply
    (claimed,) = await store.outbox.claim(NOW, 10, "me", dt.timedelta(minutes=1))
    assert claimed.notification.reply.media == reply.media


async def test_copies_still_to_make_come_back_after_a_growing_wait(store):
    files = (photo(1), photo(2, path="/media/uniq-2.jpg"), photo(3))
    t = await store.tickets.create(new_ticket(attachments=files), hook)
    first, _, third = await store.attachments.of_ticket(t.id)
    due = await store.attachments.without_copy(NOW, 10, 3)
    assert [(p.attachment.media.file_id, p.attempts) for p in due] == [("file-1", 0), ("file-3", 0)]
    assert [p.attachment.id for p in await store.attachments.without_copy(NOW, 1, 3)] == [first.id]

    await store.attachments.copy_failed(first.id, NOW, 1)  # the next try after 2 minutes
    await store.attachments.copy_kept(third.id, "/media/uniq-3.jpg")
    assert await store.attachments.without_copy(NOW + dt.timedelta(seconds=119), 10, 3) == []
    (again,) = await store.attachments.without_copy(NOW + dt.timedelta(minutes=2), 10, 3)
    assert (again.attachment.id, again.attempts) == (first.id, 1)
    assert (await store.attachments.of_ticket(t.id))[2].media.path == "/media/uniq-3.jpg"

    await store.attachments.copy_failed(first.id, NOW, 3)  # as many tries as allowed: not tried again
    assert await store.attachments.without_copy(NOW + dt.timedelta(days=30), 10, 3) == []
    assert len(await store.attachments.of_ticket(t.id)) == 3  # the reference stays
