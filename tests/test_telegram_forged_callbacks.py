"""Forged callback data over Telegram: anybody can send any button data (up to 64 bytes) with a crafted client.
Whatever arrives, nothing changes that the sender may not change, and the answer is a short polite sentence.
The real core behind the real python-telegram-bot stack (tests/test_telegram_e2e.py's environment)."""

from __future__ import annotations

import pytest

from tests.test_telegram_e2e import OTHER_CITIZEN, Env, add_staff, env, file_appeal  # noqa: F401 (env: fixture)

FORGED = [
    ("claim:{n}", "仅供工作人员"),  # a staff button, pressed by a citizen
    ("xfer:{n}:0", "仅供工作人员"),
    ("rate:{n}:1", "只有提出该诉求的本人可以评价"),  # somebody else's ticket
    ("rate:SQ20991231-9999:1", "没有找到诉求"),
    ("intake:submit", "按钮已过期"),  # a step of an intake this person never started
    ("pick:99", "按钮已过期"),
    ("nonsense", "按钮已过期"),
    ("x" * 64, "按钮已过期"),
    ("💥", "按钮已过期"),
]


@pytest.mark.parametrize(("data", "answer"), FORGED, ids=[f[0][:20] for f in FORGED])
async def test_forged_callback_data_changes_nothing(env: Env, data: str, answer: str):  # noqa: F811
    await add_staff(env)
    number = await file_appeal(env)
    store = env.assistant.service.store
    ticket = await store.tickets.get(number)
    before = (
        ticket.state,
        ticket.handler,
        ticket.rating,
        ticket.version,
        len(await store.tickets.events(ticket.id)),
    )
    env.stand.push_callback(OTHER_CITIZEN, data.format(n=number))
    (reply,) = await env.stand.wait_for_messages(OTHER_CITIZEN, 1)
    assert answer in reply["text"] and len(reply["text"]) < 80
    ticket = await store.tickets.get(number)
    after = (
        ticket.state,
        ticket.handler,
        ticket.rating,
        ticket.version,
        len(await store.tickets.events(ticket.id)),
    )
    assert after == before
    assert "赌博" not in reply["text"]  # nothing of the ticket is shown
