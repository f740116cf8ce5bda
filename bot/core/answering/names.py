"""From formal item names to everyday words, and families of variants (the rules are data: intents/names.yaml).

A real catalogue names its items formally — "客运车辆道路运输证办理（补办）", "医疗机构执业审批（新办）（县级）" —
and one matter comes as several items (新办, 变更, 延续, 注销, 补办, 换发…). From each name this derives:
  - `stem`: the name without level markers, bracketed qualifiers and variant words;
  - `family`: the stem without a procedure ending; items with the same family key are variants of one matter;
  - `kinds`: the variants the name is (new, renew, replace, cancel, change…);
  - `phrases`: everyday phrases for the index (the bare name, stem and core, with formal terms replaced by
    everyday words, the everyday words alone, and a certificate's short form such as 烟草证).
`asked(text)` says which variants a question asks for ("快到期了" → renew, "丢了" → replace).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from bot.core.resources import read_yaml
from bot.core.text.normalize import compact
from bot.core.text.trie import PhraseTrie

_BRACKET = re.compile(r"[（(]([^（）()]*)[）)]")
_MARKS = re.compile(r"[《》“”\"'、，,/\\\s]+")
# weights of derived phrases in the index (an entry's own name and aliases weigh 1.0, keywords 0.85)
DERIVED_WEIGHT = 0.9
EVERYDAY_ALONE_WEIGHT = 0.75
# a stem or core shorter than this says too little to be a phrase of its own ("税务" of 税务注销, "就业" of
# 就业登记): the name itself still holds those words
MIN_FORM = 3


def _alternation(words: list[str]) -> re.Pattern[str] | None:
    """One pattern for many words, longest first (the first alternative that matches wins)."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else None


@dataclass(frozen=True)
class NameParts:
    stem: str
    family: str
    kinds: frozenset[str]
    phrases: tuple[tuple[str, float], ...]


