"""Requests the dispatcher (an admin: the hotline's 派单 desk) decides, and the 整改 task of a low rating.

- 退单 (return): the department says the ticket is not theirs, with a reason; approved, the dispatcher names
  the department it goes to; rejected, it stays, and the reason goes back to the department.
- 改派 (reroute): the same, naming the department it should go to.
- 延期 (extend): more working days for 办结, asked before the deadline passes, with a reason; approved before
  the deadline, the deadline moves and the citizen is told the new one.
- 申诉 (appeal): the department finds a rating unfair; upheld, the rating no longer counts (满意率) and its
  整改 task is cancelled.
- 整改 (rectify): opened by a rating of 2 or less, due in `rectify_working_days` working days; done when the
  ticket is resolved again.

A ticket has at most one request waiting for a decision; `/approve 编号` and `/reject 编号 理由` decide it.
Every request and decision is written with its ticket's change and event, and counted per department.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.core.callbacks import Prefix, data
from bot.core.messages import Button, Notification, Recipient, Reply
from bot.core.tickets.domain.models import (
    OPEN_STATES,
    PENDING,
    PENDING_REQUEST,
    EventIn,
    RequestWrite,
    Ticket,
    TicketRequest,
)
from bot.core.tickets.views import BUTTON_LABELS

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

DECIDED_KINDS = ("return", "reroute", "extend", "appeal")  # what the dispatcher decides
MAX_REASON = 500
MAX_EXTENSION_DAYS = 60


async def pending_of(service: TicketService, t: Ticket, kinds=DECIDED_KINDS) -> TicketRequest | None:
    found = await service.store.requests.list(ticket_id=t.id, states=(PENDING_REQUEST,), kinds=kinds, limit=1)
    return found[0] if found else None


def review_buttons(number: str) -> list[list[Button]]:
    """On the dispatcher's copy: approve at once (a 退单 still needs the department: /approve 编号 部门)."""
    return [[Button(BUTTON_LABELS["approve"], data(Prefix.REQUEST, "ok", number))]]


async def _request(
    service: TicketService,
    number: str,
    actor_id: str,
    kind: str,
    reason: str,
    *,
    target: str | None = None,
    check: Any = None,
) -> Ticket:
    reason = reason.strip()[:MAX_REASON]
    if not reason:
        raise service.error("request_needs_reason", kind=kind)

    async def build(t: Ticket, now: dt.datetime):
        actor = await service.require_for(actor_id, t, "request" if kind != "appeal" else "appeal")
        if check is not None:
            check(t, now)
        waiting = await pending_of(service, t)
        if waiting is not None:
            raise service.error("request_pending", number=t.number, kind=waiting.kind)
        text = service.views.event("requested", kind=kind, target=target or "", reason=reason)
        alert = service.views.with_card(
            service.views.workflow(
                "request_made",
                kind=kind,
                number=t.number,
                department=t.department,
                who=actor.name,
                target=target or "",
                reason=reason,
                due=t.resolve_due,
                now=now,
            ),
            t,
        )
        buttons = review_buttons(t.number) if kind != "return" else []
        note = Notification(
            Recipient("admins", "all"), Reply(alert, buttons), f"{t.number}:request:{kind}:{t.version}"
        )
        request = RequestWrite(
            kind, department=t.department, requested_by=actor.user_id, target=target, reason=reason
        )
        return {}, [EventIn(actor.user_id, f"request_{kind}", text)], [note], [request]

    return await service._change(number, build)


def _open_check(service: TicketService, action: str):
    def check(t: Ticket, now: dt.datetime) -> None:
        if t.state not in OPEN_STATES:
            raise service.error("not_open", number=t.number, state=t.state, action=action)

    return check


async def request_return(service: TicketService, number: str, actor_id: str, reason: str) -> Ticket:
    """退单: not this department's matter; the dispatcher decides where it goes."""
    return await _request(service, number, actor_id, "return", reason, check=_open_check(service, "request"))


async def request_reroute(
    service: TicketService, number: str, actor_id: str, department: str, reason: str
) -> Ticket:
    """改派: it belongs to `department`; the dispatcher approves or rejects."""
    dept = service.canonical_department(department)
    if dept is None:
        raise service.error("unknown_department", name=department[:30])
    base = _open_check(service, "request")

    def check(t: Ticket, now: dt.datetime) -> None:
        base(t, now)
        if dept == t.department:
            raise service.error("same_department", number=t.number, department=dept)

    return await _request(service, number, actor_id, "reroute", reason, target=dept, check=check)


async def request_extension(
    service: TicketService, number: str, actor_id: str, days: int, reason: str
) -> Ticket:
    """延期: more working days to resolve, asked before the deadline passes."""
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise service.error("bad_extension_days", days=days, limit=MAX_EXTENSION_DAYS)
    base = _open_check(service, "request")

    def check(t: Ticket, now: dt.datetime) -> None:
        base(t, now)
        if t.resolve_due is not None and now >= t.resolve_due:
            raise service.error(
                "extension_too_late",
                number=t.number,
                due=t.resolve_due,
                provisional=service.policies.is_provisional(t, "resolve"),
                now=now,
            )

    return await _request(service, number, actor_id, "extend", reason, target=str(days), check=check)


