"""Pinyin keys for typo-tolerant matching.

People type by pinyin, so most typos are homophones (社宝卡, 公基金) or near-homophones from dialect
(zh/z, ch/c, sh/s, n/l, -ng/-n: 执造 for 执照, 不动厂 for 不动产). A *fuzzy key* folds those differences, so
two words with the same key are very likely one word mistyped.
"""

from __future__ import annotations

import itertools
import os
import sys
from functools import lru_cache


def _import_pypinyin() -> None:
    """Import pypinyin without its phrase dictionary (its documented switch PYPINYIN_NO_PHRASES, read once
    when pypinyin is first imported). Only single characters are converted here, and their readings are the
    same without it — checked for all 41,931 characters of pypinyin 0.55's table — while the dictionary costs
    about 45 MB and 0.35 s of start-up. The switch is set for the import only, so child processes and the
    rest of the environment see what they saw before; if pypinyin was already imported, it is used as it is."""
    if "pypinyin" in sys.modules:
        return
    saved = os.environ.get("PYPINYIN_NO_PHRASES")
    os.environ["PYPINYIN_NO_PHRASES"] = "1"
    try:
        import pypinyin  # noqa: F401
    finally:
        if saved is None:
            del os.environ["PYPINYIN_NO_PHRASES"]
        else:
            os.environ["PYPINYIN_NO_PHRASES"] = saved


_import_pypinyin()

from pypinyin import Style, pinyin  # noqa: E402

_MAX_COMBOS = 8


def _fuzz(syllable: str) -> str:
    s = syllable
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if s.startswith(a):
            s = b + s[2:]
            break
    if s.startswith("n"):
        s = "l" + s[1:]
    if s.endswith("ng"):
        s = s[:-1]
    return s


@lru_cache(maxsize=20000)
def readings(ch: str) -> tuple[str, ...]:
    """All toneless readings of one character (heteronyms included); the character itself if none."""
    got = pinyin(ch, style=Style.NORMAL, heteronym=True, errors=lambda x: x)  # kept as it is
    out = tuple(dict.fromkeys(r for r in got[0] if r)) if got else ()
    return out or (ch,)


@lru_cache(maxsize=20000)
def fuzzy_readings(ch: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_fuzz(r) for r in readings(ch)))


def fuzzy_keys(word: str) -> list[str]:
    """Every fuzzy pinyin key of a word (bounded: heteronym combinations are capped)."""
    per_char = [fuzzy_readings(c) for c in word]
    keys = []
    for combo in itertools.islice(itertools.product(*per_char), _MAX_COMBOS):
        keys.append("".join(combo))
    return keys


def full_pinyin(word: str) -> str:
    """The most common toneless reading of a word, joined ("社保" -> "shebao")."""
    return "".join(readings(c)[0] for c in word)


def initials(word: str) -> str:
    return "".join(readings(c)[0][0] for c in word)
