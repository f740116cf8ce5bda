"""The HTTP client under python-telegram-bot: aiohttp by default, PTB's httpx by setting.

The end-to-end tests in test_telegram_e2e.py run on the default client; here both clients answer a question
and survive a 429 and a 500 on a direct reply, and the aiohttp client maps timeouts, refused connections and
proxies the way PTB expects."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

from bot.adapters.telegram import build_application, start_polling, stop_polling
from bot.adapters.telegram.http import AiohttpRequest
from bot.settings import Settings
from tests.tg_standin import TOKEN, BotApiStandIn

CITIZEN = 4242


@pytest.mark.parametrize("client", ["aiohttp", "httpx"])
async def test_answer_and_retried_reply_over_each_client(build_app, tmp_path: Path, client: str):
    stand = BotApiStandIn().start()
    assistant = (await build_app(tmp_path / "t.db", None)).assistant
    settings = Settings(
        telegram_bot_token=TOKEN, telegram_base_url=stand.base_url, rate_limit=0, http_client=client
    )
    app = build_application(settings, assistant, jobs=False)
    await start_polling(app, poll_timeout=1)
    try:
        stand.push_message(CITIZEN, "身份证丢了怎么补办")
        first = (await stand.wait_for_messages(CITIZEN, 1))[0]
        assert "居民身份证补领" in first["text"]
        # the direct reply to the next question fails twice, then goes through: retried, not lost
        stand.fail_next(1, status=429, retry_after=1, chat_id=CITIZEN)
        stand.fail_next(1, status=500, chat_id=CITIZEN)
        stand.push_message(CITIZEN, "社保卡怎么办")
        second = (await stand.wait_for_messages(CITIZEN, 2, limit=15))[1]
        assert "社会保障卡" in second["text"]
        statuses = [c.status for c in stand.calls_of("sendMessage")]
        assert statuses == [200, 429, 500, 200]
    finally:
        await stop_polling(app)
        await assistant.close()
        stand.stop()


async def _silent_server() -> tuple[asyncio.base_events.Server, int]:
    """Accepts connections and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_aiohttp_read_timeout_is_timed_out():
    server, port = await _silent_server()
    request = AiohttpRequest(2, read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST", RequestData())
    finally:
        await request.shutdown()
        server.close()


async def test_aiohttp_refused_connection_is_network_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = AiohttpRequest(2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as info:
            await request.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST", RequestData())
        assert not isinstance(info.value, TimedOut)
    finally:
        await request.shutdown()


async def test_aiohttp_not_initialized_says_so():
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/botX/getMe", "POST")


def test_aiohttp_proxy_from_environment(monkeypatch: pytest.MonkeyPatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = AiohttpRequest()
    assert request._proxy_for("https://api.telegram.org/bot1:x/getMe") == "http://proxy.example:3128"
    assert request._proxy_for("http://127.0.0.1:8081/bot1:x/getMe") is None
    assert AiohttpRequest()._proxy_for("http://api.telegram.org/bot1:x/getMe") is None  # no HTTP_PROXY
