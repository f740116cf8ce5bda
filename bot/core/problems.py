"""How the loaders of data files (the knowledge base, the 政策库) collect what is wrong: every problem is one line
naming the file and, where there is one, the entry and the field, in Chinese; loading goes on after a problem so
that one run of `python -m bot check` shows everything to fix.

`read_mapping` reads one YAML file and gives its top-level mapping, or records why it cannot (bad YAML with the
line and column, not UTF-8, not a mapping); `field_problems` turns a pydantic ValidationError into one line per
field.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

# pydantic's words for the mistakes people make most in YAML, in Chinese; others keep pydantic's own message
CHINESE = {
    "extra_forbidden": "未知字段（可能拼写有误）",
    "missing": "缺少必填字段",
    "literal_error": "取值无效，应为",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "list_type": "应为列表",
    "dict_type": "应为映射",
    "bool_type": "应为 true 或 false",
    "float_parsing": "应为数字",
    "string_type": "应为文字",
}


def field_problems(err: ValidationError, prefix: str = "") -> list[str]:
    """`字段 <path>: <what is wrong>` for every error; `prefix` is put before each path (any_of.1)."""
    out = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        loc = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "(条目)")
        msg = CHINESE.get(e["type"], e["msg"]).removeprefix("Value error, ")
        if e["type"] == "literal_error":
            msg += f"：{e.get('ctx', {}).get('expected', '')}"
        out.append(f"字段 {loc}: {msg}")
    return out


def read_mapping(
    path: Path, name: str, read: Callable[[Path], Any], problems: list[str], example: str
) -> dict[Any, Any] | None:
    """The top-level mapping of the YAML file at `path` (read with `read`), or None: for an empty file without a
    word, otherwise after adding to `problems` why, under the file's `name`. `example` shows what the top of such
    a file looks like ("items: [...]")."""
    try:
        data = read(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        problems.append(f"{name}: YAML 格式错误 {where}: {getattr(exc, 'problem', exc)}")
        return None
    except UnicodeDecodeError:
        problems.append(f"{name}: 文件不是 UTF-8 编码")
        return None
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(f"{name}: 顶层必须是映射（如 {example}），实际是 {type(data).__name__}")
        return None
    return data
