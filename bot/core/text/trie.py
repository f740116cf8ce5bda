"""Leftmost-longest phrase replacement with a character trie.

Python's `re` tries every alternative of a large alternation at every position; with thousands of phrases
(synonyms plus every phrase of the knowledge base) that dominated query time. A trie walk costs a few dict
look-ups per character whatever the number of phrases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_END = ""  # key marking the end of a phrase in a trie node (no phrase contains the empty string)


class PhraseTrie:
    def __init__(self, phrases: Iterable[str] = ()):
        self.root: dict = {}
        for p in phrases:
            self.add(p)

    def add(self, phrase: str) -> None:
        if not phrase:
            return
        node = self.root
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[_END] = phrase

    def __bool__(self) -> bool:
        return bool(self.root)

    def longest_at(self, text: str, i: int) -> str | None:
        node, found = self.root, None
        for j in range(i, len(text)):
            node = node.get(text[j])
            if node is None:
                break
            if _END in node:
                found = node[_END]
        return found

    def sub(self, text: str, repl: Callable[[str], str]) -> str:
        """Replace every leftmost-longest, non-overlapping phrase occurrence with repl(phrase)."""
        out: list[str] = []
        i, n, last = 0, len(text), 0
        root = self.root
        while i < n:
            if text[i] not in root:
                i += 1
                continue
            found = self.longest_at(text, i)
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

    def findall(self, text: str) -> list[str]:
        got: list[str] = []
        self.sub(text, lambda p: got.append(p) or p)
        return got
