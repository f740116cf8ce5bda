"""The channel-free facade that adapters (console, Telegram) talk to.

An adapter turns its updates into `Incoming`, calls `handle`, and sends back the returned replies to the same
chat. Notifications for anybody else (staff groups, the citizen when staff reply, reminders, digests) are queued
in the store's persisted outbox; the adapter drains it with `outbox_due` / `outbox_sent` / `outbox_failed`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.clock import DEFAULT_TZ, Clock, SystemClock
from bot.core.knowledge import KnowledgeBase, load_knowledge
from bot.core.messages import Incoming, Reply


@dataclass
class CoreConfig:
    """What the core needs to know; bot.config.Settings builds one from the environment."""

    knowledge_dir: Path | None = None
    database_path: str = "zwfw.db"
    timezone: dt.tzinfo = DEFAULT_TZ
    admin_ids: set[str] = field(default_factory=set)
    # minutes a dialogue context (last item, last choices) stays valid
    context_ttl_minutes: int = 30


class Assistant:
    def __init__(self, kb: KnowledgeBase, config: CoreConfig, clock: Clock):
        self.kb = kb
        self.config = config
        self.clock = clock

    @classmethod
    async def create(cls, config: CoreConfig, clock: Clock | None = None) -> Assistant:
        kb = load_knowledge(config.knowledge_dir)
        return cls(kb, config, clock or SystemClock(config.timezone))

    async def handle(self, msg: Incoming) -> list[Reply]:
        """Answer one message or button press; replies go to msg.chat_id."""
        raise NotImplementedError

    async def close(self) -> None:
        pass
