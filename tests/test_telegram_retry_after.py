"""python-telegram-bot's RetryAfter.retry_after becomes a timedelta in v23 and warns on every RetryAfter until then,
unless the documented PTB_TIMEDELTA opt-in is set. The adapter package sets it for the process and the sender
reads the timedelta (the suite also turns PTBDeprecationWarning into an error, in pyproject.toml)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_retry_after_is_read_as_a_timedelta_without_deprecation_warnings(tmp_path):
    """In a fresh interpreter without PTB_TIMEDELTA in its environment, deprecation warnings as errors."""
    code = (
        "import bot.adapters.telegram.sending as s\n"
        "from telegram.error import RetryAfter\n"
        "e = RetryAfter(3)\n"
        "print(type(e.retry_after).__name__, s.retry_after_seconds(e))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PTB_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{dt.timedelta.__name__} 3.0"
