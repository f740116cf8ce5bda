"""The HTTP client under python-telegram-bot: aiohttp instead of PTB's default httpx.

Every update costs at least one Bot API call (sendMessage; answerCallbackQuery too for a button press). With
httpx a call took about 1.8 ms of CPU on the bench machine, with aiohttp (C HTTP parser) about 0.45 ms, which
is most of the difference between 290 and 300+ updates/s in bench/bench_telegram.py. The behaviour PTB relies
on is kept: (status, body) back for every answer, TimedOut for timeouts (pool timeouts included), NetworkError
for everything else that goes wrong on the wire. HTTPS_PROXY / HTTP_PROXY from the environment are honoured.

`TELEGRAM_HTTP_CLIENT=httpx` switches back to PTB's own HTTPXRequest (e.g. for a SOCKS proxy).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}


def _pick(value: Any, default: float | None) -> float | None:
    # PTB passes its public sentinel BaseRequest.DEFAULT_NONE when the caller did not choose a timeout
    return default if value is BaseRequest.DEFAULT_NONE else value


class AiohttpRequest(BaseRequest):
    __slots__ = ("_connect", "_limit", "_media_write", "_pool", "_proxies", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 8,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 10.0,
        media_write_timeout: float | None = 20.0,
    ):
        self._limit = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                headers={"User-Agent": self.USER_AGENT},
            )

    def _proxy_for(self, url: str) -> str | None:
        """The proxy from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (and NO_PROXY), looked up once per host:
        aiohttp's trust_env would read the environment and ~/.netrc in a thread for every request."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxies = urllib.request.getproxies_environment()
            # typeshed leaves out this public (if undocumented) function of urllib.request
            bypass = (
                urllib.request.proxy_bypass_environment(key[1], proxies)  # type: ignore[attr-defined]
                if key[1]
                else True
            )
            self._proxies[key] = None if bypass else proxies.get(key[0]) or proxies.get("all")
        return self._proxies[key]

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        read = _pick(read_timeout, self._read)
        write = _pick(write_timeout, self._media_write if files else self._write)
        connect = _pick(connect_timeout, self._connect)
        pool = _pick(pool_timeout, self._pool)
        # aiohttp has no write timeout of its own: the write budget is part of the total instead
        parts = (read, write, connect, pool)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        data: Any = None
        headers = None
        if request_data is not None:
            if files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
            else:
                # a JSON body: the Bot API takes it like a form, and json.dumps (C) is much cheaper than
                # urlencoding Chinese text in pure Python
                data = json.dumps(request_data.parameters, ensure_ascii=False).encode("utf-8")
                headers = _JSON
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout, proxy=self._proxy_for(url)
            ) as res:
                return res.status, await res.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
