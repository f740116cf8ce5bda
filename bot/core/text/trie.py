"""Leftmost-longest phrase replacement over a set of phrases.

Python's `re` tries every alternative of a large alternation at every position; with thousands of phrases
(synonyms plus every phrase of the knowledge base) that dominated query time. A character trie fixed that but
cost a dict per character node (over a million dicts at 10,000 entries). Here the phrases sit in one set, and
per two-character head we keep the phrase lengths present, longest first: finding the longest phrase at a
position costs one dict look-up, then a set look-up per longer length that exists for that head.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

# texts longer than this are scanned with numpy first (see _sub_long)
_LONG = 4096


def _among(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """values in sorted_keys (binary search: np.isin sorts both arrays)."""
    if not len(sorted_keys):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[at] == values


class PhraseTrie:
    def __init__(self, phrases: Iterable[str] = ()):
        self._phrases: set[str] = {p for p in phrases if p}
        by_head: dict[str, set[int]] = {}
        for p in self._phrases:
            sizes = by_head.get(p[:2])
            if sizes is None:
                by_head[p[:2]] = {len(p)}
            else:
                sizes.add(len(p))
        # head (the first two characters, or the only one) -> lengths of the phrases with that head, longest
        # first
        self._lengths: dict[str, list[int]] = {h: sorted(n, reverse=True) for h, n in by_head.items()}
        # whether any phrase is a single character (only those have a one-character head)
        self._singles = any(len(h) == 1 for h in by_head)
        self._keys: tuple[np.ndarray, ...] | None = None  # for _sub_long, made on first use

    def add(self, phrase: str) -> None:
        if not phrase or phrase in self._phrases:
            return
        self._phrases.add(phrase)
        self._singles = self._singles or len(phrase) == 1
        self._keys = None
        lengths = self._lengths.setdefault(phrase[:2], [])
        if len(phrase) not in lengths:
            lengths.append(len(phrase))
            lengths.sort(reverse=True)

    def __bool__(self) -> bool:
        return bool(self._phrases)

    def __contains__(self, phrase: str) -> bool:
        return phrase in self._phrases

    def longest_at(self, text: str, i: int) -> str | None:
        phrases, room = self._phrases, len(text) - i
        for n in self._lengths.get(text[i : i + 2], ()):
            if n <= room and (n == 2 or text[i : i + n] in phrases):
                return text[i : i + n]
        # a one-character phrase is the shortest there is, so it is tried last
        if text[i : i + 1] in phrases:
            return text[i]
        return None

    def sub(self, text: str, repl: Callable[[str], str]) -> str:
        """Replace every leftmost-longest, non-overlapping phrase occurrence with repl(phrase)."""
        if len(text) > _LONG:
            try:
                codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
            except UnicodeEncodeError:  # a lone surrogate: scan it the plain way
                pass
            else:
                return self._sub_long(text, codes, repl)
        out: list[str] = []
        i, n, last = 0, len(text), 0
        # longest_at() inlined: this loop runs over every phrase of the base at build time
        heads, phrases, singles = self._lengths, self._phrases, self._singles
        while i < n:
            found = None
            for size in heads.get(text[i : i + 2], ()):
                if size <= n - i and (size == 2 or text[i : i + size] in phrases):
                    found = text[i : i + size]
                    break
            if found is None and singles and text[i] in phrases:
                found = text[i]
            if found is None:
                i += 1
                continue
            out.append(text[last:i])
            out.append(repl(found))
            i += len(found)
            last = i
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def _sub_long(self, text: str, codes: np.ndarray, repl: Callable[[str], str]) -> str:
        """sub() for a long text (all the phrases of a base joined, at build time): numpy finds the positions
        where a phrase may start (its first three characters, or all of a shorter one, occur there) and only
        those are tried, in order — the same leftmost-longest result as the character-by-character scan."""
        n = len(codes)
        first_chars, *start_keys = self._start_keys()
        # positions whose character starts some phrase (a table look-up), then the keys there
        table = np.zeros(int(first_chars[-1]) + 2 if len(first_chars) else 1, dtype=bool)
        table[first_chars] = True
        at = np.flatnonzero(table[np.minimum(codes, len(table) - 1)])
        starts = np.zeros(len(at), dtype=bool)
        for size, keys in enumerate(start_keys, start=1):
            fits = at[at <= n - size] if len(keys) else at[:0]
            window = codes[fits]
            for j in range(1, size):
                window = (window << 21) | codes[fits + j]
            starts[: len(fits)] |= _among(window, keys)
        out: list[str] = []
        last = 0
        for i in at[starts].tolist():
            if i < last:
                continue
            found = self.longest_at(text, i)
            if found is not None:
                out.append(text[last:i])
                out.append(repl(found))
                last = i + len(found)
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def _start_keys(self) -> tuple[np.ndarray, ...]:
        """Sorted code points that start a phrase; then sorted keys of the phrases of one and two characters,
        and of the first three characters of the longer ones (a key packs each code point into 21 bits)."""
        if self._keys is None:
            by_size: list[set[int]] = [set(), set(), set()]
            for p in self._phrases:
                head = p[:3]
                key = 0
                for ch in head:
                    key = (key << 21) | ord(ch)
                by_size[len(head) - 1].add(key)
            firsts = {ord(p[0]) for p in self._phrases}
            self._keys = tuple(np.array(sorted(k), dtype=np.int64) for k in (firsts, *by_size))
        return self._keys

    def findall(self, text: str) -> list[str]:
        got: list[str] = []

        def keep(phrase: str) -> str:
            got.append(phrase)
            return phrase

        self.sub(text, keep)
        return got
