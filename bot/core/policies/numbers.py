"""Numbers as people write them in a message: Arabic or Chinese numerals, with the approximations of everyday
speech, read into intervals (bot/core/policies/interval.py).

    50, 五十, 一千二百, 一百二 (=120)      exact
    三十多 → 31–39, 两百多 → 201–299     "多": above N, below the next step of N's last digit
    十几 → 11–19, 二十几 → 21–29, 几十 → 20–99, 几 → 2–9
    两三 → 2–3, 三四百 → 300–400, 二三十 → 20–30
    二百来, 一百左右, 大约50 → the number itself
    不到100 → 0–100, 100以上 / 超过100 → 100 and up

The rules are the ones written down with the evaluation data (bench/data/policy_README.md).
"""

from __future__ import annotations

import re

from .interval import INF, Interval

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SCALES = {"十": 10, "百": 100, "千": 1000}
CORE = r"(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千几]+)"
# a quantity: an optional bound word, the numeral, an approximation, a multiplier (for money), an approximation
QUANTITY = re.compile(
    rf"(?P<pre>不到|不足|少于|低于|超过|多于|高于|大约|大概|约|差不多|将近|接近|近|上)?"
    rf"(?P<core>{CORE})"
    r"(?P<mod>多|来|几|左右|上下|出头)?"
    r"(?P<unit>个多亿|多亿|个亿|千万|百万|十万|万元|万|亿|千|元|块钱|块|w|k)?"
    r"(?P<mod2>多|左右|来|上下|以上|以下|出头)?"
)
# money multipliers in 万元
MONEY_UNITS = {
    "个多亿": 10000.0,
    "多亿": 10000.0,
    "个亿": 10000.0,
    "亿": 10000.0,
    "千万": 1000.0,
    "百万": 100.0,
    "十万": 10.0,
    "万元": 1.0,
    "万": 1.0,
    "w": 1.0,
    "千": 0.1,
    "k": 0.1,
    "元": 0.0001,
    "块": 0.0001,
    "块钱": 0.0001,
}


def _plain(s: str) -> float | None:
    """A Chinese numeral without 几 or ranges: 一千二百 = 1200, 一百二 = 120, 十五 = 15, 两百 = 200."""
    if not s:
        return None
    total, current, last_scale, zero = 0, 0, None, False
    for ch in s:
        if ch in _DIGITS:
            current = _DIGITS[ch]
            zero = zero or current == 0
        elif ch in _SCALES:
            scale = _SCALES[ch]
            total += (current or 1) * scale
            current, last_scale, zero = 0, scale, False
        else:
            return None
    if current:
        # 一百二 is 120 and 两千五 is 2500: a digit right after a scale is one step below it (一百零五 is 105)
        step = last_scale // 10 if last_scale and last_scale >= 100 and not zero else 1
        total += current * step
    return float(total)


def _step(n: float) -> float:
    """The place of the last non-zero digit: 30 → 10, 200 → 100, 35 → 1."""
    n = int(n)
    if n <= 0:
        return 1.0
    step = 1
    while n % 10 == 0 and n >= 10:
        n //= 10
        step *= 10
    return float(step)


def core_range(core: str) -> tuple[float, float] | None:
    """The numeral alone as (lo, hi)."""
    if re.fullmatch(r"\d+(?:\.\d+)?", core):
        v = float(core)
        return v, v
    if "几" in core:
        head, _, tail = core.partition("几")
        if not tail:  # 几, 十几, 二十几, 一百几
            base = _plain(head) or 0.0
            step = _step(base) / 10 if base >= 100 else 1.0
            if not head:
                return 2.0, 9.0
            return base + step, base + 9 * step
        scale = _plain("一" + tail)  # 几十, 几百, 几千
        if scale is None or head:
            return None
        return 2 * scale, 10 * scale - 1
    # two neighbouring digits: 两三, 三四百, 二三十
    m = re.fullmatch(r"([一二两三四五六七八九])([一二三四五六七八九])([十百千]?)", core)
    if m and _DIGITS[m.group(2)] == _DIGITS[m.group(1)] + 1:
        scale = _SCALES.get(m.group(3), 1)
        return float(_DIGITS[m.group(1)] * scale), float(_DIGITS[m.group(2)] * scale)
    plain = _plain(core)
    return None if plain is None else (plain, plain)


def quantity(m: re.Match[str], *, money: bool) -> Interval | None:
    """The interval of one QUANTITY match, in 万元 when `money` (a multiplier is then needed unless the number
    is given in 元)."""
    got = core_range(m.group("core"))
    if got is None:
        return None
    lo, hi = got
    mod = m.group("mod") or ""
    if mod == "多" or mod == "出头":
        if lo == hi:
            step = _step(lo)
            lo, hi = (lo + 1, lo + step - 1) if step > 1 else (lo, lo)
    elif mod == "几" and lo == hi:
        step = _step(lo) / 10 if lo >= 100 else 1.0
        lo, hi = lo + step, lo + 9 * step
    unit = m.group("unit") or ""
    factor = 1.0
    if money:
        got_factor = MONEY_UNITS.get(unit)
        if got_factor is None:
            return None
        factor = got_factor
        lo, hi = lo * factor, hi * factor
    elif unit:
        return None  # 万, 元 after a count of people is not a count of people
    pre = m.group("pre") or ""
    mod2 = m.group("mod2") or ""
    if "多" in unit:  # 三个多亿: above three 亿, below four
        mod2 = "多"
    if pre in ("不到", "不足", "少于", "低于") or mod2 == "以下":
        return Interval(0.0, hi)
    if pre in ("超过", "多于", "高于", "上") or mod2 == "以上":
        return Interval(lo, INF)
    if mod2 == "多" and lo == hi and unit:
        return Interval(lo, lo + factor)  # 一个亿多: above one 亿, below two
    return Interval(lo, hi)


def percent(text: str) -> float | None:
    """百分之三, 3%, 3.5％ → the number."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*[%％]", text)
    if m:
        return float(m.group(1))
    m = re.search(rf"百分之({CORE})", text)
    if m:
        got = core_range(m.group(1))
        return got[0] if got else None
    return None
