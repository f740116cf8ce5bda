"""Deployment settings: read from the environment and an optional `.env` file.

Every variable is documented in `.env.example`. Values set in the real environment win over `.env`.
A missing or malformed setting raises `ConfigError`, whose message names the variable and says, in Chinese,
what is wrong and what a correct value looks like; `python -m bot run` prints it (after "配置错误：") and exits
with status 2.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from bot.core.assistant import CoreConfig

DEFAULT_ENV_FILE = Path(".env")
# the department key that receives every notification whose department has no group of its own
CATCH_ALL = "*"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigError(Exception):
    """A setting is missing or malformed. The message names the variable and what is wrong."""

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable} {problem}")


# --------------------------------------------------------------------------------------------- .env parsing


def parse_env_file(text: str, source: str = ".env") -> dict[str, str]:
    """Parse the usual `.env` syntax: KEY=VALUE lines, `export KEY=VALUE`, # comments, blank lines,
    'single' or "double" quoted values (double quotes understand \\n, \\t, \\" and \\\\), and a trailing
    ` # comment` after an unquoted value. A line that is none of these is an error naming the line."""
    out: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if lineno == 1:
            line = line.lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY_RE.match(key):
            raise ConfigError(
                source, f"第 {lineno} 行格式不正确：应为“变量名=值”，实际为“{raw.strip()[:60]}”。"
            )
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = _closing_quote(value, quote)
            if end < 0:
                raise ConfigError(source, f"第 {lineno} 行（{key}）的引号没有闭合。")
            rest = value[end + 1 :].strip()
            if rest and not rest.startswith("#"):
                raise ConfigError(source, f"第 {lineno} 行（{key}）引号之后还有多余内容“{rest[:30]}”。")
            inner = value[1:end]
            if quote == '"':
                inner = _unescape_double(inner)
            value = inner
        else:
            # an unquoted value ends at " #"
            m = re.search(r"\s+#", value)
            if m:
                value = value[: m.start()].rstrip()
        out[key] = value
    return out


def _closing_quote(value: str, quote: str) -> int:
    i = 1
    while i < len(value):
        ch = value[i]
        if ch == "\\" and quote == '"':
            i += 2
            continue
        if ch == quote:
            return i
        i += 1
    return -1


def _unescape_double(s: str) -> str:
    return re.sub(
        r"\\(.)", lambda m: {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(m.group(1), "\\" + m.group(1)), s
    )


# --------------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    telegram_bot_token: str = ""
    telegram_base_url: str | None = None
    # department name -> staff group chat ids ("*" receives everything without a group of its own)
    staff_groups: dict[str, tuple[int, ...]] = field(default_factory=dict)
    admin_ids: frozenset[int] = frozenset()
    timezone: dt.tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    digest_time: dt.time = dt.time(8, 30)
    database_path: Path = Path("data/zwfw.db")
    # None: the example knowledge base shipped with the project
    knowledge_dir: Path | None = None
    webhook_url: str | None = None
    webhook_port: int | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "0.0.0.0"
    reminder_interval_seconds: int = 60
    outbox_interval_seconds: float = 3.0
    # messages per minute per person; 0 switches the limit off
    rate_limit: int = 20
    log_level: str = "INFO"
    # the HTTP client under python-telegram-bot: "aiohttp" (faster) or "httpx" (PTB's own, e.g. for SOCKS)
    http_client: str = "aiohttp"
    # updates handled at once (one at a time per chat): their Bot API calls overlap on the network
    concurrent_updates: int = 64

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | str | None = DEFAULT_ENV_FILE,
        *,
        require_token: bool = True,
    ) -> Settings:
        """Read settings from `env_file` (if it exists) overlaid by `environ` (default: os.environ)."""
        values: dict[str, str] = {}
        if env_file is not None:
            path = Path(env_file)
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(
                        str(path), f"无法读取：{exc.__class__.__name__}。请确认文件存在且为 UTF-8 编码。"
                    ) from exc
                values.update(parse_env_file(text, source=str(path)))
        env = os.environ if environ is None else environ
        values.update({k: v for k, v in env.items() if k in _KNOWN})
        return cls.from_values(values, require_token=require_token)

    @classmethod
    def from_values(cls, values: Mapping[str, str], *, require_token: bool = True) -> Settings:
        def get(name: str) -> str | None:
            v = values.get(name)
            if v is None:
                return None
            v = v.strip()
            return v or None

        token = get("TELEGRAM_BOT_TOKEN")
        if token is None:
            if require_token:
                raise ConfigError(
                    "TELEGRAM_BOT_TOKEN",
                    "未设置：请填写从 @BotFather 获得的机器人令牌（形如 123456789:AAE…）。",
                )
            token = ""
        elif not _TOKEN_RE.match(token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN", "格式不正确：应为“数字:字母数字串”，形如 123456789:AAE…。"
            )

        base_url = get("TELEGRAM_BASE_URL")
        if base_url is not None:
            _check_url("TELEGRAM_BASE_URL", base_url, schemes=("http", "https"))

        webhook_url = get("WEBHOOK_URL")
        webhook_port = None
        webhook_secret = get("WEBHOOK_SECRET")
        if webhook_url is not None:
            _check_url("WEBHOOK_URL", webhook_url, schemes=("https",))
            port_s = get("WEBHOOK_PORT")
            if port_s is None:
                raise ConfigError(
                    "WEBHOOK_PORT", "未设置：设置了 WEBHOOK_URL 时必须同时给出本机监听端口（如 8443）。"
                )
            webhook_port = _int("WEBHOOK_PORT", port_s, 1, 65535)
        elif get("WEBHOOK_PORT") is not None:
            webhook_port = _int("WEBHOOK_PORT", get("WEBHOOK_PORT") or "", 1, 65535)
        if webhook_secret is not None and not _SECRET_RE.match(webhook_secret):
            raise ConfigError(
                "WEBHOOK_SECRET", "格式不正确：只能包含英文字母、数字、下划线和连字符，长度 1–256。"
            )

        tz_name = get("TIMEZONE") or "Asia/Shanghai"
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                "TIMEZONE", f"无法识别时区“{tz_name}”：请使用 IANA 时区名，如 Asia/Shanghai。"
            ) from exc

        digest_time = dt.time(8, 30)
        if (s := get("DIGEST_TIME")) is not None:
            m = _TIME_RE.match(s)
            if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
                raise ConfigError("DIGEST_TIME", f"格式不正确：“{s}”，应为 24 小时制的 时:分，如 08:30。")
            digest_time = dt.time(int(m.group(1)), int(m.group(2)))

        knowledge_dir = None
        if (s := get("KNOWLEDGE_DIR")) is not None:
            knowledge_dir = Path(s).expanduser()
            if not knowledge_dir.is_dir():
                raise ConfigError(
                    "KNOWLEDGE_DIR", f"目录“{s}”不存在：请填写知识库目录的路径，如 knowledge/。"
                )

        log_level = (get("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(
                "LOG_LEVEL", f"取值“{get('LOG_LEVEL')}”无效：应为 {'、'.join(LOG_LEVELS)} 之一。"
            )

        http_client = (get("TELEGRAM_HTTP_CLIENT") or "aiohttp").strip().lower()
        if http_client not in HTTP_CLIENTS:
            raise ConfigError(
                "TELEGRAM_HTTP_CLIENT",
                f"取值“{get('TELEGRAM_HTTP_CLIENT')}”无效：应为 {' 或 '.join(HTTP_CLIENTS)}。",
            )

        return cls(
            telegram_bot_token=token,
            telegram_base_url=base_url,
            staff_groups=_parse_staff_groups(get("STAFF_GROUPS")),
            admin_ids=_parse_admin_ids(get("ADMIN_IDS")),
            timezone=tz,
            digest_time=digest_time,
            database_path=Path(get("DATABASE_PATH") or "data/zwfw.db").expanduser(),
            knowledge_dir=knowledge_dir,
            webhook_url=webhook_url,
            webhook_port=webhook_port,
            webhook_secret=webhook_secret,
            webhook_listen=get("WEBHOOK_LISTEN") or "0.0.0.0",
            reminder_interval_seconds=_int(
                "REMINDER_INTERVAL_SECONDS", get("REMINDER_INTERVAL_SECONDS") or "60", 5, 86400
            ),
            outbox_interval_seconds=float(
                _int("OUTBOX_INTERVAL_SECONDS", get("OUTBOX_INTERVAL_SECONDS") or "3", 1, 3600)
            ),
            rate_limit=_int("RATE_LIMIT", get("RATE_LIMIT") or "20", 0, 10000),
            log_level=log_level,
            http_client=http_client,
            concurrent_updates=_int("CONCURRENT_UPDATES", get("CONCURRENT_UPDATES") or "64", 1, 1024),
        )

    # ------------------------------------------------------------------ derived

    @property
    def use_webhook(self) -> bool:
        return self.webhook_url is not None

    def core_config(self) -> CoreConfig:
        """The part of the settings the channel-free core needs."""
        from bot.core.assistant import CoreConfig

        wanted = {
            "knowledge_dir": self.knowledge_dir,
            "database_path": str(self.database_path),
            "timezone": self.timezone,
            "admin_ids": {str(i) for i in self.admin_ids},
        }
        names = {f.name for f in dataclasses.fields(CoreConfig)}
        return CoreConfig(**{k: v for k, v in wanted.items() if k in names})

    def chats_for_department(self, department: str) -> tuple[int, ...]:
        """The staff group chats of a department, or the catch-all group(s) when it has none."""
        return self.staff_groups.get(department) or self.staff_groups.get(CATCH_ALL, ())

    def staff_chat_ids(self) -> list[int]:
        seen: dict[int, None] = {}
        for ids in self.staff_groups.values():
            for i in ids:
                seen[i] = None
        return list(seen)

    def check_departments(self, known: set[str] | Mapping[str, object]) -> None:
        """Every department named in STAFF_GROUPS must exist in the knowledge base (typos route nothing)."""
        unknown = [d for d in self.staff_groups if d != CATCH_ALL and d not in known]
        if unknown:
            raise ConfigError(
                "STAFF_GROUPS",
                f"中的部门“{'、'.join(unknown)}”不在知识库的部门列表中：请使用 knowledge/departments.yaml 中的部门全称。",
            )


_KNOWN = {
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "STAFF_GROUPS",
    "ADMIN_IDS",
    "TIMEZONE",
    "DIGEST_TIME",
    "DATABASE_PATH",
    "KNOWLEDGE_DIR",
    "WEBHOOK_URL",
    "WEBHOOK_PORT",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "REMINDER_INTERVAL_SECONDS",
    "OUTBOX_INTERVAL_SECONDS",
    "RATE_LIMIT",
    "LOG_LEVEL",
    "TELEGRAM_HTTP_CLIENT",
    "CONCURRENT_UPDATES",
}
HTTP_CLIENTS = ("aiohttp", "httpx")


def _int(name: str, s: str, lo: int, hi: int) -> int:
    try:
        v = int(s.strip())
    except ValueError:
        raise ConfigError(name, f"应为整数，实际为“{s}”。") from None
    if not lo <= v <= hi:
        raise ConfigError(name, f"取值 {v} 超出范围：应在 {lo} 到 {hi} 之间。")
    return v


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in schemes or not parsed.netloc:
        want = " 或 ".join(f"{s}://" for s in schemes)
        raise ConfigError(name, f"不是有效的网址：“{url}”，应以 {want} 开头。")


def _parse_admin_ids(s: str | None) -> frozenset[int]:
    if not s:
        return frozenset()
    ids: set[int] = set()
    for part in s.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) <= 0:
            raise ConfigError(
                "ADMIN_IDS", f"中的“{part}”不是有效的 Telegram 用户 ID：应为正整数，多个用英文逗号分隔。"
            )
        ids.add(int(part))
    return frozenset(ids)


def _parse_staff_groups(s: str | None) -> dict[str, tuple[int, ...]]:
    """`公安局=-1001234,人力资源和社会保障局=-1005678,*=-1009999`; a department may be listed twice to
    post to two groups."""
    if not s:
        return {}
    groups: dict[str, list[int]] = {}
    for part in s.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        dept, sep, chat = part.partition("=")
        dept, chat = dept.strip(), chat.strip()
        if not sep or not dept or not chat:
            raise ConfigError(
                "STAFF_GROUPS", f"中的“{part}”格式不正确：应为“部门=群组ID”，如 公安局=-1001234567890。"
            )
        try:
            chat_id = int(chat)
        except ValueError:
            raise ConfigError(
                "STAFF_GROUPS", f"中“{dept}”的群组 ID“{chat}”不是整数：群组 ID 形如 -1001234567890。"
            ) from None
        if chat_id == 0:
            raise ConfigError("STAFF_GROUPS", f"中“{dept}”的群组 ID 不能为 0。")
        ids = groups.setdefault(dept, [])
        if chat_id not in ids:
            ids.append(chat_id)
    return {k: tuple(v) for k, v in groups.items()}
