"""Everyday Chinese vocabulary with parts of speech, from jieba's dictionary (shipped inside the package, read
once: the matcher loads it when it is built, so the first question does not pay for it).

Two uses: a query window that is an everyday word ("下个", "收费") is never "corrected" into a similar-sounding
domain word; and words the knowledge base has never seen weigh by what they are — a noun the base does not know
("烟草", "商标") is strong evidence the question is about something else, a verb or a connective ("然后",
"听说") hardly any.

The 330,000 words of two to four characters are kept compactly (about 7 MB instead of about 40 MB as a dict
of strings): per word length and first character, the rest of the words joined into one string with newlines
between them, and one byte per word naming its tag; a look-up is one str.find in C over the few words that
share its length and first character (about half a microsecond). The file is parsed with numpy; an irregular
file is read line by line instead, with the same result.
"""

from __future__ import annotations

import importlib.util
import os
from array import array
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

MIN_LEN, MAX_LEN = 2, 4


# one length's words grouped by their first character: the rest of each word, every one after a newline and
# the last followed by one, in order; and each word's tag index (a byte, or two for a dictionary with many tags)
Group = tuple[str, "bytes | array"]


class EverydayWords(Mapping[str, str]):
    """word (2–4 characters) -> jieba part-of-speech tag, read-only. Words never contain whitespace (they are
    the first field of a whitespace-separated line), so a newline can separate them."""

    __slots__ = ("_groups", "_tags", "_len")

    def __init__(self, groups: dict[int, dict[str, Group]], tags: tuple[str, ...]):
        self._groups = groups  # length -> first character -> Group
        self._tags = tags
        self._len = sum(len(g[1]) for by_first in groups.values() for g in by_first.values())

    @classmethod
    def from_dict(cls, words: Mapping[str, str]) -> EverydayWords:
        tags = tuple(sorted(set(words.values())))
        index = {t: i for i, t in enumerate(tags)}
        groups = {}
        for n in range(MIN_LEN, MAX_LEN + 1):
            group = [w for w in words if len(w) == n]
            codes = np.frombuffer("".join(group).encode("utf-32-le"), dtype=np.uint32).reshape(-1, n)
            tags_of = np.array([index[words[w]] for w in group], dtype=np.int64)
            groups[n] = _groups([codes[:, j] for j in range(n)], tags_of)
        return cls(groups, tags)

    def _find(self, word: str) -> int:
        """The tag index of the word, or -1. One C-level search of the few words that share its length and
        first character: the separators keep a match aligned, and each word takes `len(word)` characters."""
        by_first = self._groups.get(len(word))
        if by_first is None:
            return -1
        group = by_first.get(word[0])
        if group is None:
            return -1
        at = group[0].find("\n" + word[1:] + "\n")
        return -1 if at < 0 else group[1][at // len(word)]

    def __contains__(self, word: object) -> bool:
        # _find() inlined: the corrector asks this of every window it considers
        if not isinstance(word, str) or (by_first := self._groups.get(len(word))) is None:
            return False
        group = by_first.get(word[0])
        return group is not None and ("\n" + word[1:] + "\n") in group[0]

    def get(self, word: str, default: str | None = None) -> str | None:  # type: ignore[override]
        i = self._find(word) if isinstance(word, str) else -1
        return default if i < 0 else self._tags[i]

    def __getitem__(self, word: str) -> str:
        got = self.get(word)
        if got is None:
            raise KeyError(word)
        return got

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        return (word for word, _ in self.pairs())

    def pairs(self) -> Iterator[tuple[str, str]]:
        """(word, tag) of every word in order, without a look-up each (items() looks each word up)."""
        tags = self._tags
        for n, by_first in sorted(self._groups.items()):
            for first, (rests, tag_idx) in sorted(by_first.items()):
                for k, t in enumerate(tag_idx):
                    yield first + rests[k * n + 1 : k * n + n], tags[t]


def _pack(columns: list[np.ndarray]) -> tuple[np.ndarray, int] | None:
    """Columns of code points as one unsigned 64-bit key per row, ordered as the rows are (first column
    highest), and the bits per column; None when they do not fit."""
    top = max((int(c.max()) for c in columns if len(c)), default=0)
    bits = 8 if top < 1 << 8 else 16 if top < 1 << 16 else 21
    if len(columns) * bits > 64:
        return None
    key = np.zeros(len(columns[0]), dtype=np.uint64)
    for c in columns:
        key = (key << np.uint64(bits)) | c.astype(np.uint64)
    return key, bits


def _unpack(key: int, bits: int, width: int) -> str:
    """The text of a key of _pack() whose zero code points are padding."""
    mask = (1 << bits) - 1
    return "".join(chr(c) for c in ((key >> (bits * (width - 1 - j))) & mask for j in range(width)) if c)


def _groups(columns: list[np.ndarray], tag_idx: np.ndarray) -> dict[str, Group]:
    """One length's groups from its words, as one array of code points per character position (rows in file
    order), and their tag indexes."""
    if len(columns[0]) == 0:
        return {}
    packed = _pack(columns)
    if packed is not None:
        key = packed[0]
        # stable: a repeated word keeps its file order, and the last of each run is the one a dict keeps
        order = np.argsort(key, kind="stable")
        key = key[order]
        order = order[np.r_[key[1:] != key[:-1], True]]
    else:
        rows = np.stack(columns, axis=1)
        order = np.lexsort(rows.T[::-1])
        rows = rows[order]
        order = order[np.r_[np.any(rows[1:] != rows[:-1], axis=1), True]]
    firsts = columns[0][order]
    # each word as a newline and the rest of it, all in one string; a group is a slice of it
    cells = np.stack([np.full(len(order), 10, dtype=np.uint32), *(c[order] for c in columns[1:])], axis=1)
    text = cells.astype(np.uint32).tobytes().decode("utf-32-le")
    tags = tag_idx[order]
    if len(tags) and tags.max() > 255:  # two bytes a word, for a dictionary with that many tags
        wide = array("H")
        wide.frombytes(tags.astype(np.uint16).tobytes())
        tag_seq: bytes | array = wide
    else:
        tag_seq = tags.astype(np.uint8).tobytes()
    n = len(columns)
    bounds = np.flatnonzero(np.r_[True, firsts[1:] != firsts[:-1], True]).tolist()
    return {
        chr(int(firsts[lo])): (text[lo * n : hi * n] + "\n", tag_seq[lo:hi])
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    }


@lru_cache(maxsize=1)
def _whitespace() -> np.ndarray:
    """Which code points str.split() splits on, up to the last of them (U+3000), as a lookup table."""
    last = max(c for c in range(0x3001) if chr(c).isspace())
    table = np.zeros(last + 2, dtype=bool)  # one more: every code point above the last maps to it
    table[[c for c in range(last + 1) if chr(c).isspace()]] = True
    return table


def _count_whitespace(codes: np.ndarray) -> int:
    """How many of the code points str.split() splits on. In slices: a look-up converts its indexes to
    64-bit integers, and the whole file at once would briefly take 24 MB for them."""
    table, step = _whitespace(), 1 << 18
    # mode="clip": every code point above the table's last entry (False) reads that entry
    return sum(
        int(np.count_nonzero(np.take(table, codes[i : i + step], mode="clip")))
        for i in range(0, len(codes), step)
    )


def _read_regular(path: Path) -> EverydayWords | None:
    """The dictionary parsed with numpy, when every line is exactly `word freq tag` (single spaces, no other
    whitespace, a final newline): the same words and tags as the line-by-line reading. None otherwise."""
    # bytes decoded as they are: a carriage return would be whitespace below, read the plain way
    text = path.read_bytes().decode("utf-8")
    if not text.endswith("\n"):
        return None
    # one code unit per character: UTF-16 when every character is in the BMP (half the memory), else UTF-32
    data = text.encode("utf-16-le")
    if len(data) == 2 * len(text):
        codes = np.frombuffer(data, dtype=np.uint16)
    else:
        del data
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    del text
    ends = np.flatnonzero(codes == 10).astype(np.int32)
    spaces = np.flatnonzero(codes == 32).astype(np.int32)
    # no whitespace but those spaces and newlines, and no NUL (the padding of the tags below)
    if _count_whitespace(codes) != len(ends) + len(spaces) or not codes.all():
        return None
    if len(spaces) != 2 * len(ends):
        return None
    first, second = spaces[0::2], spaces[1::2]
    del spaces
    starts = np.r_[np.int32(0), ends[:-1] + 1]
    # each line: a non-empty word, frequency and tag, the two spaces inside it (and so exactly two per line)
    if not (np.all(first > starts) and np.all(second > first + 1) and np.all(ends > second + 1)):
        return None
    word_len = first - starts
    keep = (word_len >= MIN_LEN) & (word_len <= MAX_LEN)
    word_start, word_len = starts[keep], word_len[keep]
    tag_start, tag_len = second[keep] + 1, ends[keep] - second[keep] - 1
    del first, second, starts, ends
    # tags: code points padded with zeros, packed into one key each, numbered by their distinct keys
    tag_columns = [
        np.where(j < tag_len, codes[np.minimum(tag_start + j, len(codes) - 1)], 0)
        for j in range(int(tag_len.max()) if len(tag_len) else 1)
    ]
    packed = _pack(tag_columns)
    if packed is None:
        return None
    tag_keys, bits = packed
    ordered = np.sort(tag_keys)  # (np.unique's inverse is several times slower)
    distinct = ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
    if len(distinct) > 255:  # (the line-by-line reading handles any number)
        return None
    tag_idx = np.searchsorted(distinct, tag_keys)
    tag_names = tuple(_unpack(int(k), bits, len(tag_columns)) for k in distinct)
    del tag_columns, tag_keys, tag_start, tag_len
    groups = {}
    for n in range(MIN_LEN, MAX_LEN + 1):
        mine = word_len == n
        at = word_start[mine]
        groups[n] = _groups([codes[at + j] for j in range(n)], tag_idx[mine])
    return EverydayWords(groups, tag_names)


def read_plain(path: Path) -> dict[str, str]:
    """The dictionary read line by line (the reference for the numpy reading, and its fallback)."""
    words: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and MIN_LEN <= len(parts[0]) <= MAX_LEN:
                words[parts[0]] = parts[2]
    return words


def read_dictionary(path: Path) -> EverydayWords:
    return _read_regular(path) or EverydayWords.from_dict(read_plain(path))


def jieba_dictionary() -> Path:
    # only the dictionary file is needed: importing jieba itself would cost another ~120 ms
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jieba is required for its dictionary")
    return Path(os.path.join(spec.submodule_search_locations[0], "dict.txt"))


@lru_cache(maxsize=1)
def everyday_words() -> EverydayWords:
    """word (2–4 characters) -> jieba part-of-speech tag."""
    return read_dictionary(jieba_dictionary())


# weight of an unseen two-character gram by its part of speech; absent from the dictionary means the gram spans a
# word boundary ("后寄"), which says little
_POS_WEIGHT = {"n": 1.0, "nz": 1.0, "vn": 1.0, "nt": 1.0, "nrt": 0.5, "nr": 0.3, "ns": 0.3, "v": 0.5}
CROSS_WORD_WEIGHT = 0.35
OTHER_POS_WEIGHT = 0.25


def unseen_weight(gram: str) -> float:
    pos = everyday_words().get(gram)
    if pos is None:
        return CROSS_WORD_WEIGHT
    return _POS_WEIGHT.get(pos, OTHER_POS_WEIGHT)
