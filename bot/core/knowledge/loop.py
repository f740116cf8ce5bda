"""The knowledge loop: what went unanswered becomes what the assistant knows.

- `gaps()`: the week's real gaps from the question log, grouped by similarity (knowledge/gaps.py).
- `teach()`: staff attach a gap or a question to an entry; its content words become one of the entry's aliases.
- `add_faq()`: a closed 咨询 ticket's question and reply become a reviewed FAQ entry that expires.
- `undo()`: a teaching is undone (it stays in the record, marked).
Everything taught goes into the learned overlay in the database (who, when, from which question), beside the
knowledge files, which are never edited; after each change the assistant reloads its answering parts
(`reload`, given by the composition root: bot/app.py) and the new knowledge takes effect at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.clock import Clock
from bot.core.storage.protocols import Learned, LoggedQuestion, NewLearned
from bot.core.text.mask import mask_pii
from bot.core.text.normalize import compact

from .gaps import GAP_ROWS, GapGroup, group_gaps
from .models import Entry

MIN_PHRASE = 2


@dataclass
class ReloadResult:
    ok: bool
    entries: int = 0
    seconds: float = 0.0
    policies: int = 0  # the 惠企政策 of the 政策库 now in use
    problems: list[str] = field(default_factory=list)  # why the new base was refused (the old one serves)
    skipped: list[str] = field(default_factory=list)  # taught entries left out (their entry is gone, expired)


@dataclass(frozen=True)
class FaqDraft:
    """What a closed 咨询 ticket would add: shown to staff before they confirm."""

    number: str
    question: str
    answer: str
    department: str
    expires: dt.date


class KnowledgeLoop:
    def __init__(
        self,
        store: Any,
        clock: Clock,
        *,
        current: Callable[[], Any],
        reload: Callable[[], Awaitable[ReloadResult]],
        faq_days: int = 180,
    ):
        self.store = store
        self.clock = clock
        self.current = current  # the answering parts in use now (kb, matcher…)
        self.reload = reload
        self.faq_days = faq_days

    # -- gaps ------------------------------------------------------------------------------------------------
    async def gaps(self, days: int = 7, limit: int = 10) -> list[GapGroup]:
        now = self.clock.now()
        rows = await self.store.questions.gaps(
            now - dt.timedelta(days=days), now + dt.timedelta(seconds=1), limit=GAP_ROWS
        )
        matcher = self.current().matcher
        return group_gaps(rows, key=matcher.gap_key, grams=matcher.gap_grams)[:limit]

    async def question(self, question_id: int) -> LoggedQuestion | None:
        return await self.store.questions.get(question_id)

    # -- entries ---------------------------------------------------------------------------------------------
    def find_entry(self, ref: str) -> Entry | None:
        """An entry by its id, or by its exact name (as people would copy it from an answer)."""
        kb = self.current().kb
        ref = ref.strip()
        entry = kb.get(ref) or kb.get(ref.lower())
        if entry is not None:
            return entry
        wanted = compact(ref)
        return next((e for e in kb.entries.values() if compact(e.name) == wanted), None)

    def phrase_of(self, text: str) -> str:
        """The words of a question that say what it is about: what becomes the alias."""
        return self.current().matcher.gap_key(text)

    def already_named(self, entry: Entry, phrase: str) -> bool:
        names = {compact(entry.name), *(compact(a) for a in entry.aliases)}
        return compact(phrase) in names

    # -- teaching --------------------------------------------------------------------------------------------
    async def teach(
        self, entry: Entry, phrase: str, question: str, source: str, who: str, who_name: str
    ) -> tuple[Learned, ReloadResult]:
        learned = await self.store.learned.add(
            NewLearned(
                kind="alias",
                entry_id=entry.id,
                phrase=phrase,
                question=question[:500],
                source=source,
                taught_by=who,
                taught_by_name=who_name,
                at=self.clock.now(),
            )
        )
        return learned, await self.reload()

    async def undo(self, learned_id: int, who: str) -> tuple[Learned | None, ReloadResult | None]:
        undone = await self.store.learned.undo(learned_id, who, self.clock.now())
        if undone is None:
            return None, None
        return undone, await self.reload()

    async def recent(self, limit: int = 10) -> list[Learned]:
        return await self.store.learned.recent(limit)

    async def get(self, learned_id: int) -> Learned | None:
        return await self.store.learned.get(learned_id)

    # -- FAQ from a closed 咨询 ticket -----------------------------------------------------------------------
    @staticmethod
    def is_consultation(ticket: Any) -> bool:
        """A 咨询: the ticket started from a question the assistant could not answer."""
        return bool(getattr(ticket, "source_question", None))

    async def faq_draft(self, ticket: Any, reply: str | None = None) -> FaqDraft | None:
        """The FAQ a closed 咨询 ticket would make: its question and the staff reply (the resolution, else the
        last reply sent), phone and ID-card numbers masked. None when it has no question or no reply."""
        question = (getattr(ticket, "source_question", None) or "").strip()
        answer = (reply or getattr(ticket, "resolution", None) or "").strip()
        if not answer and self.store is not None:
            events = await self.store.tickets.events(ticket.id)
            answer = next((e.text for e in reversed(events) if e.action == "reply" and e.text), "").strip()
        if not question or not answer:
            return None
        expires = self.clock.now().date() + dt.timedelta(days=self.faq_days)
        return FaqDraft(
            ticket.number, mask_pii(question)[:200], mask_pii(answer)[:2000], ticket.department, expires
        )

    async def add_faq(self, draft: FaqDraft, who: str, who_name: str) -> tuple[Learned, ReloadResult]:
        now = self.clock.now()
        learned = await self.store.learned.add(
            NewLearned(
                kind="faq",
                phrase=draft.question,
                answer=draft.answer,
                department=draft.department,
                question=draft.question,
                source=f"诉求 {draft.number}",
                taught_by=who,
                taught_by_name=who_name,
                at=now,
                expires=dt.datetime.combine(draft.expires, dt.time(0, 0), tzinfo=now.tzinfo),
            )
        )
        return learned, await self.reload()
