"""Daily digest and weekly / monthly 通报, per department or overall, from SQL aggregates.

Daily (sent on working days): new and resolved tickets of every day since the previous digest (yesterday, or
Friday to Sunday on a Monday, and the whole break after a holiday), open tickets by state, the red (overdue)
and yellow lists, SLA met rate per milestone over the last 30 days, satisfaction over the last 30 days, the
most asked items and the most frequent unanswered questions of yesterday. Weekly (the last full Monday–Sunday
week) and monthly (the last calendar month) 通报 rank departments by SLA compliance and by 三率 (响应率, 解决率,
满意率) in the period; the weekly one names the tickets still open 5 working days after their 督办 (通报, the
last rung of the escalation ladder), the monthly one the departments below a 三率 threshold.
The figures come from reporting/figures.py (shared with /stats); the words from
templates/tickets/digest_daily.html.j2 and digest_ranking.html.j2. Descriptions and questions are masked
(phone and ID-card numbers) here and escaped by the templates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.knowledge.gaps import GAP_ROWS, group_gaps
from bot.core.knowledge.review import due_for_review
from bot.core.messages import Reply
from bot.core.storage import Store
from bot.core.text.mask import mask_pii
from bot.core.texts import Texts, short
from bot.core.tickets.domain.models import OPEN_STATES, Ticket, TicketQuery
from bot.core.tickets.domain.sla import MILESTONE_LABELS, MILESTONES, SlaPolicies
from bot.core.tickets.reporting.chart import digest_chart
from bot.core.tickets.reporting.escalation import reported_tickets
from bot.core.tickets.reporting.figures import Figures, figures
from bot.core.tickets.reporting.hotspots import HOT_DAYS, HotSpot, hot_spots
from bot.core.tickets.views import most_urgent
from bot.core.tickets.workflow.config import WorkflowConfig

PERIODS = ("day", "week", "month")
# how similar unanswered questions are grouped: (their content words, their subject bigrams), the matcher's
GapsBy = tuple[Callable[[str], str] | None, Callable[[str], frozenset[str]] | None]
TOP = 10
DAILY = "tickets/digest_daily.html.j2"
RANKING = "tickets/digest_ranking.html.j2"


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    period: str
    first: dt.date  # the first and last day covered
    last: dt.date


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
        return Window(_midnight(first, tz), _midnight(today, tz), period, first, last)
    if period == "week":
        monday = today - dt.timedelta(days=today.weekday() + 7)
        sunday = monday + dt.timedelta(days=6)
        return Window(
            _midnight(monday, tz), _midnight(sunday + dt.timedelta(days=1), tz), period, monday, sunday
        )
    if period == "month":
        first_this = today.replace(day=1)
        first_prev = (first_this - dt.timedelta(days=1)).replace(day=1)
        last_prev = first_this - dt.timedelta(days=1)
        return Window(_midnight(first_prev, tz), _midnight(first_this, tz), period, first_prev, last_prev)
    raise ValueError(f"unknown period {period!r}")


def previous_workday(calendar: Any, today: dt.date) -> dt.date:
    """The last working day before `today` (the calendar covers every year, official or provisional)."""
    day = today - dt.timedelta(days=1)
    for _ in range(60):  # the longest break (春节 with weekends) is far shorter
        if calendar.is_workday(day):
            return day
        day -= dt.timedelta(days=1)
    raise ValueError(f"no working day in the 60 days before {today}")


@dataclass(frozen=True)
class AttentionRow:
    """One ticket of the red (overdue) or yellow (close to a deadline) list."""

    number: str
    department: str | None  # shown in the overall digest only
    summary: str  # masked, shortened
    handler: str | None  # None: not claimed yet
    red: bool
    over_days: int | None = None  # red: by how much the earliest unmet deadline is over
    over_hours: int | None = None
    provisional: bool = False  # that deadline is 暂定


@dataclass(frozen=True)
class Questions:
    asked: list[tuple[str, int]] | None = None  # the most asked items (None: not shown)
    unanswered: list[tuple[str, int]] | None = None  # the most frequent unanswered questions, masked


@dataclass(frozen=True)
class DailyDigest:
    scope: str | None  # one department, or None for every department
    window: Window
    now: dt.datetime
    figures: Figures
    reds: list[AttentionRow] = field(default_factory=list)
    red_total: int = 0
    yellows: list[AttentionRow] = field(default_factory=list)
    yellow_total: int = 0
    questions: Questions = Questions()
    # the dispatcher's queue (诉求 whose route was unsure): (waiting now, of them new in the window)
    dispatch_queue: tuple[int, int] | None = None
    hot: list[HotSpot] = field(default_factory=list)  # rising clusters by place and subject (hotspots.py)


@dataclass(frozen=True)
class Review:
    """Knowledge entries not checked for longer than the review age (monthly 通报; `kb review` lists all)."""

    days: int
    total: int
    oldest: list[tuple[str, dt.date]]  # (name, updated), the longest unchecked first


@dataclass(frozen=True)
class Ranking:
    scope: str | None
    window: Window
    figures: Figures
    questions: Questions = Questions()
    review: Review | None = None
    thresholds: dict[str, float] = field(default_factory=dict)  # 三率 (workflow.yaml rates)
    reported: list[AttentionRow] = field(default_factory=list)  # 通报: overdue well past the 督办
    # 退单 / 改派 / 延期 / 申诉 requests made in the period: (department, kind) -> (made, approved)
    requests: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


def daily_text(texts: Texts, d: DailyDigest) -> str:
    return texts.render(
        DAILY,
        scope=d.scope,
        window=d.window,
        one_day=d.window.end - d.window.start <= dt.timedelta(days=1),
        now=d.now,
        f=d.figures,
        milestones=[(m, MILESTONE_LABELS[m]) for m in MILESTONES],
        reds=d.reds,
        red_total=d.red_total,
        yellows=d.yellows,
        yellow_total=d.yellow_total,
        questions=d.questions,
        dispatch_queue=d.dispatch_queue,
        hot=d.hot,
        hot_days=HOT_DAYS,
    )


def ranking_text(texts: Texts, r: Ranking) -> str:
    return texts.render(
        RANKING,
        scope=r.scope,
        window=r.window,
        f=r.figures,
        milestones=[(m, MILESTONE_LABELS[m]) for m in MILESTONES],
        ranking=r.figures.ranking(),
        questions=r.questions,
        review=r.review,
        reported=r.reported,
        requests=sorted(r.requests.items()),
        rates=r.figures.rate_ranking(),
        thresholds=r.thresholds,
        # the monthly 通报 names the departments below a 三率 threshold
        flagged=[(d, k) for d in r.figures.rate_ranking() if (k := d.below(r.thresholds))]
        if r.window.period == "month"
        else [],
    )


def attention_row(
    t: Ticket,
    now: dt.datetime,
    names: dict[str, str],
    red: bool,
    show_dept: bool,
    policies: SlaPolicies | None,
) -> AttentionRow:
    over_days = over_hours = None
    if red:
        dues = [d for m in MILESTONES if t.met(m) is None and (d := t.due(m)) is not None]
        over = now - min(dues)
        if over < dt.timedelta(days=1):
            over_hours = max(1, int(over.total_seconds() // 3600))
        else:
            over_days = over.days
    urgent = most_urgent(t)
    return AttentionRow(
        number=t.number,
        department=t.department if show_dept else None,
        summary=short(mask_pii(t.description), 30),
        handler=names.get(t.handler, t.handler) if t.handler else None,
        red=red,
        over_days=over_days,
        over_hours=over_hours,
        provisional=policies is not None and urgent is not None and policies.is_provisional(t, urgent),
    )


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
    texts: Texts | None = None,
    gap_key: Callable[[str], str] | None = None,
    review_days: int | None = None,
    gap_grams: Callable[[str], frozenset[str]] | None = None,
    workflow: WorkflowConfig | None = None,
    chart: bool = False,
) -> Reply:
    """The digest as sent on `now`'s day, for one department or (department=None) overall. `gap_key` groups
    similar unanswered questions (the matcher's content words); `review_days` adds the entries due for review
    to the monthly 通报. `workflow` (workflow.yaml): the 三率 thresholds below which the monthly 通报 names a
    department, and how many working days after the 督办 the weekly one names an overdue ticket (with
    `policies` only). `chart`: a PNG chart with it (reporting/chart.py; None without a CJK font)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    texts = texts or Texts()
    now = now.astimezone(store.tz)
    if staff_names is None:
        staff_names = {m.user_id: m.name for m in await store.staff.list()}
    win = period_window(period, now.date(), store.tz, policies.calendar if policies else None)
    scope = [department] if department else None
    if period == "day":
        daily = await _daily(store, now, win, scope, kb, policies, staff_names, top, (gap_key, gap_grams))
        photo = digest_chart(texts, "day", win, daily.figures, daily.hot) if chart else None
        return Reply(daily_text(texts, daily), photo=photo)
    fig = await figures(store, scope, win.start, win.end)
    review = None
    if period == "month" and review_days is not None and kb is not None and hasattr(kb, "origins"):
        stale = due_for_review(kb, now.date(), review_days)
        if scope:
            stale = [e for e in stale if e.department in scope]
        review = Review(review_days, len(stale), [(e.name, e.updated) for e in stale[:top]])
    gaps_by = (gap_key, gap_grams)
    questions = await _questions(store, win, scope, kb, top, gaps_by)
    workflow = workflow or WorkflowConfig()
    reported: list[AttentionRow] = []
    if period == "week" and policies is not None:
        late = await reported_tickets(
            store, now, policies, workflow.report_after_working_days, tuple(scope) if scope else None
        )
        # how long the 办结 deadline is over (the digest's red list counts from the earliest unmet one)
        reported = [
            dataclasses.replace(
                attention_row(t, now, staff_names, True, scope is None, policies),
                over_days=(now - t.resolve_due).days if t.resolve_due else None,
            )
            for t in late
        ]
    asked: dict[tuple[str, str], tuple[int, int]] = {}
    for (dept, kind, state), n in (await store.requests.counts(win.start, win.end)).items():
        if kind not in ("rectify", "revisit") and (scope is None or dept in scope):  # tasks, not requests
            made, approved = asked.get((dept, kind), (0, 0))
            asked[(dept, kind)] = (made + n, approved + (n if state == "approved" else 0))
    ranking = Ranking(department, win, fig, questions, review, dict(workflow.rates), reported, asked)
    text = ranking_text(texts, ranking)
    library = getattr(kb, "policies", None)
    if period == "month" and library:
        # 惠企政策: the most-asked policies and the questions no policy answered
        from bot.core.policies.report import policy_report

        section = await policy_report(store, library, texts, win.start, win.end, department, top)
        if section:
            text = f"{text}\n\n{section}"
    return Reply(text, photo=digest_chart(texts, period, win, fig, []) if chart else None)


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


async def _questions(
    store: Store,
    win: Window,
    scope: list[str] | None,
    kb: Any,
    top: int,
    gaps_by: GapsBy = (None, None),
) -> Questions:
    asked = unanswered = None
    if scope is None or kb is not None:  # a department's items are known only through the knowledge base
        rows = await store.questions.top(
            win.start, win.end, unanswered=False, limit=top * 5 if scope else top
        )
        asked = []
        for q in rows:
            name, dept = _entry_name(kb, q.key)
            if scope is None or dept in scope:
                asked.append((name, q.count))
        asked = asked[:top]
    if scope is None:
        # real gaps only (no appeals, no answered clarifications), similar questions as one
        gaps = await store.questions.gaps(win.start, win.end, limit=GAP_ROWS)
        key, grams = gaps_by
        groups = group_gaps(gaps, **({"key": key} if key else {}), grams=grams)
        unanswered = [(short(mask_pii(g.text), 40), g.count) for g in groups[:top]]
    return Questions(asked, unanswered)


async def _daily(
    store: Store,
    now: dt.datetime,
    win: Window,
    scope: list[str] | None,
    kb: Any,
    policies: SlaPolicies | None,
    names: dict[str, str],
    top: int,
    gaps_by: GapsBy = (None, None),
) -> DailyDigest:
    month_start = _midnight(now.date() - dt.timedelta(days=30), store.tz)
    today0 = _midnight(now.date(), store.tz)
    fig = await figures(store, scope, win.start, win.end, quality=(month_start, today0))
    dep_scope = tuple(scope) if scope else None
    warn = _warn_args(policies)
    reds, red_counts = await store.reports.attention(now, "red", departments=dep_scope, limit=top, **warn)
    yellows, yellow_counts = await store.reports.attention(
        now, "yellow", departments=dep_scope, limit=top, **warn
    )
    overall = scope is None
    return DailyDigest(
        scope=scope[0] if scope else None,
        window=win,
        now=now,
        figures=fig,
        reds=[attention_row(t, now, names, True, overall, policies) for t in reds],
        red_total=sum(red_counts.values()),
        yellows=[attention_row(t, now, names, False, overall, policies) for t in yellows],
        yellow_total=sum(yellow_counts.values()),
        questions=await _questions(store, win, scope, kb, top, gaps_by),
        dispatch_queue=await _dispatch_queue(store, win, scope, kb),
        hot=await hot_spots(store, now, dep_scope, top),
    )


async def _dispatch_queue(
    store: Store, win: Window, scope: list[str] | None, kb: Any
) -> tuple[int, int] | None:
    """Open 诉求 waiting in the dispatcher's queue (the 派单目录's dispatcher), and how many of them are new."""
    dispatch = (getattr(kb, "extra", None) or {}).get("dispatch")
    name = dispatch.get("dispatcher") if isinstance(dispatch, dict) else None
    if not isinstance(name, str) or (scope is not None and name not in scope):
        return None
    q = TicketQuery(departments=(name,), states=OPEN_STATES)
    waiting = await store.tickets.count(q)
    new = await store.tickets.count(
        TicketQuery(departments=(name,), states=OPEN_STATES, created_from=win.start, created_to=win.end)
    )
    return waiting, new