@dataclass(eq=False)  # hashed by identity: parts() are cached per set of rules
class NameRules:
    levels: list[str] = field(default_factory=list)
    endings: list[str] = field(default_factory=list)
    # kind -> (words in names, words of questions)
    variants: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    everyday: dict[str, list[str]] = field(default_factory=dict)
    # kind -> regular expressions of questions that ask for it ("开.{0,4}店": opening a shop asks for the new one)
    patterns: dict[str, list[str]] = field(default_factory=dict)
    # endings of a core that people leave out ("开锁业" is asked as 开锁)
    suffixes: list[str] = field(default_factory=list)
    # regular expressions of questions about a procedure ("要审批吗", "要什么许可"): such a question is asked
    # about an item even when a word of it sounds like a complaint ("排污口")
    procedure: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._levels = sorted({unicodedata.normalize("NFKC", w) for w in self.levels}, key=len, reverse=True)
        self._endings = sorted(self.endings, key=len, reverse=True)
        self._in_names = {w: k for k, (names, _) in self.variants.items() for w in names}
        self._name_words = sorted(self._in_names, key=len, reverse=True)
        asked: dict[str, set[str]] = {}
        for k, (names, questions) in self.variants.items():
            for w in [*names, *questions]:
                asked.setdefault(compact(w), set()).add(k)
        self._asked = {w: frozenset(ks) for w, ks in asked.items() if w}
        self._asked_trie = PhraseTrie(list(self._asked))
        self._formal = sorted(self.everyday, key=len, reverse=True)
        self._patterns = {k: re.compile("|".join(ps)) for k, ps in self.patterns.items() if ps}
        self._procedure = re.compile("|".join(self.procedure)) if self.procedure else None
        self._ending_set = frozenset(compact(e) for e in self.endings)
        self._level_re = _alternation(self._levels)
        self._variant_re = _alternation(self._name_words)
        self._ending_words = frozenset(self._endings)
        self._ending_sizes = sorted({len(e) for e in self._endings}, reverse=True)

    @property
    def empty(self) -> bool:
        return not (self.levels or self.endings or self.variants or self.everyday)

    def parts(self, name: str) -> NameParts:
        return _parts(self, name)

    def family(self, name: str) -> tuple[str, frozenset[str]]:
        """(family key, variants) of a name (parts() derives phrases too)."""
        shape = _shape(self, name)
        return shape[3], shape[4]

    def families(self, names: list[str]) -> list[tuple[str, frozenset[str]]]:
        """family() of many names at once: each step is one regular expression over all of them joined, so the
        families of a 100,000-item base cost a few passes in C, not a loop of Python per name."""
        if not names:
            return []
        # NFKC name by name, joined: a line break is a starter and never composes with its neighbours (on one
        # long string CPython's quick check fails at the first full-width bracket and normalises all of it the
        # slow way, several times slower)
        text = "\n".join([unicodedata.normalize("NFKC", n.replace("\n", " ")) for n in names])
        normal = text.split("\n")
        if len(normal) != len(names):  # a name whose NFKC form holds a line break: normalise one by one
            normal = [unicodedata.normalize("NFKC", n.replace("\n", " ")).replace("\n", " ") for n in names]
            text = "\n".join(normal)
        starts = np.cumsum([0] + [len(n) + 1 for n in normal[:-1]])
        kinds: list[set[str]] = [set() for _ in names]  # from the name's own words
        qualified: list[set[str]] = [set() for _ in names]  # from its bracketed qualifiers

        def lines_of(offsets: np.ndarray, positions: list[int]) -> list[int]:
            return (np.searchsorted(offsets, positions, side="right") - 1).tolist()

        def note(pattern: re.Pattern[str], source: str, offsets: np.ndarray) -> None:
            found = [(m.start(), m.group()) for m in pattern.finditer(source)]
            for line, (_, word) in zip(lines_of(offsets, [at for at, _ in found]), found, strict=True):
                kinds[line].add(self._in_names[word])

        if self._variant_re is not None:
            inner = [(m.start(), m.group(1)) for m in _BRACKET.finditer(text)]
            for line, (_, words) in zip(lines_of(starts, [at for at, _ in inner]), inner, strict=True):
                for w in self._variant_re.findall(words):
                    qualified[line].add(self._in_names[w])
        bare_text = _BRACKET.sub("", text)
        if self._level_re is not None:
            bare_text = self._level_re.sub("", bare_text)
        bare_text = _MARKS_LINES.sub("", bare_text)
        bares = bare_text.split("\n")
        stems = bares
        if self._variant_re is not None:
            offsets = np.cumsum([0] + [len(b) + 1 for b in bares[:-1]])
            note(self._variant_re, bare_text, offsets)
            rests = self._variant_re.sub("", bare_text).split("\n")
            stems = [
                r if len(r) >= 2 and b not in self._in_names else b for r, b in zip(rests, bares, strict=True)
            ]
            for i, b in enumerate(bares):
                if b in self._in_names:
                    kinds[i].discard(self._in_names[b])  # a name that is only a variant word names no variant
        core_text = "\n".join(map(self._core, stems))
        out = []
        for core, bare, ks, qs in zip(
            _NOT_WORD_LINES.sub("", core_text).lower().split("\n"), bares, kinds, qualified, strict=True
        ):
            key = core if len(core) >= 2 and core not in self._ending_set else _key(bare)
            out.append((key, _variant_kinds(qs, ks)))
        return out

    def asked(self, flat: str) -> frozenset[str]:
        """The variants a (compact) question asks for."""
        out: set[str] = set()
        for w in self._asked_trie.findall(flat):
            out |= self._asked[w]
        out.update(k for k, r in self._patterns.items() if r.search(flat))
        return frozenset(out)

    def asks_procedure(self, flat: str) -> bool:
        """Whether a (compact) question asks about a procedure: whether one is needed, which, how or where."""
        return self._procedure is not None and self._procedure.search(flat) is not None

    def _strip_levels(self, text: str) -> str:
        for w in self._levels:
            text = text.replace(w, "")
        return text

    def _core(self, stem: str) -> str:
        """The stem without its procedure ending (the longest that fits, at most two), two characters kept."""
        core = stem
        for _ in range(2):
            for k in self._ending_sizes:
                if len(core) - k >= 2 and core[-k:] in self._ending_words:
                    core = core[:-k]
                    break
            else:
                break
        return core


_NOT_WORD = re.compile(r"\W")
_NEW = frozenset({"new"})
_NOT_WORD_LINES = re.compile(r"[^\w\n]")
_MARKS_LINES = re.compile(r"[《》“”\"'、，,/\\\t\r\f\v \u3000]+")


