"""/stats: a compact count for staff over today, the last 7 days or the last 30 days, in their departments."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import TYPE_CHECKING

from bot.core.messages import Reply
from bot.core.storage import SlaCount
from bot.core.tickets.domain.models import IN_PROGRESS, PENDING
from bot.core.tickets.domain.sla import MILESTONE_LABELS, MILESTONES

if TYPE_CHECKING:
    from bot.core.tickets.service import TicketService

PERIOD_LABELS = {"day": "今日", "week": "近7天", "month": "近30天"}


def _in(scope: tuple[str, ...] | None, dept: str) -> bool:
    return scope is None or dept in scope


async def render_stats(service: TicketService, period: str, scope: tuple[str, ...] | None) -> Reply:
    store = service.store
    now = service.clock.now()
    today0 = dt.datetime.combine(now.date(), dt.time(0, 0), tzinfo=now.tzinfo)
    start = {"day": today0, "week": now - dt.timedelta(days=7), "month": now - dt.timedelta(days=30)}[period]
    created = sum(n for d, n in (await store.reports.count_created(start, now)).items() if _in(scope, d))
    resolved = sum(n for d, n in (await store.reports.count_resolved(start, now)).items() if _in(scope, d))
    by_state = await store.reports.open_by_state()
    pending = sum(n for (d, s), n in by_state.items() if s == PENDING and _in(scope, d))
    working = sum(n for (d, s), n in by_state.items() if s == IN_PROGRESS and _in(scope, d))
    policies = service.policies
    warn = {p.name: p.warn_at for p in policies.policies.values()}
    _, reds = await store.reports.attention(
        now,
        "red",
        warn_at=warn,
        default_warn=policies.get(policies.default).warn_at,
        departments=scope,
        limit=0,
    )
    sla: dict[str, SlaCount] = {}
    for d, per in (await store.reports.sla_counts(start, now)).items():
        if _in(scope, d):
            for m, c in per.items():
                prev = sla.get(m, SlaCount(0, 0))
                sla[m] = SlaCount(prev.met + c.met, prev.due + c.due)
    sat = [v for d, v in (await store.reports.satisfaction(start, now)).items() if _in(scope, d)]
    s_sum, s_n = sum(v[0] for v in sat), sum(v[1] for v in sat)
    who = "全部门" if scope is None else "、".join(scope)
    lines = [
        f"<b>{PERIOD_LABELS[period]}诉求统计｜{escape(who)}</b>",
        f"新增 {created} 件，办结 {resolved} 件",
        f"在办：待受理 {pending} 件，办理中 {working} 件，已超时 {sum(reds.values())} 件",
    ]
    for m in MILESTONES:
        c = sla.get(m)
        rate = f"{100 * c.met / c.due:.1f}%（{c.met}/{c.due}）" if c and c.due else "无到期"
        lines.append(f"· {MILESTONE_LABELS[m]}达标率：{rate}")
    lines.append(f"满意度：{s_sum / s_n:.2f} 分（{s_n} 条评价）" if s_n else "满意度：暂无评价")
    return Reply("\n".join(lines))
