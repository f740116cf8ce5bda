"""Replies are Telegram-style HTML; this turns them into plain text for the console, the command line, the
plain-text fallback on Telegram and previews in staff listings."""

from __future__ import annotations

import html
import re

_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(markup: str) -> str:
    """Tags removed and entities decoded; a link keeps its address after its text, since plain text cannot
    carry it any other way."""
    text = _LINK.sub(
        lambda m: m.group(2) if m.group(1) == m.group(2) else f"{m.group(2)}（{m.group(1)}）", markup
    )
    return html.unescape(_TAG.sub("", text))
