"""Automatic assignment per department (workflow.yaml `assignment`): round-robin and least-loaded, each under a
cap per person, on both engines; a department without a rule keeps claiming by hand."""

from __future__ import annotations

import pytest

from bot.core.clock import FixedClock
from bot.core.tickets.domain.models import IN_PROGRESS, PENDING, StaffMember
from bot.core.tickets.domain.sla import load_policies
from bot.core.tickets.service import TicketService
from bot.core.tickets.workflow.assignment import pick, turn_order
from bot.core.tickets.workflow.config import WorkflowConfig, WorkflowConfigError
from tests.test_tickets_helpers import ADMIN, at, outbox, small_kb

STAFF = [
    StaffMember("h-a", "城管小安", "handler", ("城市管理局",)),
    StaffMember("h-b", "城管小白", "handler", ("城市管理局",)),
    StaffMember("h-c", "城管小陈", "handler", ("城市管理局",)),
    StaffMember("s-cg", "城管张科长", "supervisor", ("城市管理局",)),  # supervisors are not given tickets
    StaffMember("h-ga", "民警小赵", "handler", ("公安局",)),
]


async def service_with(engine, assignment: dict) -> TicketService:
    clock = FixedClock(at(2026, 11, 23, 9, 30))
    store = await engine.open(clock=clock)
    workflow = WorkflowConfig.from_data({"assignment": assignment}, {"城市管理局", "公安局"})
    service = TicketService(store, small_kb(), clock, load_policies(), {ADMIN}, workflow=workflow)
    for m in STAFF:
        await store.staff.upsert(m, ADMIN, clock.now())
    return service


async def new(service: TicketService, text: str = "占道经营，堵住了小区出口", category: str = "城乡建设"):
    return await service.create(citizen_id="c1", description=text, category=category)


async def test_round_robin_gives_each_handler_a_ticket_in_turn_and_tells_them(engine):
    s = await service_with(engine, {"城市管理局": {"mode": "round_robin", "cap": 5}})
    try:
        got = [(await new(s, f"第{i}处占道经营")).handler for i in range(5)]
        assert got == ["h-a", "h-b", "h-c", "h-a", "h-b"]
        first = await new(s, "又一处占道经营")
        assert first.state == IN_PROGRESS and first.dispatch_met is not None  # assigned: signed for
        notes = await outbox(s)
        told = [n for n in notes if n.recipient.kind == "staff" and n.recipient.id == first.handler]
        assert told and first.number in told[-1].reply.html
        assert any(n.recipient.kind == "user" and first.number in n.reply.html for n in notes)
        events = await s.store.tickets.events(first.id)
        assert [e.action for e in events][-1] == "assign" and "自动" in events[-1].text
        police = await new(s, "小区门口有人打架", "公安政法")  # no rule for 公安局: claimed by hand
        assert police.handler is None and police.state == PENDING
    finally:
        await s.store.close()


async def test_least_loaded_goes_to_whoever_holds_fewest_and_nobody_beyond_the_cap(engine):
    s = await service_with(engine, {"城市管理局": {"mode": "least_loaded", "cap": 2}})
    try:
        assert [(await new(s, f"违章搭建{i}")).handler for i in range(3)] == ["h-a", "h-b", "h-c"]
        b_ticket = [t for t in await s.citizen_tickets("c1", 50) if t.handler == "h-b"][0]
        await s.resolve(b_ticket.number, "h-b", "已拆除")  # h-b now holds none
        # the turn would be h-a's (after h-c), but h-b holds fewest
        assert (await new(s, "井盖缺失")).handler == "h-b"
        # equal loads (1, 1, 1): the turn after h-b
        assert [(await new(s, f"噪音扰民{i}")).handler for i in range(3)] == ["h-c", "h-a", "h-b"]
        left = await new(s, "树枝挡路")  # everybody holds 2, the cap: left for the group to claim
        assert left.handler is None and left.state == PENDING
        card = [n for n in await outbox(s) if n.dedup_key == f"new:{left.number}"]
        assert card and card[0].recipient.kind == "department"
    finally:
        await s.store.close()


def test_turns_and_picks():
    a, b, c = (StaffMember(u, u, "handler", ("d",)) for u in ("a", "b", "c"))
    assert turn_order([c, a, b], None) == [a, b, c]
    assert turn_order([c, a, b], "b") == [c, a, b]
    assert turn_order([c, a, b], "zz") == [a, b, c]  # the last one left the department
    assert pick("round_robin", [b, c, a], {"b": 3, "c": 0}, cap=3) == c
    assert pick("least_loaded", [b, c, a], {"b": 1, "c": 1, "a": 0}, cap=3) == a
    assert pick("least_loaded", [b, c, a], {"b": 1, "c": 1, "a": 1}, cap=3) == b  # equals: the turn
    assert pick("least_loaded", [b, c, a], {"b": 1, "c": 1, "a": 1}, cap=1) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"assignment": {"城市管理局": {"mode": "random"}}},
        {"assignment": {"城市管理局": {"mode": "round_robin", "cap": 0}}},
        {"assignment": {"不存在的局": {"mode": "round_robin"}}},
    ],
)
def test_a_wrong_assignment_rule_stops_start_up_with_the_field(bad):
    with pytest.raises(WorkflowConfigError, match="assignment"):
        WorkflowConfig.from_data(bad, {"城市管理局"})
