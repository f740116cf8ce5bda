"""Mask mainland phone numbers and ID-card numbers in log lines (the design's safety rule)."""

from __future__ import annotations

import logging

from bot.core.text.mask import mask_pii


def mask_sensitive(text: str) -> str:
    """`13812345678` -> `138****5678`; `110101199003074518` -> `110101********4518` (the core's rules)."""
    return mask_pii(text) if text else text


class MaskingFilter(logging.Filter):
    """A logging filter that masks the rendered message and any traceback text of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a broken format string must not lose the log line
            msg = str(record.msg)
        record.msg = mask_sensitive(msg)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_sensitive(record.exc_text)
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach the masking filter to every handler of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
