"""/stats: a compact count for staff over today, the last 7 days or the last 30 days, in their departments.

The figures come from reporting/figures.py (the digest's own), the words from templates/tickets/stats.html.j2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.messages import Reply
from bot.core.texts import Texts
from bot.core.tickets.domain.sla import MILESTONE_LABELS, MILESTONES
from bot.core.tickets.reporting.figures import Figures, figures

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

STATS = "tickets/stats.html.j2"
PERIODS = ("day", "week", "month")


def period_start(period: str, now: dt.datetime) -> dt.datetime:
    """Today from midnight, or the last 7 or 30 days."""
    if period == "day":
        return dt.datetime.combine(now.date(), dt.time(0, 0), tzinfo=now.tzinfo)
    return now - dt.timedelta(days={"week": 7, "month": 30}[period])


def stats_text(texts: Texts, period: str, scope: Sequence[str] | None, fig: Figures, overdue: int) -> str:
    return texts.render(
        STATS,
        period=period,
        scope=list(scope) if scope is not None else None,
        f=fig,
        overdue=overdue,
        milestones=[(m, MILESTONE_LABELS[m]) for m in MILESTONES],
    )


async def render_stats(service: TicketService, period: str, scope: tuple[str, ...] | None) -> Reply:
    store = service.store
    now = service.clock.now()
    fig = await figures(store, scope, period_start(period, now), now)
    policies = service.policies
    _, reds = await store.reports.attention(
        now,
        "red",
        warn_at={p.name: p.warn_at for p in policies.policies.values()},
        default_warn=policies.get(policies.default).warn_at,
        departments=scope,
        limit=0,
    )
    return Reply(stats_text(service.texts, period, scope, fig, sum(reds.values())))
