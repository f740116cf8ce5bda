"""Statutory holidays from 《全国年节及纪念日放假办法》, as data, for years whose official notice is not out yet.

Each rule set (``statutory_rules:`` in knowledge/calendar.yaml) is in force from its ``from`` date until the
next one and lists the holidays for all citizens, each with an anchor and a number of days:

- ``solar M-D``: a Gregorian month-day (元旦 1-1, 劳动节 5-1, 国庆节 10-1);
- ``lunar M-D``: a lunar month-day in the ordinary (not leap) month (端午 5-5, 中秋 8-15);
- ``除夕``: the day before lunar new year (lunar 12-30 does not exist in years whose 12th month is short);
- ``清明``: the day of the 清明 solar term.

Art. 6: a holiday day that falls on a Saturday or Sunday is made up on a working weekday. Here each such day
gives the first weekday after that holiday's days that is not already off. The State Council's 调休 (weekend
days worked to join holidays into a longer break) cannot be predicted, so computed years have none.
Lunar dates and solar terms come from `lunar_python`, which computes them locally.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lunar_python import Solar

ONE_DAY = dt.timedelta(days=1)
MAX_DAYS = 10  # no statutory holiday is longer; a bigger number is a typo
_MONTH_DAY = re.compile(r"^(solar|lunar)\s+(\d{1,2})-(\d{1,2})$")


class CalendarError(ValueError):
    """A bad calendar file: the message names the file, the year or rule set, and the entry."""

    def __init__(self, message: str, year: int | None = None):
        super().__init__(message)
        self.year = year


def _date(solar: Solar) -> dt.date:
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


@dataclass(frozen=True)
class Anchor:
    kind: str  # solar | lunar | 除夕 | 清明
    month: int = 0
    day: int = 0

    def first_day(self, year: int) -> dt.date:
        if self.kind == "solar":
            return dt.date(year, self.month, self.day)
        # imported when a provisional year is first computed: most processes never need it (about 45 ms)
        from lunar_python import Lunar, Solar

        if self.kind == "lunar":
            return _date(Lunar.fromYmd(year, self.month, self.day).getSolar())
        if self.kind == "除夕":
            return _date(Lunar.fromYmd(year, 1, 1).getSolar()) - ONE_DAY
        # 清明 falls on 4–6 April; the lunar year around mid-April holds that year's term
        return _date(Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"])


@dataclass(frozen=True)
class StatutoryHoliday:
    name: str
    anchor: Anchor
    days: int

    def block(self, year: int) -> list[dt.date]:
        first = self.anchor.first_day(year)
        return [first + ONE_DAY * i for i in range(self.days)]


@dataclass(frozen=True)
class RuleSet:
    start: dt.date
    basis: str
    holidays: tuple[StatutoryHoliday, ...]

    def main_days(self, year: int) -> dict[str, dt.date]:
        """Each holiday's own day (春节: 初一, not 除夕)."""
        out = {}
        for h in self.holidays:
            day = h.anchor.first_day(year)
            out[h.name] = day + ONE_DAY if h.anchor.kind == "除夕" else day
        return out

    def days_off(self, year: int) -> set[dt.date]:
        blocks = sorted((h.block(year) for h in self.holidays), key=lambda b: b[0])
        off = {d for b in blocks for d in b}
        credited: set[dt.date] = set()  # a weekend day shared by two holidays is made up once
        for block in blocks:
            owed = [d for d in block if d.weekday() >= 5 and d not in credited]
            credited.update(owed)
            day = block[-1]
            for _ in owed:
                day += ONE_DAY
                while day.weekday() >= 5 or day in off:
                    day += ONE_DAY
                off.add(day)
        return off


class StatutoryRules:
    """The rule sets in force over time; days off per year are computed once and kept."""

    def __init__(self, sets: Iterable[RuleSet]):
        self.sets = tuple(sorted(sets, key=lambda s: s.start))
        if not self.sets:
            raise CalendarError("calendar.yaml: statutory_rules 至少需要一套放假规则")
        self._off: dict[int, frozenset[dt.date]] = {}

    def in_force(self, day: dt.date) -> RuleSet:
        """The set in force on `day`; days before the earliest set follow the earliest."""
        current = self.sets[0]
        for s in self.sets:
            if s.start <= day:
                current = s
        return current

    def days_off(self, year: int) -> frozenset[dt.date]:
        known = self._off.get(year)
        if known is None:
            known = self._off[year] = frozenset(self._compute(year))
        return known

    def _compute(self, year: int) -> set[dt.date]:
        # a set that comes into force in mid-year governs only the days from then on
        out: set[dt.date] = set()
        for s in {self.in_force(dt.date(year, 1, 1)), *(s for s in self.sets if s.start.year == year)}:
            out |= {d for d in s.days_off(year) if self.in_force(d) is s}
        return out

    def as_data(self) -> list[Any]:
        """A plain form for fingerprints."""
        return [
            [
                s.start.isoformat(),
                [[h.name, h.anchor.kind, h.anchor.month, h.anchor.day, h.days] for h in s.holidays],
            ]
            for s in self.sets
        ]


