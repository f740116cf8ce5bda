"""Which database a setting names: a plain path or `sqlite:///path` is an SQLite file, `postgresql://…` or
`postgres://…` a PostgreSQL server. `describe()` and every message made here leave the password out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_PORT = 5432


@dataclass(frozen=True)
class DatabaseTarget:
    engine: Literal["sqlite", "postgres"]
    path: Path | None = None  # SQLite
    url: str | None = field(default=None, repr=False)  # PostgreSQL, as given (password included)
    host: str = ""
    port: int = DEFAULT_PORT
    database: str = ""
    user: str = ""
    password: str = field(default="", repr=False)

    def describe(self) -> str:
        """For messages and logs: the engine and where, never the password."""
        if self.engine == "sqlite":
            return f"SQLite {self.path}"
        who = f"{self.user}@" if self.user else ""
        return f"PostgreSQL {who}{self.host}:{self.port}/{self.database}"

    def scrub(self, text: str) -> str:
        """`text` with the password (as written in the URL, and decoded) replaced by ***."""
        if self.url and self.password:
            raw = urlsplit(self.url).password or ""
            for secret in {raw, self.password} - {""}:
                text = text.replace(secret, "***")
        return text


def parse_database(value: str | Path) -> DatabaseTarget:
    """Raises ValueError with a Chinese message (without the password) when `value` names no database."""
    text = str(value).strip()
    if not text:
        raise ValueError("为空：请填写 SQLite 文件路径，或 postgresql://用户:密码@主机:端口/数据库。")
    if "://" not in text:
        return DatabaseTarget("sqlite", path=Path(text).expanduser())
    scheme = text.split("://", 1)[0].lower()
    if scheme == "sqlite":
        rest = text[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise ValueError("格式不正确：SQLite 应写作 sqlite:///相对路径 或 sqlite:////绝对路径。")
        return DatabaseTarget("sqlite", path=Path(unquote(rest[1:])).expanduser())
    if scheme not in POSTGRES_SCHEMES:
        raise ValueError(
            f"不支持的数据库类型“{scheme}”：只支持 SQLite 文件路径（或 sqlite:///路径）和 postgresql://…。"
        )
    parts = urlsplit(text)
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(
            "中的端口不正确：应为 1–65535 的整数，如 postgresql://用户@127.0.0.1:5432/数据库。"
        ) from None
    query = parse_qs(parts.query)
    user = unquote(parts.username or "") or query.get("user", [""])[0]
    host = parts.hostname or query.get("host", [""])[0] or "localhost"
    database = unquote(parts.path.lstrip("/")) or query.get("dbname", [""])[0] or user
    password = unquote(parts.password or "") or query.get("password", [""])[0]
    return DatabaseTarget(
        "postgres", url=text, host=host, port=port, database=database, user=user, password=password
    )
