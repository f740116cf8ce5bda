"""`python -m bot run`: build the assistant, then run the Telegram bot until interrupted (long polling, or a
webhook when WEBHOOK_URL is set). python-telegram-bot is imported only once the assistant has been built,
so a bad database or knowledge base is reported at once."""

from __future__ import annotations

import asyncio
import logging
import os
from urllib.parse import urlparse

from bot.settings import Settings

from .masking import install_log_masking

log = logging.getLogger("bot.telegram")


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, which contains the bot token
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings go through the masking filter too
    # personal numbers masked, and the bot token, the webhook secret and URL passwords replaced
    install_log_masking(secrets=settings.secret_values())


def run(settings: Settings) -> int:
    """Run the bot until interrupted: long polling, or a webhook when WEBHOOK_URL is set."""
    from bot.app import build
    from bot.core.assistant import freeze_startup_objects

    _setup_logging(settings)
    os.environ.setdefault("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as a timedelta, without warnings
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        app = loop.run_until_complete(build(settings))
    except BaseException:
        loop.close()
        raise
    freeze_startup_objects()
    from .app import ALLOWED_UPDATES, build_application

    try:
        settings.check_departments(set(app.kb.departments))
        application = build_application(settings, app.assistant)
        if settings.use_webhook:
            assert settings.webhook_url is not None
            log.info("以 Webhook 模式启动：%s（本机端口 %s）", settings.webhook_url, settings.webhook_port)
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
            log.info("以长轮询模式启动")
            application.run_polling(allowed_updates=ALLOWED_UPDATES, close_loop=False)
    finally:
        loop.run_until_complete(app.aclose())
        loop.close()
    return 0
