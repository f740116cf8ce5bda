"""Telegram adapter (python-telegram-bot v22): a thin layer over the channel-free core.

`run(settings)` is what `python -m bot run` calls; `build_application(settings, assistant)` builds the
Application (handlers, outbox, reminder and digest jobs) for tests and embedding.

The names are loaded on first use: `python -m bot run` builds the assistant (and reports a bad database or
knowledge base) before python-telegram-bot is imported.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# python-telegram-bot's documented opt-in: time periods such as RetryAfter.retry_after are datetime.timedelta
# (the form PTB v23 will use), which sending.py reads; without it PTB warns on every RetryAfter it builds.
# Set for the whole process before any RetryAfter exists; an explicit PTB_TIMEDELTA in the environment wins.
os.environ.setdefault("PTB_TIMEDELTA", "true")

_EXPORTS = {
    "ALLOWED_UPDATES": ".app",
    "TelegramBridge": ".app",
    "bridge_of": ".app",
    "build_application": ".app",
    "start_polling": ".app",
    "stop_polling": ".app",
    "run": ".runner",
    "split_html": ".splitting",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)
