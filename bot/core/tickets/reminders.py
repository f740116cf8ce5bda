"""The periodic reminder tick: warnings and breaches per milestone, and the automatic close of unrated tickets.

Only tickets whose indexed `next_due_at` has passed are read, so a tick costs nothing per idle ticket. Each
reminder is recorded in `reminders_sent` in the same transaction as its outbox notification and its event, so
a restart sends nothing twice and a tick after downtime sends what fell due meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from bot.core.messages import Notification, Recipient, Reply
from bot.core.tickets.domain.models import CLOSED, Change, EventIn, ReminderKey, Ticket
from bot.core.tickets.domain.schedule import Alert, due_alerts, next_due_at, sent_after
from bot.core.tickets.domain.sla import MILESTONE_LABELS
from bot.core.tickets.workflow.revisit import revisit_task

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

log = logging.getLogger(__name__)

BATCH = 500
APPLY_PART = 125  # changes written in one transaction, while the next part is planned
MAX_ROUNDS = 1000  # a safety stop; each round handles up to BATCH tickets


def _recipients(ticket: Ticket, alert: Alert, supervisors: dict[str, list[str]]) -> list[Recipient]:
    bosses = [Recipient("staff", s) for s in supervisors.get(ticket.department, []) if s != ticket.handler]
    if alert.level == "supervise":  # 督办 goes to the department's supervisors (the dispatcher when none)
        return bosses or [Recipient("admins", "all")]
    first = (
        Recipient("staff", ticket.handler) if ticket.handler else Recipient("department", ticket.department)
    )
    # supporting departments (协办) are reminded too
    out = [first, *(Recipient("department", d) for d in ticket.co_departments)]
    if alert.level == "red":
        out += bosses
    return out


def _change_for(service: TicketService, t: Ticket, sent, now: dt.datetime, supervisors) -> tuple[Change, int]:
    policy = service.policies.get(t.policy)
    alerts = due_alerts(t, policy, sent, now)
    keys = [ReminderKey(a.milestone, a.level, a.repeat) for a in alerts]
    if any(a.level == "close" for a in alerts):
        days = service.policies.rating_window_working_days
        ev = EventIn("system", "close", service.views.event("auto_closed", days=days))
        # the citizen is told, and can still rate (closing never takes the rating away)
        html = service.views.to_citizen("auto_closed", t, days=days)
        note = Notification(
            Recipient("user", t.citizen_id),
            Reply(html, service.views.rating_buttons(t.number)),
            f"{t.number}:autoclosed:{t.round}",
        )
        fields = {"state": CLOSED, "closed_at": now, "next_due_at": None}
        # 回访 for a citizen who never rated: a task for the department to call (workflow/revisit.py)
        task, ask = revisit_task(service, t, now)
        told = [note, *service.held(t, now, [ask])]
        return Change(t, now, fields, [ev], told, keys, requests=[task]), len(keys)
    notes: list[Notification] = []
    events: list[EventIn] = []
    for a in alerts:
        html = service.views.reminder(t, a, service.policies.is_provisional(t, a.milestone), now)
        for r in _recipients(t, a, supervisors):
            key = f"remind:{t.number}:{a.milestone}:{a.level}:{t.round}:{a.repeat}:{r.kind}:{r.id}"
            buttons = (
                service.views.claim_buttons(t.number) if not t.handler and r.kind == "department" else []
            )
            notes.append(Notification(r, Reply(html, buttons), key))
        label = MILESTONE_LABELS[a.milestone]
        # "第N次": the reminders of this milestone actually sent in this round, not the repeat's number (after
        # downtime only the latest missed repeat is sent)
        before = sum(1 for m, lv, r, _ in sent if m == a.milestone and lv == a.level and r == t.round)
        text = service.views.event("reminded", label=label, level=a.level, repeat=before)
        events.append(EventIn("system", "remind", text))
    nxt = next_due_at(t, policy, sent_after(sent, t, alerts), now)
    notes = service.held(t, now, notes)  # outside staff hours: sent when they start (workflow.yaml)
    return Change(t, now, {"next_due_at": nxt}, events, notes, keys), len(keys)


async def _plan_and_apply(
    service: TicketService, due: list[Ticket], sent, now: dt.datetime, supervisors
) -> int:
    """Plan the changes part by part, each part written (its own transaction) while the next is planned: the
    reminders' texts are built while the database writes the part before."""
    parts: list[tuple[list[tuple[Change, int]], asyncio.Task[list[Ticket | None]]]] = []
    for i in range(0, len(due), APPLY_PART):
        planned = [_change_for(service, t, sent[t.id], now, supervisors) for t in due[i : i + APPLY_PART]]
        write = asyncio.ensure_future(service.store.tickets.apply_many([c for c, _ in planned]))
        parts.append((planned, write))
        await asyncio.sleep(0)  # let the write go out before planning the next part
    outcomes = await asyncio.gather(*(w for _, w in parts), return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    total = sum(
        n
        for (planned, _), results in zip(parts, outcomes, strict=True)
        if not isinstance(results, BaseException)
        for (_, n), r in zip(planned, results, strict=True)
        if r is not None
    )
    if failed:
        raise failed[0]
    return total


async def tick(service: TicketService, now: dt.datetime | None = None) -> int:
    """Queue every reminder due at `now` and close unrated tickets whose rating window ended.

    Returns how many reminders (including automatic closes) were recorded.
    """
    store = service.store
    now = now or service.clock.now()
    supervisors: dict[str, list[str]] = {}
    staff_loaded = False
    total = 0
    for _ in range(MAX_ROUNDS):
        due = await store.tickets.due_for_reminders(now, BATCH)
        if not due:
            break
        if not staff_loaded:
            for m in await store.staff.list():
                if m.role == "supervisor":
                    for d in m.departments:
                        supervisors.setdefault(d, []).append(m.user_id)
            staff_loaded = True
        sent = await store.tickets.reminders_sent([t.id for t in due])
        total += await _plan_and_apply(service, due, sent, now, supervisors)
        if len(due) < BATCH:
            break
    if total:
        log.info("reminder tick at %s: %d reminders", now.isoformat(), total)
    return total
