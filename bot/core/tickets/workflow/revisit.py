"""回访 for citizens who never rate: a follow-up task for the department when the rating window ends unrated.

When a resolved ticket closes by itself at the end of its rating window without a rating (reminders.py), a
task of kind `revisit` is written with that change (ticket_requests), due in `revisit_working_days` working
days (workflow.yaml), and the department's group is asked to call the citizen. Staff record the call:

    /revisit N 已解决|未解决 [1-5] [说明]  — the answer counts in 解决率, the score (if the citizen gave one) in
                                            满意度 and 满意率 like a rating of their own; 未解决 reopens the ticket
    /revisit N 未联系上 [说明]              — the task is done and nothing is counted: a citizen who was not
                                            reached is neither satisfied nor dissatisfied

So an unrated ticket never counts as satisfied by default, and one reached by phone counts once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.core.messages import Notification, Recipient, Reply
from bot.core.tickets.domain.models import CLOSED, RESOLVED, EventIn, RequestWrite, Ticket

from .requests import pending_of

if TYPE_CHECKING:
    from bot.core.tickets.service import Built, TicketService

KIND = "revisit"
OUTCOMES = {"solved": True, "unsolved": False, "unreached": None}  # the values of the typed words


def revisit_task(service: TicketService, t: Ticket, now: dt.datetime) -> tuple[RequestWrite, Notification]:
    """The task an unrated automatic close opens, and the department's notice of it."""
    due = service.policies.calendar.add_working_days(now, service.workflow.revisit_working_days)
    reason = service.views.event("revisit_reason")
    task = RequestWrite(KIND, department=t.department, requested_by="system", reason=reason, due_at=due)
    html = service.views.with_card(
        service.views.workflow("revisit_due", number=t.number, due=due, now=now), t
    )
    note = Notification(Recipient("department", t.department), Reply(html), f"{t.number}:revisit:{t.round}")
    return task, note


@dataclasses.dataclass(frozen=True)
class Answer:
    solved: bool | None  # None: not reached
    score: int | None
    note: str


def parse_answer(text: str, words: dict[str, str]) -> Answer | None:
    """`已解决 4 说明`, `未解决`, `未联系上 说明` (`words`: what staff type -> solved | unsolved | unreached, from
    templates/commands/words.html.j2); None when the first word is none of those or the score is not 1–5."""
    head, _, tail = text.strip().partition(" ")
    outcome = words.get(head.lower())
    if outcome not in OUTCOMES:
        return None
    solved = OUTCOMES[outcome]
    score: int | None = None
    first, _, rest = tail.strip().partition(" ")
    if solved is not None and first.isascii() and first.isdecimal():
        score = int(first)
        if not 1 <= score <= 5:
            return None
        tail = rest
    return Answer(solved, score, tail.strip()[:1000])


async def record(service: TicketService, number: str, actor_id: str, answer: Answer) -> Ticket:
    """Staff record the 回访 call for a ticket whose task is waiting."""

    async def build(t: Ticket, now: dt.datetime) -> Built:
        actor = await service.require_for(actor_id, t, "revisit")
        task = await pending_of(service, t, (KIND,))
        if task is None or t.state not in (RESOLVED, CLOSED):
            raise service.error("no_revisit_task", number=t.number)
        text = service.views.event(
            "revisited", solved=answer.solved, score=answer.score or 0, note=answer.note
        )
        fields: dict[str, Any] = {}
        events = [EventIn(actor.user_id, "revisit", text)]
        if answer.solved is not None:
            fields.update({"visit_result": int(answer.solved), "visited_at": now})
        if answer.score is not None and (t.rating is None or t.rated_round != t.round):
            fields.update(
                {
                    "rating": answer.score,
                    "rated_at": now,
                    "rated_round": t.round,
                    "comment": answer.note or None,
                }
            )
        if answer.solved is False:
            fields.update(service._reopen_fields(t, now))
            events.append(EventIn("system", "reopen", service.views.event("reopened_by_visit")))
        done = RequestWrite(KIND, id=task.id, state="done", decided_by=actor.user_id, decision=text)
        return fields, events, [], [done]

    return await service._change(number, build)


async def revisit_cancelled(service: TicketService, t: Ticket) -> list[RequestWrite]:
    """The citizen rated after all (a closed ticket can still be rated): the waiting 回访 task is cancelled."""
    task = await pending_of(service, t, (KIND,))
    return [] if task is None else [RequestWrite(KIND, id=task.id, state="cancelled", decision="rated")]
