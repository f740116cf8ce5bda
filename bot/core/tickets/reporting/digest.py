"""Daily digest and weekly / monthly 通报, per department or overall, from SQL aggregates.

Daily (sent on working days): new and resolved tickets of every day since the previous digest (yesterday, or
Friday to Sunday on a Monday, and the whole break after a holiday), open tickets by state, the red (overdue)
and yellow lists, SLA met rate per milestone over the last 30 days, satisfaction over the last 30 days, the
most asked items and the most frequent unanswered questions of yesterday. Weekly (the last full Monday–Sunday
week) and monthly (the last calendar month) 通报 rank departments by SLA compliance in the period.
Descriptions and questions are masked (phone and ID-card numbers) and escaped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from typing import Any

from bot.core.messages import Reply
from bot.core.storage import SlaCount, Store
from bot.core.text.mask import mask_pii
from bot.core.tickets.domain.models import IN_PROGRESS, PENDING, Ticket
from bot.core.tickets.domain.sla import MILESTONE_LABELS, MILESTONES, SlaPolicies
from bot.core.tickets.views import PROVISIONAL, most_urgent, short, summary

PERIODS = ("day", "week", "month")
TOP = 10


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    label: str


def _midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)


def period_window(period: str, today: dt.date, tz: dt.tzinfo, calendar: Any = None) -> Window:
    """The reporting window of a digest sent on `today`.

    Daily: every day since the previous digest, i.e. from the previous working day (when it was sent) up to
    yesterday, weekends and holidays between included: on Monday 2027-01-04, after the 元旦 holiday on Friday,
    that is Thursday 2026-12-31 to Sunday 2027-01-03. Without a calendar: just yesterday.
    """
    if period == "day":
        last = today - dt.timedelta(days=1)
        first = previous_workday(calendar, today) if calendar is not None else last
        label = f"{first.year}年{first.month}月{first.day}日"
        if first != last:
            year = f"{last.year}年" if last.year != first.year else ""
            label += f"—{year}{last.month}月{last.day}日"
        return Window(_midnight(first, tz), _midnight(today, tz), label)
    if period == "week":
        monday = today - dt.timedelta(days=today.weekday() + 7)
        sunday = monday + dt.timedelta(days=6)
        return Window(
            _midnight(monday, tz),
            _midnight(sunday + dt.timedelta(days=1), tz),
            f"{monday.month}月{monday.day}日—{sunday.month}月{sunday.day}日",
        )
    if period == "month":
        first_this = today.replace(day=1)
        first_prev = (first_this - dt.timedelta(days=1)).replace(day=1)
        return Window(
            _midnight(first_prev, tz), _midnight(first_this, tz), f"{first_prev.year}年{first_prev.month}月"
        )
    raise ValueError(f"unknown period {period!r}")


def previous_workday(calendar: Any, today: dt.date) -> dt.date:
    """The last working day before `today` (the calendar covers every year, official or provisional)."""
    day = today - dt.timedelta(days=1)
    for _ in range(60):  # the longest break (春节 with weekends) is far shorter
        if calendar.is_workday(day):
            return day
        day -= dt.timedelta(days=1)
    raise ValueError(f"no working day in the 60 days before {today}")


def _pct(c: SlaCount | None) -> str:
    if c is None or c.due == 0:
        return "—（无到期）"
    return f"{100 * c.met / c.due:.1f}%（{c.met}/{c.due}）"


def _sum(counts: dict[str, Any], departments: list[str] | None) -> Any:
    keys = counts if departments is None else [d for d in departments if d in counts]
    return sum(counts[k] for k in keys)


def _merge_sla(sla: dict[str, dict[str, SlaCount]], departments: list[str] | None) -> dict[str, SlaCount]:
    out: dict[str, SlaCount] = {}
    for dep, per in sla.items():
        if departments is not None and dep not in departments:
            continue
        for m, c in per.items():
            prev = out.get(m, SlaCount(0, 0))
            out[m] = SlaCount(prev.met + c.met, prev.due + c.due)
    return out


def overdue_text(ticket: Ticket, now: dt.datetime) -> str:
    dues = [ticket.due(m) for m in MILESTONES if ticket.met(m) is None and ticket.due(m) is not None]
    due = min(d for d in dues if d is not None)
    over = now - due
    if over < dt.timedelta(days=1):
        return f"超时 {max(1, int(over.total_seconds() // 3600))} 小时"
    return f"超时 {over.days} 天"


def _ticket_line(
    t: Ticket,
    now: dt.datetime,
    names: dict[str, str],
    red: bool,
    show_dept: bool,
    policies: SlaPolicies | None,
) -> str:
    who = names.get(t.handler, t.handler) if t.handler else "未认领"
    when = overdue_text(t, now) if red else "即将到期"
    urgent = most_urgent(t)
    if policies is not None and urgent is not None and policies.is_provisional(t, urgent):
        when += PROVISIONAL
    dept = f"｜{escape(t.department)}" if show_dept else ""
    return f"· <code>{t.number}</code>{dept}｜{summary(t, 30)}｜{when}｜{escape(who)}"


async def build_digest(
    store: Store,
    *,
    now: dt.datetime,
    period: str = "day",
    department: str | None = None,
    kb: Any = None,
    policies: SlaPolicies | None = None,
    staff_names: dict[str, str] | None = None,
    top: int = TOP,
) -> Reply:
    """The digest as sent on `now`'s day, for one department or (department=None) overall."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    now = now.astimezone(store.tz)
    if staff_names is None:
        staff_names = {m.user_id: m.name for m in await store.staff.list()}
    win = period_window(period, now.date(), store.tz, policies.calendar if policies else None)
    scope = [department] if department else None
    if period == "day":
        html = await _daily(store, now, win, scope, kb, policies, staff_names, top)
    else:
        html = await _ranking(store, now, win, period, scope, kb, top)
    return Reply(html)


