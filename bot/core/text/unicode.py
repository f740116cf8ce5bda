"""Text that can be stored and sent: lone surrogates (a broken client, or JSON's "\\ud800" escapes) cannot be
encoded as UTF-8, so neither SQLite, PostgreSQL nor Telegram accepts them. Each becomes U+FFFD (�) where a
message enters the core, so the rest of the message is kept and nothing downstream fails on it."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def encodable(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD; anything else unchanged."""
    return _SURROGATE.sub(REPLACEMENT, text) if text else text
