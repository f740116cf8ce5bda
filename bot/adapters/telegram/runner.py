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
The sentences printed to the person starting the bot are macros of templates/telegram/startup.txt.j2 (plain
text); the log lines for operators stay here.
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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse, urlsplit

from bot.core.text.mask import redact_secrets
from bot.core.texts import Texts
from bot.settings import Settings

from .masking import install_log_masking

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger("bot.telegram")

OFFICIAL_API = "https://api.telegram.org/bot"
STARTUP = "telegram/startup.txt.j2"
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


@lru_cache(maxsize=4)
def _texts(directory: Path | None) -> Texts:
    return Texts(directory)


def _say(settings: Settings, what: str, /, **facts: Any) -> str:
    """A sentence of templates/telegram/startup.txt.j2 (the configured templates folder)."""
    return _texts(settings.templates_dir).say(STARTUP, what, **facts)


def _api_url(settings: Settings) -> str:
    return settings.telegram_base_url or OFFICIAL_API


def _proxy(settings: Settings) -> tuple[str, str] | None:
    """(proxy URL, the variable it came from) for the Bot API address, as HTTPS_PROXY / HTTP_PROXY /
    ALL_PROXY and NO_PROXY say; None when the connection is direct."""
    parts = urlsplit(_api_url(settings))
    proxies = urllib.request.getproxies_environment()
    host = parts.hostname or ""
    # typeshed leaves out this public (if undocumented) function of urllib.request
    if not host or urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
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
    return _say(settings, "where", base=redact_secrets(base) if base else None)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(out) < 12 and e not in out:
        out.append(e)
        e = e.__cause__ or e.__context__
    return out


def _reason_kind(exc: BaseException) -> str:
    """What went wrong on the wire (a key of the `reason` macro)."""
    from telegram.error import TimedOut

    for e in _chain(exc):
        if isinstance(e, socket.gaierror) or (isinstance(e, OSError) and e.errno in (-2, -3, -5)):
            return "dns"
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            return "refused"
        if isinstance(e, TimedOut | TimeoutError):
            return "timeout"
        if isinstance(e, ssl.SSLError):
            return "tls"
        if isinstance(e, OSError) and e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "unreachable"
        if isinstance(e, ValueError):
            return "invalid"
    return "other"


def _reason(exc: BaseException, host: str, settings: Settings) -> str:
    """What went wrong on the wire, in a few words."""
    error = type(exc.__cause__ or exc).__name__
    return _say(settings, "reason", kind=_reason_kind(exc), host=host, error=error)


@dataclass(frozen=True)
class Problem:
    """A start-up failure in words: what happened, what to do about it, and whether trying again may help.
    Neither text holds a secret."""

    what: str
    advice: str
    retry: bool
    texts: Texts | None = field(default=None, compare=False, repr=False)

    def message(self, attempts: int = 1) -> str:
        texts = self.texts or _texts(None)
        return texts.say(STARTUP, "message", what=self.what, advice=self.advice, attempts=attempts)


def _problem(
    settings: Settings,
    retry: bool,
    what: str,
    advice: str,
    advice_facts: dict[str, Any] | None = None,
    /,
    **facts: Any,
) -> Problem:
    """A Problem in the words of templates/telegram/startup.txt.j2: the macro `what`, then `advice`."""
    return Problem(
        _say(settings, what, **facts),
        _say(settings, advice, **(advice_facts or {})),
        retry,
        _texts(settings.templates_dir),
    )


def explain(exc: BaseException, settings: Settings) -> Problem:
    """What a failure to reach Telegram means for the person running the bot."""
    from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

    base = settings.telegram_base_url
    base = redact_secrets(base) if base else None
    bot_id = settings.telegram_bot_token.split(":", 1)[0]
    if isinstance(exc, InvalidToken):
        return _problem(
            settings,
            False,
            "token_rejected",
            "token_rejected_advice",
            {"base": base},
            bot_id=bot_id,
            base=base,
        )
    if isinstance(exc, RetryAfter):
        return _problem(settings, True, "too_many_requests", "try_later", where=_where(settings))
    host = urlsplit(_api_url(settings)).hostname or ""
    # the HTTP client raised (no answer came back), as opposed to an answer with an error status (5xx)
    on_the_wire = isinstance(exc, TimedOut) or (isinstance(exc, NetworkError) and exc.__cause__ is not None)
    if on_the_wire:
        reason = _reason(exc, host, settings)
        proxy = _proxy(settings)
        if proxy is not None:
            url, variable = proxy
            return _problem(
                settings,
                False,
                "proxy_failed",
                "proxy_failed_advice",
                url=redact_secrets(url),
                variable=variable,
                where=_where(settings),
                reason=reason,
            )
        where = _where(settings)
        return _problem(
            settings, True, "unreachable", "unreachable_advice", {"base": base}, where=where, reason=reason
        )
    detail = redact_secrets(str(exc))
    if isinstance(exc, NetworkError):
        return _problem(
            settings, True, "server_error", "try_later", where=_where(settings), detail=detail[:120]
        )
    if isinstance(exc, TelegramError):
        where = _where(settings)
        return _problem(
            settings, False, "request_refused", "check_settings", where=where, detail=detail[:200]
        )
    return _problem(
        settings, False, "failed", "check_settings", error=type(exc).__name__, detail=detail[:200]
    )


def explain_webhook(exc: BaseException, settings: Settings) -> Problem:
    """Like `explain`, for setWebhook: a refused WEBHOOK_URL is a setting to fix."""
    from telegram.error import BadRequest

    if isinstance(exc, BadRequest):
        url, detail = redact_secrets(settings.webhook_url or ""), redact_secrets(str(exc))[:200]
        return _problem(settings, False, "webhook_refused", "webhook_refused_advice", url=url, detail=detail)
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
        raise StartupError(_say(settings, "socks_unsupported", url=redact_secrets(url), variable=variable))


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
    app.reload_on_sighup(loop)  # kill -HUP <pid>: the knowledge base is read again without a restart
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
        return _say(settings, "socks_missing", url=redact_secrets(proxy[0]), variable=proxy[1])
    return _say(settings, "client_failed", detail=redact_secrets(str(exc)))


def _listen_problem(exc: OSError, settings: Settings) -> str:
    where = f"{settings.webhook_listen}:{settings.webhook_port}"
    why = {errno.EADDRINUSE: "in_use", errno.EACCES: "denied", errno.EADDRNOTAVAIL: "no_address"}
    return _say(
        settings,
        "cannot_listen",
        where=where,
        why=why.get(exc.errno or 0, "other"),
        detail=redact_secrets(str(exc)),
    )
