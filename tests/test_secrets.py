"""No secret reaches a log or the terminal: the bot token, the webhook secret, a password in a URL (a future
DATABASE_URL, a proxy) — not in messages, not in arguments, not in tracebacks, not at DEBUG level."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.adapters.telegram.masking import MaskingFilter, install_log_masking
from bot.core.text.mask import redact_secrets
from bot.settings import ConfigError, Settings
from tests.conftest import make_settings
from tests.tg_standin import TOKEN as STANDIN_TOKEN
from tests.tg_standin import BotApiStandIn

ROOT = Path(__file__).resolve().parents[1]

TOKEN = "123456789:AAEabcdefghijklmnopqrstuvwxyz012345"
HOOK_SECRET = "hook-Secret_0123456789"
DB_URL = "postgresql://zwfw:Db-p4ss@w0rd@db.internal:5432/zwfw"


def filtered(
    message: str, *args: object, exc: BaseException | None = None, secrets=(TOKEN, HOOK_SECRET)
) -> str:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    record = logging.LogRecord("bot.test", logging.ERROR, __file__, 1, message, args, exc_info)
    MaskingFilter(secrets).filter(record)
    return logging.Formatter("%(message)s").format(record)


def _raised(text: str) -> BaseException:
    try:
        raise RuntimeError(text)
    except RuntimeError as exc:
        return exc


def test_configured_secrets_are_replaced_in_messages_arguments_and_tracebacks():
    exc = _raised(f"POST https://api.telegram.org/bot{TOKEN}/setWebhook secret_token={HOOK_SECRET}")
    text = filtered("令牌 %s，密钥 %s", TOKEN, HOOK_SECRET, exc=exc)
    assert "Traceback" in text and "RuntimeError" in text
    assert "AAEabcdefghijklmnopqrstuvwxyz012345" not in text and HOOK_SECRET not in text
    assert text.count("123456789:***") == 2 and "/bot123456789:***/setWebhook" in text
    assert "密钥 ***" in text and "secret_token=***" in text


def test_secret_shapes_are_replaced_even_when_not_configured():
    other = "987654321:ZZZabcdefghijklmnopqrstuvwxyz987654"
    text = filtered(
        "url %s / db %s / dsn %s",
        f"https://x/bot{other}/getMe",
        DB_URL,
        "host=db password=s3cret user=z",
        secrets=(),
    )
    assert "ZZZabc" not in text and "987654321:***" in text
    assert (
        "Db-p4ss" not in text and "w0rd" not in text and "postgresql://zwfw:***@db.internal:5432/zwfw" in text
    )
    assert "s3cret" not in text and "password=***" in text


def test_url_encoded_secret_and_stack_info_are_replaced():
    secret = "pa/ss:word+1"
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "q=%s", ("pa%2Fss%3Aword%2B1",), None)
    record.stack_info = f"Stack (most recent call last):\n  connect({secret!r})"
    MaskingFilter([secret]).filter(record)
    assert record.getMessage() == "q=***" and secret not in record.stack_info


def test_redaction_leaves_ordinary_text_alone():
    text = "诉求 SQ20261123-0007 于 2026-11-23 09:30:00 办结；见 https://zwfw.example.gov.cn/guide?id=12 。"
    assert redact_secrets(text, ["hook-Secret_0123456789"]) == text
    # a short secret is replaced only where it stands on its own, never inside a longer word
    assert redact_secrets("abc abcdef xabc abc.", ["abc"]) == "*** abcdef xabc ***."


def test_installed_filter_covers_every_logger_and_the_latest_secrets(capsys):
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    root.addHandler(handler)
    try:
        install_log_masking(secrets=["old-secret-1"])
        install_log_masking(secrets=[TOKEN, HOOK_SECRET])
        assert sum(isinstance(f, MaskingFilter) for f in handler.filters) == 1
        logging.getLogger("telegram.ext.ExtBot").error(
            "Calling `setWebhook` with `{'secret_token': %r}`", HOOK_SECRET
        )
        logging.getLogger("aiohttp.client").error("GET /bot%s/getMe", TOKEN)
    finally:
        root.removeHandler(handler)
    err = capsys.readouterr().err
    assert HOOK_SECRET not in err and "AAEabc" not in err
    assert "'secret_token': '***'" in err and "/bot123456789:***/getMe" in err


def test_settings_list_their_secrets_and_hide_them_in_repr():
    s = make_settings(telegram_bot_token=TOKEN, webhook_secret=HOOK_SECRET)
    assert sorted(s.secret_values()) == sorted([TOKEN, HOOK_SECRET])
    assert TOKEN not in repr(s) and HOOK_SECRET not in repr(s) and TOKEN not in str(s)
    assert make_settings().secret_values() == []


def test_setting_errors_never_echo_a_secret(tmp_path: Path):
    env = tmp_path / ".env"
    env.write_text(f"ADMIN_IDS=1\n{TOKEN}\n", encoding="utf-8")  # the token pasted on a line of its own
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={}, env_file=env)
    assert (
        "第 2 行" in str(info.value) and "AAEabc" not in str(info.value) and "123456789…" in str(info.value)
    )
    env.write_text(f"TELEGRAM_BOT_TOKEN {TOKEN}\n", encoding="utf-8")  # "=" forgotten
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={}, env_file=env)
    assert "TELEGRAM_BOT_TOKEN…" in str(info.value) and "AAEabc" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        Settings.load(environ={"TELEGRAM_BASE_URL": "socks5://bob:hunter2@proxy:1080/bot"}, env_file=None)
    assert "hunter2" not in str(info.value) and "bob:***@proxy" in str(info.value)


def test_webhook_run_at_debug_level_shows_neither_token_nor_secret(tmp_path: Path):
    """The real thing: `python -m bot run` in webhook mode with LOG_LEVEL=DEBUG, where python-telegram-bot logs
    every Bot API call with its parameters (setWebhook carries the secret) and the URL with the token."""
    port = _free_port()  # free now; the bot listens on it
    with BotApiStandIn() as stand:
        env = {
            "TELEGRAM_BOT_TOKEN": STANDIN_TOKEN,
            "TELEGRAM_BASE_URL": stand.base_url,
            "WEBHOOK_URL": "https://bot.example.org/tg",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_SECRET": HOOK_SECRET,
            "LOG_LEVEL": "DEBUG",
        }
        proc = _start_bot(tmp_path, env)
        try:
            deadline = time.monotonic() + 90  # a hang guard, generous for a loaded machine
            while not stand.calls_of("setMyCommands") and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            time.sleep(0.3)
        finally:
            proc.send_signal(2)  # Ctrl-C: a clean stop
            proc.wait(timeout=30)
        # read from files, not pipes: at DEBUG the start-up log alone can fill a pipe and block the bot
        out, err = ((tmp_path / name).read_text(encoding="utf-8") for name in ("out.log", "err.log"))
        (hook, *_) = stand.calls_of("setWebhook")
    assert proc.returncode == 0, err
    assert hook.params["secret_token"] == HOOK_SECRET  # the secret was in play
    text = out + err
    assert "setWebhook" in text and "secret_token': '***'" in text  # PTB logged the call, redacted
    assert HOOK_SECRET not in text
    assert STANDIN_TOKEN.split(":")[1] not in text and "123456:***" in text
    assert "Traceback" not in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_bot(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "KNOWLEDGE_", "WEBHOOK_", "LOG_LEVEL"))
        and k.lower() not in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    }
    full_env.update(
        {
            "DATABASE_PATH": str(tmp_path / "zwfw.db"),
            "KNOWLEDGE_DIR": str(ROOT / "tests" / "fixtures" / "kb_min"),  # starts faster
            "PYTHONPATH": str(ROOT),
            **env,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=full_env,
        stdout=(tmp_path / "out.log").open("w", encoding="utf-8"),  # noqa: SIM115 - the child owns it
        stderr=(tmp_path / "err.log").open("w", encoding="utf-8"),  # noqa: SIM115
        text=True,
    )
