"""SLA policies as data (knowledge/sla.yaml) and the deadlines they give a ticket.

Four milestones: dispatch (签收: the handling department signs for the ticket), contact (联系诉求人), feedback
(首次反馈), resolve (办结). Each has a window in natural hours or in working days; a yellow warning (催办) falls
when `warn_at` of the window has passed, a red breach at the deadline. Every milestone always has a deadline.
One counted in working days is *provisional* (暂定) when the days it counts touch a year the calendar only
computed (no official notice yet); it is recomputed when the year arrives.

Where a window comes from:
- a policy (selected by priority and category) gives contact, feedback and resolve;
- the ticket's type (咨询, 求助, 投诉, 建议, 举报, 表扬) may set its own: under the default policy the type's
  window applies, under a special one (urgent, public safety) the shorter of the two, so a type never makes an
  urgent ticket wait longer;
- the urgency tier gives dispatch: emergencies 1 hour, 水电气热 and extreme weather 2 hours, everything else 24
  hours (Beijing's 接诉即办 standard), chosen by the ticket's priority and the words of its description.
A deadline then moves by what the ticket's own history adds: approved extensions (延期, working days, resolve
only) and the time the SLA clock was paused (working time for working-day windows, natural time for hours).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.resources import data_dir, read_yaml
from bot.core.text.normalize import compact
from bot.core.tickets.domain.calendar import WorkingCalendar

MILESTONES = ("dispatch", "contact", "feedback", "resolve")
POLICY_MILESTONES = ("contact", "feedback", "resolve")  # a policy's windows; dispatch comes from the tier
MILESTONE_LABELS = {"dispatch": "签收", "contact": "联系诉求人", "feedback": "首次反馈", "resolve": "办结"}
PAUSE_REASONS_DEFAULT = ("等待补充材料", "第三方鉴定")


def default_sla_file() -> Path:
    """The shipped example's sla.yaml (a deployment configures its own knowledge directory)."""
    return data_dir("knowledge") / "sla.yaml"


class SlaConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Window:
    hours: float | None = None
    working_days: int | None = None

    def due(self, start: dt.datetime, calendar: WorkingCalendar) -> dt.datetime:
        if self.hours is not None:
            return start + dt.timedelta(hours=self.hours)
        assert self.working_days is not None
        return calendar.add_working_days(start, self.working_days)

    def describe(self) -> str:
        if self.hours is not None:
            h = int(self.hours) if float(self.hours).is_integer() else self.hours
            return f"{h}小时"
        return f"{self.working_days}个工作日"

    @property
    def rough_hours(self) -> float:
        """For comparing windows of different units: a working day counts as 24 hours."""
        return float(self.hours) if self.hours is not None else 24.0 * (self.working_days or 0)


@dataclass(frozen=True)
class AppealType:
    """A 诉求类型: the words that suggest it, and the windows it sets (any of contact, feedback, resolve)."""

    name: str
    cues: tuple[str, ...] = ()
    windows: dict[str, Window] = field(default_factory=dict)


@dataclass(frozen=True)
class Tier:
    """An urgency tier: how soon the ticket must be signed for (dispatch), and what puts a ticket in it."""

    name: str
    label: str
    dispatch: Window
    priority: str | None = None  # every ticket of this priority is in the tier
    cues: tuple[str, ...] = ()  # or a description with one of these words


GENERAL_TIER = Tier("general", "一般诉求", Window(hours=24))


@dataclass(frozen=True)
class Policy:
    name: str
    label: str
    windows: dict[str, Window]
    priority: str | None = None
    categories: tuple[str, ...] = ()
    warn_at: float = 0.75
    red_repeat: dt.timedelta = dt.timedelta(hours=24)
    supervise_after: dt.timedelta = dt.timedelta(hours=24)  # 督办, this long after a breach

    def matches(self, category: str, priority: str) -> bool:
        if self.priority is None and not self.categories:
            return False
        if self.priority is not None and self.priority != priority:
            return False
        return not self.categories or category in self.categories


def window_start(ticket: Any, milestone: str) -> dt.datetime:
    """Where a milestone's window starts: resolve per round (a reopened ticket starts again), others at creation."""
    return ticket.round_started_at if milestone == "resolve" else ticket.created_at


