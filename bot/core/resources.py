"""Where the data shipped with the project lives: knowledge/, intents/ and templates/.

In a checkout (an editable install included) they are the folders at the top of the repository. An installed
wheel carries copies inside the package (bot/_data/…, see pyproject.toml), found through importlib.resources.
A deployment points at its own folders through the settings; this is only the default.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

DATA_NAMES = ("knowledge", "intents", "templates")


class DataNotFound(FileNotFoundError):
    """A shipped data folder is missing: a broken installation, named in the message."""


def data_dir(name: str) -> Path:
    if name not in DATA_NAMES:
        raise ValueError(f"unknown data folder {name!r}")
    packaged = resources.files("bot") / "_data" / name
    if packaged.is_dir():
        # a wheel installs as plain files, so the traversable is a real path
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir():
        return checkout
    raise DataNotFound(f"找不到自带的数据目录 {name}/（查找了 {packaged} 和 {checkout}），安装可能不完整。")


def parse_yaml(text: str) -> Any:
    """YAML text -> Python data, safely (plain data only). libyaml's C parser when PyYAML has it: the same data
    as the pure-Python SafeLoader, about 8× faster, which is most of loading the knowledge base. Errors are
    yaml.YAMLError either way, with the same marks (line, column); libyaml words some problems differently."""
    import yaml  # here, not at the top: this module is imported by commands that never read YAML

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def read_yaml(path: Path) -> Any:
    """parse_yaml() of a UTF-8 file (UnicodeDecodeError when it is not UTF-8)."""
    return parse_yaml(path.read_text(encoding="utf-8"))
