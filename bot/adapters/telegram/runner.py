"""`python -m bot run`: build the assistant, then run the Telegram bot until interrupted (long polling, or a
webhook when WEBHOOK_URL is set). python-telegram-bot is imported only once the assistant has been built,
so a bad database or knowledge base is reported at once.

Connecting is done here, before python-telegram-bot's own run loop, so that what goes wrong at start-up is
told in one Chinese sentence naming the cause, like a bad setting, and never as a traceback:

- the token is rejected (401/404 from getMe): exit status 2 straight away, retrying cannot help;
- the proxy fails or is misconfigured: exit status 2 straight away;
- the network, Telegram's servers or the Bot API server of TELEGRAM_BASE_URL cannot be reached, time out or
  answer 5xx: up to TELEGRAM_CONNECT_ATTEMPTS attempts with growing waits (1 s, 2 s, 4 s, … at most 60 s),
  one log line per failed attempt, then exit status 2;
- in webhook mode, Telegram refuses WEBHOOK_URL, or the local port cannot be opened: exit status 2.

Logging goes through `MaskingFilter`, which masks personal numbers and replaces every configured secret.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import ssl
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse, urlsplit

from bot.core.text.mask import redact_secrets
from bot.settings import Settings

from .masking import install_log_masking

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger("bot.telegram")

OFFICIAL_API = "https://api.telegram.org/bot"
WAIT_FIRST = 1.0
WAIT_MAX = 60.0


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, which contains the bot token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings go through the masking filter too
    install_log_masking(secrets=settings.secret_values())


def retry_wait(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): 1, 2, 4, 8, … at most 60."""
    return min(WAIT_MAX, WAIT_FIRST * 2 ** (attempt - 1))


# --------------------------------------------------------------------------------------------- explaining


def _api_url(settings: Settings) -> str:
    return settings.telegram_base_url or OFFICIAL_API


def _proxy(settings: Settings) -> tuple[str, str] | None:
    """(proxy URL, the variable it came from) for the Bot API address, as HTTPS_PROXY / HTTP_PROXY /
    ALL_PROXY and NO_PROXY say; None when the connection is direct."""
    parts = urlsplit(_api_url(settings))
    proxies = urllib.request.getproxies_environment()
    host = parts.hostname or ""
    if not host or urllib.request.proxy_bypass_environment(host, proxies):
        return None
    for key in (parts.scheme, "all"):
        if proxies.get(key):
            name = next(
                (v for v in (f"{key.upper()}_PROXY", f"{key}_proxy") if os.environ.get(v) == proxies[key]),
                f"{key.upper()}_PROXY",
            )
            return proxies[key], name
    return None


def _where(settings: Settings) -> str:
    base = settings.telegram_base_url
    if base:
        return f"Bot API 服务器 {redact_secrets(base)}（TELEGRAM_BASE_URL）"
    return "Telegram 服务器（api.telegram.org）"


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(out) < 12 and e not in out:
        out.append(e)
        e = e.__cause__ or e.__context__
    return out


def _reason(exc: BaseException, host: str) -> str:
    """What went wrong on the wire, in a few words."""
    from telegram.error import TimedOut

    for e in _chain(exc):
        if isinstance(e, socket.gaierror) or (isinstance(e, OSError) and e.errno in (-2, -3, -5)):
            return f"无法解析域名 {host}"
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            return "连接被拒绝"
        if isinstance(e, TimedOut | TimeoutError):
            return "连接超时"
        if isinstance(e, ssl.SSLError):
            return "TLS（HTTPS）握手失败"
        if isinstance(e, OSError) and e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "网络不可达"
        if isinstance(e, ValueError):
            return "地址无效"
    return f"网络错误（{type(exc.__cause__ or exc).__name__}）"


@dataclass(frozen=True)
class Problem:
    """A start-up failure in words: what happened, what to do about it, and whether trying again may help.
    Neither text holds a secret."""

    what: str
    advice: str
    retry: bool

    def message(self, attempts: int = 1) -> str:
        tried = f"（已尝试 {attempts} 次）" if attempts > 1 else ""
        return f"{self.what}{tried}。{self.advice}"


