"""Command-line values checked before any work starts: each bad one is one sentence naming the option."""

from __future__ import annotations

import argparse
import datetime as dt

# the years the calendar, the SLA arithmetic and the stored Unix-second times can all work with
FIRST_YEAR, LAST_YEAR = 1970, 2099


class BadInput(Exception):
    """A command-line value that cannot be used; the message (Chinese) says which and why. Exit status 2."""


def day(option: str, raw: str) -> dt.date:
    """A calendar day written YYYY-MM-DD, within the years the assistant can compute with."""
    try:
        value = dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise BadInput(f"{option}「{raw}」格式应为 YYYY-MM-DD，例如 2026-11-23。") from None
    return _in_range(option, raw, value)


def moment(option: str, raw: str, tz: dt.tzinfo) -> dt.datetime:
    """A date and time (YYYY-MM-DD HH:MM, an offset allowed), in `tz` when no offset is written."""
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadInput(
            f'{option}「{raw}」无法识别，请写成 YYYY-MM-DD HH:MM，例如 "2026-12-20 10:00"。'
        ) from None
    _in_range(option, raw, value.date())
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _in_range(option: str, raw: str, value: dt.date) -> dt.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise BadInput(f"{option}「{raw}」超出可计算的范围：请写 {FIRST_YEAR}–{LAST_YEAR} 年之间的日期。")
    return value


def positive_int(raw: str) -> int:
    """For argparse `type=`: a whole number ≥ 1."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"「{raw}」不是整数") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"应为大于 0 的整数，而不是 {value}")
    return value