def _window(raw: Any, where: str, name: str) -> Window:
    """The window `name` (a milestone) of the entry `where` names."""
    if not isinstance(raw, dict) or (("hours" in raw) == ("working_days" in raw)):
        raise SlaConfigError(f"{where} 的 {name} 需要且只能有 hours 或 working_days 之一")
    hours, days = raw.get("hours"), raw.get("working_days")
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0):
        raise SlaConfigError(f"{where} 的 {name} 的 hours 应为正数")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        raise SlaConfigError(f"{where} 的 {name} 的 working_days 应为正整数")
    return Window(hours=hours, working_days=days)


def _cues(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, str) and c.strip() for c in raw):
        raise SlaConfigError(f"{where} 的 cues 应为非空字符串的列表")
    return tuple(compact(c) for c in raw)


def _entry_name(raw: Any, section: str, i: int) -> str:
    if not isinstance(raw, dict):
        raise SlaConfigError(f"sla.yaml: {section} 第 {i + 1} 条应为映射（name: …）")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SlaConfigError(f"sla.yaml: {section} 第 {i + 1} 条缺少 name")
    return name.strip()


def types_from_data(data: dict[str, Any]) -> tuple[dict[str, AppealType], str | None]:
    """The 诉求类型 of sla.yaml (`types`, `default_type`); none when the file has no types."""
    raw = data.get("types")
    if raw is None:
        return {}, None
    if not isinstance(raw, list) or not raw:
        raise SlaConfigError("sla.yaml: types 应为列表，每项一个诉求类型")
    out: dict[str, AppealType] = {}
    for i, entry in enumerate(raw):
        name = _entry_name(entry, "types", i)
        where = f"sla.yaml: types「{name}」"
        if name in out:
            raise SlaConfigError(f"{where} 重复定义")
        unknown = set(entry) - {"name", "cues", *POLICY_MILESTONES}
        if unknown:
            raise SlaConfigError(f"{where} 有不认识的字段：{'、'.join(sorted(map(str, unknown)))}")
        windows = {m: _window(entry[m], where, m) for m in POLICY_MILESTONES if m in entry}
        out[name] = AppealType(name, _cues(entry.get("cues"), where), windows)
    default = data.get("default_type", next(iter(out)))
    if default not in out:
        raise SlaConfigError(f"sla.yaml: default_type「{default}」不是已定义的诉求类型")
    return out, default


def tiers_from_data(data: dict[str, Any]) -> tuple[dict[str, Tier], str]:
    """The urgency tiers of sla.yaml (`tiers`, `default_tier`); one 24-hour tier when the file has none."""
    raw = data.get("tiers")
    if raw is None:
        return {GENERAL_TIER.name: GENERAL_TIER}, GENERAL_TIER.name
    if not isinstance(raw, list) or not raw:
        raise SlaConfigError("sla.yaml: tiers 应为列表，每项一个紧急程度分级")
    out: dict[str, Tier] = {}
    for i, entry in enumerate(raw):
        name = _entry_name(entry, "tiers", i)
        where = f"sla.yaml: tiers「{name}」"
        if name in out:
            raise SlaConfigError(f"{where} 重复定义")
        if "dispatch" not in entry:
            raise SlaConfigError(f"{where} 缺少 dispatch（签收时限）")
        priority = entry.get("priority")
        if priority is not None and priority not in ("normal", "urgent"):
            raise SlaConfigError(f"{where} 的 priority 应为 urgent 或 normal")
        out[name] = Tier(
            name=name,
            label=str(entry.get("label", name)),
            dispatch=_window(entry["dispatch"], where, "dispatch"),
            priority=priority,
            cues=_cues(entry.get("cues"), where),
        )
    default = data.get("default_tier", list(out)[-1])
    if default not in out:
        raise SlaConfigError(f"sla.yaml: default_tier「{default}」不是已定义的分级")
    return out, default


def last_counted_day(due: dt.datetime) -> dt.date:
    """The day a deadline closes: 00:00 is 24:00 of the day before."""
    return (due - dt.timedelta(seconds=1)).date()


@dataclass
class Deadlines:
    due: dict[str, dt.datetime]
    # milestone -> the provisional years its counted days touch (empty: the deadline is final)
    provisional_years: dict[str, list[int]] = field(default_factory=dict)

    @property
    def provisional(self) -> set[str]:
        return {m for m, years in self.provisional_years.items() if years}

    @property
    def years(self) -> set[int]:
        return {y for years in self.provisional_years.values() for y in years}