def _warn_args(policies: SlaPolicies | None) -> dict[str, Any]:
    if policies is None:
        return {"warn_at": {}, "default_warn": 0.75}
    return {
        "warn_at": {p.name: p.warn_at for p in policies.policies.values()},
        "default_warn": policies.get(policies.default).warn_at,
    }


def _entry_name(kb: Any, target: str) -> tuple[str, str | None]:
    entry = kb.get(target) if kb is not None and hasattr(kb, "get") else None
    return (entry.name, entry.department) if entry is not None else (target, None)


async def _questions_block(
    store: Store, win: Window, scope: list[str] | None, kb: Any, top: int
) -> list[str]:
    lines: list[str] = []
    if scope is None or kb is not None:  # a department's items are known only through the knowledge base
        asked = await store.questions.top(
            win.start, win.end, unanswered=False, limit=top * 5 if scope else top
        )
        items = []
        for q in asked:
            name, dept = _entry_name(kb, q.key)
            if scope is not None and dept not in scope:
                continue
            items.append(f"· {escape(name)}：{q.count} 次")
        lines.append("<b>咨询最多的事项</b>")
        lines += items[:top] or ["· 暂无"]
    if scope is None:
        gaps = await store.questions.top(win.start, win.end, unanswered=True, limit=top)
        lines.append("<b>未能解答的高频问题（知识库待补充）</b>")
        lines += [f"· {escape(short(mask_pii(q.key), 40))}：{q.count} 次" for q in gaps] or ["· 暂无"]
    return lines


