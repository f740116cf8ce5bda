"""The ticket lifecycle: create, claim, assign, transfer, contact, reply, note, resolve, rate, reopen, close.

Every operation checks the caller's role and department, builds one `Change` (new values, its events, the
notifications it causes) and lets the store apply it atomically. A concurrent change to the same ticket makes
the store refuse ours; the operation then reads the ticket again and retries.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from bot.core.clock import Clock
from bot.core.knowledge import KnowledgeBase
from bot.core.media import Checked, Location, Media, MediaKeeper, MediaLimits, check_media, kind_counts
from bot.core.messages import Button, Notification, Recipient, Reply
from bot.core.storage import ConflictError, Store
from bot.core.storage.protocols import SentKey
from bot.core.text.mask import mask_pii
from bot.core.texts import Texts, short
from bot.core.tickets.domain.models import (
    CLOSED,
    IN_PROGRESS,
    MAX_DESCRIPTION,
    OPEN_STATES,
    PENDING,
    PRIORITIES,
    RESOLVED,
    ROLE_LABELS,
    Attachment,
    AttachmentIn,
    Change,
    EventIn,
    NewTicket,
    RequestWrite,
    StaffMember,
    Ticket,
    TicketEvent,
    TicketQuery,
)
from bot.core.tickets.domain.permissions import PermissionDenied, check_admin, check_staff, check_ticket
from bot.core.tickets.domain.schedule import awaiting_rating, first_due_at, next_due_at
from bot.core.tickets.domain.sla import MILESTONES, SlaPolicies
from bot.core.tickets.files import MEDIA, attach_events, keep_all
from bot.core.tickets.views import RATING_LABELS, TicketViews
from bot.core.tickets.workflow.config import WorkflowConfig
from bot.core.tickets.workflow.merging import resolve_duplicates
from bot.core.tickets.workflow.requests import rectify_done, rectify_task

if TYPE_CHECKING:
    from bot.core.routing.learning import RoutingDesk

log = logging.getLogger(__name__)

DEFAULT_DEPARTMENT = "行政审批服务局"
CALENDAR_KEY = "calendar_fingerprint"  # meta key: the calendar the stored deadlines were computed with
RECOMPUTED_STATES = (PENDING, IN_PROGRESS, RESOLVED)
RECOMPUTE_BATCH = 1000
SYSTEM = "system"
MAX_TEXT = 4000  # replies, notes, results: one chat message

# what a change step builds: fields, events, notifications, and (for the loop's requests) the requests it writes,
# then (for photos and files a reply or the citizen adds) the attachments it keeps
Built = (
    tuple[dict[str, Any], list[EventIn], list[Notification]]
    | tuple[dict[str, Any], list[EventIn], list[Notification], list[RequestWrite]]
    | tuple[dict[str, Any], list[EventIn], list[Notification], list[RequestWrite], list[AttachmentIn]]
)


class TicketError(Exception):
    """A request that cannot be carried out; the message is polite Chinese for the person who asked (a macro of
    templates/tickets/errors.html.j2, see `TicketService.error`)."""


class TicketService:
    def __init__(
        self,
        store: Store,
        kb: KnowledgeBase,
        clock: Clock,
        policies: SlaPolicies,
        admin_ids: set[str] | frozenset[str] = frozenset(),
        texts: Texts | None = None,
        workflow: WorkflowConfig | None = None,
        *,
        media_limits: MediaLimits | None = None,
        media_keeper: MediaKeeper | None = None,
    ):
        self.store = store
        self.kb = kb
        self.clock = clock
        self.policies = policies
        # the loop's settings (knowledge/workflow.yaml): staff hours, 整改 and 通报 periods, assignment, 三率
        self.workflow = workflow or WorkflowConfig()
        self.admin_ids = {str(a) for a in admin_ids}
        # every text a person reads (notifications, cards, refusals) comes from templates/tickets/
        self.texts = texts or Texts()
        self.views = TicketViews(self.texts, policies, clock)
        # photos and files (bot/core/media.py): what a 诉求 takes, and where copies are kept (None: nowhere)
        self.media_limits = media_limits or MediaLimits()
        self.media_keeper = media_keeper
        # the RoutingDesk (bot/core/routing/learning.py), when routing learns: told of every transfer, category
        # change and resolution by staff, each a labelled example
        self.routing: RoutingDesk | None = None

    # ------------------------------------------------------------------ words
    def error(self, what: str, /, **facts: object) -> TicketError:
        """The TicketError whose message is the macro `what` of templates/tickets/errors.html.j2."""
        return TicketError(self.views.error(what, **facts))

    def refusal(self, what: str | PermissionDenied, /, **facts: object) -> PermissionDenied:
        """A PermissionDenied whose message is the macro of templates/tickets/refusals.html.j2 for the rule."""
        if isinstance(what, PermissionDenied):
            if what.worded:
                return what
            facts = what.facts
            what = what.reason
        return PermissionDenied(self.views.refusal(what, **facts))

    def provisional_notice(self, year: int) -> Notification:
        """Told to the admins once per year (the outbox keeps one notification per dedup key)."""
        return Notification(
            Recipient("admins", "all"), self.views.provisional_year(year), f"calendar:provisional:{year}"
        )

    # ------------------------------------------------------------------ people
    async def staff_member(self, user_id: str) -> StaffMember | None:
        member = await self.store.staff.get(user_id)
        if user_id in self.admin_ids:
            return StaffMember(
                user_id,
                member.name if member else ROLE_LABELS["admin"],
                "admin",
                member.departments if member else (),
            )
        return member

    async def require_staff(self, actor_id: str) -> StaffMember:
        try:
            return check_staff(await self.staff_member(actor_id))
        except PermissionDenied as exc:
            raise self.refusal(exc) from None

    async def require_admin(self, actor_id: str) -> StaffMember:
        try:
            return check_admin(await self.staff_member(actor_id))
        except PermissionDenied as exc:
            raise self.refusal(exc) from None

    async def require_for(self, actor_id: str, ticket: Ticket, action: str) -> StaffMember:
        """The staff member, when they may do `action` to the ticket (see domain/permissions.py)."""
        member = await self.require_staff(actor_id)
        try:
            check_ticket(member, ticket, action)
        except PermissionDenied as exc:
            raise self.refusal(exc) from None
        return member

    async def list_staff(self) -> list[StaffMember]:
        return await self.store.staff.list()

    async def add_staff(self, member: StaffMember, actor_id: str) -> None:
        await self.store.staff.upsert(member, actor_id, self.clock.now())

    async def remove_staff(self, user_id: str, actor_id: str) -> bool:
        return await self.store.staff.remove(user_id, actor_id, self.clock.now())

    async def staff_names(self) -> dict[str, str]:
        return {m.user_id: m.name for m in await self.store.staff.list()}

    async def supervisors_of(self, department: str) -> list[StaffMember]:
        return [
            m for m in await self.store.staff.list() if m.role == "supervisor" and department in m.departments
        ]

    def department_names(self) -> list[str]:
        names = list(getattr(self.kb, "departments", {}) or {})
        return names or [DEFAULT_DEPARTMENT]

    def canonical_department(self, name: str) -> str | None:
        name = name.strip()
        finder = getattr(self.kb, "department", None)
        dep = finder(name) if finder else None
        if dep is not None:
            return dep.name
        return name if name in self.department_names() else None

    def default_department(self, category: str) -> str:
        cat = (getattr(self.kb, "appeal_categories", {}) or {}).get(category)
        if cat is not None:
            return self.canonical_department(cat.department) or cat.department
        return DEFAULT_DEPARTMENT

    # ------------------------------------------------------------------ reading
    async def get(self, number: str) -> Ticket | None:
        return await self.store.tickets.get(number)

    async def events(self, ticket: Ticket) -> list[TicketEvent]:
        return await self.store.tickets.events(ticket.id)

    async def _must_get(self, number: str) -> Ticket:
        ticket = await self.store.tickets.get(number)
        if ticket is None:
            raise self.error("not_found", number=number)
        return ticket

    async def count(self, query: TicketQuery) -> int:
        return await self.store.tickets.count(query)

    async def attention(
        self, now: dt.datetime, level: str, departments: tuple[str, ...] | None, limit: int
    ) -> tuple[list[Ticket], dict[str, int]]:
        """Open tickets overdue ("red") or past their warning point ("yellow"), most urgent first."""
        pol = self.policies
        return await self.store.reports.attention(
            now,
            level,
            warn_at={p.name: p.warn_at for p in pol.policies.values()},
            default_warn=pol.get(pol.default).warn_at,
            departments=departments,
            limit=limit,
        )

    async def list(self, query: TicketQuery) -> list[Ticket]:
        return await self.store.tickets.list(query)

    # ------------------------------------------------------------------ create
    async def create(
        self,
        *,
        citizen_id: str,
        description: str,
        category: str,
        department: str | None = None,
        place: str | None = None,
        phone: str | None = None,
        anonymous: bool = False,
        priority: str = "normal",
        source_question: str | None = None,
        attachments: Sequence[Media] = (),
        location: Location | None = None,
        unit: str | None = None,
        appeal_type: str | None = None,
        citizen_name: str | None = None,
    ) -> Ticket:
        description = (description or "").strip()[:MAX_DESCRIPTION]
        priority = priority if priority in PRIORITIES else "normal"
        if not description:
            raise self.error("empty_description")
        dept = (self.canonical_department(department) if department else None) or self.default_department(
            category
        )
        now = self.clock.now().replace(microsecond=0)
        policy = self.policies.select(category, priority)
        if appeal_type not in self.policies.types:
            appeal_type = self.policies.type_of(description)
        tier = self.policies.tier_of(description, priority)
        deadlines = self.policies.deadlines(policy, now, MILESTONES, appeal_type=appeal_type, tier=tier)
        new = NewTicket(
            citizen_id=str(citizen_id),
            description=description,
            category=category,
            department=dept,
            created_at=now,
            policy=policy.name,
            place=(place or None) and place.strip()[:500],
            phone=phone or None,
            anonymous=anonymous,
            priority=priority,
            source_question=source_question,
            contact_due=deadlines.due["contact"],
            feedback_due=deadlines.due["feedback"],
            resolve_due=deadlines.due["resolve"],
            next_due_at=first_due_at(now, deadlines.due.values(), policy),
            latitude=location.lat if location else None,
            longitude=location.lon if location else None,
            unit=unit,
            attachments=tuple(attachments),
            appeal_type=appeal_type,
            tier=tier,
            dispatch_due=deadlines.due["dispatch"],
            citizen_name=(citizen_name or "").strip()[:64] or None,
        )

        def hook(ticket: Ticket) -> tuple[list[EventIn], list[Notification]]:
            text = self.views.event(
                "created", category=category, policy=policy.label, appeal_type=appeal_type or ""
            )
            events = [EventIn(str(citizen_id), "create", text)]
            events += attach_events(self.views, str(citizen_id), new.attachments)
            notes = [
                Notification(
                    Recipient("department", dept),
                    self.views.new_ticket(ticket, new.attachments),
                    f"new:{ticket.number}",
                )
            ]
            notes.extend(self.provisional_notice(y) for y in sorted(deadlines.years))
            return events, notes

        ticket = await self.store.tickets.create(new, hook)
        log.info("ticket %s created: %s", ticket.number, short(mask_pii(description), 40))
        return ticket

    # ------------------------------------------------------------------ the change loop
    async def _change(
        self,
        number: str,
        build: Callable[[Ticket, dt.datetime], Awaitable[Built]],
    ) -> Ticket:
        """Read the ticket, `build` the change (fields, events, notifications, and optionally the requests it
        writes and the files it keeps) and apply it; a concurrent change makes it read and build again."""
        for _ in range(5):
            ticket = await self._must_get(number)
            now = self.clock.now()
            fields, events, notes, *more = await build(ticket, now)
            # the optional parts by position (Built): mypy sees the union of the tuples' tails as objects
            requests = cast("list[RequestWrite]", more[0]) if more else []
            files = cast("list[AttachmentIn]", more[1]) if len(more) > 1 else []
            preview = dataclasses.replace(ticket, **fields)
            notes += self._provisional_notices(preview, fields)
            sent = {k for k in (await self.store.tickets.reminders_sent([ticket.id]))[ticket.id]}
            fields["next_due_at"] = next_due_at(preview, self.policies.get(ticket.policy), sent, now)
            try:
                return await self.store.tickets.apply(
                    Change(ticket, now, fields, events, notes, requests=requests, attachments=files)
                )
            except ConflictError:
                continue
        raise self.error("busy")

    def _provisional_years(self, ticket: Ticket, fields: dict[str, Any]) -> set[int]:
        """The provisional years that the deadlines set by a change count through."""
        years: set[int] = set()
        for m in (*MILESTONES, "rating"):
            if fields.get(f"{m}_due") is not None:
                years.update(self.policies.provisional_years(ticket, m))
        return years

    def _provisional_notices(self, ticket: Ticket, fields: dict[str, Any]) -> builtins.list[Notification]:
        """The admins' one-off warning for each provisional year a deadline set by this change counts through."""
        return [self.provisional_notice(y) for y in sorted(self._provisional_years(ticket, fields))]

    def _notify_citizen(
        self,
        ticket: Ticket,
        what: str,
        key: str,
        buttons: builtins.list[builtins.list[Button]] | None = None,
        **facts: object,
    ) -> Notification:
        """The notice `what` (a macro of templates/tickets/notices.html.j2) to the citizen."""
        html = self.views.to_citizen(what, ticket, **facts)
        return Notification(
            Recipient("user", ticket.citizen_id), Reply(html, buttons or []), f"{ticket.number}:{key}"
        )

    def _claim_fields(
        self, ticket: Ticket, actor: StaffMember
    ) -> tuple[dict[str, Any], builtins.list[EventIn]]:
        """Working on an unclaimed ticket claims it for the one doing the work (and signs for it)."""
        if ticket.handler is None and ticket.state == PENDING:
            fields = {"handler": actor.user_id, "state": IN_PROGRESS, **self._signed(ticket)}
            return fields, [EventIn(actor.user_id, "claim", "")]
        return self._signed(ticket), []

    def _signed(self, ticket: Ticket) -> dict[str, Any]:
        """The department works on the ticket: it has signed for it (签收), if it had not yet."""
        return {"dispatch_met": self.clock.now()} if ticket.dispatch_met is None else {}

    # ------------------------------------------------------------------ staff operations
    async def claim(self, number: str, actor_id: str) -> Ticket:
        async def build(t: Ticket, now: dt.datetime) -> Built:
            actor = await self.require_for(actor_id, t, "claim")
            if t.state not in OPEN_STATES:
                raise self.error("not_open", number=t.number, state=t.state, action="claim")
            if t.handler == actor.user_id:
                raise self.error("claimed_by_you", number=t.number)
            if t.handler is not None:
                names = await self.staff_names()
                raise self.error("claimed_by", number=t.number, name=names.get(t.handler, t.handler))
            note = self._notify_citizen(t, "claimed", f"claimed:{t.version}", department=t.department)
            fields = {"handler": actor.user_id, "state": IN_PROGRESS, **self._signed(t)}
            return fields, [EventIn(actor.user_id, "claim")], [note]

        return await self._change(number, build)

    async def assign(self, number: str, actor_id: str, staff_id: str) -> Ticket:
        async def build(t: Ticket, now: dt.datetime) -> Built:
            actor = await self.require_for(actor_id, t, "assign")
            if t.state not in OPEN_STATES:
                raise self.error("not_open", number=t.number, state=t.state, action="assign")
            target = await self.staff_member(staff_id)
            if target is None:  # a name works too when it is unique
                same = [m for m in await self.store.staff.list() if m.name == staff_id]
                target = same[0] if len(same) == 1 else None
            if target is None:
                raise self.error("not_staff", who=staff_id)
            if not target.covers(t.department):
                raise self.error("not_in_department", name=target.name, department=t.department)
            notes = [
                Notification(
                    Recipient("staff", target.user_id),
                    self.views.assigned(t, target.name),
                    f"{t.number}:assigned:{t.version}",
                )
            ]
            if t.handler is None:
                notes.append(
                    self._notify_citizen(t, "claimed", f"claimed:{t.version}", department=t.department)
                )
            text = self.views.event("assigned", name=target.name, user_id=target.user_id)
            ev = EventIn(actor.user_id, "assign", text)
            return {"handler": target.user_id, "state": IN_PROGRESS, **self._signed(t)}, [ev], notes

        return await self._change(number, build)

    async def transfer(
        self, number: str, actor_id: str, department: str, reason: str, *, kind: str = "transfer"
    ) -> Ticket:
        async def build(t: Ticket, now: dt.datetime) -> Built:
            actor = await self.require_for(actor_id, t, "transfer")
            if t.state not in OPEN_STATES:
                raise self.error("not_open", number=t.number, state=t.state, action="transfer")
            dept = self.canonical_department(department)
            if dept is None:
                raise self.error("unknown_department", name=department)
            if dept == t.department:
                raise self.error("same_department", number=t.number, department=dept)
            why = reason.strip()
            moved = dataclasses.replace(t, department=dept, handler=None, state=PENDING)
            notes = [
                Notification(
                    Recipient("department", dept),
                    self.views.transferred(moved, t.department, why),
                    f"{t.number}:xfer:{t.version}",
                ),
                self._notify_citizen(t, "transferred", f"transferred:{t.version}", department=dept),
            ]
            text = self.views.event(
                "transferred", from_department=t.department, to_department=dept, reason=why
            )
            ev = EventIn(actor.user_id, "transfer", text)
            before.append(t.department)
            return {"department": dept, "handler": None, "state": PENDING}, [ev], notes

        before: list[str] = []
        moved = await self._change(number, build)
        await self._learn(moved, actor_id, kind, before[-1] if before else None)
        return moved

    async def set_category(self, number: str, actor_id: str, category: str) -> Ticket:
        """Staff correct a ticket's category (the same right as transferring it); the SLA policy stays."""
        names = list(getattr(self.kb, "appeal_categories", {}) or {})
        name = category.strip()
        if name not in names:
            raise self.error("unknown_category", name=name[:30], names="、".join(names))

        async def build(t: Ticket, now: dt.datetime):
            actor = await self.require_for(actor_id, t, "transfer")
            if t.state not in OPEN_STATES:
                raise self.error("not_open", number=t.number, state=t.state, action="transfer")
            if t.category == name:
                raise self.error("same_category", number=t.number, category=name)
            text = self.views.event("recategorized", from_category=t.category, to_category=name)
            return {"category": name}, [EventIn(actor.user_id, "category", text)], []

        changed = await self._change(number, build)
        await self._learn(changed, actor_id, "category", changed.department)
        return changed

    async def _learn(self, t: Ticket, actor_id: str, kind: str, previous: str | None) -> None:
        if self.routing is not None:
            await self.routing.record(
                ticket_id=t.id,
                text=t.description,
                unit=t.department,
                kind=kind,
                actor=actor_id,
                previous=previous,
                category=t.category,
            )

    async def record_contact(self, number: str, actor_id: str, text: str) -> Ticket:
        async def build(t: Ticket, now: dt.datetime) -> Built:
            actor = await self.require_for(actor_id, t, "contact")
            if t.state not in OPEN_STATES:
                raise self.error("not_open", number=t.number, state=t.state, action="contact")
            fields, events = self._claim_fields(t, actor)
            if t.contact_met is None:
                fields["contact_met"] = now
            events.append(EventIn(actor.user_id, "contact", text.strip()[:MAX_TEXT]))
            return fields, events, []

        return await self._change(number, build)

    async def reply(self, number: str, actor_id: str, text: str, media: Sequence[Media] = ()) -> Ticket:
        """Staff answer the citizen; `media` (a photo of the repair…) goes with the answer and is kept."""
        text = text.strip()[:MAX_TEXT]
        taken: list[Media] = []
        if media:
            checked = check_media(media, self.media_limits)
            if not checked.taken:
                raise TicketError(self.texts.say(MEDIA, "reply_media_refused"))
            taken = await keep_all(self.media_keeper, checked.taken)
        if not text and not taken:
            raise self.error("reply_empty")

        async def build(t: Ticket, now: dt.datetime) -> Built:
            actor = await self.require_for(actor_id, t, "reply")
            if t.state == CLOSED:
                raise self.error("reply_closed", number=t.number)
            fields, events = self._claim_fields(t, actor)
            for m in ("contact", "feedback"):
                if t.met(m) is None:
                    fields[f"{m}_met"] = now
            events.append(EventIn(actor.user_id, "reply", text))
            if not taken:
                note = self._notify_citizen(
                    t, "replied", f"reply:{t.version}", department=t.department, text=text
                )
                return fields, events, [note]
            events += attach_events(self.views, actor.user_id, taken)
            html = self.texts.say(
                MEDIA,
                "replied",
                number=t.number,
                department=t.department,
                text=text,
                counts=kind_counts(taken),
            )
            note = Notification(
                Recipient("user", t.citizen_id),
                Reply(html, media=tuple(taken)),
                f"{t.number}:reply:{t.version}",
            )
            return fields, events, [note], [], [AttachmentIn("staff", m) for m in taken]

        return await self._change(number, build)

    async def note(self, number: str, actor_id: str, text: str) -> Ticket:
        text = text.strip()[:MAX_TEXT]
        if not text:
            raise self.error("note_empty")

        async def build(t: Ticket, now: dt.datetime) -> Built:
            actor = await self.require_for(actor_id, t, "note")
            return {}, [EventIn(actor.user_id, "note", text)], []

        return await self._change(number, build)

    async def resolve(self, number: str, actor_id: str, result: str) -> Ticket:
        result = result.strip()[:MAX_TEXT]
        if not result:
            raise self.error("resolve_empty")

        async def build(t: Ticket, now: dt.datetime) -> Built:
            actor = await self.require_for(actor_id, t, "resolve")
            if t.state not in OPEN_STATES:
                raise self.error("not_open", number=t.number, state=t.state, action="resolve")
            fields, events = self._claim_fields(t, actor)
            for m in MILESTONES:
                if t.met(m) is None:
                    fields[f"{m}_met"] = now
            rating_due = self.policies.rating_deadline(now)
            fields.update({"state": RESOLVED, "resolution": result, "rating_due": rating_due})
            fields.update({"visit_result": None, "visited_at": None, "paused_at": None, "pause_reason": None})
            events.append(EventIn(actor.user_id, "resolve", result))
            note = self._notify_citizen(
                t, "resolved", f"resolved:{t.version}", self.views.rating_buttons(t.number), result=result
            )
            return fields, events, [note], await rectify_done(self, t, result)

        done = await self._change(number, build)
        # the unit that resolved it is where it belonged: routing learns from the routes that were right too
        await self._learn(done, actor_id, "resolved", None)
        await resolve_duplicates(self, done, actor_id)  # 并单: handled once, every reporter told
        return done

    async def reopen(self, number: str, actor_id: str, reason: str, *, _citizen: bool = False) -> Ticket:
        async def build(t: Ticket, now: dt.datetime) -> Built:
            if not _citizen:
                await self.require_for(actor_id, t, "reopen")
            if t.state not in (RESOLVED, CLOSED):
                raise self.error("still_open", number=t.number)
            return (
                self._reopen_fields(t, now),
                [EventIn(actor_id, "reopen", self.views.event("reason", reason=reason.strip()))],
                [],
            )

        return await self._change(number, build)

    def _reopen_fields(self, t: Ticket, now: dt.datetime) -> dict[str, Any]:
        # a new round: its own resolve window, without the last round's extensions and pauses
        resolve_due = self.policies.window(t, "resolve").due(now, self.policies.calendar)
        return {
            "paused_at": None,
            "pause_reason": None,
            "paused_work": 0,
            "paused_wall": 0,
            "extra_days": 0,
            "state": IN_PROGRESS if t.handler else PENDING,
            "round": t.round + 1,
            "round_started_at": now,
            "resolve_due": resolve_due,
            "resolve_met": None,
            "closed_at": None,
            "rating_due": None,
        }

    async def close(self, number: str, actor_id: str, reason: str = "") -> Ticket:
        """Close a ticket; the citizen is always told. An unresolved ticket (supervisors only) needs a reason.
        A resolved one has its result; while its rating window runs and the citizen has not rated, it closes
        only with an explicit reason, and the citizen can still rate it afterwards."""
        reason = reason.strip()[:MAX_TEXT]

        async def build(t: Ticket, now: dt.datetime) -> Built:
            if t.state == CLOSED:
                raise self.error("already_closed", number=t.number)
            await self.require_for(actor_id, t, "close" if t.state == RESOLVED else "close_open")
            if t.state != RESOLVED and not reason:
                raise self.error("close_needs_reason", number=t.number)
            rating_open = awaiting_rating(t) and t.rating_due is not None and now < t.rating_due
            if rating_open and not reason:
                raise self.error(
                    "close_in_rating_window",
                    number=t.number,
                    due=t.rating_due,
                    provisional=self.policies.is_provisional(t, "rating"),
                    now=now,
                )
            buttons = self.views.rating_buttons(t.number) if awaiting_rating(t) else None
            note = self._notify_citizen(
                t,
                "closed",
                f"closed:{t.version}",
                buttons,
                reason=reason,
                result=t.resolution if t.state == RESOLVED else None,
                can_rate=buttons is not None,
            )
            return {"state": CLOSED, "closed_at": now}, [EventIn(actor_id, "close", reason)], [note]

        return await self._change(number, build)

    # ------------------------------------------------------------------ photos and files
    async def attachments_of(self, ticket: Ticket) -> builtins.list[Attachment]:
        return await self.store.attachments.of_ticket(ticket.id)

    async def attach(self, number: str, citizen_id: str, media: Sequence[Media]) -> tuple[Ticket, Checked]:
        """The citizen's 补充材料 for their submitted ticket: kept with it, each an event, and posted to the
        department with the ticket's number. Returns the ticket and what was taken and refused (limits)."""
        ticket = await self._must_get(number)
        citizen_id = str(citizen_id)
        if ticket.citizen_id != citizen_id:
            raise PermissionDenied(self.texts.say(MEDIA, "add_not_yours"))
        if ticket.state == CLOSED:
            raise TicketError(self.texts.say(MEDIA, "add_closed", number=ticket.number))
        already = sum(a.role == "citizen" for a in await self.attachments_of(ticket))
        checked = check_media(media, self.media_limits, already)
        if not checked.taken:
            return ticket, checked
        taken = await keep_all(self.media_keeper, checked.taken)
        checked.taken = taken

        async def build(t: Ticket, now: dt.datetime):
            if t.state == CLOSED:
                raise TicketError(self.texts.say(MEDIA, "add_closed", number=t.number))
            events = attach_events(self.views, citizen_id, taken, action="supplement")
            note = Notification(
                Recipient("department", t.department),
                self.views.supplement(t, taken),
                f"{t.number}:supplement:{t.version}",
            )
            return {}, events, [note], [], [AttachmentIn("citizen", m) for m in taken]

        return await self._change(number, build), checked

    # ------------------------------------------------------------------ citizen operations
    async def rate(self, number: str, citizen_id: str, score: int, comment: str | None = None) -> Ticket:
        if not 1 <= int(score) <= 5:
            raise self.error("bad_score")
        score = int(score)
        comment = (comment or "").strip()[:1000] or None

        async def build(t: Ticket, now: dt.datetime) -> Built:
            if t.citizen_id != str(citizen_id):
                raise self.refusal("rate_not_yours")
            if not awaiting_rating(t):
                raise self.error("not_awaiting_rating", number=t.number)
            label = RATING_LABELS[score]
            fields: dict[str, Any] = {
                "rating": score,
                "comment": comment,
                "rated_at": now,
                "rated_round": t.round,
            }
            text = self.views.event("rated", score=score, label=label, comment=comment)
            events = [EventIn(str(citizen_id), "rate", text)]
            notes: list[Notification] = []
            requests = []
            if score <= 2:
                # 差评整改: a task for the department, due in the configured working days
                requests.append(rectify_task(self, t, now, score, comment))
                fields.update(self._reopen_fields(t, now))
                events.append(EventIn(SYSTEM, "reopen", self.views.event("reopened_by_rating", label=label)))
                alert = self.views.low_rating(dataclasses.replace(t, **fields), score, comment)
                sups = await self.supervisors_of(t.department)
                targets = [Recipient("staff", s.user_id) for s in sups] or [Recipient("admins", "all")]
                notes += [Notification(r, alert, f"{t.number}:lowrating:{t.version}:{r.id}") for r in targets]
                notes.append(
                    Notification(
                        Recipient("department", t.department), alert, f"{t.number}:lowrating:{t.version}"
                    )
                )
            return fields, events, notes, requests

        return await self._change(number, build)

    async def comment(self, number: str, citizen_id: str, text: str) -> Ticket:
        """The citizen's words after a rating: kept on the ticket and in its history; after a low rating they
        also go to the department, which is handling the ticket again."""
        text = text.strip()[:1000]
        if not text:
            raise self.error("comment_empty")

        async def build(t: Ticket, now: dt.datetime) -> Built:
            if t.citizen_id != str(citizen_id):
                raise self.refusal("comment_not_yours")
            if t.rating is None:
                raise self.error("comment_before_rating", number=t.number)
            notes: list[Notification] = []
            if t.rating <= 2:
                alert = self.views.low_rating_comment(t, text)
                notes.append(
                    Notification(
                        Recipient("department", t.department), alert, f"{t.number}:comment:{t.version}"
                    )
                )
            return {"comment": text}, [EventIn(str(citizen_id), "comment", text)], notes

        return await self._change(number, build)

    # ------------------------------------------------------------------ the calendar changed
    async def sync_calendar(self) -> int:
        """At start-up: when the working calendar differs from the one the stored deadlines were computed with
        (e.g. the official notice for a provisional year was added), recompute them. Returns tickets changed."""
        current = self.policies.calendar.fingerprint()
        if await self.store.meta.get(CALENDAR_KEY) == current:
            return 0
        changed = await self.recompute_deadlines()
        await self.store.meta.set(CALENDAR_KEY, current)  # only once every ticket is done
        # worth an operator's attention only when deadlines actually moved
        log.log(
            logging.INFO if changed else logging.DEBUG,
            "working calendar %s: deadlines of %d tickets recomputed",
            current,
            changed,
        )
        return changed

    async def recompute_deadlines(self, batch: int = RECOMPUTE_BATCH) -> int:
        """Recompute, with the current calendar, the working-day deadlines of every open ticket (contact and
        feedback from creation, resolve from the current round's start) and the rating deadline of resolved,
        unrated tickets (from their resolution). Each ticket whose deadlines moved gets one change with its
        event and a fresh next reminder time. Returns how many tickets changed."""
        now = self.clock.now()
        warned: set[int] = set()  # one admin notice per provisional year is enough for a whole run
        after, changed = 0, 0
        while True:
            page = await self.store.tickets.list(
                TicketQuery(states=RECOMPUTED_STATES, after_id=after, newest_first=False, limit=batch)
            )
            if not page:
                return changed
            after = page[-1].id
            changed += await self._recompute_page(page, now, warned)

    async def _recompute_page(self, page: builtins.list[Ticket], now: dt.datetime, warned: set[int]) -> int:
        changed = 0
        for _ in range(5):  # a ticket changed meanwhile by someone else is read again and redone
            todo = [(t, f) for t in page if (f := self._recomputed(t))]
            if not todo:
                break
            sent = await self.store.tickets.reminders_sent([t.id for t, _ in todo])
            changes = [self._recompute_change(t, f, sent[t.id], now, warned) for t, f in todo]
            results = await self.store.tickets.apply_many(changes)
            changed += sum(r is not None for r in results)
            stale = [c.ticket.number for c, r in zip(changes, results, strict=True) if r is None]
            page = [t for n in stale if (t := await self.store.tickets.get(n)) is not None]
        return changed

    def _recomputed(self, t: Ticket) -> dict[str, dt.datetime]:
        """The deadline fields whose value the current calendar changes."""
        out: dict[str, dt.datetime] = {}
        if t.state in OPEN_STATES:
            for m in MILESTONES:
                if self.policies.window(t, m).working_days is None:
                    continue  # natural hours do not depend on the calendar
                due = self.policies.due_of(t, m)  # with the ticket's extensions and pauses
                if due != t.due(m):
                    out[f"{m}_due"] = due
        elif awaiting_rating(t) and t.resolve_met is not None:
            due = self.policies.rating_deadline(t.resolve_met)
            if due != t.rating_due:
                out["rating_due"] = due
        return out

    def _recompute_change(
        self, t: Ticket, fields: dict[str, Any], sent: set[SentKey], now: dt.datetime, warned: set[int]
    ) -> Change:
        preview = dataclasses.replace(t, **fields)
        event = EventIn(SYSTEM, "deadline_recomputed", self.views.recomputed(t, preview, fields))
        years = self._provisional_years(preview, fields) - warned
        warned |= years
        fields = {**fields, "next_due_at": next_due_at(preview, self.policies.get(t.policy), sent, now)}
        return Change(t, now, fields, [event], [self.provisional_notice(y) for y in sorted(years)])

    # ------------------------------------------------------------------ people's views
    async def awaiting_rating_of(self, citizen_id: str) -> Ticket | None:
        """The person's most recently resolved ticket that still waits for their rating, if any."""
        recent = await self.store.tickets.list(
            TicketQuery(citizen_id=str(citizen_id), states=(RESOLVED,), limit=5)
        )
        return next((t for t in recent if awaiting_rating(t)), None)

    async def citizen_tickets(self, citizen_id: str, limit: int = 20) -> builtins.list[Ticket]:
        return await self.store.tickets.list(TicketQuery(citizen_id=str(citizen_id), limit=limit))
