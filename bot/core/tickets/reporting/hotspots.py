"""Hot spots: 诉求 clustered by place and subject, rising week over week, for the daily digest.

Each ticket gets a `hot_key` when it is filed ("place｜subject"): the place is the known place routing found
(places.yaml: a 小区, 社区 or road, so that "幸福家园东门" and "幸福家园小区" are one place) or else the place the
citizen wrote, tidied; the subject is the 派单目录 matter that routing matched (占道经营, 噪声扰民…) or else the
category. A ticket without a place has no key: volume by category alone is not a hot spot.

The digest counts keys over the last HOT_DAYS days and the same span before it (one indexed GROUP BY on
tickets_hot(created_at, hot_key) per span); a key is hot with at least `HOT_MIN` 诉求 now and more than before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.storage import Store

SEP = "｜"
HOT_DAYS = 7
HOT_MIN = 3
MAX_PLACE = 30
_SPACE = re.compile(r"\s+")


def hot_key(place: str | None, category: str, decision: Any = None) -> str | None:
    """The key a ticket is clustered by, or None without a place. `decision`: routing's Decision, if any."""
    known = getattr(getattr(decision, "place", None), "name", None)
    where = known or _SPACE.sub("", place or "")[:MAX_PLACE]
    if not where:
        return None
    entry = getattr(decision, "entry", None)
    subject = getattr(entry, "matter", None) or category
    return f"{where}{SEP}{subject}"


@dataclasses.dataclass(frozen=True)
class HotSpot:
    place: str
    subject: str
    count: int  # in the last HOT_DAYS days
    before: int  # in the HOT_DAYS days before that

    @property
    def rise(self) -> int:
        return self.count - self.before


async def hot_spots(
    store: Store,
    now: dt.datetime,
    departments: tuple[str, ...] | None = None,
    top: int = 5,
    days: int = HOT_DAYS,
    minimum: int = HOT_MIN,
) -> list[HotSpot]:
    """The rising clusters of the last `days` days, the biggest rise first, at most `top`."""
    span = dt.timedelta(days=days)
    current = await store.reports.hot_spots(now - span, now, departments, limit=top * 10)
    candidates = [(k, n) for k, n in current if n >= minimum]
    if not candidates:
        return []
    before = dict(await store.reports.hot_spots(now - 2 * span, now - span, departments, limit=10_000))
    found = []
    for key, n in candidates:
        place, _, subject = key.partition(SEP)
        spot = HotSpot(place, subject, n, before.get(key, 0))
        if spot.rise > 0:
            found.append(spot)
    found.sort(key=lambda s: (-s.rise, -s.count, s.place))
    return found[:top]
