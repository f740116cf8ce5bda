"""Text normalisation shared by the index and the queries.

Both sides go through the same steps, so whatever we fold here (width, case, traditional characters,
punctuation, emoji) can never make a query and an entry disagree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
import opencc

# The longest message we analyse; longer text is still kept whole for tickets, but matching a 10,000-character
# message is neither useful nor cheap. The head carries the question in practice.
MAX_ANALYSED_CHARS = 400


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """Character-level traditional→simplified table from OpenCC's dictionary.

    str.translate with this table costs about a microsecond, against ~70 µs for OpenCC's phrase converter;
    phrase-level distinctions do not change which 事项 a question is about.
    """
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and len(parts[0]) == 1:
            table[ord(parts[0])] = parts[1].split(" ")[0]
    return table


def to_simplified(text: str) -> str:
    return text.translate(_t2s_table())


_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_KEEP = re.compile(rf"[{_CJK}a-z0-9]+")
_CJK_RE = re.compile(rf"[{_CJK}]")
_LATIN_RUN = re.compile(r"[a-z]+")


def fold(text: str) -> str:
    """Width, case, traditional→simplified; removes control characters. Keeps punctuation."""
    text = unicodedata.normalize("NFKC", text)
    # printable text has no control/format character (category C): skip the per-character loop, which
    # dominated building the index of a large base
    if not text.isprintable():
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return to_simplified(text.lower())


def normalize(text: str) -> str:
    """Folded text with punctuation, emoji and spaces reduced to single spaces between runs."""
    folded = fold(text[: MAX_ANALYSED_CHARS * 2])
    return " ".join(_KEEP.findall(folded))[:MAX_ANALYSED_CHARS]


def compact(text: str) -> str:
    """Normalised text without any separators (the form the index works on)."""
    return "".join(_KEEP.findall(fold(text)))


_DROP = re.compile(rf"[^{_CJK}a-z0-9\n]+")


def compact_many(texts: list[str]) -> list[str]:
    """[compact(t) for t in texts], done over all of them joined by newlines: a large base has hundreds of
    thousands of names, aliases and keywords, and each step below is then one pass in C or numpy. Exact,
    because no step looks across a newline (case and traditional→simplified are per character)."""
    if not texts or any("\n" in t for t in texts):
        return [compact(t) for t in texts]
    # NFKC per text: on one long string CPython's quick check fails at the first full-width character and
    # normalises everything the slow way
    text = "\n".join([unicodedata.normalize("NFKC", t) for t in texts])
    if not text.replace("\n", "").isprintable():
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == "\n")
    return _DROP.sub("", _simplified_bulk(text.lower())).split("\n")


@lru_cache(maxsize=1)
def _t2s_array() -> np.ndarray | None:
    """The traditional→simplified table as a code-point lookup array up to its largest key, when every
    mapping is one character (None otherwise)."""
    table = _t2s_table()
    if not table or any(len(v) != 1 for v in table.values()):
        return None
    lut = np.arange(max(table) + 1, dtype=np.uint32)
    lut[list(table)] = [ord(v) for v in table.values()]
    return lut


def _simplified_bulk(text: str) -> str:
    lut = _t2s_array()
    if lut is None:
        return to_simplified(text)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).copy()
    inside = codes < len(lut)
    codes[inside] = lut[codes[inside]]
    return codes.tobytes().decode("utf-32-le")


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def latin_runs(text: str) -> list[str]:
    return _LATIN_RUN.findall(text)
