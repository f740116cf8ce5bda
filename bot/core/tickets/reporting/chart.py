"""The digest's chart (bot/core/charts.py draws it): the daily digest shows the hot spots and the SLA rate per
department; the weekly and monthly reports the new 诉求 per department and the SLA rate per department. Its
words are those of templates/tickets/chart.txt.j2. None when there is nothing to draw or no CJK font."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.charts import bar_chart
from bot.core.texts import Texts
from bot.core.tickets.reporting.figures import Figures
from bot.core.tickets.reporting.hotspots import HOT_DAYS, HotSpot

if TYPE_CHECKING:
    from bot.core.tickets.reporting.digest import Window

WORDS = "tickets/chart.txt.j2"
MAX_BARS = 12


def digest_chart(texts: Texts, period: str, win: Window, fig: Figures, hot: list[HotSpot]) -> bytes | None:
    def say(macro: str, **kw: object) -> str:
        return texts.say(WORDS, macro, **kw)

    sla = sorted(
        ((d.department, 100 * d.sla.met / d.sla.due) for d in fig.departments if d.sla.due),
        key=lambda x: x[1],
    )[:MAX_BARS]
    panels: list[tuple[str, list[tuple[str, float]], str]] = []
    if period == "day":
        spots = [(say("hot_label", place=h.place, subject=h.subject), float(h.count)) for h in hot[:MAX_BARS]]
        panels.append((say("hot_heading", n=HOT_DAYS), spots, "count"))
    else:
        volume = sorted(
            ((d.department, float(d.created)) for d in fig.departments if d.created), key=lambda x: -x[1]
        )
        panels.append((say("volume_heading"), volume[:MAX_BARS], "count"))
    panels.append((say("sla_heading"), sla, "percent"))
    return bar_chart(say("title", period=period, first=win.first, last=win.last), panels)
