"""SLA policies as data (knowledge/sla.yaml) and the deadlines they give a ticket.

Three milestones: contact (联系诉求人), feedback (首次反馈), resolve (办结). Each has a window in natural hours
or in working days; a yellow warning falls when `warn_at` of the window has passed, a red breach at the deadline.
Every milestone always has a deadline. One counted in working days is *provisional* (暂定) when the days it
counts touch a year the calendar only computed (no official notice yet); it is recomputed when the year arrives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.resources import data_dir, read_yaml
from bot.core.text.normalize import compact
from bot.core.tickets.domain.calendar import WorkingCalendar

MILESTONES = ("contact", "feedback", "resolve")
MILESTONE_LABELS = {"contact": "联系诉求人", "feedback": "首次反馈", "resolve": "办结"}


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


@dataclass(frozen=True)
class Policy:
    name: str
    label: str
    windows: dict[str, Window]
    priority: str | None = None
    categories: tuple[str, ...] = ()
    warn_at: float = 0.75
    red_repeat: dt.timedelta = dt.timedelta(hours=24)

    def matches(self, category: str, priority: str) -> bool:
        if self.priority is None and not self.categories:
            return False
        if self.priority is not None and self.priority != priority:
            return False
        return not self.categories or category in self.categories


def window_start(ticket: Any, milestone: str) -> dt.datetime:
    """Where a milestone's window starts: resolve per round (a reopened ticket starts again), others at creation."""
    return ticket.round_started_at if milestone == "resolve" else ticket.created_at


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

    def priority_of(self, description: str) -> str:
        """ "urgent" when the description has an urgency cue, else "normal"."""
        text = compact(description)
        return "urgent" if any(c in text for c in self.urgent_cues) else "normal"

    def select(self, category: str, priority: str = "normal") -> Policy:
        for p in self.policies.values():
            if p.matches(category, priority):
                return p
        return self.policies[self.default]

    def get(self, name: str) -> Policy:
        return self.policies.get(name) or self.policies[self.default]

    def deadlines(self, policy: Policy, start: dt.datetime, milestones=MILESTONES) -> Deadlines:
        """The deadline of each milestone counted from `start`, and which of them are provisional."""
        out = Deadlines(due={})
        for m in milestones:
            window = policy.windows[m]
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
            in_days = self.get(ticket.policy).windows[milestone].working_days is not None
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
        policies: dict[str, Policy] = {}
        for raw in data["policies"]:
            name = str(raw.get("name", ""))
            if not name:
                raise SlaConfigError("sla.yaml: 每个策略都需要 name")
            windows = {}
            for m in MILESTONES:
                w = raw.get(m)
                if not isinstance(w, dict) or (("hours" in w) == ("working_days" in w)):
                    raise SlaConfigError(
                        f"sla.yaml: 策略 {name} 的 {m} 需要且只能有 hours 或 working_days 之一"
                    )
                windows[m] = Window(hours=w.get("hours"), working_days=w.get("working_days"))
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
            )
        default = str(data.get("default", next(iter(policies))))
        if default not in policies:
            raise SlaConfigError(f"sla.yaml: default「{default}」不是已定义的策略")
        cues = data.get("urgent_cues") or []
        if not isinstance(cues, list) or not all(isinstance(c, str) and c.strip() for c in cues):
            raise SlaConfigError("sla.yaml: urgent_cues 应为非空字符串的列表")
        return cls(
            policies=policies,
            default=default,
            calendar=calendar,
            rating_window_working_days=int(data.get("rating_window_working_days", 3)),
            urgent_cues=tuple(compact(c) for c in cues),
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
