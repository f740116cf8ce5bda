"""诉求 intake: the dialogue that turns a complaint, report or request for help into a ticket.

Steps (see draft.Step): description (shown; the person may replace it) → category (classified from the
description; confirm or pick another) → place (optional) → contact phone (optional, validated) → anonymous or
not → summary with 提交 / 修改 / 取消 → the ticket is created and the person gets its number and deadlines.
Each step has one handler for typed text and one for buttons, found in a table by the step.

The draft lives in the conversation state (one row per person), written after every step, so a restart loses
nothing. A draft untouched for `DRAFT_TTL` is dropped and the person's next message is an ordinary question.
The person can cancel at every step, with the 取消 button or by typing 取消 / 算了 / 不办了.

A message that is not an answer to the step but looks like a new question or another problem is not
swallowed: the person is asked whether to add it to the 诉求 or to answer it first (see `Outcome.question`).

Limits (bad input gets a clear answer and the dialogue goes on): a description needs at least
`MIN_MEANINGFUL` letters or digits and is kept up to `MAX_DESCRIPTION` characters (the person is told);
a place up to `MAX_PLACE`; a phone must be a mainland mobile or landline (phone.py). Button data `in:…`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.callbacks import Prefix, fits
from bot.core.clock import Clock
from bot.core.media import Location, Media, kind_counts
from bot.core.messages import Button, Incoming, Reply
from bot.core.storage.protocols import StateRepository, StoreWriteError
from bot.core.texts import Texts
from bot.core.tickets.classify import FALLBACK, classify
from bot.core.tickets.domain.models import MAX_DESCRIPTION
from bot.core.tickets.files import keep_all
from bot.core.tickets.service import TicketError, TicketService

from . import evidence, words
from .draft import Draft, Step
from .phone import find_phone

log = logging.getLogger(__name__)

MAX_PLACE = 200
MIN_MEANINGFUL = 2
DRAFT_TTL = dt.timedelta(hours=24)
PREFIX = f"{Prefix.INTAKE}:"
WORDS = "intake/words.html.j2"
EDIT_FIELDS = ("desc", "cat", "type", "place", "phone", "anon")
EDIT_STEPS = {
    "desc": Step.DESCRIPTION,
    "cat": Step.CATEGORY_PICK,
    "type": Step.TYPE_PICK,
    "place": Step.PLACE,
    "phone": Step.PHONE,
    "anon": Step.ANONYMOUS,
}
TEMPLATES = {step: f"intake/{step.value}.html.j2" for step in Step}

# "question" / "complaint" when a typed message looks like something other than an answer to the step
Looks = Callable[[str, Draft], str | None]


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    # the person chose to have this question answered first (the intake waits meanwhile)
    question: str | None = None


class IntakeFlow:
    def __init__(
        self,
        service: TicketService,
        state: StateRepository,
        kb: Any,
        clock: Clock,
        texts: Texts | None = None,
        looks_new: Looks | None = None,
    ):
        self.service = service
        self.state = state
        self.kb = kb
        self.clock = clock
        self.texts = texts or service.texts
        self.looks_new = looks_new
        self._locks: dict[str, asyncio.Lock] = {}

    # ------------------------------------------------------------------ public API
    async def start(
        self,
        msg: Incoming,
        description: str,
        *,
        source_question: str | None = None,
        urgent: bool = False,
        media: tuple[Media, ...] = (),
        location: Location | None = None,
    ) -> list[Reply]:
        """Begin intake for msg.user_id with `description` (the appeal message or the unanswered question).

        `source_question`: the question the assistant could not answer, when intake follows that offer; it is
        kept on the ticket for the knowledge-gap statistics. `media`, `location`: photos, files or a pin sent
        before the intake began (see evidence.py).
        """
        async with self._lock(msg.user_id):
            source = words.clean_text(source_question)[:MAX_DESCRIPTION] if source_question else ""
            draft = Draft(
                source_question=source or None, urgent=urgent, citizen_name=msg.display_name or None
            )
            notes: list[str] = []
            text = words.clean_text(description)
            if words.meaningful(text) >= MIN_MEANINGFUL:
                draft.description = self._take_description(text, notes)
                self._classify_into(draft)
            if location is not None:
                evidence.take_pin(self, draft, location, notes)
            if media and evidence.take_media(self, draft, media, notes):
                self._classify_into(draft)
            return await self._save_and_show(msg.user_id, draft, notes, intro=True)

    async def active(self, user_id: str) -> bool:
        return await self._load(user_id) is not None

    async def handle(self, msg: Incoming) -> Outcome:
        async with self._lock(msg.user_id):
            draft = await self._load(msg.user_id)
            if draft is None:
                return Outcome([self._reply("intake/expired.html.j2")])
            if msg.callback is not None:
                action = msg.callback[len(PREFIX) :] if msg.callback.startswith(PREFIX) else ""
                if action == "x":
                    return Outcome(await self._cancel(msg.user_id))
                return await self._on_button(msg, draft, action)
            if msg.media or msg.location is not None:
                return Outcome(await evidence.on_media(self, msg, draft))
            text = words.clean_text(msg.text)
            if words.is_cancel(text):
                return Outcome(await self._cancel(msg.user_id))
            return Outcome(await self._on_text(msg, draft, text))

    async def resume(self, user_id: str) -> list[Reply]:
        """The current step asked again (after a question was answered in the middle of the intake)."""
        draft = await self._load(user_id)
        if draft is None:
            return []
        return [self._render_step(draft, [self._note("resume")])]

    # ------------------------------------------------------------------ buttons
    async def _on_button(self, msg: Incoming, draft: Draft, action: str) -> Outcome:
        uid = msg.user_id
        if action in ("add", "ask") and draft.held is not None:
            held, draft.held = draft.held, None
            if action == "ask":
                await self._save(uid, draft)
                return Outcome(question=held)
            notes: list[str] = []
            draft.description = self._take_description(f"{draft.description}\n{held}", notes)
            notes.append(self._note("appended"))
            return Outcome(await self._save_and_show(uid, draft, notes))
        handler = BUTTONS.get(draft.step)
        replies = await handler(self, uid, draft, action) if handler else None
        if replies is None:  # a button from an earlier message, or one that does not belong to this step
            replies = await self._save_and_show(uid, draft, [self._note("stale_button")])
        return Outcome(replies)

    async def _button_category(self, uid: str, draft: Draft, action: str) -> list[Reply] | None:
        if action == "desc":
            return await self._goto(uid, draft, Step.DESCRIPTION)
        if action == "ok" and draft.step == Step.CATEGORY and draft.category:
            return await self._after_field(uid, draft, Step.PLACE)
        if action == "cats":
            return await self._goto(uid, draft, Step.CATEGORY_PICK)
        name = self._category_from_action(action)
        if name is None:
            return None
        draft.category = name
        return await self._after_field(uid, draft, Step.PLACE)

    async def _button_type(self, uid: str, draft: Draft, action: str) -> list[Reply] | None:
        names = self._type_names()
        index = action[2:]
        if not (action.startswith("t:") and index.isascii() and index.isdigit() and int(index) < len(names)):
            return None
        draft.appeal_type, draft.type_chosen = names[int(index)], True
        return await self._after_field(uid, draft, Step.SUMMARY)

    async def _button_place(self, uid: str, draft: Draft, action: str) -> list[Reply] | None:
        if action != "skip":
            return None
        draft.place = None
        return await self._after_field(uid, draft, Step.PHONE)

    async def _button_phone(self, uid: str, draft: Draft, action: str) -> list[Reply] | None:
        if action != "nophone":
            return None
        draft.phone = None
        return await self._after_field(uid, draft, Step.ANONYMOUS)

    async def _button_anonymous(self, uid: str, draft: Draft, action: str) -> list[Reply] | None:
        if action not in ("anon:1", "anon:0"):
            return None
        draft.anonymous = action == "anon:1"
        return await self._goto(uid, draft, Step.SUMMARY)

    async def _button_summary(self, uid: str, draft: Draft, action: str) -> list[Reply] | None:
        if action == "submit":
            return await self._submit(uid, draft)
        if action == "edit":
            return await self._goto(uid, draft, Step.EDIT)
        return None

    async def _button_edit(self, uid: str, draft: Draft, action: str) -> list[Reply] | None:
        if action == "back":
            return await self._goto(uid, draft, Step.SUMMARY)
        if action.startswith("e:") and action[2:] in EDIT_STEPS:
            return await self._edit_field(uid, draft, action[2:])
        return None

    # ------------------------------------------------------------------ typed text
    async def _on_text(self, msg: Incoming, draft: Draft, text: str) -> list[Reply]:
        return await TEXT[draft.step](self, msg.user_id, draft, text)

    async def _maybe_hold(self, uid: str, draft: Draft, text: str) -> list[Reply] | None:
        """A message that is no answer to the step but a new question or another problem: ask first."""
        kind = self.looks_new(text, draft) if self.looks_new is not None else None
        if kind is None:
            return None
        draft.held = text[:MAX_DESCRIPTION]
        await self._save(uid, draft)
        buttons = [
            [
                Button(self._button("add_to_ticket"), f"{PREFIX}add"),
                Button(self._button("answer_first"), f"{PREFIX}ask"),
            ],
            [self._cancel_button()],
        ]
        return [self._reply("intake/held.html.j2", buttons, kind=kind, text=words.clean_text(text)[:200])]

    async def _text_description(self, uid: str, draft: Draft, text: str) -> list[Reply]:
        notes: list[str] = []
        if words.meaningful(text) < MIN_MEANINGFUL:
            notes.append(self._note("no_text" if text else "empty"))
            return await self._save_and_show(uid, draft, notes)
        draft.description = self._take_description(text, notes)
        if draft.return_to_summary:
            self._type_into(draft)
            notes.append(self._note("description_updated", category=draft.category or ""))
            return await self._goto(uid, draft, Step.SUMMARY, notes)
        self._classify_into(draft)
        return await self._save_and_show(uid, draft, notes)

    async def _text_category(self, uid: str, draft: Draft, text: str) -> list[Reply]:
        k = words.key(text)
        notes: list[str] = []
        if draft.step == Step.CATEGORY and k in words.YES and draft.category:
            return await self._after_field(uid, draft, Step.PLACE)
        if draft.step == Step.CATEGORY and k in words.CHANGE:
            return await self._goto(uid, draft, Step.CATEGORY_PICK)
        if k in words.DESCRIBE_AGAIN and not draft.return_to_summary:
            return await self._goto(uid, draft, Step.DESCRIPTION)
        name = self._category_from_text(text)
        if name is not None:
            draft.category = name
            return await self._after_field(uid, draft, Step.PLACE)
        if words.meaningful(text) >= 6 and not draft.return_to_summary and find_phone(text) is None:
            held = await self._maybe_hold(uid, draft, text)
            if held is not None:
                return held
            # the person goes on describing the problem: add it to the description and classify again
            draft.description = self._take_description(f"{draft.description}\n{text}", notes)
            notes.append(self._note("appended"))
            self._classify_into(draft)
            return await self._save_and_show(uid, draft, notes)
        notes.append(self._note("pick_category"))
        return await self._save_and_show(uid, draft, notes)

    async def _text_type(self, uid: str, draft: Draft, text: str) -> list[Reply]:
        k = words.key(text)
        for name in self._type_names():
            if k in (words.key(name), words.key(name) + "类"):
                draft.appeal_type, draft.type_chosen = name, True
                return await self._after_field(uid, draft, Step.SUMMARY)
        return await self._save_and_show(uid, draft, [self._note("pick_type")])

    async def _text_place(self, uid: str, draft: Draft, text: str) -> list[Reply]:
        if words.is_skip(words.key(text)):
            draft.place = None
            return await self._after_field(uid, draft, Step.PHONE)
        if words.meaningful(text) < MIN_MEANINGFUL:
            return await self._save_and_show(uid, draft, [self._note("no_place")])
        held = await self._maybe_hold(uid, draft, text)
        if held is not None:
            return held
        notes = []
        if len(text) > MAX_PLACE:
            notes.append(self._note("place_cut", limit=MAX_PLACE))
            text = text[:MAX_PLACE]
        draft.place = text
        return await self._after_field(uid, draft, Step.PHONE, notes)

    async def _text_phone(self, uid: str, draft: Draft, text: str) -> list[Reply]:
        if words.is_skip(words.key(text)):
            draft.phone = None
            return await self._after_field(uid, draft, Step.ANONYMOUS)
        phone = find_phone(text)
        if phone is None:
            held = await self._maybe_hold(uid, draft, text)
            if held is not None:
                return held
            draft.phone_error = text[:30] + ("…" if len(text) > 30 else "")
            return await self._save_and_show(uid, draft, [])
        draft.phone = phone
        return await self._after_field(uid, draft, Step.ANONYMOUS)

    async def _text_anonymous(self, uid: str, draft: Draft, text: str) -> list[Reply]:
        choice = words.anonymous_choice(words.key(text))
        if choice is None:
            held = await self._maybe_hold(uid, draft, text)
            if held is not None:
                return held
            return await self._save_and_show(uid, draft, [self._note("anonymous_unclear")])
        draft.anonymous = choice
        return await self._goto(uid, draft, Step.SUMMARY)

    async def _text_summary(self, uid: str, draft: Draft, text: str) -> list[Reply]:
        k = words.key(text)
        if k in words.SUBMIT:
            return await self._submit(uid, draft)
        if k in words.EDIT:
            return await self._goto(uid, draft, Step.EDIT)
        field_name = words.field_from(k)
        if field_name is not None:
            return await self._edit_field(uid, draft, field_name)
        held = await self._maybe_hold(uid, draft, text)
        if held is not None:
            return held
        return await self._save_and_show(uid, draft, [self._note("summary_unclear")])

    async def _text_edit(self, uid: str, draft: Draft, text: str) -> list[Reply]:
        k = words.key(text)
        if k in words.BACK:
            return await self._goto(uid, draft, Step.SUMMARY)
        field_name = words.field_from(k)
        if field_name is not None:
            return await self._edit_field(uid, draft, field_name)
        return await self._save_and_show(uid, draft, [self._note("edit_unclear")])

    # ------------------------------------------------------------------ transitions
    async def _after_field(
        self, uid: str, draft: Draft, next_step: Step, notes: list[str] | None = None
    ) -> list[Reply]:
        draft.phone_error = None
        return await self._goto(uid, draft, Step.SUMMARY if draft.return_to_summary else next_step, notes)

    async def _edit_field(self, uid: str, draft: Draft, field_name: str) -> list[Reply]:
        draft.return_to_summary = True
        return await self._goto(uid, draft, EDIT_STEPS[field_name])

    async def _goto(self, uid: str, draft: Draft, step: Step, notes: list[str] | None = None) -> list[Reply]:
        notes = notes or []
        if step == Step.PLACE and draft.location is not None and not draft.return_to_summary:
            step = Step.PHONE  # a pin sent earlier already answered where (evidence.py)
            notes.append(evidence.place_note(self, draft))
        else:
            enter = ENTER.get(step)
            if enter is not None:
                step = enter(self, draft, notes)
        draft.step = step
        if step != Step.PHONE:
            draft.phone_error = None
        return await self._save_and_show(uid, draft, notes)

    def _enter_place(self, draft: Draft, notes: list[str]) -> Step:
        """属地: a matter the street or township handles needs its place. Named in the description and known
        (places.yaml): taken, and the step is skipped; not named at all: the step says why it matters."""
        routing = getattr(self.service, "routing", None)
        if routing is None or draft.place or draft.return_to_summary:
            return Step.PLACE
        d = routing.route(draft.description)
        if d.local and d.place is not None:
            draft.place = d.place.name
            notes.append(self._note("place_found", place=d.place.name, unit=d.unit))
            return Step.PHONE
        if d.needs_place:
            notes.append(self._note("place_needed"))
        return Step.PLACE

    async def _cancel(self, uid: str) -> list[Reply]:
        await self.state.delete(uid)
        return [self._reply("intake/cancelled.html.j2")]

    async def _submit(self, uid: str, draft: Draft) -> list[Reply]:
        # taken from the conversation state first: of two presses of 提交 answered by two processes at once,
        # one creates the ticket and the other finds the intake over
        try:
            taken = await self.state.take(uid)
        except StoreWriteError as exc:  # nothing was taken: the saved draft stays where it was
            log.warning("submitting the intake of %s was refused by the database: %s", uid, exc)
            return [self._reply("intake/submit_failed.html.j2", self._buttons(draft), reason="")]
        if taken is None:
            return [self._reply("intake/expired.html.j2")]
        try:
            # local copies (MEDIA_STORE_DIR) only of what becomes a ticket
            media = await keep_all(self.service.media_keeper, draft.media) if draft.media else []
            ticket = await self.service.create(
                citizen_id=uid,
                description=draft.description,
                category=draft.category or FALLBACK,
                department=self._routed_unit(draft),
                place=draft.place,
                phone=draft.phone,
                anonymous=bool(draft.anonymous),
                source_question=draft.source_question,
                priority=self._priority(draft),
                attachments=media,
                location=draft.location,
                unit=draft.unit,
                appeal_type=draft.appeal_type,
                citizen_name=draft.citizen_name,
            )
        except Exception as exc:  # noqa: BLE001 - the person must get an answer and keep their draft
            polite = str(exc) if isinstance(exc, TicketError) else ""
            if isinstance(exc, StoreWriteError):
                log.warning("creating a ticket for %s was refused by the database: %s", uid, exc)
            elif not polite:
                log.exception("creating a ticket for %s failed", uid)
            draft.step = Step.SUMMARY
            try:
                await self._save(uid, draft)
            except StoreWriteError:
                # the draft was taken and cannot be put back: the log keeps what the person wrote
                log.error("the draft of %s could not be saved again after a failed submit: %r", uid, draft)
            return [self._reply("intake/submit_failed.html.j2", self._buttons(draft), reason=polite)]
        deadlines, note = self._deadline_lines(ticket)
        return [
            self._reply(
                "intake/submitted.html.j2",
                number=ticket.number,
                department=ticket.department,
                deadlines=deadlines,
                provisional_note=note,
                anonymous=bool(draft.anonymous),
                now=self.clock.now(),
                attachment_counts=kind_counts(media),
            )
        ]

    # ------------------------------------------------------------------ rendering
    async def _save_and_show(
        self, uid: str, draft: Draft, notes: list[str], *, intro: bool = False
    ) -> list[Reply]:
        await self._save(uid, draft)
        return [self._render_step(draft, notes, intro)]

    def _render_step(self, draft: Draft, notes: list[str], intro: bool = False) -> Reply:
        ctx: dict[str, Any] = {
            "notes": notes,
            "intro": intro,
            "draft": draft,
            "editing": draft.return_to_summary,
            "category": draft.category,
            "department": self._routed_unit(draft)
            or (self._department(draft.category) if draft.category else ""),
            "max_description": MAX_DESCRIPTION,
            "max_place": MAX_PLACE,
            "urgent": draft.step == Step.SUMMARY and self._priority(draft) == "urgent",
            "phone_error": draft.phone_error,
            "attachment_counts": kind_counts(draft.media),
        }
        return self._reply(TEMPLATES[draft.step], self._buttons(draft), **ctx)

    def _priority(self, draft: Draft) -> str:
        return "urgent" if draft.urgent else self.service.policies.priority_of(draft.description)

    def _buttons(self, draft: Draft) -> list[list[Button]]:
        b = self._button
        cancel = self._cancel_button()
        step = draft.step
        if step == Step.CATEGORY:
            rows = [[Button(b("ok"), f"{PREFIX}ok"), Button(b("other_categories"), f"{PREFIX}cats")]]
            others = [n for n in draft.alternatives if n != draft.category][:2]
            if others:
                rows.append([self._category_button(n, b("change_to", category=n)) for n in others])
            rows.append([Button(b("describe_again"), f"{PREFIX}desc"), cancel])
            return rows
        if step == Step.CATEGORY_PICK:
            names = self._category_names()
            rows = [[self._category_button(n) for n in names[i : i + 2]] for i in range(0, len(names), 2)]
            rows.append(
                [cancel]
                if draft.return_to_summary
                else [Button(b("describe_again"), f"{PREFIX}desc"), cancel]
            )
            return rows
        if step == Step.TYPE_PICK:
            names = self._type_names()
            rows = [
                [Button(n, f"{PREFIX}t:{i + j}") for j, n in enumerate(names[i : i + 3])]
                for i in range(0, len(names), 3)
            ]
            return [*rows, [cancel]]
        if step == Step.PLACE:
            return [[Button(b("skip"), f"{PREFIX}skip"), cancel]]
        if step == Step.PHONE:
            return [[Button(b("no_phone"), f"{PREFIX}nophone"), cancel]]
        if step == Step.ANONYMOUS:
            return [
                [Button(b("real_name"), f"{PREFIX}anon:0"), Button(b("anonymous"), f"{PREFIX}anon:1")],
                [cancel],
            ]
        if step == Step.SUMMARY:
            return [[Button(b("submit"), f"{PREFIX}submit"), Button(b("edit"), f"{PREFIX}edit"), cancel]]
        if step == Step.EDIT:
            fields = [Button(b(k), f"{PREFIX}e:{k}") for k in EDIT_FIELDS]
            return [fields[:3], fields[3:], [Button(b("back"), f"{PREFIX}back"), cancel]]
        return [[cancel]]

    def _cancel_button(self) -> Button:
        return Button(self._button("cancel"), f"{PREFIX}x")

    def _category_button(self, name: str, label: str | None = None) -> Button:
        data = f"{PREFIX}c:{name}"
        if not fits(data):
            data = f"{PREFIX}ci:{self._category_names().index(name)}"
        return Button(label or name, data)

    def _reply(self, template: str, buttons: list[list[Button]] | None = None, **ctx: Any) -> Reply:
        ctx.setdefault("notes", [])
        return Reply(self.texts.render(template, **ctx), buttons or [])

    def _note(self, name: str, **kwargs: Any) -> str:
        return self.texts.say(WORDS, "note", name=name, **kwargs)

    def _button(self, name: str, **kwargs: Any) -> str:
        return self.texts.say(WORDS, "button", name=name, **kwargs)

    def _deadline_lines(self, ticket: Any) -> tuple[list[dict[str, Any]], str]:
        """Each deadline as the citizen reads it, and the line explaining 暂定 when one is provisional."""
        views = self.service.views
        windows = self.service.policies.windows(ticket.policy, ticket.appeal_type, ticket.tier)
        lines = [
            {**d, "window": windows[d["milestone"]].describe()} for d in views.deadlines(ticket, citizen=True)
        ]
        years = {y for d in lines for y in d["years"]}
        return lines, views.provisional_note(years) if years else ""

    # ------------------------------------------------------------------ data helpers
    def _take_description(self, text: str, notes: list[str]) -> str:
        if len(text) > MAX_DESCRIPTION:
            notes.append(self._note("description_cut", n=len(text), limit=MAX_DESCRIPTION))
            text = text[:MAX_DESCRIPTION].rstrip()
        return text

    def _type_into(self, draft: Draft) -> None:
        """The 诉求类型 from the words, unless the person chose one."""
        if not draft.type_chosen:
            draft.appeal_type = self.service.policies.type_of(draft.description)

    def _type_names(self) -> list[str]:
        return list(self.service.policies.types)

    def _classify_into(self, draft: Draft) -> None:
        names = self._category_names()
        ranked = [(n, s) for n, s in classify(draft.description, self.kb) if n in names]
        if not ranked or ranked[0][1] <= 0:
            self._type_into(draft)
            draft.category, draft.alternatives, draft.step = None, [], Step.CATEGORY_PICK
            return
        best, best_score = ranked[0]
        self._type_into(draft)
        draft.category = best
        draft.alternatives = [n for n, s in ranked[1:3] if s >= 0.15 and s >= best_score * 0.4]
        draft.step = Step.CATEGORY

    def _category_names(self) -> list[str]:
        return list(getattr(self.kb, "appeal_categories", {}) or {}) or [FALLBACK]

    def _routed_unit(self, draft: Draft) -> str | None:
        """Where the 派单目录 (with 属地 and what was learned) sends it: a unit, or the dispatcher's queue."""
        routing = getattr(self.service, "routing", None)
        if routing is None or not draft.description:
            return None
        # a map pin's 街道/乡镇 (knowledge/boundaries) is the surest 属地; the place as typed or pinned follows
        place = "，".join(filter(None, [draft.unit, draft.place])) or None
        return routing.route(draft.description, place).unit or None

    def _department(self, category: str | None) -> str:
        cat = (getattr(self.kb, "appeal_categories", {}) or {}).get(category) if category else None
        return cat.department if cat is not None else ""

    def _category_from_action(self, action: str) -> str | None:
        names = self._category_names()
        if action.startswith("c:") and action[2:] in names:
            return action[2:]
        index = action[3:]
        if action.startswith("ci:") and index.isascii() and index.isdigit() and int(index) < len(names):
            return names[int(index)]
        return None

    def _category_from_text(self, text: str) -> str | None:
        k = words.key(text)
        names = self._category_names()
        for n in names:
            if k in (words.key(n), words.key(n) + "类"):
                return n
        # "环保" / "交通" / "劳动社保": a typed fragment that fits exactly one category name
        if 2 <= len(k) <= 8:
            hits = [n for n in names if words.chars_in_order(k, words.key(n))]
            if len(hits) == 1:
                return hits[0]
        return None

    # ------------------------------------------------------------------ storage
    def _lock(self, uid: str) -> asyncio.Lock:
        lock = self._locks.get(uid)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[uid] = asyncio.Lock()
        return lock

    async def _load(self, uid: str) -> Draft | None:
        data = await self.state.load(uid)
        draft = Draft.from_json(data) if data else None
        if draft is None:
            return None
        if draft.updated is None or self.clock.now() - draft.updated > DRAFT_TTL:
            await self.state.delete(uid)
            return None
        return draft

    async def _save(self, uid: str, draft: Draft) -> None:
        draft.updated = self.clock.now()
        await self.state.save(uid, draft.to_json())


