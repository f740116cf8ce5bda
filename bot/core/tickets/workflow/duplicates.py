"""重复诉求: the open tickets of the same department that likely report the same problem as a given one.

Candidates are the department's open tickets created within `duplicates.window_days` (workflow.yaml), newest
first, at most `duplicates.candidates` of them (one indexed query over tickets_department_recent reading only
their texts; the few shown are then read whole). Each is scored by
the overlap of character pairs of the descriptions (Dice coefficient over CJK characters, letters and digits),
blended with the places' overlap when both tickets name one; those at `duplicates.threshold` or above are
likely duplicates, best first. Merged duplicates are left out: merge into the ticket that handles them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING

from bot.core.tickets.domain.models import Ticket

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

SHOWN = 3
PLACE_WEIGHT = 0.3  # of the score, when both tickets name a place
_KEEP = re.compile(r"[\u4e00-\u9fff0-9a-z]+")


def pairs(text: str) -> frozenset[str]:
    """The character pairs of a text's words (CJK characters, letters, digits), case-folded."""
    out: set[str] = set()
    for run in _KEEP.findall(text.lower()):
        if len(run) == 1:
            out.add(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(out)


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


@dataclasses.dataclass(frozen=True)
class Likely:
    ticket: Ticket
    score: float  # 0–1


async def likely_duplicates(
    service: TicketService, t: Ticket, now: dt.datetime | None = None
) -> list[Likely]:
    """The likely duplicates of an existing ticket (the staff `/ticket N` view)."""
    return await similar_open(service, t.department, t.description, t.place, exclude=t.id, now=now)


async def similar_open(
    service: TicketService,
    department: str,
    description: str,
    place: str | None,
    *,
    exclude: int | None = None,
    now: dt.datetime | None = None,
) -> list[Likely]:
    """The department's open, unmerged tickets of the window that likely report the same problem as a text
    not yet filed (intake, the new-ticket card) or as the ticket `exclude`; best first, at most SHOWN."""
    cfg = service.workflow.duplicates
    now = now or service.clock.now()
    since = now - dt.timedelta(days=cfg.window_days)
    candidates = await service.store.tickets.recent_texts(department, since, cfg.candidates)
    mine, where = pairs(description), pairs(place or "")
    scored: list[tuple[float, int, str]] = []
    for id_, number, other_description, other_place in candidates:
        if id_ == exclude:
            continue
        s = dice(mine, pairs(other_description))
        if place and other_place:
            s = (1 - PLACE_WEIGHT) * s + PLACE_WEIGHT * dice(where, pairs(other_place))
        if s >= cfg.threshold:
            scored.append((-s, id_, number))
    found: list[Likely] = []
    for s, _, number in sorted(scored)[:SHOWN]:
        other = await service.store.tickets.get(number)
        if other is not None:
            found.append(Likely(other, round(-s, 2)))
    return found
