"""The digest's overdue (red) and warning (yellow) lists on every engine: which open tickets they hold, in which
order, and what they count — with the cases PostgreSQL's urgency index (migration 13) must not change: a
milestone without a deadline, the dispatch milestone, paused and merged tickets, more tickets than the list
shows."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.clock import DEFAULT_TZ, FixedClock
from bot.core.tickets.domain.models import Change, EventIn, NewTicket

H = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=DEFAULT_TZ)


def test_the_urgency_index_is_on_the_expression_the_digest_orders_by():
    """PostgreSQL uses an expression index only for the same expression: migration 13 holds the query's own."""
    from bot.core.storage.postgres.migrations import MIGRATIONS
    from bot.core.storage.postgres.tickets import URGENCY_SQL

    (statements,) = [s for v, _, s in MIGRATIONS if v == 13]
    (index,) = [s for s in statements if s.startswith("CREATE INDEX tickets_urgency")]
    assert f"(({URGENCY_SQL}), id)" in index
    assert "WHERE state IN ('待受理','办理中') AND paused_at IS NULL AND merged_into IS NULL" in index


@pytest.fixture
async def store(engine):
    s = await engine.open(clock=FixedClock(NOW))
    yield s
    await s.close()


def ticket(i: int, created: dt.datetime, **dues: dt.datetime | None) -> NewTicket:
    return NewTicket(
        citizen_id=f"c{i}",
        description=f"诉求{i}",
        category="其他",
        department="甲局" if i % 2 else "乙局",
        created_at=created,
        policy="2110",
        **dues,
    )


def hook(t):
    return [EventIn(t.citizen_id, "create", "")], []


async def test_the_lists_hold_the_right_tickets_most_urgent_first(store):
    create = store.tickets.create
    # overdue for contact; its resolve deadline unknown (a date the calendar does not cover)
    no_deadline = await create(ticket(1, NOW - 4 * H, contact_due=NOW - 2 * H, resolve_due=None), hook)
    # overdue only for 签收 (dispatch), the milestone migration 5's index did not hold
    dispatch = await create(ticket(2, NOW - 3 * H, dispatch_due=NOW - H, contact_due=NOW + 5 * H), hook)
    # met its overdue contact: not overdue any more; its resolve deadline is far: no warning either
    met = await create(ticket(3, NOW - 4 * H, contact_due=NOW - H, resolve_due=NOW + 100 * H), hook)
    await store.tickets.apply(Change(met, NOW, {"contact_met": NOW - 2 * H}, [EventIn("h", "contact")]))
    # only a milestone without a deadline: neither list
    await create(ticket(4, NOW - 4 * H), hook)
    # overdue but paused (等待补充材料) or merged into another: their clocks do not run
    paused = await create(ticket(5, NOW - 4 * H, contact_due=NOW - 3 * H), hook)
    await store.tickets.apply(Change(paused, NOW, {"paused_at": NOW - H}, [EventIn("h", "pause")]))
    merged = await create(ticket(6, NOW - 4 * H, contact_due=NOW - 3 * H), hook)
    await store.tickets.apply(Change(merged, NOW, {"merged_into": dispatch.number}, [EventIn("h", "merge")]))
    # overdue, then closed
    closed = await create(ticket(7, NOW - 4 * H, contact_due=NOW - 3 * H), hook)
    await store.tickets.apply(Change(closed, NOW, {"state": "已关闭"}, [EventIn("h", "close")]))
    # twelve overdue ones more, each an hour later than the one before: the list shows the ten most urgent
    many = [
        await create(ticket(10 + k, NOW - 40 * H, contact_due=NOW - (30 - k) * H), hook) for k in range(12)
    ]
    # warnings: 3 h of a 3.5 h contact window gone (75%+), and a dispatch due in 10 min of a 2 h window
    warned = await create(ticket(31, NOW - 3 * H, contact_due=NOW + H / 2), hook)
    warned_dispatch = await create(ticket(32, NOW - 2 * H, dispatch_due=NOW + H / 6), hook)
    # due exactly now: not overdue yet, and no longer ahead to warn about: in neither list, on either engine
    await create(ticket(33, NOW - 2 * H, contact_due=NOW), hook)

    def numbers(ts):
        return [t.number for t in ts]

    r = store.reports
    red, red_counts = await r.attention(NOW, "red", warn_at={}, default_warn=0.75)
    expected_red = [*many, no_deadline, dispatch]  # by the earliest unmet deadline
    assert numbers(red) == numbers(expected_red[:10])
    assert sum(red_counts.values()) == 14
    assert red_counts == {"甲局": 7, "乙局": 7}
    yellow, yellow_counts = await r.attention(NOW, "yellow", warn_at={}, default_warn=0.75)
    assert numbers(yellow) == numbers([warned_dispatch, warned])
    assert yellow_counts == {"甲局": 1, "乙局": 1}
    # one department: the list and the counts of its own tickets only
    mine, mine_counts = await r.attention(NOW, "red", warn_at={}, default_warn=0.75, departments=("乙局",))
    assert numbers(mine) == numbers([t for t in expected_red if t.department == "乙局"])
    assert mine_counts == {"乙局": 7}
    # the staff's "due before" list agrees with the overdue list
    from bot.core.tickets.domain.models import TicketQuery

    listed = await store.tickets.list(TicketQuery(due_to=NOW, limit=20))
    assert numbers(listed) == numbers(expected_red)
