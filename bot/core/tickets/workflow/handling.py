"""Steps of handling a ticket beyond claim-reply-resolve: 签收 (the department signs for it), SLA pauses and
resumes, the citizen withdrawing (撤回) a ticket nobody handles yet, supporting departments (协办), and the
回访 after 办结 ("问题解决了吗").

SLA pause: while a ticket waits for the citizen's material (等待补充材料) or a third party's assessment
(第三方鉴定) its clock stops: no reminders, not on the overdue lists. On resume every unmet deadline moves by
the paused time — working-day deadlines by the working time it covered (days off do not count), hour
deadlines by the natural time — and the totals stay on the ticket, so deadlines computed again later (a
calendar update, a new priority or type) keep the pause.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.core.messages import Notification, Recipient, Reply
from bot.core.tickets.domain.models import CLOSED, OPEN_STATES, PENDING, RESOLVED, EventIn, Ticket
from bot.core.tickets.domain.schedule import awaiting_rating
from bot.core.tickets.domain.worktime import working_seconds

from .triage import unmet_deadlines

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

MAX_NOTE = 1000


async def sign(service: TicketService, number: str, actor_id: str) -> Ticket:
    """签收: the department acknowledges the ticket it was dispatched (separate from contacting the citizen)."""

    async def build(t: Ticket, now: dt.datetime):
        actor = await service.require_for(actor_id, t, "sign")
        if t.state not in OPEN_STATES:
            raise service.error("not_open", number=t.number, state=t.state, action="sign")
        if t.dispatch_met is not None:
            raise service.error("already_signed", number=t.number, at=t.dispatch_met, now=now)
        return {"dispatch_met": now}, [EventIn(actor.user_id, "sign", t.department)], []

    return await service._change(number, build)


def pause_reason(service: TicketService, word: str) -> str | None:
    """The pause reason of sla.yaml that a typed word names (等待补充材料 from 补充材料, 第三方鉴定 from 鉴定)."""
    word = word.strip()
    if not word:
        return None
    for reason in service.policies.pause_reasons:
        if word == reason or word in reason:
            return reason
    return None


async def pause(service: TicketService, number: str, actor_id: str, reason: str, note: str) -> Ticket:
    note = note.strip()[:MAX_NOTE]
    if reason not in service.policies.pause_reasons:
        raise service.error(
            "bad_pause_reason", reason=reason[:20], reasons=list(service.policies.pause_reasons)
        )

    async def build(t: Ticket, now: dt.datetime):
        actor = await service.require_for(actor_id, t, "pause")
        if t.state not in OPEN_STATES:
            raise service.error("not_open", number=t.number, state=t.state, action="pause")
        if t.paused_at is not None:
            raise service.error(
                "already_paused", number=t.number, reason=t.pause_reason or "", at=t.paused_at
            )
        text = service.views.event("paused", reason=reason, note=note)
        told = service._notify_citizen(t, "paused", f"paused:{t.version}", reason=reason, note=note)
        return {"paused_at": now, "pause_reason": reason}, [EventIn(actor.user_id, "pause", text)], [told]

    return await service._change(number, build)


async def resume(service: TicketService, number: str, actor_id: str, note: str = "") -> Ticket:
    note = note.strip()[:MAX_NOTE]

    async def build(t: Ticket, now: dt.datetime):
        actor = await service.require_for(actor_id, t, "pause")
        if t.paused_at is None:
            raise service.error("not_paused", number=t.number)
        fields = resume_fields(service, t, now)
        after = dataclasses.replace(t, **fields)
        text = service.views.event(
            "resumed",
            reason=t.pause_reason or "",
            hours=round((now - t.paused_at).total_seconds() / 3600, 1),
            working_hours=round((fields["paused_work"] - t.paused_work) / 3600, 1),
            due=after.resolve_due,
            provisional=service.policies.is_provisional(after, "resolve"),
            note=note,
            now=now,
        )
        told = service._notify_citizen(
            t,
            "resumed",
            f"resumed:{t.version}",
            due=after.resolve_due,
            provisional=service.policies.is_provisional(after, "resolve"),
            now=now,
        )
        return fields, [EventIn(actor.user_id, "resume", text)], [told]

    return await service._change(number, build)


def resume_fields(service: TicketService, t: Ticket, now: dt.datetime) -> dict[str, Any]:
    """The clock runs again: the paused time added to the totals and every unmet deadline moved by it."""
    assert t.paused_at is not None
    work = working_seconds(t.paused_at, now, service.policies.calendar)
    wall = max(0, int((now - t.paused_at).total_seconds()))
    fields: dict[str, Any] = {
        "paused_at": None,
        "pause_reason": None,
        "paused_work": t.paused_work + work,
        "paused_wall": t.paused_wall + wall,
    }
    fields.update(unmet_deadlines(service, dataclasses.replace(t, **fields)))
    return fields


async def withdraw(service: TicketService, number: str, citizen_id: str, reason: str = "") -> Ticket:
    """撤回: the citizen takes back their own ticket while nobody handles it yet (待受理, not claimed)."""
    reason = reason.strip()[:MAX_NOTE]

    async def build(t: Ticket, now: dt.datetime):
        if t.citizen_id != str(citizen_id):
            raise service.refusal("withdraw_not_yours")
        if t.state != PENDING or t.handler is not None:
            raise service.error("withdraw_too_late", number=t.number, state=t.state)
        alert = Notification(
            Recipient("department", t.department),
            Reply(service.views.workflow("withdrawn", number=t.number, reason=reason)),
            f"{t.number}:withdrawn",
        )
        fields = {"state": CLOSED, "closed_at": now}
        return fields, [EventIn(str(citizen_id), "withdraw", reason)], [alert]

    return await service._change(number, build)


async def add_cohost(service: TicketService, number: str, actor_id: str, department: str) -> Ticket:
    """协办: a supporting department sees the ticket, adds notes and gets its reminders; the lead (主办)
    department alone resolves it."""

    async def build(t: Ticket, now: dt.datetime):
        actor = await service.require_for(actor_id, t, "cohost")
        if t.state not in OPEN_STATES:
            raise service.error("not_open", number=t.number, state=t.state, action="cohost")
        dept = service.canonical_department(department)
        if dept is None:
            raise service.error("unknown_department", name=department[:30])
        if dept == t.department or dept in t.co_departments:
            raise service.error("already_cohost", number=t.number, department=dept)
        fields: dict[str, Any] = {"co_departments": (*t.co_departments, dept)}
        moved = dataclasses.replace(t, **fields)
        alert = Notification(
            Recipient("department", dept),
            Reply(
                service.views.with_card(
                    service.views.workflow("cohost_added", number=t.number, lead=t.department), moved
                )
            ),
            f"{t.number}:cohost:{dept}",
        )
        return fields, [EventIn(actor.user_id, "cohost", dept)], [alert]

    return await service._change(number, build)


async def visit(service: TicketService, number: str, citizen_id: str, solved: bool) -> Ticket:
    """回访 after 办结: "问题解决了吗". 已解决 is recorded (the citizen is then asked to rate); 未解决 reopens the
    ticket, and the department and its supervisors are told."""

    async def build(t: Ticket, now: dt.datetime):
        if t.citizen_id != str(citizen_id):
            raise service.refusal("visit_not_yours")
        if t.state not in (RESOLVED, CLOSED) or t.resolve_met is None or t.visit_result is not None:
            raise service.error("not_awaiting_visit", number=t.number)
        fields: dict[str, Any] = {"visit_result": int(solved), "visited_at": now}
        events = [EventIn(str(citizen_id), "visit", service.views.event("visited", solved=solved))]
        notes: list[Notification] = []
        if not solved:
            fields.update(service._reopen_fields(t, now))
            events.append(EventIn("system", "reopen", service.views.event("reopened_by_visit")))
            alert = Reply(
                service.views.with_card(
                    service.views.workflow("unsolved", number=t.number), dataclasses.replace(t, **fields)
                )
            )
            for s in await service.supervisors_of(t.department):
                notes.append(
                    Notification(
                        Recipient("staff", s.user_id), alert, f"{t.number}:unsolved:{t.round}:{s.user_id}"
                    )
                )
            notes.append(
                Notification(Recipient("department", t.department), alert, f"{t.number}:unsolved:{t.round}")
            )
        return fields, events, notes

    return await service._change(number, build)


def awaiting_visit(t: Ticket) -> bool:
    return awaiting_rating(t) and t.visit_result is None
