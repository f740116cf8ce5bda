"""Several `python -m bot run` processes in webhook mode behind the local dispatcher, against the Bot API
stand-in and one database: what the scale-out tests start, drive and take apart.

Each process is a real bot (subprocess, its own pool, jobs and outbox dispatcher) listening on a port of its own
on 127.0.0.1, calling the stand-in through a base URL that names it (so every call is recorded with the process
that made it). Citizens are driven through the stand-in as people would be: a message, then wait for the
answer, then the next one — each message may be answered by another process.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.tg_standin import TOKEN, BotApiStandIn
from tests.webhook_dispatcher import Dispatcher

ROOT = Path(__file__).resolve().parents[1]
HOOK_PATH = "tg/hook"
HOOK_SECRET = "scaleout-secret"
STAFF_GROUP = -1009009  # the catch-all staff group: every new ticket's card goes there
APPEAL = "我要投诉，小区门口路灯坏了半个多月没人修，晚上很危险"
NUMBER = re.compile(r"SQ\d{8}-\d{4}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Worker:
    n: int
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    tmp_path: Path
    stand: BotApiStandIn
    database_url: str
    size: int
    env: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)

    def _env(self, n: int, port: int) -> dict[str, str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "DATABASE_", "KNOWLEDGE_", "WEBHOOK_", "LOG_LEVEL", "PTB_"))
            and k.lower() not in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
        }
        base.update(
            {
                "PYTHONPATH": str(ROOT),
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_BASE_URL": self.stand.base_url_for(n),
                "WEBHOOK_URL": f"https://bot.example.gov.cn/{HOOK_PATH}",
                "WEBHOOK_PORT": str(port),
                "WEBHOOK_LISTEN": "127.0.0.1",
                "WEBHOOK_SECRET": HOOK_SECRET,
                "DATABASE_URL": self.database_url,
                "DATABASE_POOL_SIZE": "4",
                "KNOWLEDGE_DIR": str(ROOT / "tests" / "fixtures" / "kb_min"),  # starts faster
                "STAFF_GROUPS": f"*={STAFF_GROUP}",
                "ADMIN_IDS": "999",
                "RATE_LIMIT": "0",
                "OUTBOX_INTERVAL_SECONDS": "1",
                "OUTBOX_CLAIM_SECONDS": "6",
                "REMINDER_INTERVAL_SECONDS": "5",
                "LOG_LEVEL": "INFO",
                **self.env,
            }
        )
        return base

    def start(self, limit: float = 180.0) -> Cluster:
        for n in range(1, self.size + 1):
            port = free_port()
            log = self.tmp_path / f"worker{n}.log"
            with log.open("w", encoding="utf-8") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"],
                    cwd=self.tmp_path,
                    env=self._env(n, port),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            self.workers.append(Worker(n, port, proc, log))
        deadline = time.monotonic() + limit  # a hang guard, generous for a loaded machine
        for w in self.workers:
            while not _listening(w.port):
                if not w.alive:
                    raise AssertionError(f"worker {w.n} exited ({w.proc.returncode}):\n{w.text()[-3000:]}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"worker {w.n} did not start listening:\n{w.text()[-3000:]}")
                time.sleep(0.1)
        return self

    @property
    def ports(self) -> list[int]:
        return [w.port for w in self.workers]

    def kill(self, n: int) -> None:
        """kill -9: no shutdown, no cleanup, whatever it was doing."""
        os.kill(self.workers[n - 1].proc.pid, signal.SIGKILL)
        self.workers[n - 1].proc.wait(10)

    def stop(self) -> None:
        for w in self.workers:
            if w.alive:
                w.proc.send_signal(signal.SIGINT)
        for w in self.workers:
            try:
                w.proc.wait(30)
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait(10)

    def logs(self) -> str:
        return "\n".join(f"--- worker {w.n}\n{w.text()[-4000:]}" for w in self.workers)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def webhook_mode(stand: BotApiStandIn, dispatcher: Dispatcher) -> None:
    stand.deliver_to(dispatcher.url(HOOK_PATH))


# ------------------------------------------------------------------------------------------ people


class Person:
    """A citizen typing into Telegram: each message waits for the answer before the next one."""

    def __init__(self, stand: BotApiStandIn, user: int, *, patience: float = 30.0):
        self.stand = stand
        self.user = user
        self.patience = patience
        self.last_update = 0  # the update id of the last message or press
        self.told: str | None = None  # the ticket number the person was told

    async def _answer(self, before: int) -> dict | None:
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            got = self.stand.sent_messages(self.user)
            if len(got) > before:
                return got[-1]
            await asyncio.sleep(0.05)
        return None

    async def say(self, text: str) -> dict | None:
        before = len(self.stand.sends_to(self.user))
        self.last_update = self.stand.push_message(self.user, text)
        return await self._answer(before)

    async def press(self, label: str) -> dict | None:
        before = len(self.stand.sends_to(self.user))
        try:
            self.last_update = self.stand.press(self.user, label)
        except AssertionError:  # the last answer has no such button (e.g. it said something went wrong)
            return None
        return await self._answer(before)

    async def file_ticket(self) -> str | None:
        """The whole intake; the number the person was told, or None when an answer never came or the
        submission was not confirmed (e.g. its process was killed meanwhile)."""
        steps = [
            ("say", f"{APPEAL}（{self.user}）"),
            ("press", "其他"),
            ("say", "幸福小区东门"),
            ("say", "13812345678"),
            ("press", "实名反映"),
            ("press", "提交"),
        ]
        answer: dict | None = None
        for kind, what in steps:
            answer = await (self.say(what) if kind == "say" else self.press(what))
            if answer is None:
                return None
        assert answer is not None
        m = NUMBER.search(answer["text"]) if "诉求已登记" in answer["text"] else None
        self.told = m.group(0) if m else None
        return self.told

    def workers(self) -> set[int | None]:
        """The processes that answered this person."""
        return {c.worker for c in self.stand.sends_to(self.user)}
