"""When a ticket's next reminder falls due, and which reminders are due now. Pure functions, no I/O.

Per unmet milestone of an open ticket: a yellow warning (催办) when `warn_at` of its window has passed, then a
red breach at the deadline, repeated every `red_repeat` until the milestone is met; and once, `supervise_after`
after the 办结 deadline passed (the next day), 督办 to the department's supervisors. A paused ticket and a
merged duplicate get none. After downtime only what is still meaningful is sent: a yellow whose deadline has already passed gives way to the red, and of several
missed red repeats only the latest is sent. A resolved ticket left unrated closes at its rating deadline.
Each reminder is identified by (milestone, level, round, repeat); the round changes when a ticket is reopened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.tickets.domain.models import CLOSED, OPEN_STATES, RESOLVED, Ticket
from bot.core.tickets.domain.sla import MILESTONES, Policy, window_start

Sent = set[tuple[str, str, int, int]]


@dataclass(frozen=True)
class Alert:
    milestone: str  # contact | feedback | resolve | rating
    level: str  # yellow | red | close
    repeat: int
    at: dt.datetime  # when it fell due
    due: dt.datetime | None = None  # the milestone's deadline


def _last_red(sent: Sent, milestone: str, rnd: int) -> int:
    reds = [rep for m, lv, r, rep in sent if m == milestone and lv == "red" and r == rnd]
    return max(reds) if reds else -1


def awaiting_rating(ticket: Ticket) -> bool:
    """The citizen may rate it: resolved in its current round and not rated in that round. A resolved ticket
    closed meanwhile (after its rating window, or early with a reason) can still be rated."""
    return (
        ticket.state in (RESOLVED, CLOSED)
        and ticket.resolve_met is not None
        and (ticket.rated_round is None or ticket.rated_round < ticket.round)
    )


def _candidates(ticket: Ticket, policy: Policy, sent: Sent, now: dt.datetime) -> list[Alert]:
    """The next reminder of each kind still to be sent (some may lie in the future)."""
    out: list[Alert] = []
    # a paused clock (等待补充材料…) or a duplicate handled with another ticket: nothing falls due
    running = ticket.paused_at is None and ticket.merged_into is None
    if ticket.state in OPEN_STATES and running:
        for m in MILESTONES:
            due, met = ticket.due(m), ticket.met(m)
            if due is None or met is not None:
                continue
            if now < due and (m, "yellow", ticket.round, 0) not in sent:
                start = window_start(ticket, m)
                out.append(Alert(m, "yellow", 0, start + (due - start) * policy.warn_at, due))
                continue
            last = _last_red(sent, m, ticket.round)
            if now < due:
                out.append(Alert(m, "red", 0, due, due))
            else:
                # the latest repeat that has fallen due, if it was not sent yet; otherwise the next one
                k = int((now - due) / policy.red_repeat)
                k = k if k > last else last + 1
                out.append(Alert(m, "red", k, due + policy.red_repeat * k, due))
            if m == "resolve" and (m, "supervise", ticket.round, 0) not in sent:
                # 督办: the day after the 办结 deadline passed, to the department's supervisors (the other
                # milestones' breaches reach them already with their red reminders)
                out.append(Alert(m, "supervise", 0, due + policy.supervise_after, due))
    elif ticket.state == RESOLVED and awaiting_rating(ticket) and ticket.rating_due is not None:
        out.append(Alert("rating", "close", 0, ticket.rating_due, ticket.rating_due))
    return out


def due_alerts(ticket: Ticket, policy: Policy, sent: Sent, now: dt.datetime) -> list[Alert]:
    return [a for a in _candidates(ticket, policy, sent, now) if a.at <= now]


def next_due_at(ticket: Ticket, policy: Policy, sent: Sent, now: dt.datetime) -> dt.datetime | None:
    """Earliest time a reminder (or the automatic close) is due; None when nothing is pending."""
    times = [a.at for a in _candidates(ticket, policy, sent, now)]
    return min(times) if times else None


def first_due_at(
    created: dt.datetime, dues: Iterable[dt.datetime | None], policy: Policy
) -> dt.datetime | None:
    """The first reminder of a new ticket: the earliest yellow warning among its deadlines."""
    times = [created + (d - created) * policy.warn_at for d in dues if d is not None]
    return min(times) if times else None


def sent_after(sent: Sent, ticket: Ticket, alerts: list[Alert]) -> Sent:
    return sent | {(a.milestone, a.level, ticket.round, a.repeat) for a in alerts}
