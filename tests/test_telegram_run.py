"""`python -m bot run` when Telegram cannot be reached or refuses us: one short Chinese message naming the
problem, exit status 2, no traceback, and the token never printed. The bot runs as a subprocess (with a
timeout, so a hang fails the test) against the local Bot API stand-in or a closed port."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tg_standin import TOKEN as STANDIN_TOKEN
from tests.tg_standin import BotApiStandIn

ROOT = Path(__file__).resolve().parents[1]
# well-formed, but not the stand-in's: it answers 401 Unauthorized, as Telegram does for a revoked token
UNKNOWN_TOKEN = "123456789:AAEabcdefghijklmnopqrstuvwxyz012345"
SECRET_PART = UNKNOWN_TOKEN.split(":")[1]
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def bot_env(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment for `python -m bot run` in an empty directory (no .env): only what the test gives."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "KNOWLEDGE_", "WEBHOOK_", "LOG_LEVEL", "PTB_"))
        and k.lower() not in _PROXY_VARS
    }
    full_env.update(
        {
            "DATABASE_PATH": str(tmp_path / "zwfw.db"),
            # the small fixture knowledge base: these tests are about Telegram, and it starts faster
            "KNOWLEDGE_DIR": str(ROOT / "tests" / "fixtures" / "kb_min"),
            "PYTHONPATH": str(ROOT),
            **env,
        }
    )
    return full_env


def run_bot(tmp_path: Path, env: dict[str, str], *, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=bot_env(tmp_path, env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def assert_clean(proc: subprocess.CompletedProcess, *, max_lines: int) -> list[str]:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out and "Error:" not in out, out
    assert SECRET_PART not in out and STANDIN_TOKEN.split(":")[1] not in out, out
    assert proc.stdout == ""
    err = lines(proc.stderr)
    assert 1 <= len(err) <= max_lines, out
    return err


@pytest.fixture
def stand():
    with BotApiStandIn() as s:
        yield s


def test_rejected_token_is_one_message_and_exit_2(tmp_path, stand):
    proc = run_bot(tmp_path, {"TELEGRAM_BOT_TOKEN": UNKNOWN_TOKEN, "TELEGRAM_BASE_URL": stand.base_url})
    (message,) = assert_clean(proc, max_lines=1)
    assert message.startswith("TELEGRAM_BOT_TOKEN（机器人 123456789）被 Telegram 拒绝")
    assert "令牌无效或已被撤销" in message and "@BotFather" in message
    # the bot did reach the server, asked once (a rejected token is not retried), and was told 401
    assert [c.status for c in stand.calls_of("getMe")] == [401]


def test_unreachable_bot_api_server_is_retried_then_exit_2(tmp_path):
    port = closed_port()
    proc = run_bot(
        tmp_path,
        {
            "TELEGRAM_BOT_TOKEN": UNKNOWN_TOKEN,
            "TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}/bot",
            "TELEGRAM_CONNECT_ATTEMPTS": "2",
        },
    )
    err = assert_clean(proc, max_lines=2)
    first, final = err
    # one line per failed attempt (the growing waits: test_network_errors_are_retried_with_growing_waits…),
    # then the message, naming the server and the setting
    assert "WARNING" in first and "第 1/2 次" in first and "1 秒后重试" in first
    assert final.startswith(f"无法连接 Bot API 服务器 http://127.0.0.1:{port}/bot（TELEGRAM_BASE_URL）")
    assert "连接被拒绝" in final and "（已尝试 2 次）" in final


def test_failing_proxy_is_not_retried_and_its_password_not_shown(tmp_path, stand):
    port = closed_port()
    proc = run_bot(
        tmp_path,
        {
            "TELEGRAM_BOT_TOKEN": STANDIN_TOKEN,
            "TELEGRAM_BASE_URL": stand.base_url,
            "HTTP_PROXY": f"http://bob:hunter2@127.0.0.1:{port}",
        },
    )
    (message,) = assert_clean(proc, max_lines=1)
    assert message.startswith(
        f"无法通过代理 http://bob:***@127.0.0.1:{port}（HTTP_PROXY）连接 Bot API 服务器"
    )
    assert "hunter2" not in proc.stderr
    assert stand.calls == []


def test_token_revoked_while_running_ends_with_the_same_message_and_closes_cleanly(tmp_path, stand):
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=bot_env(tmp_path, {"TELEGRAM_BOT_TOKEN": STANDIN_TOKEN, "TELEGRAM_BASE_URL": stand.base_url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # polling, not merely started: a token revoked between the command menus and the first getUpdates is
        # refused by deleteWebhook, and no getUpdates would ever see the 401 awaited below
        _wait(lambda: stand.polls_started() or proc.poll() is not None)
        stand.revoke_token()  # @BotFather /revoke while the bot is polling
        _wait(lambda: any(c.status == 401 for c in stand.calls_of("getUpdates")))
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)  # the operator stops it to put in the new token
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    assert lines(err)[-1].startswith("TELEGRAM_BOT_TOKEN（机器人 123456）被 Telegram 拒绝")
    # python-telegram-bot's own sessions and tasks were closed, not left to the garbage collector
    assert "Unclosed" not in err and "Task was destroyed" not in err and "Event loop is closed" not in err
    assert STANDIN_TOKEN.split(":")[1] not in out + err


def _wait(predicate, limit: float = 90) -> None:  # a hang guard, generous for a loaded machine
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --------------------------------------------------------------------------------------------- in process


def _network_error(cause: BaseException):
    from telegram.error import NetworkError

    try:
        raise NetworkError(f"aiohttp.ClientConnectorError: {cause}") from cause
    except NetworkError as exc:
        return exc


async def test_network_errors_are_retried_with_growing_waits_then_reported():
    from bot.adapters.telegram.runner import with_retries
    from bot.app import StartupError
    from tests.conftest import make_settings

    settings = make_settings(telegram_bot_token=UNKNOWN_TOKEN, telegram_connect_attempts=5)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def refused() -> None:
        raise _network_error(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(StartupError) as info:
        await with_retries(refused, settings, sleep=sleep)
    assert waits == [1, 2, 4, 8]
    assert str(info.value).startswith("无法连接 Telegram 服务器（api.telegram.org）：连接被拒绝")
    assert "（已尝试 5 次）" in str(info.value) and "HTTPS_PROXY" in str(info.value)

    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise _network_error(socket.gaierror(-2, "Name or service not known"))
        return "ok"

    waits.clear()
    assert await with_retries(flaky, settings, sleep=sleep) == "ok"
    assert waits == [1, 2]


def test_socks_proxy_with_aiohttp_is_a_setting_error(monkeypatch: pytest.MonkeyPatch):
    from bot.adapters.telegram.runner import check_proxy
    from bot.app import StartupError
    from tests.conftest import make_settings

    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "socks5://bob:hunter2@127.0.0.1:1080")
    with pytest.raises(StartupError) as info:
        check_proxy(make_settings(telegram_bot_token=UNKNOWN_TOKEN))
    message = str(info.value)
    assert "SOCKS" in message and "TELEGRAM_HTTP_CLIENT=httpx" in message and "HTTPS_PROXY" in message
    assert "hunter2" not in message and "bob:***@" in message
    check_proxy(make_settings(telegram_bot_token=UNKNOWN_TOKEN, http_client="httpx"))  # httpx can use it


def test_explanations_name_the_cause():
    from telegram.error import BadRequest, InvalidToken, NetworkError, TimedOut

    from bot.adapters.telegram.runner import explain, explain_webhook, retry_wait
    from tests.conftest import make_settings

    official = make_settings(telegram_bot_token=UNKNOWN_TOKEN)
    rejected = explain(InvalidToken(f"The token `{UNKNOWN_TOKEN}` was rejected by the server."), official)
    assert not rejected.retry and SECRET_PART not in rejected.message()
    assert rejected.message().startswith("TELEGRAM_BOT_TOKEN（机器人 123456789）被 Telegram 拒绝：")
    assert explain(TimedOut(), official).retry
    assert "连接超时" in explain(TimedOut(), official).message()
    dns = explain(_network_error(socket.gaierror(-2, "Name or service not known")), official)
    assert dns.retry and "无法解析域名 api.telegram.org" in dns.message()
    bad_gateway = explain(NetworkError("Bad Gateway"), official)  # the server answered 502
    assert bad_gateway.retry and "暂时无法正常应答" in bad_gateway.message()
    webhook = make_settings(
        telegram_bot_token=UNKNOWN_TOKEN, webhook_url="https://bot.example.org:9999/tg", webhook_port=8443
    )
    refused = explain_webhook(
        BadRequest("Bad webhook: webhook can be set up only on ports 80, 88, 443 or 8443"), webhook
    )
    assert not refused.retry and refused.message().startswith(
        "Telegram 不接受 WEBHOOK_URL https://bot.example.org:9999/tg"
    )
    assert [retry_wait(n) for n in (1, 2, 3, 7, 8, 20)] == [1, 2, 4, 60, 60, 60]


# --------------------------------------------------------------------------------------------- after start-up


@pytest.mark.parametrize(
    ("status", "words", "level"),
    [
        (502, "与 Telegram 的连接暂时中断", logging.WARNING),
        (409, "同一令牌同时只能运行一个 python -m bot run", logging.ERROR),
    ],
    ids=["bad-gateway", "conflict"],
)
async def test_polling_errors_after_start_are_one_line_without_traceback(
    status: int, words: str, level: int, caplog: pytest.LogCaptureFixture
):
    from bot.adapters.telegram import build_application, start_polling, stop_polling
    from tests.test_telegram_adapter import FakeAssistant
    from tests.test_telegram_adapter import make_settings as adapter_settings

    with BotApiStandIn() as stand:
        app = build_application(adapter_settings(stand), FakeAssistant(), jobs=False)
        await start_polling(app, poll_timeout=1)
        try:
            with caplog.at_level(logging.WARNING):
                stand.fail_next(1, status=status, methods=("getUpdates",))
                await stand.wait_for(lambda: any(words in r.getMessage() for r in caplog.records), what=words)
                # polling goes on by itself: the next message is answered
                stand.push_message(4242, "你好")
                await stand.wait_for_messages(4242, 1)
        finally:
            await stop_polling(app)
    (record,) = [r for r in caplog.records if words in r.getMessage()]
    assert record.levelno == level and record.exc_info is None
    assert not any(r.exc_info for r in caplog.records)