async def appeal_rating(service: TicketService, number: str, actor_id: str, reason: str) -> Ticket:
    """申诉: the department finds the citizen's rating unfair; an admin decides."""

    def check(t: Ticket, now: dt.datetime) -> None:
        if t.rating is None or t.rating_excluded:
            raise service.error("nothing_to_appeal", number=t.number)

    return await _request(service, number, actor_id, "appeal", reason, check=check)


async def decide(service: TicketService, number: str, actor_id: str, approve: bool, text: str = "") -> Ticket:
    """The dispatcher's decision on the ticket's waiting request. Approving a 退单 needs the department it goes
    to (`text`); rejecting anything needs a reason (`text`), which goes back to the department."""
    text = text.strip()[:MAX_REASON]
    await service.require_admin(actor_id)
    if not approve and not text:
        raise service.error("reject_needs_reason")

    async def build(t: Ticket, now: dt.datetime):
        actor = await service.require_admin(actor_id)
        req = await pending_of(service, t)
        if req is None:
            raise service.error("no_pending_request", number=t.number)
        fields: dict[str, Any] = {}
        notes: list[Notification] = []
        writes: list[RequestWrite] = []
        decision = text
        if approve:
            decision, fields, notes, writes = await _approve(service, t, req, text, now)
        state = "approved" if approve else "rejected"
        writes.insert(
            0, RequestWrite(req.kind, id=req.id, state=state, decided_by=actor.user_id, decision=decision)
        )
        event = service.views.event("decided", kind=req.kind, approved=approve, decision=decision)
        told = service.views.workflow(
            "request_decided", kind=req.kind, number=t.number, approved=approve, decision=decision
        )
        notes.append(
            Notification(
                Recipient("staff", req.requested_by), Reply(told), f"{t.number}:decided:{req.id}:staff"
            )
        )
        notes.append(
            Notification(Recipient("department", req.department), Reply(told), f"{t.number}:decided:{req.id}")
        )
        return fields, [EventIn(actor.user_id, "approve" if approve else "reject", event)], notes, writes

    return await service._change(number, build)


async def _approve(
    service: TicketService, t: Ticket, req: TicketRequest, text: str, now: dt.datetime
) -> tuple[str, dict[str, Any], list[Notification], list[RequestWrite]]:
    if req.kind in ("return", "reroute"):
        name = text or (req.target if req.kind == "reroute" else "")
        if not name:
            raise service.error("approve_needs_department", number=t.number)
        dept = service.canonical_department(name)
        if dept is None:
            raise service.error("unknown_department", name=name[:30])
        if dept == t.department:
            raise service.error("same_department", number=t.number, department=dept)
        fields: dict[str, Any] = {"department": dept, "handler": None, "state": PENDING, "dispatch_met": None}
        moved = dataclasses.replace(t, **fields)
        why = req.reason
        notes = [
            Notification(
                Recipient("department", dept),
                service.views.transferred(moved, t.department, why),
                f"{t.number}:rerouted:{t.version}",
            ),
            service._notify_citizen(t, "transferred", f"transferred:{t.version}", department=dept),
        ]
        return dept, fields, notes, []
    if req.kind == "extend":
        if t.state not in OPEN_STATES:
            raise service.error("not_open", number=t.number, state=t.state, action="request")
        if t.resolve_due is not None and now >= t.resolve_due:
            raise service.error(
                "extension_too_late",
                number=t.number,
                due=t.resolve_due,
                provisional=service.policies.is_provisional(t, "resolve"),
                now=now,
            )
        days = int(req.target or 0)
        preview = dataclasses.replace(t, extra_days=t.extra_days + days)
        due = service.policies.due_of(preview, "resolve")
        provisional = service.policies.is_provisional(
            dataclasses.replace(preview, resolve_due=due), "resolve"
        )
        told = service._notify_citizen(
            t, "extended", f"extended:{t.version}", days=days, due=due, provisional=provisional, now=now
        )
        return f"+{days}", {"extra_days": preview.extra_days, "resolve_due": due}, [told], []
    if req.kind == "appeal":
        writes = []
        rectify = await pending_of(service, t, ("rectify",))
        if rectify is not None:
            writes.append(RequestWrite("rectify", id=rectify.id, state="cancelled", decision=req.reason))
        return text, {"rating_excluded": True}, [], writes
    raise service.error("no_pending_request", number=t.number)


def rectify_task(
    service: TicketService, t: Ticket, now: dt.datetime, score: int, comment: str | None
) -> RequestWrite:
    """The 整改 task a low rating opens, due in the configured working days."""
    due = service.policies.calendar.add_working_days(now, service.workflow.rectify_working_days)
    reason = service.views.event("rectify_reason", score=score, comment=comment)
    return RequestWrite("rectify", department=t.department, requested_by="system", reason=reason, due_at=due)


async def rectify_done(service: TicketService, t: Ticket, result: str) -> list[RequestWrite]:
    """Resolving the ticket again completes its open 整改 task."""
    task = await pending_of(service, t, ("rectify",))
    if task is None:
        return []
    return [RequestWrite("rectify", id=task.id, state="done", decision=result[:MAX_REASON])]
