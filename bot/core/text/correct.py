"""Query correction: known mistakes, pinyin and abbreviations, homophone typos, synonyms.

Everything here is driven by data (knowledge/synonyms.yaml) and by the vocabulary of the knowledge base itself,
so a deployment that adds entries gets typo tolerance for their words without code changes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from .function import FUNCTION_CHARS
from .lexicon import everyday_words
from .normalize import compact, has_cjk
from .pinyin import full_pinyin, fuzzy_readings
from .trie import PhraseTrie

# most windows a query may try to correct; typos sit in the few words that name the subject
MAX_WINDOWS = 40
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_RUN = re.compile(r"[a-z]+")
# marks the Chinese that replaced latin words, so neighbouring replacements can be joined
_MARK = "\x00"
_JOINED = re.compile(r"\x00\s*\x00")


def _cjk_substrings(
    texts: list[str], sizes: tuple[int, ...], counts: dict[str, int] | None = None
) -> dict[int, set[str]]:
    """size -> every distinct substring of that size inside the CJK runs of the texts; `counts`, when given,
    receives how often each occurs. Vectorised: a base of 10,000 entries has over a million of them, mostly
    repeats. The CJK ranges are all in the BMP, so a substring of up to four characters packs into one 64-bit
    key."""
    codes = np.frombuffer("\0".join(texts).encode("utf-16-le"), dtype=np.uint16)
    cjk = ((codes >= 0x3400) & (codes <= 0x9FFF)) | ((codes >= 0xF900) & (codes <= 0xFAFF))
    found: dict[int, set[str]] = {}
    for size in sizes:
        out = found[size] = set()
        m = len(codes) - size + 1
        if m <= 0:
            continue
        inside = np.ones(m, dtype=bool)
        key = np.zeros(m, dtype=np.uint64)
        for j in range(size):
            inside &= cjk[j : j + m]
            key = (key << np.uint64(16)) | codes[j : j + m].astype(np.uint64)
        key = np.sort(key[inside])  # sorted, then de-duplicated (faster than np.unique's hashing)
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, dtype=np.int64)
        runs = np.diff(np.r_[first, len(key)])
        key = key[first]
        chars = np.stack(
            [(key >> np.uint64(16 * (size - 1 - j))) & np.uint64(0xFFFF) for j in range(size)], 1
        )
        text = chars.astype(np.uint16).tobytes().decode("utf-16-le")
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        out.update(pieces)
        if counts is not None:
            counts.update(zip(pieces, runs.tolist(), strict=True))
    return found


def common_words():
    return everyday_words()


class Corrector:
    def __init__(
        self,
        phrases: Iterable[str],
        synonyms: dict[str, list[str]],
        abbreviations: dict[str, str],
        confusables: dict[str, str],
        protect: Iterable[str] = (),
        *,
        compacted: bool = False,
        latin_phrases: dict[str, list[str]] | None = None,
        latin_stopwords: Iterable[str] = (),
    ):
        """phrases and protect: texts of the knowledge base; `compacted` says they are already compact()
        (the matcher compacts each text once and passes the same strings everywhere)."""
        self.confusables = {compact(k): compact(v) for k, v in confusables.items() if compact(k)}
        self._confusables = PhraseTrie(self.confusables)

        # variant -> canonical, applied to queries and entry text alike
        self.synonym_map: dict[str, str] = {}
        for canon, variants in synonyms.items():
            c = compact(canon)
            for v in variants:
                v = compact(v)
                if v and v != c and v not in self.synonym_map:
                    self.synonym_map[v] = c
        # canonical terms map to themselves, so "营业执照" is never re-expanded through its variant "执照"
        for canon in synonyms:
            self.synonym_map.setdefault(compact(canon), compact(canon))
        self._synonyms = PhraseTrie(self.synonym_map)
        # On queries, whole phrases of the knowledge base are kept as they are: "无房证明" must not become
        # "无" + a synonym of "房证" + "明". Entries are indexed in both raw and canonical form, so either matches.
        protected = {p for p in (protect if compacted else map(compact, protect)) if len(p) >= 3}
        self._query_trie = PhraseTrie([*self.synonym_map, *protected])

        # each distinct text once: on a large base most phrases are shared by many entries
        distinct = list(set(phrases if compacted else map(compact, phrases)))
        whole_words = {run for p in distinct for run in _CJK_RUN.findall(p) if 2 <= len(run) <= 6}
        # substrings of 3–4 characters: enough context that a homophone match is not a coincidence
        occurrences: dict[str, int] = {}
        substrings = _cjk_substrings(distinct, (2, 3, 4), occurrences)
        vocab_words = substrings[3] | substrings[4]
        synonym_words = {
            w
            for canon, variants in synonyms.items()
            for w in map(compact, [canon, *variants])
            if has_cjk(w) and 2 <= len(w) <= 6
        }
        whole_words |= synonym_words
        vocab_words |= whole_words
        self.vocab = vocab_words
        # the bigrams of the vocabulary: those inside the texts' CJK runs, and those of the synonyms' words
        self._bigrams = substrings[2] | {w[i : i + 2] for w in synonym_words for i in range(len(w) - 1)}
        # characters that sound alike (same fuzzy reading), among the characters the base uses: a typo is
        # one of these swapped for another, so candidates are generated per character, not per word
        self._alike_cache: dict[str, tuple[str, ...]] = {}
        self._sounds: dict[str, set[str]] = defaultdict(set)
        for ch in {c for b in self._bigrams for c in b}:
            for r in fuzzy_readings(ch):
                self._sounds[r].add(ch)

        self.latin: dict[str, str] = {}
        # shortest first; among words that read alike (买二手房, 卖二手房) the first in code-point order, not
        # whichever a set's hash order gave this process
        for w in sorted(whole_words, key=lambda w: (len(w), w)):
            if len(w) <= 4:
                self.latin.setdefault(full_pinyin(w), w)
        # the everyday words inside longer texts ("前锋区燃气经营许可证" holds 前锋, 燃气, 经营, 许可证): typed in
        # pinyin, each is the word the base uses most among those that read the same
        lexicon = everyday_words()
        inner = [w for w in occurrences if w in lexicon]
        for w in sorted(inner, key=lambda w: (-occurrences[w], w)):
            self.latin.setdefault(full_pinyin(w), w)
        for k, v in abbreviations.items():
            self.latin[k.lower()] = compact(v)
        # English words and multi-word pinyin ("business license", "gjj zufang tiqu"): phrases of whole latin
        # words, matched across the spaces and apostrophes normalisation leaves ("driver s license")
        latin: dict[str, str] = {}
        for zh, variants in (latin_phrases or {}).items():
            for v in variants:
                words = _LATIN_RUN.findall(v.lower())
                if words:
                    latin.setdefault(" ".join(words), compact(zh))
        for w in latin_stopwords:
            latin.setdefault(" ".join(_LATIN_RUN.findall(w.lower())), "")
        latin.pop("", None)
        # looked up by the letters alone: "driver s license", "driverslicense" and "drivers license" are one
        self._latin_phrases = {p.replace(" ", ""): zh for p, zh in latin.items()}
        self._latin_phrase_re = (
            re.compile(
                r"(?<![a-z])(?:"
                + "|".join(
                    r"[\s]*".join(map(re.escape, p.split())) for p in sorted(latin, key=len, reverse=True)
                )
                + r")(?![a-z])"
            )
            if latin
            else None
        )

    # -- steps -------------------------------------------------------------------------------------------
    def fix_confusables(self, text: str) -> str:
        return self._confusables.sub(text, self.confusables.__getitem__)

    def expand_latin_phrases(self, text: str) -> str:
        """English words and multi-word pinyin into the Chinese term they stand for."""
        if self._latin_phrase_re is None or not _LATIN_RUN.search(text):
            return text
        return self._latin_phrase_re.sub(
            lambda m: _MARK + self._latin_phrases.get("".join(_LATIN_RUN.findall(m.group(0))), "") + _MARK,
            text,
        )

    def expand_latin(self, text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            run = m.group(0)
            if run in self.latin:
                return _MARK + self.latin[run] + _MARK
            # "shebaoka" = "shebao" + "ka": greedy longest-prefix split, all parts known or none replaced
            out, i = [], 0
            while i < len(run):
                for j in range(len(run), i + 1, -1):
                    if run[i:j] in self.latin:
                        out.append(self.latin[run[i:j]])
                        i = j
                        break
                else:
                    return run
            return _MARK + "".join(out) + _MARK

        # words typed in latin letters and spelt out in Chinese are one phrase again: "gjj goufang tiqu" ->
        # 公积金购房提取, not three runs that share no bigram
        return _JOINED.sub("", _LATIN_RUN.sub(sub, text)).replace(_MARK, "")

    def fix_homophones(self, text: str) -> str:
        budget = [MAX_WINDOWS]  # shared by all runs of the message: bounded work on long, rambling ones
        return _CJK_RUN.sub(lambda m: self._fix_run(m.group(0), budget), text)

    def _fix_run(self, run: str, budget: list[int]) -> str:
        n = len(run)
        if n < 2:
            return run
        bigrams = self._bigrams
        # a character is suspicious when it forms no known bigram with either neighbour
        suspicious = [
            not ((i > 0 and run[i - 1 : i + 1] in bigrams) or (i + 1 < n and run[i : i + 2] in bigrams))
            for i in range(n)
        ]
        if not any(suspicious):
            return run
        chars = list(run)
        i = 0
        while i < n and budget[0] > 0:
            done = False
            for size in (4, 3, 2):
                j = i + size
                if j > n or not any(suspicious[i:j]):
                    continue
                window = "".join(chars[i:j])
                if window in self.vocab or self._everyday(chars, i, j):
                    continue
                budget[0] -= 1
                best = self._candidate(window, suspicious[i:j])
                if best and self._breaks_neighbour(chars, i, j, best):
                    best = None
                if best:
                    chars[i:j] = list(best)
                    i = j
                    done = True
                    break
            if not done:
                i += 1
        return "".join(chars)

    @staticmethod
    def _breaks_neighbour(chars: list[str], i: int, j: int, best: str) -> bool:
        """A window whose edge cuts through an everyday word was probably read wrongly: in "执照收费" the
        "收" belongs to 收费, and in "挂牌保护找谁" the "护" belongs to 保护 — neither is a typo of 执照授 or 护照."""
        words = common_words()
        if i > 0 and chars[i - 1] + chars[i] in words:
            return True
        return j < len(chars) and chars[j - 1] + chars[j] in words

    @staticmethod
    def _everyday(chars: list[str], i: int, j: int) -> bool:
        words = common_words()
        if "".join(chars[i:j]) in words:
            return True
        if j - i == 2:  # a two-character window is also judged with a neighbour: "下个" in "下个月"
            return (i > 0 and "".join(chars[i - 1 : j]) in words) or (
                j < len(chars) and "".join(chars[i : j + 1]) in words
            )
        return False

    def _alike(self, ch: str) -> tuple[str, ...]:
        got = self._alike_cache.get(ch)
        if got is None:
            out: set[str] = set()
            for r in fuzzy_readings(ch):
                out |= self._sounds.get(r, set())
            out.discard(ch)
            # sorted: a set's order depends on the hash seed, and which homophone wins must not
            got = self._alike_cache[ch] = tuple(sorted(out))
        return got

    def _candidate(self, window: str, suspicious: list[bool]) -> str | None:
        """The vocabulary word this window is most likely a mistyping of: one character swapped for a
        similar-sounding one, and only a character that looked wrong in context."""
        vocab = self.vocab
        for n, ch in enumerate(window):
            if not suspicious[n] or ch in FUNCTION_CHARS:  # grammar is never the typo
                continue
            head, tail = window[:n], window[n + 1 :]
            for alt in self._alike(ch):
                word = head + alt + tail
                if word in vocab:
                    return word
        return None

    def canonical(self, text: str) -> str:
        """Variants replaced by canonical terms (used for the entries' canonical phrases)."""
        return self._synonyms.sub(text, self.synonym_map.__getitem__)

    def canonical_query(self, text: str) -> str:
        return self._query_trie.sub(text, lambda w: self.synonym_map.get(w, w))

    def fix(self, text: str) -> str:
        """Normalised query text with mistakes fixed (spaces between runs are kept)."""
        return self.fix_homophones(self.expand_latin(self.expand_latin_phrases(self.fix_confusables(text))))

    def correct(self, text: str) -> str:
        """Normalised query text -> corrected, canonical text."""
        return self.canonical_query(self.fix(text))