@dataclass
class SlaPolicies:
    policies: dict[str, Policy]
    default: str
    calendar: WorkingCalendar
    rating_window_working_days: int = 3
    # words that make a 诉求 urgent (danger to people or property now); matched in the compacted description
    urgent_cues: tuple[str, ...] = ()
    types: dict[str, AppealType] = field(default_factory=dict)
    default_type: str | None = None
    tiers: dict[str, Tier] = field(default_factory=lambda: {GENERAL_TIER.name: GENERAL_TIER})
    default_tier: str = GENERAL_TIER.name
    pause_reasons: tuple[str, ...] = PAUSE_REASONS_DEFAULT
    _effective: dict[tuple[str, str | None, str | None], dict[str, Window]] = field(
        default_factory=dict, repr=False
    )

    def priority_of(self, description: str) -> str:
        """ "urgent" when the description has an urgency cue, else "normal"."""
        text = compact(description)
        return "urgent" if any(c in text for c in self.urgent_cues) else "normal"

    def type_of(self, description: str) -> str | None:
        """The 诉求类型 whose cues the description has most of (the first listed on a tie); the default type
        when none; None when sla.yaml defines no types."""
        text = compact(description)
        best, hits = self.default_type, 0
        for t in self.types.values():
            n = sum(1 for c in t.cues if c in text)
            if n > hits:
                best, hits = t.name, n
        return best

    def tier_of(self, description: str, priority: str = "normal") -> str:
        """The urgency tier: the one for the ticket's priority, else the first whose cues the description has,
        else the default."""
        for t in self.tiers.values():
            if t.priority is not None and t.priority == priority:
                return t.name
        text = compact(description)
        for t in self.tiers.values():
            if t.priority is None and any(c in text for c in t.cues):
                return t.name
        return self.default_tier

    def tier(self, name: str | None) -> Tier:
        return self.tiers.get(name or "") or self.tiers[self.default_tier]

    def windows(
        self, policy: str, appeal_type: str | None = None, tier: str | None = None
    ) -> dict[str, Window]:
        """Every milestone's window for a ticket of this policy, type and tier (see the module docstring)."""
        key = (policy, appeal_type, tier)
        out = self._effective.get(key)
        if out is None:
            p = self.get(policy)
            out = dict(p.windows)
            kind = self.types.get(appeal_type or "")
            if kind is not None:
                for m, w in kind.windows.items():
                    if p.name == self.default or w.rough_hours < out[m].rough_hours:
                        out[m] = w
            out["dispatch"] = self.tier(tier).dispatch
            self._effective[key] = out
        return out

    def window(self, ticket: Any, milestone: str) -> Window:
        """The window of one milestone of a ticket (its policy, type and tier)."""
        return self.windows(
            ticket.policy, getattr(ticket, "appeal_type", None), getattr(ticket, "tier", None)
        )[milestone]

    def due_of(self, ticket: Any, milestone: str) -> dt.datetime:
        """A milestone's deadline as the ticket stands: its window from where it starts, then the working
        days of approved extensions (resolve) and the time the SLA clock was paused."""
        from bot.core.tickets.domain.worktime import add_working_seconds

        window = self.window(ticket, milestone)
        due = window.due(window_start(ticket, milestone), self.calendar)
        extra = getattr(ticket, "extra_days", 0) or 0
        if milestone == "resolve" and extra > 0:
            due = self.calendar.add_working_days(due - dt.timedelta(seconds=1), extra)
        if window.working_days is not None:
            return add_working_seconds(due, getattr(ticket, "paused_work", 0) or 0, self.calendar)
        return due + dt.timedelta(seconds=getattr(ticket, "paused_wall", 0) or 0)

    def select(self, category: str, priority: str = "normal") -> Policy:
        for p in self.policies.values():
            if p.matches(category, priority):
                return p
        return self.policies[self.default]

    def get(self, name: str) -> Policy:
        return self.policies.get(name) or self.policies[self.default]

    def deadlines(
        self,
        policy: Policy,
        start: dt.datetime,
        milestones=POLICY_MILESTONES,
        *,
        appeal_type: str | None = None,
        tier: str | None = None,
    ) -> Deadlines:
        """The deadline of each milestone counted from `start` (the policy's three unless asked for more, e.g.
        MILESTONES with dispatch), and which of them are provisional."""
        out = Deadlines(due={})
        windows = self.windows(policy.name, appeal_type, tier)
        for m in milestones:
            window = windows[m]
            due = out.due[m] = window.due(start, self.calendar)
            out.provisional_years[m] = self._years(window.working_days is not None, start, due)
        return out

    def rating_deadline(self, resolved_at: dt.datetime) -> dt.datetime:
        return self.calendar.add_working_days(resolved_at, self.rating_window_working_days)

    def provisional_years(self, ticket: Any, milestone: str) -> list[int]:
        """The provisional years a ticket's deadline counts through; milestone "rating" is the rating window."""
        if milestone == "rating":
            due, start, in_days = ticket.rating_due, ticket.resolve_met, True
        else:
            due, start = ticket.due(milestone), window_start(ticket, milestone)
            in_days = self.window(ticket, milestone).working_days is not None
        if due is None:
            return []
        return self._years(in_days, start or due, due)

    def is_provisional(self, ticket: Any, milestone: str) -> bool:
        return bool(self.provisional_years(ticket, milestone))

    def _years(self, in_working_days: bool, start: dt.datetime, due: dt.datetime) -> list[int]:
        # hour windows do not depend on the calendar
        if not in_working_days:
            return []
        return self.calendar.provisional_years(start.date(), last_counted_day(due))

    @classmethod
    def from_data(cls, data: dict[str, Any], calendar: WorkingCalendar | None = None) -> SlaPolicies:
        calendar = calendar or WorkingCalendar()
        if not isinstance(data, dict) or not isinstance(data.get("policies"), list) or not data["policies"]:
            raise SlaConfigError("sla.yaml: 需要 sla.policies 列表")
        warn_at = float(data.get("warn_at", 0.75))
        repeat_h = float(data.get("red_repeat_hours", 24))
        supervise_h = float(data.get("supervise_after_hours", 24))
        policies: dict[str, Policy] = {}
        for raw in data["policies"]:
            name = str(raw.get("name", ""))
            if not name:
                raise SlaConfigError("sla.yaml: 每个策略都需要 name")
            where = f"sla.yaml: 策略 {name}"
            windows = {m: _window(raw.get(m), where, m) for m in POLICY_MILESTONES}
            p_warn = float(raw.get("warn_at", warn_at))
            if not 0 < p_warn < 1:
                raise SlaConfigError(f"sla.yaml: 策略 {name} 的 warn_at 应在 0 和 1 之间")
            policies[name] = Policy(
                name=name,
                label=str(raw.get("label", name)),
                windows=windows,
                priority=raw.get("priority"),
                categories=tuple(raw.get("categories") or ()),
                warn_at=p_warn,
                red_repeat=dt.timedelta(hours=float(raw.get("red_repeat_hours", repeat_h))),
                supervise_after=dt.timedelta(hours=float(raw.get("supervise_after_hours", supervise_h))),
            )
        default = str(data.get("default", next(iter(policies))))
        if default not in policies:
            raise SlaConfigError(f"sla.yaml: default「{default}」不是已定义的策略")
        cues = data.get("urgent_cues") or []
        if not isinstance(cues, list) or not all(isinstance(c, str) and c.strip() for c in cues):
            raise SlaConfigError("sla.yaml: urgent_cues 应为非空字符串的列表")
        types, default_type = types_from_data(data)
        tiers, default_tier = tiers_from_data(data)
        reasons = data.get("pause_reasons", list(PAUSE_REASONS_DEFAULT))
        if (
            not isinstance(reasons, list)
            or not reasons
            or not all(isinstance(r, str) and r.strip() for r in reasons)
        ):
            raise SlaConfigError(
                "sla.yaml: pause_reasons 应为非空字符串的列表（如 等待补充材料、第三方鉴定）"
            )
        return cls(
            policies=policies,
            default=default,
            calendar=calendar,
            rating_window_working_days=int(data.get("rating_window_working_days", 3)),
            urgent_cues=tuple(compact(c) for c in cues),
            types=types,
            default_type=default_type,
            tiers=tiers,
            default_tier=default_tier,
            pause_reasons=tuple(r.strip() for r in reasons),
        )


def load_policies(sla_file: Path | str | None = None, calendar: WorkingCalendar | None = None) -> SlaPolicies:
    path = Path(sla_file) if sla_file else default_sla_file()
    data = read_yaml(path) or {}
    return SlaPolicies.from_data(data.get("sla") or {}, calendar or WorkingCalendar.from_file())


def policies_from_kb(kb: Any) -> SlaPolicies:
    """Policies from a loaded knowledge base (its sla.yaml and calendar.yaml sections)."""
    extra = getattr(kb, "extra", {}) or {}
    calendar = WorkingCalendar.from_data(extra)
    if "sla" in extra:
        return SlaPolicies.from_data(extra["sla"], calendar)
    return load_policies(calendar=calendar)
