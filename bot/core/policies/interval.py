"""A number as a person gives it: exact ("50人"), a range ("三十多人" is 31–39, "不到20人" is 0–19) or open
("上百人" is 100 and up). Conditions are judged on the whole interval: met when every value meets them, failed
when none does, unknown otherwise."""

from __future__ import annotations

import math
from dataclasses import dataclass

INF = math.inf


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float = INF

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError(f"interval {self.lo} > {self.hi}")

    @classmethod
    def exact(cls, value: float) -> Interval:
        return cls(value, value)

    @classmethod
    def parse(cls, raw: object) -> Interval:
        """A JSON value: a number, [lo, hi] (hi null: no upper end), or {"min": …, "max": …}."""
        if isinstance(raw, bool):
            raise ValueError("应为数字")
        if isinstance(raw, int | float):
            return cls.exact(float(raw))
        if isinstance(raw, str):
            return cls.exact(float(raw.strip()))
        if isinstance(raw, list | tuple) and len(raw) == 2:
            lo, hi = raw
            return cls(float(lo if lo is not None else 0), INF if hi is None else float(hi))
        if isinstance(raw, dict) and set(raw) <= {"min", "max"}:
            return cls(float(raw.get("min") or 0), INF if raw.get("max") is None else float(raw["max"]))
        raise ValueError("应为数字、[下限, 上限] 或 {min, max}")

    @property
    def is_exact(self) -> bool:
        return self.lo == self.hi

    def scaled(self, factor: float) -> Interval:
        return Interval(self.lo * factor, self.hi * factor if self.hi != INF else INF)

    def json(self) -> float | list[float | None]:
        if self.is_exact:
            return int(self.lo) if self.lo == int(self.lo) else self.lo
        return [_num(self.lo), None if self.hi == INF else _num(self.hi)]

    def words(self) -> str:
        """For reasons: 50, 31–39, 100以上."""
        if self.is_exact:
            return _fmt(self.lo)
        if self.hi == INF:
            return f"{_fmt(self.lo)}以上"
        return f"{_fmt(self.lo)}–{_fmt(self.hi)}"


def _num(v: float) -> float | int:
    return int(v) if v == int(v) else round(v, 4)


def _fmt(v: float) -> str:
    return str(_num(v))


def ratio(part: Interval, whole: Interval) -> Interval | None:
    """part / whole as a percentage interval (残疾人人数 / 从业人数)."""
    if whole.lo <= 0:
        return None
    hi = INF if part.hi == INF else part.hi / whole.lo * 100
    lo = 0.0 if whole.hi == INF else part.lo / whole.hi * 100
    return Interval(lo, max(lo, hi))