async def _daily(
    store: Store,
    now: dt.datetime,
    win: Window,
    scope: list[str] | None,
    kb: Any,
    policies: SlaPolicies | None,
    names: dict[str, str],
    top: int,
) -> str:
    created = _sum(await store.reports.count_created(win.start, win.end), scope)
    resolved = _sum(await store.reports.count_resolved(win.start, win.end), scope)
    by_state = await store.reports.open_by_state()
    pending = sum(n for (d, s), n in by_state.items() if s == PENDING and (scope is None or d in scope))
    working = sum(n for (d, s), n in by_state.items() if s == IN_PROGRESS and (scope is None or d in scope))
    dep_scope = tuple(scope) if scope else None
    warn = _warn_args(policies)
    reds, red_counts = await store.reports.attention(now, "red", departments=dep_scope, limit=top, **warn)
    yellows, yellow_counts = await store.reports.attention(
        now, "yellow", departments=dep_scope, limit=top, **warn
    )
    month_start = _midnight(now.date() - dt.timedelta(days=30), store.tz)
    today0 = _midnight(now.date(), store.tz)
    sla = _merge_sla(await store.reports.sla_counts(month_start, today0), scope)
    sat = await store.reports.satisfaction(month_start, today0)
    sat_sum = _sum({d: v[0] for d, v in sat.items()}, scope)
    sat_n = _sum({d: v[1] for d, v in sat.items()}, scope)

    who = escape(scope[0]) if scope else "全部门"
    lines = [
        f"<b>诉求办理日报｜{who}</b>",
        f"统计日期：{win.label}（截至 {now:%m月%d日 %H:%M}）",
        f"{'昨日' if win.end - win.start <= dt.timedelta(days=1) else '上个工作日以来'}新增 <b>{created}</b> 件，"
        f"办结 <b>{resolved}</b> 件",
        f"在办：待受理 {pending} 件，办理中 {working} 件",
        "",
        f"<b>🔴 已超时 {sum(red_counts.values())} 件</b>",
    ]
    lines += [_ticket_line(t, now, names, True, scope is None, policies) for t in reds] or ["· 无"]
    if sum(red_counts.values()) > len(reds):
        lines.append(f"· ……另有 {sum(red_counts.values()) - len(reds)} 件，发送 /tickets overdue 查看")
    lines.append(f"<b>🟡 临近时限 {sum(yellow_counts.values())} 件</b>")
    lines += [_ticket_line(t, now, names, False, scope is None, policies) for t in yellows] or ["· 无"]
    if sum(yellow_counts.values()) > len(yellows):
        lines.append(f"· ……另有 {sum(yellow_counts.values()) - len(yellows)} 件，发送 /tickets due 查看")
    lines.append("")
    lines.append("<b>近30天时限达标率</b>")
    lines += [f"· {MILESTONE_LABELS[m]}：{_pct(sla.get(m))}" for m in MILESTONES]
    avg = f"{sat_sum / sat_n:.2f} 分（{sat_n} 条评价）" if sat_n else "暂无评价"
    lines.append(f"<b>近30天满意度</b>：{avg}")
    lines.append("")
    lines += await _questions_block(store, win, scope, kb, top)
    return "\n".join(lines)


async def _ranking(
    store: Store,
    now: dt.datetime,
    win: Window,
    period: str,
    scope: list[str] | None,
    kb: Any,
    top: int,
) -> str:
    created = await store.reports.count_created(win.start, win.end)
    resolved = await store.reports.count_resolved(win.start, win.end)
    sla = await store.reports.sla_counts(win.start, win.end)
    sat = await store.reports.satisfaction(win.start, win.end)
    departments = sorted(set(created) | set(resolved) | set(sla) | set(sat))
    if scope is not None:
        departments = [d for d in departments if d in scope] or list(scope)

    rows = []
    for d in departments:
        per = sla.get(d, {})
        met = sum(c.met for c in per.values())
        due = sum(c.due for c in per.values())
        rate = met / due if due else None
        s_sum, s_n = sat.get(d, (0, 0))
        rows.append(
            (d, rate, met, due, created.get(d, 0), resolved.get(d, 0), (s_sum / s_n) if s_n else None, s_n)
        )
    rows.sort(key=lambda r: (r[1] is None, -(r[1] or 0), -r[3], r[0]))

    title = "诉求办理周通报" if period == "week" else "诉求办理月通报"
    who = escape(scope[0]) if scope else "全部门"
    total = _merge_sla(sla, scope)
    t_met = sum(c.met for c in total.values())
    t_due = sum(c.due for c in total.values())
    lines = [
        f"<b>{title}｜{who}</b>",
        f"统计期间：{win.label}",
        f"新增 <b>{_sum(created, scope)}</b> 件，办结 <b>{_sum(resolved, scope)}</b> 件；"
        f"时限总体达标率 {_pct(SlaCount(t_met, t_due))}",
    ]
    lines += [f"· {MILESTONE_LABELS[m]}：{_pct(total.get(m))}" for m in MILESTONES]
    lines.append("")
    lines.append("<b>各部门时限达标排名</b>")
    if not rows:
        lines.append("· 本期无诉求")
    for i, (d, rate, met, due, c, r, avg, n) in enumerate(rows, 1):
        rate_s = f"{100 * rate:.1f}%（{met}/{due}）" if rate is not None else "无到期时限"
        sat_s = f"满意度 {avg:.2f}（{n}）" if avg is not None else "暂无评价"
        lines.append(f"{i}. {escape(d)}：达标率 {rate_s}｜新增 {c}｜办结 {r}｜{sat_s}")
    lines.append("")
    lines += await _questions_block(store, win, scope, kb, top)
    return "\n".join(lines)