# ---------------------------------------------------------------------------------------------- parsing
def parse_rules(raw: Any, source: str = "calendar.yaml") -> StatutoryRules:
    if not isinstance(raw, list) or not raw:
        raise CalendarError(
            f"{source}: statutory_rules 应为放假规则的列表（每套规则有 from、basis、holidays）"
        )
    sets = [_parse_set(body, i, source) for i, body in enumerate(raw, 1)]
    starts = [s.start for s in sets]
    for day in starts:
        if starts.count(day) > 1:
            raise CalendarError(f"{source}: statutory_rules 中有两套规则都从 {day} 起施行")
    return StatutoryRules(sets)


def _parse_set(body: Any, index: int, source: str) -> RuleSet:
    where = f"{source}: statutory_rules 第 {index} 套规则"
    if not isinstance(body, Mapping):
        raise CalendarError(f"{where}应为映射（from / basis / holidays）")
    unknown = set(body) - {"from", "basis", "holidays"}
    if unknown:
        raise CalendarError(f"{where}有未知字段 {sorted(unknown)}")
    start = _parse_from(body.get("from"), where)
    where = f"{source}: statutory_rules 中自 {start} 起施行的规则"
    basis = body.get("basis")
    if not isinstance(basis, str) or not basis.strip():
        raise CalendarError(f"{where}缺少 basis（依据，如国务院令的文号）")
    holidays = body.get("holidays")
    if not isinstance(holidays, list) or not holidays:
        raise CalendarError(f"{where}缺少 holidays 列表")
    parsed = tuple(_parse_holiday(h, i, where) for i, h in enumerate(holidays, 1))
    names = [h.name for h in parsed]
    for name in names:
        if names.count(name) > 1:
            raise CalendarError(f"{where}中节日「{name}」重复")
    return RuleSet(start, basis.strip(), parsed)


def _parse_from(raw: Any, where: str) -> dt.date:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise CalendarError(f"{where}的 from「{raw}」应为施行日期 YYYY-MM-DD") from None


def _parse_holiday(raw: Any, index: int, where: str) -> StatutoryHoliday:
    if not isinstance(raw, Mapping):
        raise CalendarError(f"{where}的第 {index} 个节日应为映射（name / anchor / days）")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CalendarError(f"{where}的第 {index} 个节日缺少 name")
    label = f"{where}的节日「{name}」"
    unknown = set(raw) - {"name", "anchor", "days"}
    if unknown:
        raise CalendarError(f"{label}有未知字段 {sorted(unknown)}")
    days = raw.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise CalendarError(f"{label}的 days 应为 1 到 {MAX_DAYS} 之间的整数")
    return StatutoryHoliday(name.strip(), _parse_anchor(raw.get("anchor"), label), days)


def _parse_anchor(raw: Any, label: str) -> Anchor:
    text = str(raw or "").strip()
    if text in ("除夕", "清明"):
        return Anchor(text)
    m = _MONTH_DAY.match(text)
    if not m:
        raise CalendarError(f"{label}的 anchor「{text}」应为 solar 月-日、lunar 月-日、除夕 或 清明")
    kind, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    if kind == "lunar" and day == 30:
        raise CalendarError(f"{label}的 anchor「{text}」：农历三十并非每月都有（除夕请写 除夕）")
    if kind == "lunar" and not (1 <= month <= 12 and 1 <= day <= 29):
        raise CalendarError(f"{label}的 anchor「{text}」不是有效的农历日期")
    if kind == "solar":
        try:
            dt.date(2001, month, day)  # a common year: 2-29 would be missing in most years
        except ValueError:
            raise CalendarError(f"{label}的 anchor「{text}」不是每年都有的公历日期") from None
    return Anchor(kind, month, day)
