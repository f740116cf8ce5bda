"""What people read about tickets, rendered from templates/tickets/ (Telegram HTML, autoescaped).

`TicketViews` (one per service: `service.views`) decides *what* is shown — which deadlines are provisional
(暂定), which numbers are masked — and hands the values to the templates, which say it. The masking rule: in
group texts (staff groups, digests, alerts to several people) phone and ID-card numbers are masked in the
description, place, phone, resolution, comments and reasons; a staff member's private card shows them; history
lines are always masked. Deadlines and times are formatted by the `deadline` / `moment` / `stamp` filters of
bot/core/texts.py, the one place dates become words.

The module-level functions at the end are the previous API, kept for commands/ and intake/ until they use
`service.views`; they render through the same templates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from bot.core.clock import Clock
from bot.core.media import Media, kind_counts, map_url
from bot.core.messages import Button, Reply
from bot.core.text.mask import mask_phone, mask_pii
from bot.core.texts import Texts, short
from bot.core.tickets.domain.models import Ticket, TicketEvent
from bot.core.tickets.domain.schedule import Alert
from bot.core.tickets.domain.sla import MILESTONE_LABELS, MILESTONES, SlaPolicies
from bot.core.tickets.files import masked

# data labels (shown inside sentences that live in templates)
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
ACTION_LABELS = {
    "create": "登记",
    "claim": "认领",
    "assign": "指派",
    "transfer": "转派",
    "contact": "联系诉求人",
    "reply": "答复",
    "note": "内部备注",
    "resolve": "办结",
    "rate": "评价",
    "comment": "评价意见",
    "reopen": "重新办理",
    "close": "关闭",
    "remind": "提醒",
    "deadline_unset": "时限未设定",  # written by versions before provisional years; kept for their history
    "deadline_recomputed": "时限重新计算",
    "attach": "附件",
    "supplement": "补充材料",
    "priority": "调整优先级",
    "type": "调整类型",
    "sign": "签收",
    "pause": "暂停计时",
    "resume": "恢复计时",
    "withdraw": "撤回",
    "cohost": "增加协办部门",
    "request_return": "申请退单",
    "request_reroute": "申请改派",
    "request_extend": "申请延期",
    "request_appeal": "申诉",
    "approve": "批准申请",
    "reject": "驳回申请",
    "visit": "回访",
    "supervise": "督办",
    "merge": "并单",
    "merged": "并入",
}
DEADLINE_LABELS = {**MILESTONE_LABELS, "rating": "评价期限"}
BUTTON_LABELS = {
    "claim": "认领",
    "transfer": "转派",
    "approve": "批准",
    "solved": "✅ 已解决",
    "unsolved": "❌ 未解决",
}

# the templates
STAFF_CARD = "tickets/staff_card.html.j2"
CITIZEN_CARD = "tickets/citizen_card.html.j2"
HISTORY = "tickets/history.html.j2"
LINES = "tickets/lines.html.j2"
NOTICES = "tickets/notices.html.j2"
EVENTS = "tickets/events.txt.j2"
ERRORS = "tickets/errors.html.j2"
REFUSALS = "tickets/refusals.html.j2"
NEW_TICKET = "tickets/new_ticket.html.j2"
ASSIGNED = "tickets/assigned.html.j2"
TRANSFERRED = "tickets/transferred.html.j2"
LOW_RATING = "tickets/low_rating.html.j2"
LOW_RATING_COMMENT = "tickets/low_rating_comment.html.j2"
PROVISIONAL_YEAR = "tickets/provisional_year.html.j2"
REMINDER = "tickets/reminder.html.j2"
MEDIA = "tickets/media.html.j2"
WORKFLOW = "tickets/workflow.html.j2"

# what a citizen is shown of the deadlines: signing for the ticket (签收) is the department's own affair
CITIZEN_MILESTONES = tuple(m for m in MILESTONES if m != "dispatch")
GROUP_DESCRIPTION_LIMIT = 800  # a longer description is cut in group cards (the whole text: /ticket N)
HISTORY_LIMIT = 15


def summary_text(ticket: Ticket, limit: int = 40) -> str:
    """One masked line about what the ticket is (plain text: templates escape it)."""
    return short(mask_pii(ticket.description), limit)


def summary(ticket: Ticket, limit: int = 40) -> str:
    """One masked, escaped line about what the ticket is."""
    return escape(short(mask_pii(ticket.description), limit))


def most_urgent(ticket: Ticket, milestones: Iterable[str] = MILESTONES) -> str | None:
    """The unmet milestone whose deadline comes first."""
    dues = {m: d for m in milestones if ticket.met(m) is None and (d := ticket.due(m)) is not None}
    return min(dues, key=dues.__getitem__) if dues else None


def pending_provisional_years(ticket: Ticket, policies: SlaPolicies) -> set[int]:
    """Provisional years of the deadlines still to be met (the ones a person is shown)."""
    return {y for m in MILESTONES if ticket.met(m) is None for y in policies.provisional_years(ticket, m)}


def _history_rows(
    events: list[TicketEvent], names: dict[str, str], limit: int, citizen_id: str | None
) -> list[dict[str, Any]]:
    rows = []
    for e in events[-limit:]:
        if e.actor == "system":
            kind, who = "system", None
        elif citizen_id is not None and e.actor == citizen_id:
            kind, who = "citizen", None
        else:
            kind, who = "staff", names.get(e.actor, e.actor)
        rows.append(
            {
                "at": e.at,
                "actor": kind,
                "name": who,
                "action": ACTION_LABELS.get(e.action, e.action),
                "text": short(mask_pii(e.text), 80) if e.text else "",
            }
        )
    return rows


class TicketViews:
    def __init__(self, texts: Texts, policies: SlaPolicies, clock: Clock | None = None):
        self.texts = texts
        self.policies = policies
        self.clock = clock
        self._events: dict[tuple[Any, ...], str] = {}

    def now(self) -> dt.datetime | None:
        """The reference for dates (a year is shown only when it is not the current one)."""
        return self.clock.now() if self.clock is not None else None

    def _say(self, template: str, macro: str, /, **kwargs: Any) -> str:
        return self.texts.say(template, macro, **kwargs)

    # ------------------------------------------------------------------ deadlines
    def deadlines(self, ticket: Ticket, *, citizen: bool = False) -> list[dict[str, Any]]:
        """Each milestone (a citizen's: without 签收): its label, deadline, when it was met, and the
        provisional years it counts through (`provisional`: any)."""
        rows = []
        for m in CITIZEN_MILESTONES if citizen else MILESTONES:
            years = self.policies.provisional_years(ticket, m)
            rows.append(
                {
                    "milestone": m,
                    "label": MILESTONE_LABELS[m],
                    "due": ticket.due(m),
                    "met": ticket.met(m),
                    "years": years,
                    "provisional": bool(years),
                }
            )
        return rows

    def due_text(self, ticket: Ticket, milestone: str) -> str:
        """One deadline of the ticket, 暂定 when provisional."""
        return str(
            self.texts.deadline(
                ticket.due(milestone), self.policies.is_provisional(ticket, milestone), self.now()
            )
        )

    def next_deadline(self, ticket: Ticket, *, citizen: bool = False) -> str:
        """The earliest unmet deadline of an open ticket with its label ("办结 1月4日（周一）24:00前"); "" when
        none. A citizen is not shown the department's own signing (签收) deadline."""
        if not ticket.is_open:
            return ""
        m = most_urgent(ticket, CITIZEN_MILESTONES if citizen else MILESTONES)
        if m is None:
            return ""
        return self._say(
            LINES,
            "next_deadline",
            label=MILESTONE_LABELS[m],
            due=ticket.due(m),
            provisional=self.policies.is_provisional(ticket, m),
            now=self.now(),
        )

    def provisional_note(self, years: Iterable[int]) -> str:
        """One line for citizens under deadlines marked 暂定."""
        return self._say(NOTICES, "provisional_note", years=sorted(set(years)))

    # ------------------------------------------------------------------ cards
    def card_context(
        self,
        ticket: Ticket,
        handler_name: str | None = None,
        *,
        group: bool = True,
        full: bool = False,
        attachments: Sequence[Media] = (),
        citizen: bool = False,
    ) -> dict[str, Any]:
        """What a card shows; in groups (group=True) phone and ID numbers are masked. `attachments`: the photos
        and files kept with the ticket (counted on the card)."""
        description = mask_pii(ticket.description) if group else ticket.description
        cut = group and not full and len(description) > GROUP_DESCRIPTION_LIMIT
        phone = None
        if ticket.phone and not ticket.anonymous:
            phone = mask_phone(ticket.phone) if group else ticket.phone
        deadlines = self.deadlines(ticket, citizen=citizen)
        pending = {y for d in deadlines if d["met"] is None for y in d["years"]}  # the ones still to be met
        return {
            "t": ticket,
            "now": self.now(),
            "description": description[:GROUP_DESCRIPTION_LIMIT] if cut else description,
            "cut": cut,
            "place": (mask_pii(ticket.place) if group else ticket.place) if ticket.place else None,
            "phone": phone,
            "handler_name": handler_name or ticket.handler,
            "resolution": (
                (mask_pii(ticket.resolution) if group else ticket.resolution) if ticket.resolution else None
            ),
            "rating_label": RATING_LABELS.get(ticket.rating or 0),
            "deadlines": deadlines,
            "provisional_years": sorted(pending),
            "attachment_counts": kind_counts(attachments),
            "map_url": (
                map_url(ticket.latitude, ticket.longitude)
                if ticket.latitude is not None and ticket.longitude is not None
                else None
            ),
            # the urgency tier, worth a line only when it is not the everyday one
            "tier_label": (
                self.policies.tier(ticket.tier).label
                if ticket.tier and ticket.tier != self.policies.default_tier
                else None
            ),
        }

    def staff_card(
        self,
        ticket: Ticket,
        handler_name: str | None = None,
        *,
        group: bool = True,
        full: bool = False,
        attachments: Sequence[Media] = (),
    ) -> str:
        """The ticket as staff see it. In groups (group=True) phone and ID numbers are masked."""
        return self.texts.render(
            STAFF_CARD,
            **self.card_context(ticket, handler_name, group=group, full=full, attachments=attachments),
        )

    def citizen_card(self, ticket: Ticket, attachments: Sequence[Media] = ()) -> str:
        """The citizen's own ticket (nothing masked: it is theirs)."""
        return self.texts.render(
            CITIZEN_CARD, **self.card_context(ticket, group=False, attachments=attachments, citizen=True)
        )

    # ------------------------------------------------------------------ lists and history
    def list_line(self, ticket: Ticket, names: dict[str, str] | None = None, *, citizen: bool = False) -> str:
        """One line of a ticket list: staff see the handler; a citizen's own list (citizen=True) does not."""
        handler = None
        if ticket.handler:
            handler = (names or {}).get(ticket.handler, ticket.handler)
        return self._say(
            LINES,
            "list_entry",
            number=ticket.number,
            state=ticket.state,
            handler=handler,
            summary=short(mask_pii(ticket.description), 20 if citizen else 24),
            next=Markup(self.next_deadline(ticket, citizen=citizen)),  # rendered (and escaped) above
            citizen=citizen,
            priority=ticket.priority,
            appeal_type=ticket.appeal_type,
        )

    def history(
        self,
        events: list[TicketEvent],
        names: dict[str, str],
        *,
        limit: int = HISTORY_LIMIT,
        citizen_id: str | None = None,
    ) -> str:
        """The ticket's history for staff (masked); the citizen appears as 诉求人, never by their account id."""
        rows = _history_rows(events, names, limit, citizen_id)
        return self.texts.render(HISTORY, rows=rows, total=len(events))

    # ------------------------------------------------------------------ buttons (labels are data)
    @staticmethod
    def new_ticket_buttons(number: str) -> list[list[Button]]:
        return [
            [
                Button(BUTTON_LABELS["claim"], f"claim:{number}"),
                Button(BUTTON_LABELS["transfer"], f"xfer:{number}"),
            ]
        ]

    @staticmethod
    def claim_buttons(number: str) -> list[list[Button]]:
        return [[Button(BUTTON_LABELS["claim"], f"claim:{number}")]]

    @staticmethod
    def rating_buttons(number: str) -> list[list[Button]]:
        return [[Button(f"{n} {RATING_LABELS[n]}", f"rate:{number}:{n}")] for n in (5, 4, 3, 2, 1)]

    @staticmethod
    def visit_buttons(number: str) -> list[list[Button]]:
        """回访: 问题解决了吗？"""
        return [
            [
                Button(BUTTON_LABELS["solved"], f"visit:{number}:yes"),
                Button(BUTTON_LABELS["unsolved"], f"visit:{number}:no"),
            ]
        ]

    # ------------------------------------------------------------------ notifications
    def new_ticket(self, ticket: Ticket, attachments: Sequence[Media] = ()) -> Reply:
        """To the department's group: a new ticket to claim, with the citizen's photos and files (an album
        before the card; captions masked)."""
        return Reply(
            self.texts.render(NEW_TICKET, **self.card_context(ticket, attachments=attachments)),
            self.new_ticket_buttons(ticket.number),
            media=masked(attachments),
        )

    def supplement(self, ticket: Ticket, media: Sequence[Media]) -> Reply:
        """To the department's group: the citizen's 补充材料 for a submitted ticket, with its number."""
        captions = [short(mask_pii(m.caption), 100) for m in media if m.caption]
        html = self._say(
            MEDIA,
            "supplement",
            number=ticket.number,
            summary=summary_text(ticket),
            counts=kind_counts(media),
            captions=captions,
        )
        return Reply(
            html, self.claim_buttons(ticket.number) if ticket.handler is None else [], media=masked(media)
        )

    def assigned(self, ticket: Ticket, staff_name: str) -> Reply:
        """To the staff member a ticket was assigned to (a private chat: nothing masked)."""
        return Reply(self.texts.render(ASSIGNED, **self.card_context(ticket, staff_name, group=False)))

    def transferred(self, moved: Ticket, from_department: str, reason: str) -> Reply:
        """To the department a ticket was transferred to."""
        ctx = self.card_context(moved)
        return Reply(
            self.texts.render(TRANSFERRED, from_department=from_department, reason=mask_pii(reason), **ctx),
            self.new_ticket_buttons(moved.number),
        )

    def low_rating(self, reopened: Ticket, score: int, comment: str | None) -> Reply:
        """To the supervisors and the department: a low rating reopened the ticket."""
        return Reply(
            self.texts.render(
                LOW_RATING,
                score_label=RATING_LABELS[score],
                comment=mask_pii(comment) if comment else None,
                **self.card_context(reopened),
            )
        )

    def low_rating_comment(self, ticket: Ticket, text: str) -> Reply:
        """To the department: the citizen's words after a low rating."""
        return Reply(
            self.texts.render(
                LOW_RATING_COMMENT,
                number=ticket.number,
                score_label=RATING_LABELS.get(ticket.rating or 0, ""),
                text=mask_pii(text),
            )
        )

    def provisional_year(self, year: int) -> Reply:
        """To the admins, once per provisional year."""
        return Reply(self.texts.render(PROVISIONAL_YEAR, year=year))

    def to_citizen(self, what: str, ticket: Ticket, /, **facts: Any) -> str:
        """A short notice to the citizen (claimed, transferred, replied, resolved): a macro of notices."""
        return self._say(NOTICES, what, number=ticket.number, **facts)

    def reminder(
        self, ticket: Ticket, alert: Alert, provisional: bool, now: dt.datetime | None = None
    ) -> str:
        """A yellow warning or a red breach of one milestone. How long it is overdue is measured to `now` (when
        the reminder goes out), not to when the repeat was scheduled: after downtime those differ."""
        over_hours = None
        if alert.level in ("red", "supervise") and alert.due is not None:
            hours = int(((now or alert.at) - alert.due).total_seconds() // 3600)
            over_hours = hours if hours >= 1 else None
        return self._say(
            REMINDER,
            "reminder",
            t=ticket,
            level=alert.level,
            label=MILESTONE_LABELS[alert.milestone],
            due=alert.due,
            provisional=provisional,
            over_hours=over_hours,
            summary=short(mask_pii(ticket.description), 40),
            now=self.now(),
        )

    # ------------------------------------------------------------------ sentences
    def event(self, what: str, /, **facts: Any) -> str:
        """The text of a history event (plain text: it is escaped where it is shown)."""
        key = (what, *facts.items())
        try:
            text = self._events.get(key)
        except TypeError:  # a list among the facts: not kept
            return self._say(EVENTS, what, **facts)
        if text is None:
            if len(self._events) >= 1024:
                self._events.clear()
            # a reminder tick writes the same few texts (办结黄牌预警…) for many tickets: each is worded once
            text = self._events[key] = self._say(EVENTS, what, **facts)
        return text

    def workflow(self, what: str, /, **facts: Any) -> str:
        """A message of the 接诉即办 loop to staff or the dispatcher (a macro of tickets/workflow.html.j2)."""
        return self._say(WORKFLOW, what, **facts)

    def with_card(self, text: str, card: Ticket) -> str:
        """A message followed by the ticket's card (masked, as in a group)."""
        return f"{text}\n{self.staff_card(card)}"

    def error(self, what: str, /, **facts: Any) -> str:
        """Why a request cannot be carried out (a macro of errors)."""
        return self._say(ERRORS, what, **facts)

    def refusal(self, what: str, /, **facts: Any) -> str:
        """Why a request is not allowed (a macro of refusals)."""
        return self._say(REFUSALS, what, **facts)

    def recomputed(self, before: Ticket, after: Ticket, fields: Iterable[str]) -> str:
        """The event text of a deadline recompute: each deadline that moved, from → to."""
        moves = []
        for key in fields:
            m = key.removesuffix("_due")
            moves.append(
                {
                    "label": DEADLINE_LABELS[m],
                    "before": getattr(before, key),
                    "after": getattr(after, key),
                    "provisional": self.policies.is_provisional(after, m),
                }
            )
        return self.event("recomputed", moves=moves, now=self.now())