def _key(text: str) -> str:
    # names are NFKC already and their marks removed: what is left only needs lower case and no stray signs
    return _NOT_WORD.sub("", text).lower()


@lru_cache(maxsize=200_000)
def _shape(rules: NameRules, name: str) -> tuple[str, str, str, str, frozenset[str]]:
    """(bare, stem, core, family key, kinds) of a name: a few regular expressions, no per-word loops (every
    item of a large base has its family found when the matcher is built)."""
    n = unicodedata.normalize("NFKC", name)
    kinds: set[str] = set()
    qualified: set[str] = set()
    if rules._variant_re is not None:
        for inner in _BRACKET.findall(n):
            qualified.update(rules._in_names[w] for w in rules._variant_re.findall(inner))
    bare = _BRACKET.sub("", n)
    if rules._level_re is not None:
        bare = rules._level_re.sub("", bare)
    bare = _MARKS.sub("", bare) or _MARKS.sub("", n)
    stem = bare
    if rules._variant_re is not None:
        found = rules._variant_re.findall(bare)
        if found and bare not in rules._in_names:
            kinds.update(rules._in_names[w] for w in found)
            rest = rules._variant_re.sub("", bare)
            if len(rest) >= 2:
                stem = rest
    core = rules._core(stem)
    key = _key(core)
    if len(key) < 2 or key in rules._ending_set:
        key = _key(bare)  # "停业登记" -> "登记" would join unrelated items: such a name is its own family
    return bare, stem, core, key, _variant_kinds(qualified, kinds)


def _variant_kinds(qualified: set[str], named: set[str]) -> frozenset[str]:
    """The variants a name is. A bracketed qualifier says which variant ("…运输证发放（补办）"): the name's own
    发放 or 核发 is then the procedure every variant shares, not the new one."""
    if qualified:
        return frozenset(qualified | (named - _NEW))
    return frozenset(named)


@lru_cache(maxsize=50_000)
def _parts(rules: NameRules, name: str) -> NameParts:
    bare, stem, core, key, kinds = _shape(rules, name)
    forms = [f for f in dict.fromkeys([bare, stem, core]) if len(compact(f)) >= MIN_FORM]
    phrases: dict[str, float] = {}
    for f in forms:
        phrases.setdefault(f, DERIVED_WEIGHT)
    for f in dict.fromkeys([bare, stem, core]):
        for formal in rules._formal:
            if formal in f:
                for word in rules.everyday[formal]:
                    everyday = f.replace(formal, word)
                    if everyday != word and len(compact(everyday)) >= 3:
                        phrases.setdefault(everyday, DERIVED_WEIGHT)
                    phrases.setdefault(word, EVERYDAY_ALONE_WEIGHT)
    # a trade without its 业: 开锁业备案 is asked as 开锁, 旅馆业 as 旅馆
    for suffix in rules.suffixes:
        if core.endswith(suffix) and len(core) - len(suffix) >= 2:
            phrases.setdefault(core[: -len(suffix)], EVERYDAY_ALONE_WEIGHT)
    # a certificate's short form: 烟草专卖零售许可证 -> 烟草证; the certificate of a right or a permit is named
    # by its first or its last word (采矿权 -> 采矿证, 渔业捕捞许可 -> 捕捞证, 取水许可证 -> 取水证)
    for head in _certificate_heads(rules, stem):
        shorts = {head[:2] + "证", head[-2:] + "证"} if len(head) >= 4 else {head + "证"}
        for short in shorts:
            if short != core and _lexicon_word(short[:2]):
                phrases.setdefault(short, EVERYDAY_ALONE_WEIGHT)
    # the usual contraction of two words into their first characters: 社会团体 -> 社团, 社会保障卡 -> 社保卡,
    # 危险废物 -> 危废, 批准文件 -> 批文; each form of the name gets the contracted wording too
    for long, short in _contractions(core):
        for f in dict.fromkeys([stem, core]):
            if long in f:
                contracted = f.replace(long, short)
                if len(compact(contracted)) >= 3:
                    phrases.setdefault(contracted, EVERYDAY_ALONE_WEIGHT)
    own = compact(name)
    out = tuple((p, w) for p, w in phrases.items() if len(compact(p)) >= 2 and compact(p) != own)
    return NameParts(stem=stem, family=key, kinds=kinds, phrases=out)