def explain(exc: BaseException, settings: Settings) -> Problem:
    """What a failure to reach Telegram means for the person running the bot."""
    from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

    base = settings.telegram_base_url
    bot_id = settings.telegram_bot_token.split(":", 1)[0]
    if isinstance(exc, InvalidToken):
        if base:
            return Problem(
                f"TELEGRAM_BOT_TOKEN（机器人 {bot_id}）被 Telegram 拒绝："
                f"Bot API 服务器 {redact_secrets(base)} 答复令牌无效或已被撤销",
                "请在 @BotFather 中核对令牌，并确认 TELEGRAM_BASE_URL 无误（形如 http://127.0.0.1:8081/bot），"
                "然后重新启动。",
                False,
            )
        return Problem(
            f"TELEGRAM_BOT_TOKEN（机器人 {bot_id}）被 Telegram 拒绝：令牌无效或已被撤销",
            "请在 @BotFather 中查看机器人当前的令牌，填入 .env 后重新启动。",
            False,
        )
    if isinstance(exc, RetryAfter):
        return Problem(f"{_where(settings)}要求稍后再试（请求过于频繁）", "请稍后重新启动。", True)
    host = urlsplit(_api_url(settings)).hostname or ""
    # the HTTP client raised (no answer came back), as opposed to an answer with an error status (5xx)
    on_the_wire = isinstance(exc, TimedOut) or (isinstance(exc, NetworkError) and exc.__cause__ is not None)
    if on_the_wire:
        reason = _reason(exc, host)
        proxy = _proxy(settings)
        if proxy is not None:
            url, variable = proxy
            return Problem(
                f"无法通过代理 {redact_secrets(url)}（{variable}）连接 {_where(settings)}：{reason}",
                "请检查代理的地址、端口和账号是否正确，代理是否在运行。",
                False,
            )
        if base:
            advice = "请确认该服务器已经启动，地址和端口填写正确。"
        else:
            advice = "请检查本机网络；如需经代理访问，请设置 HTTPS_PROXY。"
        return Problem(f"无法连接 {_where(settings)}：{reason}", advice, True)
    if isinstance(exc, NetworkError):
        return Problem(
            f"{_where(settings)}暂时无法正常应答（{redact_secrets(str(exc))[:120]}）",
            "请稍后重新启动。",
            True,
        )
    if isinstance(exc, TelegramError):
        return Problem(
            f"{_where(settings)}拒绝了请求：{redact_secrets(str(exc))[:200]}",
            "请检查相关设置后重新启动。",
            False,
        )
    return Problem(
        f"启动失败：{type(exc).__name__}: {redact_secrets(str(exc))[:200]}",
        "请检查相关设置后重新启动。",
        False,
    )


def explain_webhook(exc: BaseException, settings: Settings) -> Problem:
    """Like `explain`, for setWebhook: a refused WEBHOOK_URL is a setting to fix."""
    from telegram.error import BadRequest

    if isinstance(exc, BadRequest):
        return Problem(
            f"Telegram 不接受 WEBHOOK_URL {redact_secrets(settings.webhook_url or '')}："
            f"{redact_secrets(str(exc))[:200]}",
            "请填写外网能访问的 https 地址（端口 443、80、88 或 8443），然后重新启动。",
            False,
        )
    return explain(exc, settings)


def check_proxy(settings: Settings) -> None:
    """A proxy the chosen HTTP client cannot use at all is a setting error, found before connecting."""
    from bot.app import StartupError

    proxy = _proxy(settings)
    if proxy is None:
        return
    url, variable = proxy
    scheme = urlparse(url).scheme.lower()
    if scheme.startswith("socks") and settings.http_client == "aiohttp":
        raise StartupError(
            f"配置错误：代理 {redact_secrets(url)}（{variable}）是 SOCKS 代理，默认的 aiohttp 客户端不支持。"
            "请设置 TELEGRAM_HTTP_CLIENT=httpx 并安装 python-telegram-bot[socks]，或改用 HTTP 代理。"
        )


# --------------------------------------------------------------------------------------------- connecting


