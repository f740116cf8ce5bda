"""What reaches a log: personal numbers masked, secrets replaced (the design's safety rules).

`MaskingFilter` sits on every handler of the root logger (`install_log_masking`, called by `python -m bot run`),
so it sees the records of every library too (python-telegram-bot, aiohttp, asyncio). For each record it
rewrites the rendered message, the traceback text and the stack text:

- mobile, ID-card and landline numbers, however written, as the core masks them (138****5678);
- the configured secrets (the bot token, the webhook secret, any setting declared secret) and their
  URL-encoded forms; anything shaped like a Telegram bot token (123456789:***); a password in a URL
  (postgresql://user:***@host/db) or in `password=…`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.core.text.mask import SecretRedactor, mask_pii

_SHAPES = SecretRedactor()


def mask_sensitive(text: str, redact: SecretRedactor = _SHAPES) -> str:
    """`13812345678` -> `138****5678`; `123456789:AAE…` -> `123456789:***`; `://u:pw@` -> `://u:***@`."""
    return mask_pii(redact(text)) if text else text


class MaskingFilter(logging.Filter):
    """A logging filter that masks the rendered message and any traceback or stack text of a record."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.redact = SecretRedactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a broken format string must not lose the log line
            msg = str(record.msg)
        record.msg = mask_sensitive(msg, self.redact)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_sensitive(record.exc_text, self.redact)
        if record.stack_info:
            record.stack_info = mask_sensitive(record.stack_info, self.redact)
        return True


def install_log_masking(logger: logging.Logger | None = None, secrets: Iterable[str] = ()) -> None:
    """Attach the masking filter to every handler of `logger` (default: the root logger). A handler that
    already has one gets it replaced, so the latest list of secrets applies."""
    target = logger or logging.getLogger()
    secrets = list(secrets)
    for handler in target.handlers:
        for old in [f for f in handler.filters if isinstance(f, MaskingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(MaskingFilter(secrets))
