"""Query correction: known mistakes, pinyin and abbreviations, homophone typos, synonyms.

Everything here is driven by data (knowledge/synonyms.yaml) and by the vocabulary of the knowledge base itself,
so a deployment that adds entries gets typo tolerance for their words without code changes.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from .normalize import compact, has_cjk
from .pinyin import full_pinyin, fuzzy_keys

# grammatical characters are never the typo: "孩子上小学的手续" must not become "…地手续"
_FUNCTION_CHARS = frozenset("的地得了着过吗呢吧啊呀哦嘛么我你他她它们是在有个这那和与或及把被给让就都也还又很")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_RUN = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Everyday Chinese words (jieba's dictionary). A window of the query that is an everyday word ("下个",
    "收费") is not a typo of a similar-sounding domain word, however alike they sound."""
    import jieba

    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    words = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            w, _, _ = line.partition(" ")
            if 2 <= len(w) <= 4:
                words.add(w)
    return frozenset(words)


def _alternation(words: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words))


class Corrector:
    def __init__(
        self,
        phrases: Iterable[str],
        synonyms: dict[str, list[str]],
        abbreviations: dict[str, str],
        confusables: dict[str, str],
        protect: Iterable[str] = (),
    ):
        self.confusables = {compact(k): compact(v) for k, v in confusables.items() if compact(k)}
        self._confusable_re = _alternation(self.confusables)

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
        self._synonym_re = _alternation(self.synonym_map)
        # On queries, whole phrases of the knowledge base are kept as they are: "无房证明" must not become
        # "无" + a synonym of "房证" + "明". Entries are indexed in both raw and canonical form, so either matches.
        self._protected = {compact(p) for p in protect if len(compact(p)) >= 3}
        self._query_re = _alternation([*self.synonym_map, *self._protected])

        phrases = [compact(p) for p in phrases]
        vocab_words: set[str] = set()
        for p in phrases:
            for run in _CJK_RUN.findall(p):
                if 2 <= len(run) <= 6:
                    vocab_words.add(run)
                # substrings of 3–4 characters: enough context that a homophone match is not a coincidence
                for n in (3, 4):
                    for i in range(len(run) - n + 1):
                        vocab_words.add(run[i : i + n])
        for canon, variants in synonyms.items():
            for w in [canon, *variants]:
                w = compact(w)
                if has_cjk(w) and 2 <= len(w) <= 6:
                    vocab_words.add(w)
        self.vocab = vocab_words
        self._bigrams = {w[i : i + 2] for w in vocab_words for i in range(len(w) - 1)}
        self._by_key: dict[str, list[str]] = defaultdict(list)
        for w in vocab_words:
            if len(w) <= 4:
                for k in fuzzy_keys(w):
                    self._by_key[k].append(w)

        self.latin: dict[str, str] = {}
        for w in vocab_words:
            if len(w) <= 4:
                self.latin.setdefault(full_pinyin(w), w)
        for k, v in abbreviations.items():
            self.latin[k.lower()] = compact(v)

    # -- steps -------------------------------------------------------------------------------------------
    def fix_confusables(self, text: str) -> str:
        if self._confusable_re is None:
            return text
        return self._confusable_re.sub(lambda m: self.confusables[m.group(0)], text)

    def expand_latin(self, text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            run = m.group(0)
            if run in self.latin:
                return self.latin[run]
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
            return "".join(out)

        return _LATIN_RUN.sub(sub, text)

    def fix_homophones(self, text: str) -> str:
        return _CJK_RUN.sub(lambda m: self._fix_run(m.group(0)), text)

    def _fix_run(self, run: str) -> str:
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
        while i < n:
            done = False
            for size in (4, 3, 2):
                j = i + size
                if j > n or not any(suspicious[i:j]):
                    continue
                window = "".join(chars[i:j])
                if window in self.vocab or self._everyday(chars, i, j):
                    continue
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
        """A changed character at the window's edge that forms an everyday word with the character just
        outside the window was probably right: "执照收费" is not "执照授" + "费"."""
        words = common_words()
        if best[0] != chars[i] and i > 0 and chars[i - 1] + chars[i] in words:
            return True
        return best[-1] != chars[j - 1] and j < len(chars) and chars[j - 1] + chars[j] in words

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

    def _candidate(self, window: str, suspicious: list[bool]) -> str | None:
        """The vocabulary word this window is most likely a mistyping of: same fuzzy pinyin, at most one
        character changed (two in four), and only characters that looked wrong in context changed."""
        allowed = 1 if len(window) <= 3 else 2
        best, best_same = None, -1
        for k in fuzzy_keys(window):
            for w in self._by_key.get(k, ()):
                if len(w) != len(window):
                    continue
                diff = [n for n, (a, b) in enumerate(zip(w, window, strict=True)) if a != b]
                if not diff or len(diff) > allowed:
                    continue
                if any(window[n] in _FUNCTION_CHARS or not suspicious[n] for n in diff):
                    continue
                same = len(w) - len(diff)
                if same > best_same:
                    best, best_same = w, same
        return best

    def canonical(self, text: str) -> str:
        """Variants replaced by canonical terms (used for the entries' canonical phrases)."""
        if self._synonym_re is None:
            return text
        return self._synonym_re.sub(lambda m: self.synonym_map[m.group(0)], text)

    def canonical_query(self, text: str) -> str:
        if self._query_re is None:
            return text
        return self._query_re.sub(lambda m: self.synonym_map.get(m.group(0), m.group(0)), text)

    def fix(self, text: str) -> str:
        """Normalised query text with mistakes fixed (spaces between runs are kept)."""
        return self.fix_homophones(self.expand_latin(self.fix_confusables(text)))

    def correct(self, text: str) -> str:
        """Normalised query text -> corrected, canonical text."""
        return self.canonical_query(self.fix(text))
