"""The learned overlay: what staff taught (bot/core/knowledge/loop.py), laid over a loaded knowledge base.

Aliases are added to their entries and reviewed FAQ entries become entries of their own, in a new
KnowledgeBase; the base read from the files is not changed (nor are the files: the overlay lives in the
database, beside them). An alias whose entry is gone from the files, or a FAQ that has expired, is left out
and reported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from .loader import KnowledgeBase
from .models import Entry, Faq

if TYPE_CHECKING:
    from bot.core.storage.protocols import Learned

FAQ_PREFIX = "faq-"


@dataclass
class Overlaid:
    kb: KnowledgeBase
    applied: int = 0
    skipped: list[str] = field(default_factory=list)  # one line per taught entry left out, and why


def faq_id(learned_id: int) -> str:
    return f"{FAQ_PREFIX}{learned_id}"


def apply_overlay(kb: KnowledgeBase, learned: Sequence[Learned], today: dt.date) -> Overlaid:
    items, bundles, exemptions = dict(kb.items), dict(kb.bundles), dict(kb.exemptions)
    faqs = dict(kb.faqs)
    out = Overlaid(kb)
    homes = (items, bundles, exemptions, faqs)
    for row in learned:
        if row.undone_at is not None:
            continue
        if row.kind == "alias":
            home = next((h for h in homes if row.entry_id in h), None)
            if home is None:
                out.skipped.append(f"#{row.id}「{row.phrase}」：条目 {row.entry_id} 已不在知识库中")
                continue
            entry = home[row.entry_id]  # type: ignore[index]
            if row.phrase not in entry.aliases:
                # model_copy keeps the entry's own class: it goes back into the mapping it came from
                cast("dict[str, Entry]", home)[entry.id] = entry.model_copy(
                    update={"aliases": [*entry.aliases, row.phrase]}
                )
            out.applied += 1
        elif row.kind == "faq":
            expires = row.expires.date() if row.expires else None
            if expires is None or expires <= today:
                out.skipped.append(f"#{row.id}「{row.phrase}」：已于 {expires} 过期")
                continue
            faq = Faq(
                id=faq_id(row.id),
                name=row.phrase,
                department=row.department or "",
                question=row.question,
                answer=row.answer or "",
                expires=expires,
                reviewed_by=row.taught_by_name or row.taught_by,
                source=f"工作人员对已办结诉求的答复（{row.source}，{row.taught_by_name or row.taught_by} 审核加入）",
                updated=row.at.date(),
            )
            faqs[faq.id] = faq
            out.applied += 1
    origins = dict(kb.origins)
    origins.update({i: "（学习到的问答）" for i in faqs})
    out.kb = dataclasses.replace(
        kb, items=items, bundles=bundles, exemptions=exemptions, faqs=faqs, origins=origins
    )
    return out