Handler = Callable[[IntakeFlow, str, Draft, str], Awaitable[list[Reply]]]
# run when the dialogue arrives at a step: may fill the draft and go on to another step, adding notes
Enter = Callable[[IntakeFlow, Draft, list[str]], Step]
ButtonHandler = Callable[[IntakeFlow, str, Draft, str], Awaitable[list[Reply] | None]]

TEXT: dict[Step, Handler] = {
    Step.DESCRIPTION: IntakeFlow._text_description,
    Step.CATEGORY: IntakeFlow._text_category,
    Step.CATEGORY_PICK: IntakeFlow._text_category,
    Step.PLACE: IntakeFlow._text_place,
    Step.PHONE: IntakeFlow._text_phone,
    Step.ANONYMOUS: IntakeFlow._text_anonymous,
    Step.SUMMARY: IntakeFlow._text_summary,
    Step.EDIT: IntakeFlow._text_edit,
    Step.TYPE_PICK: IntakeFlow._text_type,
}
ENTER: dict[Step, Enter] = {
    Step.PLACE: IntakeFlow._enter_place,
}
BUTTONS: dict[Step, ButtonHandler] = {
    Step.CATEGORY: IntakeFlow._button_category,
    Step.CATEGORY_PICK: IntakeFlow._button_category,
    Step.PLACE: IntakeFlow._button_place,
    Step.PHONE: IntakeFlow._button_phone,
    Step.ANONYMOUS: IntakeFlow._button_anonymous,
    Step.SUMMARY: IntakeFlow._button_summary,
    Step.EDIT: IntakeFlow._button_edit,
    Step.TYPE_PICK: IntakeFlow._button_type,
}


def is_cancel(text: str) -> bool:
    return words.is_cancel(text)