_CERTIFICATES = ("许可证", "证书", "证", "许可", "权")


def _certificate_heads(rules: NameRules, stem: str) -> list[str]:
    """What a certificate, permit or right is of, when the stem names one before its procedure endings
    ("渔业捕捞许可审批" -> 渔业捕捞, "采矿权延续登记" -> 采矿): at most one head."""
    text = stem
    for _ in range(3):
        for suffix in _CERTIFICATES:
            if text.endswith(suffix) and len(text) - len(suffix) >= 2:
                return [text[: -len(suffix)]]
        shorter = next(
            (
                text[:-k]
                for k in rules._ending_sizes
                if len(text) - k >= 2 and text[-k:] in rules._ending_words
            ),
            None,
        )
        if shorter is None:
            return []
        text = shorter
    return []


def _lexicon_word(w: str) -> bool:
    from bot.core.text.lexicon import everyday_words

    return w in everyday_words()


def _contractions(core: str) -> list[tuple[str, str]]:
    """(four characters, their contraction) for the first and the last two adjacent two-character everyday words
    of a core, the core read greedily from the left in such words ("社会|团体", "社会|保障|卡")."""
    words: list[str] = []
    i = 0
    while i < len(core):
        if i + 2 <= len(core) and _lexicon_word(core[i : i + 2]):
            words.append(core[i : i + 2])
            i += 2
        else:
            words.append(core[i])
            i += 1
    # the words a name is known by come first or last ("社会团体…", "…批准文件"): contracting those keeps the
    # phrases of a large base few
    out: list[tuple[str, str]] = []
    if len(words) < 2:
        return out
    for a, b in dict.fromkeys([(words[0], words[1]), (words[-2], words[-1])]):
        if len(a) == 2 and len(b) == 2 and _NOT_WORD.search(a + b) is None:
            out.append((a + b, a[0] + b[0]))
    return out


def load_names(root: Path) -> NameRules:
    """intents/names.yaml, or no rules when a deployment's intents folder has no such file."""
    path = root / "names.yaml"
    if not path.is_file():
        return NameRules()
    from bot.core.knowledge import KnowledgeError

    try:
        data = read_yaml(path) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeError([f"names.yaml: YAML 格式错误: {exc}"]) from exc
    problems: list[str] = []

    def strings(v: object, where: str) -> list[str]:
        if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
            problems.append(f"intents/names.yaml: {where} 必须是非空字符串的列表")
            return []
        return list(v)

    variants: dict[str, tuple[list[str], list[str]]] = {}
    for kind, body in (data.get("variants") or {}).items():
        if not isinstance(body, dict):
            problems.append(f"intents/names.yaml: variants.{kind} 必须是映射（names, asked）")
            continue
        variants[str(kind)] = (
            strings(body.get("names", []), f"variants.{kind}.names"),
            strings(body.get("asked", []), f"variants.{kind}.asked"),
        )
    everyday: dict[str, list[str]] = {}
    for formal, words in (data.get("everyday") or {}).items():
        everyday[str(formal)] = strings(words, f"everyday.{formal}")
    patterns: dict[str, list[str]] = {}
    for kind, ps in (data.get("asked_patterns") or {}).items():
        patterns[str(kind)] = strings(ps, f"asked_patterns.{kind}")
        for pat in patterns[str(kind)]:
            try:
                re.compile(pat)
            except re.error as exc:
                problems.append(
                    f"intents/names.yaml: asked_patterns.{kind}: 「{pat}」不是有效的正则表达式：{exc}"
                )
    procedure = strings(data.get("procedure_questions", []), "procedure_questions")
    for pat in procedure:
        try:
            re.compile(pat)
        except re.error as exc:
            problems.append(f"intents/names.yaml: procedure_questions: 「{pat}」不是有效的正则表达式：{exc}")
    rules = NameRules(
        levels=strings(data.get("levels", []), "levels"),
        endings=strings(data.get("endings", []), "endings"),
        variants=variants,
        everyday=everyday,
        patterns=patterns if not problems else {},
        suffixes=strings(data.get("suffixes", []), "suffixes"),
        procedure=procedure if not problems else [],
    )
    if problems:
        raise KnowledgeError(problems)
    return rules
