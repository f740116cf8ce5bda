"""One Settings object for every command: the environment over an optional `.env` file, one default each.

Every variable is documented in `.env.example`. Values in the real environment win over `.env`; values given
to the constructor (tests, command-line options) win over both. A missing or malformed setting raises
`ConfigError`, whose message names the variable and says, in Chinese, what is wrong and what a correct value
looks like; commands print it after "配置错误：" and exit with status 2.

pydantic-settings does the layering and the typing. The `.env` file is read by the project's own parser
(`parse_env_file`) because a malformed line must be reported with its line number, not skipped.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.core.text.mask import redact_secrets

DEFAULT_ENV_FILE = Path(".env")
DEFAULT_DATABASE = Path("data/zwfw.db")
# the department key that receives every notification whose department has no group of its own
CATCH_ALL = "*"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HTTP_CLIENTS = ("aiohttp", "httpx")
DIALOGUE_CONTEXTS = ("auto", "memory", "database")

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
                source, f"第 {lineno} 行格式不正确：应为“变量名=值”，实际为“{_line_start(raw)}”。"
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


def _line_start(raw: str) -> str:
    """The start of a malformed line, to find it by: its first word only, as the rest may be a secret
    (a token pasted on a line of its own shows as its bot id)."""
    line = raw.strip()
    head = re.split(r"[\s=:：]", line, maxsplit=1)[0][:40]
    return head + ("…" if len(head) < len(line) else "")


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


# --------------------------------------------------------------------------------------------- sources

# what `Settings.load` was asked to read; the sources below fall back to os.environ and ./.env
_ENVIRON: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("environ", default=None)
_ENV_FILE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("env_file", default=DEFAULT_ENV_FILE)


class _ValuesSource(PydanticBaseSettingsSource):
    """Values by upper-case variable name; empty strings count as not set (a blank line in .env.example)."""

    def __init__(self, settings_cls: type[BaseSettings], values: Mapping[str, str]):
        super().__init__(settings_cls)
        self.values = values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raw = self.values.get(env_name(field_name))
        return (raw.strip() or None) if isinstance(raw, str) else raw, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(info, name)
            if value is not None:
                out[key] = value
        return out


def env_name(field_name: str) -> str:
    """The environment variable of a setting (the field name in capitals, with one historical exception)."""
    return "TELEGRAM_HTTP_CLIENT" if field_name == "http_client" else field_name.upper()


class _EnvironSource(_ValuesSource):
    def __init__(self, settings_cls: type[BaseSettings]):
        environ = _ENVIRON.get()
        super().__init__(settings_cls, os.environ if environ is None else environ)


class _EnvFileSource(_ValuesSource):
    def __init__(self, settings_cls: type[BaseSettings]):
        super().__init__(settings_cls, _read_env_file(_ENV_FILE.get()))


def _read_env_file(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            str(path), f"无法读取：{exc.__class__.__name__}。请确认文件存在且为 UTF-8 编码。"
        ) from exc
    return parse_env_file(text, source=str(path))


# --------------------------------------------------------------------------------------------- settings


class Settings(BaseSettings):
    # frozen: resolved once, then shared by every part of the program
    model_config = SettingsConfigDict(frozen=True, extra="ignore", arbitrary_types_allowed=True)

    telegram_bot_token: str = Field("", repr=False)
    telegram_base_url: str | None = None
    # department name -> staff group chat ids ("*" receives everything without a group of its own)
    staff_groups: dict[str, tuple[int, ...]] = Field(default_factory=dict)
    admin_ids: frozenset[int] = frozenset()
    timezone: ZoneInfo = Field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    digest_time: dt.time = dt.time(8, 30)
    database_path: Path = DEFAULT_DATABASE
    # wins over database_path when set: sqlite:///path, or postgresql://user:password@host:port/database
    database_url: str | None = Field(None, repr=False)
    # PostgreSQL: connections per process, and seconds allowed for connecting and for each statement
    database_pool_size: int = 10
    database_timeout_seconds: int = 10
    # None: the data shipped with the project (the checkout's folders, or the installed package's copy)
    knowledge_dir: Path | None = None
    intents_dir: Path | None = None
    templates_dir: Path | None = None
    webhook_url: str | None = None
    webhook_port: int | None = None
    webhook_secret: str | None = Field(None, repr=False)
    webhook_listen: str = "0.0.0.0"
    reminder_interval_seconds: int = 60
    outbox_interval_seconds: float = 3.0
    # how long a notification claimed by one process is that process's to send; a process that dies holding
    # claims delays them this long before another takes them over
    outbox_claim_seconds: int = 120
    # messages per minute per person; 0 switches the limit off
    rate_limit: int = 20
    log_level: str = "INFO"
    # the HTTP client under python-telegram-bot: "aiohttp" (faster) or "httpx" (PTB's own, e.g. for SOCKS)
    http_client: str = "aiohttp"
    # updates handled at once (one at a time per chat): their Bot API calls overlap on the network
    concurrent_updates: int = 64
    # minutes a dialogue context (last item, last choices) stays valid
    context_ttl_minutes: int = 30
    # where dialogue contexts live: "memory" (one process), "database" (shared by every process), or "auto":
    # the database on PostgreSQL, memory on SQLite
    dialogue_context: str = "auto"
    # attempts to reach Telegram at start-up when the network or the server fails (waits 1 s, 2 s, 4 s, …)
    telegram_connect_attempts: int = 6
    # photos and files in 诉求: the kinds accepted, the largest file (MB), how many per 诉求
    media_kinds: tuple[str, ...] = ("photo", "video", "document", "voice")
    media_max_mb: int = 20
    media_max_count: int = 10
    # None: nothing is downloaded (the channel keeps the files); a folder: copies there, EXIF location removed
    media_store_dir: Path | None = None
    # seconds to wait for the rest of an album (Telegram sends its photos as separate messages)
    album_wait_seconds: float = 0.5
    # 惠企政策: a policy ending within this many days is flagged; the push (直达快享) goes out in these hours of
    # working days
    policy_expiring_days: int = 30
    policy_push_hours: tuple[dt.time, dt.time] = (dt.time(9, 0), dt.time(17, 0))
    # days after which an entry's `updated` date calls for a review (kb review, the monthly 通报)
    knowledge_review_days: int = 180
    # days a FAQ entry made from a closed 咨询 ticket stays in the learned overlay before it must be renewed
    faq_expiry_days: int = 180

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _EnvironSource(settings_cls), _EnvFileSource(settings_cls)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | str | None = DEFAULT_ENV_FILE,
        *,
        require_token: bool = False,
        **overrides: Any,
    ) -> Settings:
        """Read `env_file` (if it exists) overlaid by `environ` (default: os.environ), then `overrides`."""
        t1 = _ENVIRON.set(environ)
        t2 = _ENV_FILE.set(Path(env_file) if env_file is not None else None)
        try:
            settings = cls(**{k: v for k, v in overrides.items() if v is not None})
        finally:
            _ENVIRON.reset(t1)
            _ENV_FILE.reset(t2)
        if require_token:
            settings.require_token()
        return settings

    def require_token(self) -> None:
        if not self.telegram_bot_token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN", "未设置：请填写从 @BotFather 获得的机器人令牌（形如 123456789:AAE…）。"
            )

    # ------------------------------------------------------------------ validation

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token(cls, v: Any) -> str:
        v = (v or "").strip()
        if v and not _TOKEN_RE.match(v):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN", "格式不正确：应为“数字:字母数字串”，形如 123456789:AAE…。"
            )
        return v

    @field_validator("telegram_base_url", mode="before")
    @classmethod
    def _base_url(cls, v: Any) -> str | None:
        return _check_url("TELEGRAM_BASE_URL", v, ("http", "https")) if v else None

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, v: Any) -> str | None:
        return _check_url("WEBHOOK_URL", v, ("https",)) if v else None

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, v: Any) -> str | None:
        if v and not _SECRET_RE.match(v):
            raise ConfigError(
                "WEBHOOK_SECRET", "格式不正确：只能包含英文字母、数字、下划线和连字符，长度 1–256。"
            )
        return v or None

    @field_validator("staff_groups", mode="before")
    @classmethod
    def _staff_groups(cls, v: Any) -> Any:
        return _parse_staff_groups(v) if isinstance(v, str) else v

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, v: Any) -> Any:
        return _parse_admin_ids(v) if isinstance(v, str) else v

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        try:
            return ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                "TIMEZONE", f"无法识别时区“{v}”：请使用 IANA 时区名，如 Asia/Shanghai。"
            ) from exc

    @field_validator("digest_time", mode="before")
    @classmethod
    def _digest_time(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        m = _TIME_RE.match(v)
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            raise ConfigError("DIGEST_TIME", f"格式不正确：“{v}”，应为 24 小时制的 时:分，如 08:30。")
        return dt.time(int(m.group(1)), int(m.group(2)))

    @field_validator("policy_push_hours", mode="before")
    @classmethod
    def _push_hours(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        start, sep, end = v.replace("—", "-").replace("–", "-").partition("-")
        times = [_TIME_RE.match(x.strip()) for x in (start, end)]
        if not sep or not all(times) or any(int(m.group(1)) > 23 or int(m.group(2)) > 59 for m in times if m):
            raise ConfigError(
                "POLICY_PUSH_HOURS", f"格式不正确：“{v}”，应为 24 小时制的 开始-结束，如 09:00-17:00。"
            )
        first, last = (dt.time(int(m.group(1)), int(m.group(2))) for m in times if m)
        if first >= last:
            raise ConfigError("POLICY_PUSH_HOURS", f"“{v}”的开始时间应早于结束时间。")
        return (first, last)

    @field_validator("database_path", mode="before")
    @classmethod
    def _database_path(cls, v: Any) -> Path:
        return Path(v).expanduser() if v else DEFAULT_DATABASE

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, v: Any) -> str | None:
        v = str(v).strip() if v is not None else ""
        if not v:
            return None
        if "://" not in v:
            raise ConfigError(
                "DATABASE_URL",
                "格式不正确：应为 postgresql://用户:密码@主机:端口/数据库 或 sqlite:///路径；"
                "SQLite 文件路径也可以直接填在 DATABASE_PATH。",
            )
        from bot.core.storage.url import parse_database  # only when the setting is used

        try:
            parse_database(v)
        except ValueError as exc:
            raise ConfigError("DATABASE_URL", str(exc)) from None
        return v

    @field_validator("knowledge_dir", "intents_dir", "templates_dir", mode="before")
    @classmethod
    def _data_dir(cls, v: Any, info: Any) -> Path | None:
        if not v:
            return None
        path = Path(v).expanduser()
        if not path.is_dir():
            name = info.field_name.upper()
            raise ConfigError(name, f"目录“{v}”不存在：请填写正确的目录路径，或删除这一项以使用自带的数据。")
        return path

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, v: Any) -> str:
        level = (v or "INFO").strip().upper()
        if level not in LOG_LEVELS:
            raise ConfigError("LOG_LEVEL", f"取值“{v}”无效：应为 {'、'.join(LOG_LEVELS)} 之一。")
        return level

    @field_validator("http_client", mode="before")
    @classmethod
    def _http_client(cls, v: Any) -> str:
        client = (v or "aiohttp").strip().lower()
        if client not in HTTP_CLIENTS:
            raise ConfigError("TELEGRAM_HTTP_CLIENT", f"取值“{v}”无效：应为 {' 或 '.join(HTTP_CLIENTS)}。")
        return client

    @field_validator("dialogue_context", mode="before")
    @classmethod
    def _dialogue_context(cls, v: Any) -> str:
        where = (v or "auto").strip().lower()
        if where not in DIALOGUE_CONTEXTS:
            raise ConfigError(
                "DIALOGUE_CONTEXT", f"取值“{v}”无效：应为 {'、'.join(DIALOGUE_CONTEXTS)} 之一。"
            )
        return where

    @field_validator(
        "webhook_port",
        "reminder_interval_seconds",
        "outbox_interval_seconds",
        "outbox_claim_seconds",
        "rate_limit",
        "concurrent_updates",
        "context_ttl_minutes",
        "telegram_connect_attempts",
        "knowledge_review_days",
        "faq_expiry_days",
        "database_pool_size",
        "database_timeout_seconds",
        "media_max_mb",
        "media_max_count",
        "policy_expiring_days",
        mode="before",
    )
    @classmethod
    def _bounded_int(cls, v: Any, info: Any) -> Any:
        lo, hi = _INT_RANGES[info.field_name]
        return _int(info.field_name.upper(), v, lo, hi) if v is not None else None

    @field_validator("media_kinds", mode="before")
    @classmethod
    def _media_kinds(cls, v: Any) -> Any:
        from bot.core.media import MEDIA_KINDS

        if not isinstance(v, str):
            return v
        kinds = tuple(dict.fromkeys(k.strip().lower() for k in v.replace("，", ",").split(",") if k.strip()))
        unknown = [k for k in kinds if k not in MEDIA_KINDS]
        if unknown or not kinds:
            raise ConfigError(
                "MEDIA_KINDS",
                f"取值“{v}”无效：应为 {', '.join(MEDIA_KINDS)} 中的一个或几个，用英文逗号分隔。",
            )
        return kinds

    @field_validator("media_store_dir", mode="before")
    @classmethod
    def _media_store_dir(cls, v: Any) -> Path | None:
        if not v:
            return None
        path = Path(v).expanduser()
        if path.exists() and not path.is_dir():
            raise ConfigError(
                "MEDIA_STORE_DIR", f"“{v}”已存在但不是目录：请填写一个目录（不存在会自动创建）。"
            )
        return path

    @field_validator("album_wait_seconds", mode="before")
    @classmethod
    def _album_wait(cls, v: Any) -> Any:
        if v is None or isinstance(v, int | float) and not isinstance(v, bool) and 0.05 <= v <= 10:
            return v
        try:
            seconds = float(str(v).strip())
        except ValueError:
            raise ConfigError("ALBUM_WAIT_SECONDS", f"应为秒数（如 0.5），实际为“{v}”。") from None
        if not 0.05 <= seconds <= 10:
            raise ConfigError("ALBUM_WAIT_SECONDS", f"取值 {seconds} 超出范围：应在 0.05 到 10 秒之间。")
        return seconds

    @model_validator(mode="after")
    def _webhook_needs_port(self) -> Settings:
        if self.webhook_url is not None and self.webhook_port is None:
            raise ConfigError(
                "WEBHOOK_PORT", "未设置：设置了 WEBHOOK_URL 时必须同时给出本机监听端口（如 8443）。"
            )
        return self

    # ------------------------------------------------------------------ derived

    @property
    def database(self) -> str:
        """The ticket database: DATABASE_URL when set, else the SQLite file at DATABASE_PATH."""
        return self.database_url or str(self.database_path)

    @property
    def shared_dialogue_context(self) -> bool:
        """Whether dialogue contexts live in the database (DIALOGUE_CONTEXT; auto: on PostgreSQL)."""
        if self.dialogue_context != "auto":
            return self.dialogue_context == "database"
        return self.database.split("://", 1)[0].lower() in ("postgresql", "postgres")

    @property
    def use_webhook(self) -> bool:
        return self.webhook_url is not None

    def secret_values(self) -> list[str]:
        """The values of every secret setting (declared with repr=False: the bot token, the webhook secret):
        what the log filter replaces wherever it appears."""
        return [
            str(value)
            for name, info in type(self).model_fields.items()
            if info.repr is False and (value := getattr(self, name))
        ]

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


_INT_RANGES = {
    "knowledge_review_days": (0, 3650),
    "faq_expiry_days": (1, 3650),
    "webhook_port": (1, 65535),
    "reminder_interval_seconds": (5, 86400),
    "outbox_interval_seconds": (1, 3600),
    "outbox_claim_seconds": (2, 3600),
    "rate_limit": (0, 10000),
    "concurrent_updates": (1, 1024),
    "context_ttl_minutes": (1, 24 * 60),
    "telegram_connect_attempts": (1, 100),
    "database_pool_size": (1, 1000),
    "database_timeout_seconds": (1, 600),
    "media_max_mb": (1, 2000),
    "media_max_count": (1, 100),
    "policy_expiring_days": (1, 366),
}


def _int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool):
        raise ConfigError(name, f"应为整数，实际为“{v}”。")
    if isinstance(v, int | float) and float(v).is_integer():
        n = int(v)
    else:
        try:
            n = int(str(v).strip())
        except ValueError:
            raise ConfigError(name, f"应为整数，实际为“{v}”。") from None
    if not lo <= n <= hi:
        raise ConfigError(name, f"取值 {n} 超出范围：应在 {lo} 到 {hi} 之间。")
    return n


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in schemes or not parsed.netloc:
        want = " 或 ".join(f"{s}://" for s in schemes)
        # a URL may carry a password or a bot token: never echo them
        raise ConfigError(name, f"不是有效的网址：“{redact_secrets(url)}”，应以 {want} 开头。")
    return url


def _parse_admin_ids(s: str) -> frozenset[int]:
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


def _parse_staff_groups(s: str) -> dict[str, tuple[int, ...]]:
    """`公安局=-1001234,人力资源和社会保障局=-1005678,*=-1009999`; a department may be listed twice to
    post to two groups."""
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
