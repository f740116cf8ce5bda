"""A small local stand-in for the reverse proxy in front of several bot processes in webhook mode (nginx in
production, see README): an HTTP server on 127.0.0.1, in a thread of its own, that passes each request to the
next bot process in turn and hands back its answer.

Like nginx's `proxy_next_upstream error timeout`, a process that cannot be reached (refused, reset, killed) is
skipped for a while and the request goes to the next one; the answer is a 502 only when none is reachable.
With `mirror=True` every request is sent to two processes at once, as a proxy retrying after a timeout or
Telegram redelivering an update would do: both processes get the same update at the same time.

    with Dispatcher([8441, 8442, 8443]) as d:     # the bot processes' WEBHOOK_PORTs
        stand.deliver_to(d.url("tg"))             # WEBHOOK_URL's path
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections import Counter

import aiohttp
from aiohttp import web

PASSED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class Dispatcher:
    def __init__(self, ports: list[int], *, mirror: bool = False, down_for: float = 5.0):
        self.ports = list(ports)
        self.mirror = mirror
        self.down_for = down_for
        self.port = 0
        self.sent_to: Counter[int] = Counter()  # requests answered by each upstream port
        self.routed: dict[int, list[int]] = {}  # update_id -> the upstream ports that answered it
        self._down: dict[int, float] = {}
        self._turn = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("dispatcher did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def shutdown() -> None:
            if self._session is not None:
                await self._session.close()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def __enter__(self) -> Dispatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def serve() -> None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            app = web.Application()
            app.router.add_route("*", "/{path:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
            await web.SockSite(self._runner, sock).start()

        loop.run_until_complete(serve())
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    # ------------------------------------------------------------------ passing requests on
    def _candidates(self) -> list[int]:
        now = time.monotonic()
        start = next(self._turn) % len(self.ports)
        ordered = self.ports[start:] + self.ports[:start]
        up = [p for p in ordered if self._down.get(p, 0.0) <= now]
        return up + [p for p in ordered if p not in up]  # all down: try them anyway

    async def _forward(self, port: int, request: web.Request, body: bytes) -> tuple[int, bytes]:
        assert self._session is not None
        headers = {k: request.headers[k] for k in PASSED_HEADERS if k in request.headers}
        url = f"http://127.0.0.1:{port}{request.path_qs}"
        async with self._session.request(request.method, url, data=body, headers=headers) as resp:
            return resp.status, await resp.read()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        candidates = self._candidates()
        if self.mirror and len(candidates) > 1:
            # the same update to two processes at the same moment; the first one's answer goes back
            copy = asyncio.ensure_future(self._pass(candidates[1:2], request, body))
            first = await self._pass(candidates[:1] + candidates[2:], request, body)
            await copy
            return first
        return await self._pass(candidates, request, body)

    async def _pass(self, candidates: list[int], request: web.Request, body: bytes) -> web.Response:
        for port in candidates:
            try:
                status, payload = await self._forward(port, request, body)
            except (TimeoutError, aiohttp.ClientError, OSError):
                self._down[port] = time.monotonic() + self.down_for
                continue
            self.sent_to[port] += 1
            self.routed.setdefault(_update_id(body), []).append(port)
            return web.Response(status=status, body=payload)
        return web.Response(status=502, text=f"no upstream reachable (tried {candidates})")


def _update_id(body: bytes) -> int:
    try:
        return int(json.loads(body).get("update_id", 0))
    except (ValueError, AttributeError):
        return 0
