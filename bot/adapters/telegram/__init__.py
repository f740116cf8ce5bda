"""Telegram adapter (python-telegram-bot v22): a thin layer over the channel-free core.

`run(settings)` is what `python -m bot run` calls; `build_application(settings, assistant)` builds the
Application (handlers, outbox, reminder and digest jobs) for tests and embedding.
"""

from .app import (
    ALLOWED_UPDATES,
    TelegramBridge,
    bridge_of,
    build_application,
    run,
    start_polling,
    stop_polling,
)
from .splitting import split_html

__all__ = [
    "ALLOWED_UPDATES",
    "TelegramBridge",
    "bridge_of",
    "build_application",
    "run",
    "split_html",
    "start_polling",
    "stop_polling",
]
