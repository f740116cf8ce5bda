"""The loop's settings as data (knowledge/workflow.yaml): staff hours and holding notifications for them,
整改 and 通报 periods, duplicate detection, automatic assignment per department, and the 三率 thresholds.

A file that is wrong stops start-up with the file, the entry and the field (WorkflowConfigError); without a
workflow section everything takes the defaults below and nobody is assigned automatically.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

FILE = "workflow.yaml"
ASSIGN_MODES = ("round_robin", "least_loaded")
RATES = ("response", "resolution", "satisfaction")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class WorkflowConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Assignment:
    mode: str  # round_robin | least_loaded
    cap: int  # open tickets a person may hold at once


@dataclass(frozen=True)
class Duplicates:
    window_days: int = 7
    threshold: float = 0.55
    candidates: int = 300


@dataclass(frozen=True)
class WorkflowConfig:
    staff_hours: tuple[tuple[dt.time, dt.time], ...] = ((dt.time(9, 0), dt.time(17, 30)),)
    hold_staff_notifications: bool = False
    rectify_working_days: int = 15
    report_after_working_days: int = 5
    revisit_working_days: int = 3  # 回访 of a ticket closed unrated: called within this many working days
    duplicates: Duplicates = Duplicates()
    assignment: dict[str, Assignment] = field(default_factory=dict)
    rates: dict[str, float] = field(
        default_factory=lambda: {"response": 0.9, "resolution": 0.8, "satisfaction": 0.85}
    )

    @classmethod
    def from_data(cls, data: Any, departments: set[str] | None = None) -> WorkflowConfig:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise WorkflowConfigError(f"{FILE}: workflow 应为映射")
        unknown = set(data) - {
            "staff_hours",
            "hold_staff_notifications",
            "rectify_working_days",
            "report_after_working_days",
            "revisit_working_days",
            "duplicates",
            "assignment",
            "rates",
        }
        if unknown:
            raise WorkflowConfigError(
                f"{FILE}: workflow 有不认识的字段：{'、'.join(sorted(map(str, unknown)))}"
            )
        hours = tuple(_span(raw, i) for i, raw in enumerate(data.get("staff_hours") or []))
        if "staff_hours" in data and not hours:
            raise WorkflowConfigError(f"{FILE}: staff_hours 至少要有一段在岗时间")
        hold = data.get("hold_staff_notifications", False)
        if not isinstance(hold, bool):
            raise WorkflowConfigError(f"{FILE}: hold_staff_notifications 应为 true 或 false")
        dup = data.get("duplicates") or {}
        if not isinstance(dup, dict):
            raise WorkflowConfigError(f"{FILE}: duplicates 应为映射")
        threshold = dup.get("threshold", 0.55)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
            raise WorkflowConfigError(f"{FILE}: duplicates 的 threshold 应在 0 和 1 之间")
        assignment: dict[str, Assignment] = {}
        raw_assign = data.get("assignment") or {}
        if not isinstance(raw_assign, dict):
            raise WorkflowConfigError(f"{FILE}: assignment 应为映射（部门: {{mode, cap}}）")
        for dept, body in raw_assign.items():
            if departments is not None and dept not in departments:
                raise WorkflowConfigError(f"{FILE}: assignment 的部门「{dept}」不在 departments.yaml 中")
            if not isinstance(body, dict) or body.get("mode") not in ASSIGN_MODES:
                raise WorkflowConfigError(
                    f"{FILE}: assignment「{dept}」的 mode 应为 {' 或 '.join(ASSIGN_MODES)}"
                )
            assignment[str(dept)] = Assignment(
                body["mode"], _positive(body.get("cap", 20), f"assignment.{dept}.cap")
            )
        rates = dict(cls().rates)
        raw_rates = data.get("rates") or {}
        if not isinstance(raw_rates, dict) or set(raw_rates) - set(RATES):
            raise WorkflowConfigError(f"{FILE}: rates 只能有 {'、'.join(RATES)}")
        for k, v in raw_rates.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                raise WorkflowConfigError(f"{FILE}: rates 的 {k} 应在 0 和 1 之间（如 0.9）")
            rates[k] = float(v)
        return cls(
            staff_hours=hours or cls().staff_hours,
            hold_staff_notifications=hold,
            rectify_working_days=_positive(data.get("rectify_working_days", 15), "rectify_working_days"),
            report_after_working_days=_positive(
                data.get("report_after_working_days", 5), "report_after_working_days"
            ),
            revisit_working_days=_positive(data.get("revisit_working_days", 3), "revisit_working_days"),
            duplicates=Duplicates(
                window_days=_positive(dup.get("window_days", 7), "duplicates.window_days"),
                threshold=float(threshold),
                candidates=_positive(dup.get("candidates", 300), "duplicates.candidates"),
            ),
            assignment=assignment,
            rates=rates,
        )


def _positive(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise WorkflowConfigError(f"{FILE}: {what} 应为正整数")
    return v


def _time(raw: Any, i: int, key: str) -> dt.time:
    m = _TIME.match(str(raw or ""))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise WorkflowConfigError(f"{FILE}: staff_hours 第 {i + 1} 段的 {key}「{raw}」应为 时:分，如 09:00")
    return dt.time(int(m.group(1)), int(m.group(2)))


def _span(raw: Any, i: int) -> tuple[dt.time, dt.time]:
    if not isinstance(raw, dict):
        raise WorkflowConfigError(f"{FILE}: staff_hours 第 {i + 1} 段应为 {{start, end}}")
    start, end = _time(raw.get("start"), i, "start"), _time(raw.get("end"), i, "end")
    if end <= start:
        raise WorkflowConfigError(f"{FILE}: staff_hours 第 {i + 1} 段的 end 应晚于 start")
    return start, end


def workflow_from_kb(kb: Any) -> WorkflowConfig:
    """The workflow settings of a loaded knowledge base (its workflow.yaml section)."""
    extra = getattr(kb, "extra", {}) or {}
    departments = set(getattr(kb, "departments", {}) or {}) or None
    return WorkflowConfig.from_data(extra.get("workflow"), departments)
