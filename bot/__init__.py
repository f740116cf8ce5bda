"""政务服务助手 — core (channel-free) and adapters (console, Telegram)."""

__version__ = "0.1.0"
