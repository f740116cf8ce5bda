"""Understanding a question: intent, target entry, aspect, calibrated confidence.

Pipeline: normalise → correct (known mistakes, pinyin, homophones, synonyms) → small talk? → strip question
words → n-gram retrieval over entry phrases → rerank with rapidfuzz and cue priors → calibrate → decide.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from bot.core.knowledge import KnowledgeBase
from bot.core.text.correct import Corrector
from bot.core.text.normalize import compact, normalize
from bot.core.text.trie import PhraseTrie

from .cues import Cues, load_cues
from .index import GramIndex, grams

# Confidence at or above which a target is given; below it the answer is `target: null`.
ACCEPT = 0.5
# Runners-up within this distance of the best make the dialogue ask which one was meant.
AMBIGUOUS_GAP = 0.1

_STOP_CHARS = set("的了吗呢吧啊呀哦嘛我你他她它们是在有个这那想要去能会就都也还把被给让和与或及等么啥咋怎")
_PAREN = re.compile(r"[（(].*?[）)]")


@dataclass
class Candidate:
    id: str
    score: float


@dataclass
class Understanding:
    text: str
    normalized: str
    corrected: str
    intent: str  # item | exemption | appeal | smalltalk | unknown
    target: str | None = None
    aspect: str | None = None
    score: float = 0.0
    candidates: list[Candidate] = field(default_factory=list)
    smalltalk: str | None = None
    appeal_score: float = 0.0
    ambiguous: bool = False
    empty: bool = False

    def as_contract(self) -> dict:
        return {
            "text": self.text,
            "intent": self.intent,
            "target": self.target,
            "aspect": self.aspect,
            "score": round(self.score, 4),
            "candidates": [{"id": c.id, "score": round(c.score, 4)} for c in self.candidates],
        }


def _phrases_of(entry) -> list[tuple[str, float]]:  # noqa: ANN001
    out = [(entry.name, 1.0)]
    bare = _PAREN.sub("", entry.name)
    if bare != entry.name:
        out.append((bare, 1.0))
    out += [(a, 1.0) for a in entry.aliases]
    out += [(k, 0.85) for k in entry.keywords]
    return out


class Matcher:
    def __init__(self, kb: KnowledgeBase, cues: Cues | None = None, intents_dir: Path | None = None):
        self.kb = kb
        self.cues = cues or load_cues(intents_dir)
        entries = list(kb.entries.values())
        self.ids = [e.id for e in entries]
        self.kinds = [e.kind for e in entries]
        raw_phrases = [(i, text, w) for i, e in enumerate(entries) for text, w in _phrases_of(e)]
        texts = [p[1] for p in raw_phrases]
        self.corrector = Corrector(texts, kb.synonyms, kb.abbreviations, kb.confusables, protect=texts)
        phrases = []
        for ei, text, w in raw_phrases:
            raw = compact(text)
            for form in dict.fromkeys([raw, self.corrector.canonical(raw)]):
                if len(form) >= 2:
                    phrases.append((ei, form, w))
        self.index = GramIndex(phrases, len(entries))
        # question words are stripped, except where they are part of a phrase of the base ("卖药需要什么证")
        self._protected = {p[1] for p in phrases if len(p[1]) >= 3}
        self._strip = PhraseTrie({*self._protected, *self.cues.strip_words})
        # names and aliases of entries, masked before appeal cues are counted: "无违法违规证明" names a
        # certificate, it does not report a violation
        self._names = PhraseTrie(
            {compact(t) for e in entries for t in [e.name, *e.aliases] if len(compact(t)) >= 3}
        )

    # -- public ------------------------------------------------------------------------------------------
    def understand(self, text: str) -> Understanding:
        norm = normalize(text or "")
        fixed = self.corrector.fix(norm)
        corrected = self.corrector.canonical_query(fixed)
        flat = corrected.replace(" ", "")
        u = Understanding(text=text, normalized=norm, corrected=corrected, intent="unknown")
        if not flat:
            u.empty = True
            return u
        kind = self.cues.smalltalk_kind(flat)
        if kind:
            u.intent, u.smalltalk = "smalltalk", kind
            return u

        # cues are read in the person's own words (before synonyms turn 占道 into 临时占用城市道路)
        own = fixed.replace(" ", "")
        u.appeal_score = self.cues.appeal_score(self._names.sub(own, lambda w: "|"))
        content = self.content(corrected)
        ranked = self._rank(content, flat)
        u.candidates = [Candidate(self.ids[i], s) for i, s, _ in ranked[:5]]
        top = ranked[0] if ranked else None
        strong_appeal = u.appeal_score >= self.cues.appeal_threshold
        if top and top[1] >= ACCEPT and not strong_appeal:
            ei, score, phrase = top
            u.target, u.score = self.ids[ei], score
            u.intent = "exemption" if self.kinds[ei] == "exemption" else "item"
            if u.intent == "item":
                u.aspect = self.cues.aspect(self._mask(fixed.replace(" ", ""), ei))
            u.ambiguous = len(ranked) > 1 and ranked[1][1] >= ACCEPT and score - ranked[1][1] < AMBIGUOUS_GAP
        elif u.appeal_score >= self.cues.appeal_weak_threshold or strong_appeal:
            u.intent = "appeal"
            u.score = top[1] if top else 0.0
        else:
            u.score = top[1] if top else 0.0
        return u

    def content(self, corrected: str) -> str:
        """The part of a question that names its subject."""
        out = self._strip.sub(corrected, lambda w: w if w in self._protected else " ")
        return " ".join(out.split())

    # -- scoring -----------------------------------------------------------------------------------------
    def _rank(self, content: str, flat: str) -> list[tuple[int, float, int]]:
        hits = self.index.search(content, top=8)
        if not hits:
            return []
        exemption_cue = bool(self.cues.exemption_re.search(flat))
        bundle_cue = bool(self.cues.bundle_re.search(flat))
        # unseen grams made with function characters carry no meaning; leave them out of the query's length
        informative = self._informative_share(content)
        q_mass = sum(self.index.gram_idf(g) for g in grams(content))
        out = []
        for h in hits:
            phrase = self.index.phrase_text[h.best_phrase]
            fz = fuzz.partial_ratio(phrase, content.replace(" ", "")) / 100.0 if len(phrase) >= 2 else 0.0
            qcov = min(1.0, h.matched / max(min(q_mass * informative, self.index.ref_mass), 1e-9))
            raw = 0.45 * h.phrase_cov + 0.35 * qcov + 0.20 * fz
            kind = self.kinds[h.entry]
            if kind == "exemption":
                raw += 0.08 if exemption_cue else -0.15
            elif kind == "bundle":
                raw += 0.06 if bundle_cue else -0.03
            out.append((h.entry, _calibrate(raw), h.best_phrase))
        out.sort(key=lambda t: -t[1])
        return out

    def _informative_share(self, content: str) -> float:
        """Share of the query's IDF mass that is not noise (unseen grams containing function characters)."""
        total = noise = 0.0
        for g in grams(content):
            w = self.index.gram_idf(g)
            total += w
            if g not in self.index.idf and any(c in _STOP_CHARS for c in g):
                noise += w
        return (total - noise) / total if total else 0.0

    def _mask(self, flat: str, ei: int) -> str:
        """The question without the words that name the entry, so 资格认证 or 进度查询 are not read as
        aspect cues."""
        for c in self._mask_parts(ei):
            if c in flat:
                flat = flat.replace(c, "|")
        return flat

    @lru_cache(maxsize=4096)  # noqa: B019 — one matcher per process; the cache is bounded
    def _mask_parts(self, ei: int) -> tuple[str, ...]:
        entry = self.kb.get(self.ids[ei])
        # whole aliases, and runs of three or more characters of the official name ("资格认证" of
        # 养老保险待遇领取资格认证). Keywords are left alone: they are phrased like questions ("开旅行社要什么
        # 条件") and would mask the very cue asked about.
        name = compact(_PAREN.sub("", entry.name))
        parts = {name[i:j] for i in range(len(name)) for j in range(i + 3, len(name) + 1)}
        parts |= {compact(a) for a in entry.aliases if len(compact(a)) >= 2}
        return tuple(sorted(parts, key=len, reverse=True))


def _calibrate(raw: float) -> float:
    # logistic squashing of the raw blend; centre and slope chosen so raw 0.6 ≈ 0.5 confidence
    return 1.0 / (1.0 + math.exp(-10.0 * (raw - 0.6)))