async def with_retries(
    action: Callable[[], Awaitable[Any]],
    settings: Settings,
    *,
    what: str = "连接 Telegram ",
    describe: Callable[[BaseException, Settings], Problem] = explain,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Any:
    """Run `action`; on a failure worth retrying, wait and try again up to TELEGRAM_CONNECT_ATTEMPTS times
    (one warning per failed attempt, no traceback). Raises StartupError with one message otherwise."""
    from telegram.error import TelegramError

    from bot.app import StartupError

    attempts = settings.telegram_connect_attempts
    for attempt in range(1, attempts + 1):
        try:
            return await action()
        except TelegramError as exc:
            problem = describe(exc, settings)
        if not problem.retry:
            raise StartupError(problem.message()) from None
        if attempt >= attempts:
            raise StartupError(problem.message(attempts)) from None
        wait = retry_wait(attempt)
        log.warning("%s失败（第 %d/%d 次）：%s。%g 秒后重试。", what, attempt, attempts, problem.what, wait)
        await sleep(wait)
    raise AssertionError("unreachable")


async def connect(application: Application, settings: Settings) -> None:
    """Initialise the application (getMe checks the token) with retries; in webhook mode also register the
    webhook, so a refused WEBHOOK_URL is reported here. Closes the HTTP sessions when it fails."""
    from .app import ALLOWED_UPDATES

    try:
        await with_retries(application.initialize, settings)
        if settings.use_webhook:
            await with_retries(
                lambda: application.bot.set_webhook(
                    url=settings.webhook_url or "",
                    secret_token=settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                ),
                settings,
                what="设置 Webhook ",
                describe=explain_webhook,
            )
    except BaseException:
        await close(application)
        raise


async def close(application: Application) -> None:
    """Release what initialize() opened, whether or not it finished."""
    await application.shutdown()  # does nothing unless initialize() finished
    await application.bot.shutdown()  # the HTTP sessions, opened before getMe was tried


# --------------------------------------------------------------------------------------------- running


def run(settings: Settings) -> int:
    """Run the bot until interrupted: long polling, or a webhook when WEBHOOK_URL is set."""
    from bot.app import StartupError, build
    from bot.core.assistant import freeze_startup_objects

    _setup_logging(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        app = loop.run_until_complete(build(settings))
    except BaseException:
        loop.close()
        raise
    freeze_startup_objects()
    from telegram.error import TelegramError

    from .app import ALLOWED_UPDATES, build_application

    try:
        settings.check_departments(set(app.kb.departments))
        check_proxy(settings)
        try:
            application = build_application(settings, app.assistant)
        except RuntimeError as exc:  # PTB's HTTPXRequest: a SOCKS proxy without python-telegram-bot[socks]
            raise StartupError(_client_problem(exc, settings)) from None
        connecting = loop.create_task(connect(application, settings))
        try:
            loop.run_until_complete(connecting)
        except KeyboardInterrupt:  # Ctrl-C while waiting to retry: connect() closes what it opened
            connecting.cancel()
            loop.run_until_complete(asyncio.gather(connecting, return_exceptions=True))
            raise
        name = application.bot.username
        try:
            if settings.use_webhook:
                assert settings.webhook_url is not None
                log.info(
                    "已连接 Telegram（@%s），开始在本机 %s:%s 接收 Webhook：%s",
                    name,
                    settings.webhook_listen,
                    settings.webhook_port,
                    settings.webhook_url,
                )
                application.run_webhook(
                    listen=settings.webhook_listen,
                    port=settings.webhook_port or 8443,
                    url_path=urlparse(settings.webhook_url).path.lstrip("/"),
                    webhook_url=settings.webhook_url,
                    secret_token=settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                    close_loop=False,
                )
            else:
                log.info("已连接 Telegram（@%s），开始以长轮询方式接收消息", name)
                application.run_polling(allowed_updates=ALLOWED_UPDATES, close_loop=False)
        except TelegramError as exc:
            # e.g. the token was revoked while polling: python-telegram-bot raises it while stopping
            loop.run_until_complete(_finish(application))
            raise StartupError(explain(exc, settings).message()) from None
        except OSError as exc:
            if not settings.use_webhook:
                raise
            raise StartupError(_listen_problem(exc, settings)) from None
    finally:
        loop.run_until_complete(app.aclose())
        loop.close()
    return 0


async def _finish(application: Application) -> None:
    """Stop and close what python-telegram-bot left open when its run loop raised while stopping."""
    steps: list[Callable[[], Awaitable[Any]]] = []
    if application.running:
        steps.append(application.stop)
    steps.append(application.shutdown)
    if application.post_shutdown is not None:
        steps.append(lambda: application.post_shutdown(application))  # type: ignore[misc]
    steps.append(application.bot.shutdown)
    for step in steps:
        try:
            await step()
        except Exception as exc:  # noqa: BLE001 - closing the rest matters more
            log.debug("关闭时出错：%s", exc)


def _client_problem(exc: RuntimeError, settings: Settings) -> str:
    proxy = _proxy(settings)
    if proxy is not None and urlparse(proxy[0]).scheme.lower().startswith("socks"):
        return (
            f"配置错误：使用 SOCKS 代理 {redact_secrets(proxy[0])}（{proxy[1]}）需要安装 SOCKS 支持："
            'pip install "python-telegram-bot[socks]"，然后重新启动。'
        )
    return f"无法创建 Telegram 客户端：{redact_secrets(str(exc))}"


def _listen_problem(exc: OSError, settings: Settings) -> str:
    where = f"{settings.webhook_listen}:{settings.webhook_port}"
    if exc.errno == errno.EADDRINUSE:
        why = "端口已被其他程序占用"
    elif exc.errno == errno.EACCES:
        why = "没有权限使用该端口（1024 以下的端口需要管理员权限）"
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = "本机没有这个地址"
    else:
        why = redact_secrets(str(exc))
    return f"无法在 {where} 接收 Webhook（WEBHOOK_LISTEN / WEBHOOK_PORT）：{why}。"
