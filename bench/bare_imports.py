"""The baseline of bench_startup.py: a process that only imports the third-party libraries that
`python -m bot ask` uses, and does nothing else.

    python bench/bare_imports.py            # the libraries `ask` imports, configured as the bot configures them
    python bench/bare_imports.py --issue    # the list named in the restructure issue, library defaults

The default list is what `python -m bot ask 护照怎么办` leaves in sys.modules besides the standard library and
the bot itself (bench_startup.py --modules prints it, so a change of dependencies shows). pypinyin is imported
the way bot/core/text/pinyin.py imports it, without its phrase dictionary, so the bot is not credited for a
switch the baseline would not get.

`--issue` is the list written in the issue (jinja2, yaml, pydantic, pydantic_settings, numpy, rapidfuzz,
pypinyin, opencc, jieba), each with its defaults: jieba's module (the bot only reads its dictionary file) and
pypinyin's phrase dictionary (about 0.35 s) make it the slower, more lenient baseline.
"""

from __future__ import annotations

import importlib
import os
import sys

USED = [
    "jinja2",
    "yaml",
    "pydantic",
    "pydantic_settings",
    "numpy",
    "rapidfuzz",
    "pypinyin",
    "opencc",
    "chinese_calendar",
]
ISSUE = [
    "jinja2",
    "yaml",
    "pydantic",
    "pydantic_settings",
    "numpy",
    "rapidfuzz",
    "pypinyin",
    "opencc",
    "jieba",
]


def main() -> None:
    if "--issue" in sys.argv[1:]:
        names = ISSUE
    else:
        names = USED
        os.environ["PYPINYIN_NO_PHRASES"] = "1"
    for name in names:
        importlib.import_module(name)


if __name__ == "__main__":
    main()
