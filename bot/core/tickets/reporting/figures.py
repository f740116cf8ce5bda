"""The figures of a scope (some departments, or all) over a window: the one aggregation behind the daily
digest, the weekly and monthly 通报 and /stats, so the same question always gets the same number.

- created, resolved: tickets created / resolved in [start, end);
- pending, working: open tickets now, by state;
- sla: per milestone, deadlines that fell due in the quality window and how many were met on time;
- ratings: their sum and count in the quality window;
- departments: the same per department (for rankings).

The quality window is [start, end) unless another is given (the daily digest counts yesterday's tickets but
rates the last 30 days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.core.storage import SlaCount, Store
from bot.core.tickets.domain.models import IN_PROGRESS, PENDING
from bot.core.tickets.domain.sla import MILESTONES


def _sum(counts: Iterable[SlaCount]) -> SlaCount:
    met = due = 0
    for c in counts:
        met, due = met + c.met, due + c.due
    return SlaCount(met, due)


@dataclass(frozen=True)
class DepartmentFigures:
    department: str
    created: int
    resolved: int
    sla: SlaCount  # every milestone together
    rating_sum: int
    rating_count: int

    @property
    def sla_rate(self) -> float | None:
        return self.sla.met / self.sla.due if self.sla.due else None

    @property
    def satisfaction(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None


@dataclass(frozen=True)
class Figures:
    created: int
    resolved: int
    pending: int
    working: int
    sla: dict[str, SlaCount]  # per milestone; every milestone is present
    rating_sum: int
    rating_count: int
    departments: list[DepartmentFigures] = field(default_factory=list)

    @property
    def sla_total(self) -> SlaCount:
        return _sum(self.sla.values())

    @property
    def satisfaction(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    def ranking(self) -> list[DepartmentFigures]:
        """Departments by SLA compliance, best first; those with nothing due last; then by deadlines due."""
        return sorted(
            self.departments,
            key=lambda d: (d.sla_rate is None, -(d.sla_rate or 0), -d.sla.due, d.department),
        )


async def figures(
    store: Store,
    scope: Sequence[str] | None,
    start: dt.datetime,
    end: dt.datetime,
    *,
    quality: tuple[dt.datetime, dt.datetime] | None = None,
) -> Figures:
    """The figures of the departments in `scope` (None: every department) over [start, end)."""
    q_start, q_end = quality or (start, end)

    def inside(dept: str) -> bool:
        return scope is None or dept in scope

    created = {d: n for d, n in (await store.reports.count_created(start, end)).items() if inside(d)}
    resolved = {d: n for d, n in (await store.reports.count_resolved(start, end)).items() if inside(d)}
    by_state = await store.reports.open_by_state()
    sla = {d: per for d, per in (await store.reports.sla_counts(q_start, q_end)).items() if inside(d)}
    sat = {d: v for d, v in (await store.reports.satisfaction(q_start, q_end)).items() if inside(d)}

    names = sorted(set(created) | set(resolved) | set(sla) | set(sat))
    if not names and scope is not None:
        names = list(scope)
    departments = [
        DepartmentFigures(
            department=d,
            created=created.get(d, 0),
            resolved=resolved.get(d, 0),
            sla=_sum(sla.get(d, {}).values()),
            rating_sum=sat.get(d, (0, 0))[0],
            rating_count=sat.get(d, (0, 0))[1],
        )
        for d in names
    ]
    return Figures(
        created=sum(created.values()),
        resolved=sum(resolved.values()),
        pending=sum(n for (d, s), n in by_state.items() if s == PENDING and inside(d)),
        working=sum(n for (d, s), n in by_state.items() if s == IN_PROGRESS and inside(d)),
        sla={m: _sum(per[m] for per in sla.values() if m in per) for m in MILESTONES},
        rating_sum=sum(v[0] for v in sat.values()),
        rating_count=sum(v[1] for v in sat.values()),
        departments=departments,
    )
