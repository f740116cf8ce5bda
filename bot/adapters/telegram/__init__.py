"""Telegram adapter (python-telegram-bot v22): a thin layer over the channel-free core.

`run(settings)` is what `python -m bot run` calls; `build_application(settings, assistant)` builds the
Application (handlers, outbox, reminder and digest jobs) for tests and embedding.

The names are loaded on first use: `python -m bot run` builds the assistant (and reports a bad database or
knowledge base) before python-telegram-bot is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

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
