"""The figures of a scope (some departments, or all) over a window: the one aggregation behind the daily
digest, the weekly and monthly 通报 and /stats, so the same question always gets the same number.

- created, resolved: tickets created / resolved in [start, end);
- pending, working: open tickets now, by state;
- sla: per milestone, deadlines that fell due in the quality window and how many were met on time;
- ratings: their sum and count in the quality window;
- departments: the same per department (for rankings);
- 三率 per department: 响应率 (签收 and first contact on time), 解决率 (回访 answered 已解决) and 满意率 (rated
  基本满意 or better, ratings upheld on 申诉 left out), in the quality window.

The quality window is [start, end) unless another is given (the daily digest counts yesterday's tickets but
rates the last 30 days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.core.storage import RateCounts, SlaCount, Store
from bot.core.tickets.domain.models import IN_PROGRESS, PENDING
from bot.core.tickets.domain.sla import MILESTONES

RESPONSE_MILESTONES = ("dispatch", "contact")  # 响应: signed for and the citizen contacted, on time
RATES = ("response", "resolution", "satisfaction")  # 三率, the order they are shown in


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


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
    response: SlaCount = SlaCount(0, 0)  # 签收 and contact milestones
    loop: RateCounts = RateCounts()

    @property
    def sla_rate(self) -> float | None:
        return self.sla.met / self.sla.due if self.sla.due else None

    def rates(self) -> dict[str, float | None]:
        """三率: 响应率, 解决率, 满意率 (None where nothing was counted)."""
        return {
            "response": _share(self.response.met, self.response.due),
            "resolution": _share(self.loop.solved, self.loop.visited),
            "satisfaction": _share(self.loop.satisfied, self.loop.rated),
        }

    def score(self) -> float | None:
        """The mean of the rates that were counted: what the 三率 ranking sorts by."""
        known = [r for r in self.rates().values() if r is not None]
        return sum(known) / len(known) if known else None

    def below(self, thresholds: dict[str, float]) -> list[str]:
        """The rates under their threshold (workflow.yaml rates), in RATES order."""
        rates = self.rates()
        return [k for k in RATES if (v := rates[k]) is not None and k in thresholds and v < thresholds[k]]

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

    def overall(self) -> DepartmentFigures:
        """Every department of the scope together (the scope's 三率)."""
        ds = self.departments
        return DepartmentFigures(
            department="",
            created=self.created,
            resolved=self.resolved,
            sla=self.sla_total,
            rating_sum=self.rating_sum,
            rating_count=self.rating_count,
            response=_sum(d.response for d in ds),
            loop=RateCounts(
                solved=sum(d.loop.solved for d in ds),
                visited=sum(d.loop.visited for d in ds),
                satisfied=sum(d.loop.satisfied for d in ds),
                rated=sum(d.loop.rated for d in ds),
            ),
        )

    def rate_ranking(self) -> list[DepartmentFigures]:
        """Departments by 三率 (the mean of the rates counted), best first; those with nothing counted last."""
        return sorted(self.departments, key=lambda d: (d.score() is None, -(d.score() or 0), d.department))

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
    loop = {d: v for d, v in (await store.reports.loop_rates(q_start, q_end)).items() if inside(d)}

    names = sorted(set(created) | set(resolved) | set(sla) | set(sat) | set(loop))
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
            response=_sum(c for m, c in sla.get(d, {}).items() if m in RESPONSE_MILESTONES),
            loop=loop.get(d, RateCounts()),
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
