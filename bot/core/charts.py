"""The digest's chart: 诉求 volume by category and the SLA rate by department (weekly and monthly), or the hot
spots (daily), drawn with matplotlib into a PNG.

Chinese labels need a CJK font. It is looked up among the fonts matplotlib's font manager knows (the system's,
e.g. Debian's fonts-wqy-microhei or fonts-noto-cjk, which .ci/run installs); nothing is downloaded. Without one
the chart is not drawn — a chart of tofu boxes helps nobody — the log says so once, and the digest goes out as
text alone. matplotlib is imported only when a chart is drawn, with the Agg backend (no display).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

# preferred first; any font whose name says CJK or names a Chinese family will do
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
SAMPLE = "诉求办结率街道"  # characters the font must have


@cache
def cjk_font() -> str | None:
    """The name of an installed font that draws Chinese, or None (logged once)."""
    try:
        from matplotlib import font_manager
    except ImportError:
        log.warning("matplotlib is not installed: digests are sent without a chart")
        return None
    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    candidates = [n for n in CJK_FAMILIES if n in known] + sorted(
        n for n in known if "CJK" in n and n not in CJK_FAMILIES
    )
    for name in candidates:
        if _draws(known[name]):
            return name
    log.warning(
        "no CJK font found by matplotlib's font manager (install fonts-wqy-microhei or fonts-noto-cjk): "
        "digests are sent without a chart"
    )
    return None


def _draws(path: str) -> bool:
    """Whether the font file has glyphs for SAMPLE (a .ttc collection is read through its first face)."""
    try:
        from matplotlib.ft2font import FT2Font

        face = FT2Font(path)
        cmap = face.get_charmap()
    except Exception:  # noqa: BLE001 - an unreadable font file is simply not a candidate
        return False
    return all(ord(ch) in cmap for ch in SAMPLE)


def bar_chart(
    title: str,
    panels: Sequence[tuple[str, Sequence[tuple[str, float]], str]],
) -> bytes | None:
    """A PNG with one horizontal bar panel per (heading, [(label, value)], unit: "count" or "percent"); None when there is
    no CJK font or nothing to draw."""
    panels = [p for p in panels if p[1]]
    font = cjk_font()
    if font is None or not panels:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    rows = max(len(p[1]) for p in panels)
    fig = Figure(figsize=(6.4 * len(panels), 1.2 + 0.42 * rows), dpi=110)
    fig.suptitle(title, fontfamily=font, fontsize=13)
    for i, (heading, data, unit) in enumerate(panels):
        ax: Any = fig.add_subplot(1, len(panels), i + 1)
        labels = [label for label, _ in data][::-1]
        values = [v for _, v in data][::-1]
        bars = ax.barh(range(len(values)), values, color="#3a7bd5" if unit == "count" else "#2e9e6b")
        ax.set_yticks(range(len(values)), labels, fontfamily=font, fontsize=9)
        ax.set_title(heading, fontfamily=font, fontsize=11)
        if unit == "percent":
            ax.set_xlim(0, 100)
        for bar, v in zip(bars, values, strict=True):
            text = f"{v:.1f}%" if unit == "percent" else f"{int(v)}"
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {text}", va="center", fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
