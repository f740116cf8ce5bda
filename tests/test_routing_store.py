"""The routing repository on every engine: labelled examples in time order, models with at most one active."""

from __future__ import annotations

import datetime as dt

from bot.core.storage.protocols import RoutingExample, RoutingModelRow


def example(i: int, unit: str, at: dt.datetime, ticket: int | None = None) -> RoutingExample:
    return RoutingExample(
        text=f"无人机扰民 第{i}件\x00",
        unit=unit,
        kind="transfer",
        actor="s1",
        at=at,
        ticket_id=ticket,
        previous="派单中心",
        category="其他",
    )


def model(at: dt.datetime, score: float, data: bytes) -> RoutingModelRow:
    return RoutingModelRow(
        id=0,
        created_at=at,
        examples=90,
        last_example=90,
        held_back=10,
        score=score,
        baseline=0.5,
        active=False,
        data=data,
    )


async def test_examples_and_models_round_trip(engine, clock):
    store = await engine.open(clock=clock)
    try:
        r = store.routing
        now = clock.now()
        ids = [
            await r.add_example(example(i, "公安局" if i % 2 else "消防救援大队", now, i)) for i in range(5)
        ]
        assert ids == sorted(ids)
        got = await r.examples()
        assert [e.id for e in got] == ids and got[1].unit == "公安局" and got[0].at == now
        assert got[0].previous == "派单中心" and got[0].category == "其他" and got[0].ticket_id == 0
        assert [e.id for e in await r.examples(after_id=ids[2], limit=1)] == [ids[3]]

        assert await r.active_model() is None
        first = await r.save_model(model(now, 0.8, b"\x00\x01first"), activate=True)
        rejected = await r.save_model(model(now, 0.7, b""), activate=False)
        assert (await r.active_model()).id == first and (await r.active_model()).data == b"\x00\x01first"
        second = await r.save_model(model(now, 0.9, b"second"), activate=True)
        active = await r.active_model()
        assert active.id == second and active.score == 0.9 and active.created_at == now
        listed = await r.models(5)
        assert [m.id for m in listed] == [second, rejected, first]
        assert [m.active for m in listed] == [True, False, False] and all(m.data == b"" for m in listed)
    finally:
        await store.close()
