"""Understanding a question: intent, target entry, aspect, calibrated confidence.

Pipeline: normalise → correct (known mistakes, pinyin, homophones, synonyms) → small talk? → strip question
words → n-gram retrieval over entry phrases → rerank with rapidfuzz and cue priors → calibrate → decide.
"""

from __future__ import annotations

import ctypes
import gc
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

from bot.core.knowledge import Item, KnowledgeBase
from bot.core.knowledge.dedup import duplicates
from bot.core.knowledge.models import ImportedItem
from bot.core.text.correct import Corrector
from bot.core.text.function import FUNCTION_CHARS, subject_chars
from bot.core.text.lexicon import everyday_words, unseen_weight
from bot.core.text.normalize import compact, compact_many, normalize
from bot.core.text.trie import PhraseTrie

from .cues import Cues, load_cues
from .explained import EXPLAINED_SHARE, choose_explained, explained_share, prefer_asked_variant
from .index import GramIndex, grams
from .names import NameRules

# Confidence at or above which a target is given; below it the answer is `target: null`.
ACCEPT = 0.5
# Confidence a match needs to win over a weak appeal cue ("…坏了", "希望…")
ACCEPT_OVER_APPEAL = 0.8
# ... and in a long message (a story more often than a question)
ACCEPT_LONG_OVER_APPEAL = 0.9
# Above this confidence the best match is answered directly unless a runner-up ties with it
AMBIGUOUS_BELOW = 0.8
TIE_GAP = 0.02
# A match through a keyword (weight < 1) needs at least this much of the keyword in the question
KEYWORD_MIN_COVERAGE = 0.3
# Runners-up within this distance of the best make the dialogue ask which one was meant.
AMBIGUOUS_GAP = 0.1

_PAREN = re.compile(r"[（(].*?[）)]")
# parts of speech (jieba's tags) of the everyday words that name things
# (places, organisations and names — 广东, 民政局, 车管所 — say where or who, not what: they are not subjects)
_NOUN_POS = frozenset({"n", "nz", "vn", "j", "an", "eng"})
# nouns that can say what kind of thing is asked about, places and names included ("深圳户口", "律师执业证")
_MODIFIER_POS = _NOUN_POS | {"nr", "ns", "nt", "nrt"}
# parts of speech that never name a subject: numerals, quantifiers, pronouns, adverbs, prepositions,
# conjunctions, particles, time and direction words, interjections
_WEAK_POS = frozenset(
    {"m", "mq", "q", "r", "d", "p", "c", "u", "uj", "ul", "t", "f", "y", "e", "o", "ad", "zg"}
)
_PLAIN = frozenset({"new"})
# how far after a noun the word for a document may end the name it is part of ("律师" + 执业 + 证)
_DOCUMENT_REACH = 8
# plain nouns: what a thing is called (not a verbal noun such as 救命, nor an adjective such as 麻烦)
_THING_POS = frozenset({"n", "nz"})
# most variants of one matter offered in one clarifying question
FAMILY_CHOICES = 8
# above this confidence a noun before the entry's words is taken as detail, not as another subject
MODIFIER_SURE = 0.95
# below this confidence a noun the base has never seen, which the entry's words and summary do not explain,
# is the question's own subject ("律师执业证" beside 医师执业注册, "燃气表充值" beside 燃气报装)
FOREIGN_SURE = 0.9
# below this confidence, this many subject words the entry does not explain (one a plain noun) make the question
# about something else
UNEXPLAINED_SURE, UNEXPLAINED_MIN = 0.8, 2
# ... and only in a short question: a long one carries its subject in many words
MODIFIER_MAX_CHARS = 16
# one verb of doing may stand between such a noun and the entry's words: "异地办身份证", "宠物打疫苗"
_DOING_CHARS = frozenset("办打考开领上补换做")
_GLUE = FUNCTION_CHARS | _DOING_CHARS
# a noun of two characters ending in one of these is a place ("河里", "山上", "路边"), not a kind of thing
_LOCATIVE = frozenset("里上边中内外旁")
# a document lost or damaged (canonical forms of 丢了, 坏了)
_LOSS_WORDS = ("丢失", "损坏")
# A formal name is long and a question names only part of it, in its own words, so the calibrated confidence of
# the right entry can stay below ACCEPT when it is the only entry that explains the question. It is answered when
# it explains at least two of the question's subject bigrams and two thirds of them, and leads every other matter
# by this much from at least this confidence.
EXPLAINED_FROM, EXPLAINED_LEAD = 0.3, 0.15
# a bigram the base knows counts as a subject when few entries use it: at most this share of the base (or
# this many entries in a small base)
SUBJECT_SHARE, SUBJECT_MIN_ENTRIES = 0.07, 3
# retrieval hits reranked per question: a large catalogue holds a dozen variants of one matter in each of a dozen
# districts, and one short name that a question contains in full can fill eight places with its variants alone
CANDIDATES = 12


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
    content: str = ""  # the words that name the subject, once question words are stripped
    urgent: bool = False  # an emergency: someone is in danger now
    # every aspect asked, the main one (`aspect`) first: "要什么材料 多少钱" asks two
    aspects: list[str] = field(default_factory=list)
    # the words that give the message a subject of its own (bigrams), once question, aspect, generic and
    # function words are gone: empty for "那要多少钱" or "多久能拿到", which follow up on the conversation
    subject: list[str] = field(default_factory=list)
    # the subject has a noun the knowledge base has never seen ("宠物" in 宠物护照): it is about something else
    foreign: bool = False
    bare: bool = False  # digits only ("2"): not a question
    emergency: str | None = None  # the kind of danger (intents/emergency.yaml) when urgent
    # the entry the question came close to when its key subject is something the base does not hold
    # ("宠物护照" -> passport): offered as a button, never answered
    near: str | None = None
    foreign_words: str = ""  # the words of that subject, for the answer that says so
    near_act: bool = False  # those words are an act the near entry is not about ("注销")
    # what a message that names no entry is about: "centre" (the service centre's address, hours...) or
    # "status" (the person's own 诉求); its intent in the contract stays `unknown`
    topic: str | None = None
    # the variants of one matter to offer when the question names the matter but not which variant
    # ("燃气经营许可证怎么办": 新办, 变更, 延续 or 注销?)
    family: list[str] = field(default_factory=list)

    def as_contract(self) -> dict[str, object]:
        out: dict[str, object] = {
            "text": self.text,
            "intent": self.intent,
            "target": self.target,
            "aspect": self.aspect,
            "score": round(self.score, 4),
            "candidates": [{"id": c.id, "score": round(c.score, 4)} for c in self.candidates],
            "urgent": self.urgent,
        }
        if self.topic:
            out["topic"] = self.topic
        if len(self.aspects) > 1:
            out["aspects"] = self.aspects
        return out


def _phrases_of(entry, names: NameRules | None = None) -> list[tuple[str, float]]:  # noqa: ANN001
    out = [(entry.name, 1.0)]
    bare = _PAREN.sub("", entry.name)
    if bare != entry.name:
        out.append((bare, 1.0))
    out += [(a, 1.0) for a in entry.aliases]
    out += [(k, 0.85) for k in entry.keywords]
    if names is not None and isinstance(entry, ImportedItem):
        # everyday forms of an imported formal name: "烟草专卖零售许可证延续" is also 烟草专卖零售许可证, 烟草证…
        # (entries written by hand carry their everyday words as aliases)
        out += list(names.parts(entry.name).phrases)
    return out


@dataclass
class _Phrases:
    """The phrases of every entry as parallel columns (no tuple per phrase: at 100,000 entries the
    transient objects alone would hold tens of megabytes after the build)."""

    entry: np.ndarray  # entry index of each phrase, in entry order
    text: list[str]  # compact text
    weight: np.ndarray


def _entry_phrases(
    entries: list, names: NameRules | None = None, absorbed: dict[str, list[str]] | None = None
) -> tuple[_Phrases, dict[str, str]]:
    """The compact phrases of every entry, and raw text -> compact text. Each distinct text is compacted
    once, and equal results share one string object (a large base repeats many aliases and keywords): the
    corrector, the index and the phrase sets all hold the same strings."""
    texts: list[str] = []
    weights: list[float] = []
    counts: list[int] = []
    for e in entries:
        got = _phrases_of(e, names)
        if absorbed and e.id in absorbed:
            got += [(n, 1.0) for n in absorbed[e.id]]
        counts.append(len(got))
        texts += [t for t, _ in got]
        weights += [w for _, w in got]
    distinct = list(dict.fromkeys(texts))
    pool: dict[str, str] = {}
    compacted = {t: pool.setdefault(c, c) for t, c in zip(distinct, compact_many(distinct), strict=True)}
    entry = np.repeat(np.arange(len(entries), dtype=np.int32), counts)
    return _Phrases(entry, [compacted[t] for t in texts], np.array(weights, dtype=np.float32)), compacted


def _with_canonical(phrases: _Phrases, corrector: Corrector) -> _Phrases:
    """Each phrase in its raw form and, where synonyms change it, its canonical form right after; forms
    shorter than two characters are left out."""
    distinct = list(dict.fromkeys(phrases.text))
    # one pass over all distinct texts joined: compact texts have no newline, so no synonym spans two
    canon_all = corrector.canonical("\n".join(distinct)).split("\n") if distinct else []
    pool = {t: t for t in distinct}
    canonical = {t: pool.setdefault(c, c) for t, c in zip(distinct, canon_all, strict=True)}
    # per distinct text: is its raw form kept, and is there a different canonical form to add
    raw_ok = {t: len(t) >= 2 for t in distinct}
    canon_of = {t: c for t, c in canonical.items() if c != t and len(c) >= 2}
    keep = np.empty(2 * len(phrases.text), dtype=bool)
    keep[0::2] = [raw_ok[t] for t in phrases.text]
    keep[1::2] = [t in canon_of for t in phrases.text]
    text: list[str] = []
    for t in phrases.text:
        if raw_ok[t]:
            text.append(t)
        c = canon_of.get(t)
        if c is not None:
            text.append(c)
    return _Phrases(np.repeat(phrases.entry, 2)[keep], text, np.repeat(phrases.weight, 2)[keep])


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Building allocates hundreds of thousands of small objects and no reference cycles; the cyclic
    collector would otherwise rescan the whole (large) knowledge base many times over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _release_free_memory() -> None:
    """Give the heap pages freed by the build's temporary arrays back to the system (glibc keeps them
    otherwise: over 100 MB at 100,000 entries). A no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Matcher:
    def __init__(self, kb: KnowledgeBase, cues: Cues | None = None, intents_dir: Path | None = None):
        with _gc_paused():
            self._build(kb, cues, intents_dir)
        _release_free_memory()

    def _build(self, kb: KnowledgeBase, cues: Cues | None, intents_dir: Path | None) -> None:
        self.kb = kb
        self.cues = cues or load_cues(intents_dir)
        # an imported item that an entry written by hand already holds is answered by that entry, which takes
        # the imported name as a phrase of its own (bot/core/knowledge/dedup.py)
        self.duplicates = duplicates(kb.entries.values())
        entries = [e for e in kb.entries.values() if e.id not in self.duplicates]
        self._absorbed: dict[str, list[str]] = {}
        for dup, owner in self.duplicates.items():
            self._absorbed.setdefault(owner, []).append(kb.entries[dup].name)
        self.ids = [e.id for e in entries]
        self._pos = {e.id: i for i, e in enumerate(entries)}
        self.kinds: list[str] = [e.kind for e in entries]
        # items imported from a centre's catalogue (formal names, no everyday aliases written by hand)
        # (isinstance, not getattr: a missing attribute of a pydantic model costs an exception per entry)
        self._imported = np.array([isinstance(e, ImportedItem) for e in entries], dtype=bool)
        # the everyday dictionary is read now, with the index, so the first question does not pay for it
        everyday_words()
        names = self.cues.names if not self.cues.names.empty else None
        raw, compacted = _entry_phrases(entries, names, self._absorbed)
        self._build_families(entries, names)
        self.corrector = Corrector(
            raw.text,
            kb.synonyms,
            kb.abbreviations,
            kb.confusables,
            protect=raw.text,
            compacted=True,
            latin_phrases=kb.latin,
            latin_stopwords=kb.latin_stopwords,
        )
        phrases = _with_canonical(raw, self.corrector)
        self.index = GramIndex(phrases.entry, phrases.text, phrases.weight, len(entries))
        # question words are stripped, except where they are part of a phrase of the base ("卖药需要什么证")
        # (a two-character phrase too, unless it is itself a question word: the 吧 of 网吧 is no particle)
        strip_words = frozenset(self.cues.strip_words)
        protected = {  # the distinct texts
            t for t in self.index.texts if len(t) >= 3 or (len(t) == 2 and t not in strip_words)
        }
        self._strip = PhraseTrie([*protected, *self.cues.strip_words])
        self._strip_only = frozenset(w for w in self.cues.strip_words if w not in protected)
        self._non_subject = PhraseTrie(self.cues.non_subject_words)
        self._people = frozenset(self.cues.people_words)
        self._generic_words = frozenset(self.cues.generic_procedures)
        # words that never say which kind of thing is asked about: question, generic and procedure words
        self._no_kind = frozenset(self.cues.non_subject_words) | frozenset(self.cues.generic_procedures)
        self._actions = PhraseTrie(self.cues.actions)
        # bigrams of the generic kinds of procedure (备案, 登记, 许可…)
        self._generic_procedures = frozenset(
            w[i : i + 2] for w in self.cues.generic_procedures for i in range(len(w) - 1)
        )
        # names and aliases of entries, masked before appeal cues are counted: "无违法违规证明" names a
        # certificate, it does not report a violation
        self._names = PhraseTrie(
            {t for e in entries for t in map(compacted.__getitem__, [e.name, *e.aliases]) if len(t) >= 3}
        )

    def _build_families(self, entries: list, names: NameRules | None) -> None:
        """Items whose names reduce to the same core are variants of one matter (新办, 变更, 延续, 注销…)."""
        self._names_rules = names
        self._kinds: list[frozenset[str]] = [frozenset()] * len(entries)
        self._family_id = np.full(len(entries), -1, dtype=np.int32)
        self._family_members: list[tuple[int, ...]] = []
        if names is None:
            return
        by_key: dict[str, list[int]] = {}
        items = [i for i, kind in enumerate(self.kinds) if kind == "item"]
        for i, (key, kinds) in zip(items, names.families([entries[i].name for i in items]), strict=True):
            self._kinds[i] = kinds
            by_key.setdefault(key, []).append(i)
        for members in by_key.values():
            if len(members) >= 2:
                self._family_id[members] = len(self._family_members)
                self._family_members.append(tuple(members))

    def family_of(self, entry_id: str) -> list[str]:
        """The ids of the variants of the matter an entry is one of (empty when it is alone)."""
        ei = self._pos.get(entry_id)
        if ei is None or self._family_id[ei] < 0:
            return []
        return [self.ids[m] for m in self._family_members[self._family_id[ei]]]

    def pick_variant(self, choices: list[str], text: str) -> str | None:
        """The one offered variant a reply such as "丢了" or "快到期了" asks for, if exactly one fits."""
        if self._names_rules is None or not choices:
            return None
        asked = self._names_rules.asked(compact(text))
        if not asked:
            return None
        fit = self._fitting([self._pos[c] for c in choices if c in self._pos], asked)
        return self.ids[fit[0]] if len(fit) == 1 else None

    def _fitting(self, members: list[int] | tuple[int, ...], asked: frozenset[str]) -> list[int]:
        """The variants of `members` a question asks for. A specific variant (补办, 延续…) wins over the new one
        that many words imply ("要办", "申请"); the plain name of a matter ("机动车维修经营备案" beside its
        （变更）（终止）) is its new variant."""
        specific = asked - _PLAIN
        if specific:
            fit = [m for m in members if self._kinds[m] & specific]
            if fit:
                return fit
        return [m for m in members if (self._kinds[m] or _PLAIN) & asked]

    def _family_choice(
        self, ranked: list[tuple[int, float, int]], flat: str
    ) -> tuple[list[tuple[int, float, int]], list[int], bool]:
        """When the best candidate is one variant of a matter: the variant the question asks for first (and
        True), or the variants to offer when it names the matter but not which variant."""
        if not ranked or self._names_rules is None:
            return ranked, [], False
        top, score, phrase = ranked[0]
        fid = self._family_id[top]
        if fid < 0:
            return ranked, [], False
        members = self._family_members[fid]
        asked = self._names_rules.asked(flat)
        written = [m for m in members if not self._imported[m]]
        if not asked and len(written) == 1:
            # the matter as a whole written by hand beside its imported variants: a question that names no
            # variant gets the entry the centre wrote for it ("怎么办残疾证")
            chosen = written[0]
            at = next((p for ei, _, p in ranked if ei == chosen), phrase)
            return [(chosen, score, at), *(r for r in ranked if r[0] != chosen)], [], False
        fit = self._fitting(members, asked) if asked else list(members)
        if not fit:
            return ranked, [], False  # a variant the matter does not have: the act check says so
        got = {ei: s for ei, s, _ in ranked}
        fit.sort(key=lambda m: -got.get(m, 0.0))
        best, second = got.get(fit[0], 0.0), got.get(fit[1], 0.0) if len(fit) > 1 else -1.0
        if len(fit) == 1 or best - second >= AMBIGUOUS_GAP:
            # one variant asked for, or one the question's own words pick out ("变更经营场所")
            chosen = fit[0]
            if chosen == top:
                return ranked, [], bool(asked)
            at = next((p for ei, _, p in ranked if ei == chosen), phrase)
            return [(chosen, score, at), *(r for r in ranked if r[0] != chosen)], [], bool(asked)
        return ranked, fit[:FAMILY_CHOICES], True

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
        # emergencies first: read in the person's own words and after fixing typos (媒气 → 煤气)
        own = fixed.replace(" ", "")
        raw_flat = norm.replace(" ", "")
        danger = self.cues.emergency.kind(raw_flat) or (own != raw_flat and self.cues.emergency.kind(own))
        if danger:
            u.intent, u.urgent, u.emergency = "appeal", True, danger
            return u
        if flat.isdigit():
            # "2", "12345": a number on its own is not a question (a pending choice is the dialogue's to pick)
            u.bare = True
            return u
        kind = self.cues.smalltalk_kind(flat)
        if kind:
            u.intent, u.smalltalk = "smalltalk", kind
            return u

        if self.cues.topics.is_status(own):
            u.topic = "status"
            return u
        content = u.content = self.content(corrected)
        u.subject, u.foreign = self.subject(content)
        # appeal cues are read in the person's own words (before synonyms turn 占道 into 临时占用城市道路)
        topics = self.cues.topics
        ranked = self._rank(content, flat)
        ranked, family, by_variant = self._family_choice(ranked, flat)
        ranked = self._explained_lift(ranked, u.subject)
        ranked = choose_explained(
            ranked,
            u.subject,
            imported=self._imported,
            family=self._family_id,
            entry_grams=self.entry_grams,
            idf=self.index.gram_idf,
            foreign=u.foreign,
        )
        if self._names_rules is not None and not family:
            ranked = prefer_asked_variant(
                ranked,
                self._names_rules.asked(flat),
                imported=self._imported,
                kinds=self._kinds,
                close=AMBIGUOUS_GAP,
                subject=u.subject,
                entry_grams=self.entry_grams,
                idf=self.index.gram_idf,
            )
        u.candidates = [Candidate(self.ids[i], s) for i, s, _ in ranked[:5]]
        top = ranked[0] if ranked else None
        u.appeal_score = self.cues.appeal_score(self._names.sub(own, lambda w: "|"))
        if (
            topics.names_centre(own)
            and topics.centre_ask(own)
            and u.appeal_score < self.cues.appeal_weak_threshold
        ):
            # about the centre itself unless an entry is named as well: "政务服务中心几点下班", "大厅在几楼"
            # (but "政务服务中心能办护照吗" is about 护照)
            rest = self.subject(topics.centre_ask_re.sub(" ", topics.centre_name_re.sub(" ", content)))[0]
            named = top is not None and top[1] >= ACCEPT and len(self.unexplained(rest, top[0])) < len(rest)
            if not named:
                u.topic = "centre"
                return u
        strong_appeal = u.appeal_score >= self.cues.appeal_threshold
        weak_appeal = u.appeal_score >= self.cues.appeal_weak_threshold
        # a weak appeal cue gives way only to a match we are sure of, or to an imported item that explains a
        # question about a procedure ("往河里设排污口要审批吗": 排污 is a complaint's word, 要审批吗 is not)
        needed = ACCEPT_OVER_APPEAL if weak_appeal and not self._procedure_explained(top, u, flat) else ACCEPT
        long_story = self.cues.is_long(own) and not self.cues.asks_how(own)
        if long_story and (weak_appeal or self.cues.is_statement(own, text or "")):
            # a long story with a problem in it, or that asks nothing, is a 诉求 unless clearly not
            needed = ACCEPT_LONG_OVER_APPEAL
            weak_appeal = True
        if top and top[1] >= needed and not strong_appeal:
            ei, score, phrase = top
            u.target, u.score = self.ids[ei], score
            u.intent = "exemption" if self.kinds[ei] == "exemption" else "item"
            if u.intent == "item":
                masked = self._mask(fixed.replace(" ", ""), ei)
                u.aspect = self.cues.aspect(masked)
                u.aspects = self.cues.aspects_asked(masked) or [u.aspect]
            # ask which one when a runner-up ties with the best ("公积金": rent, purchase or retirement?), or is
            # close behind a best that is not sure of itself; variants of the same matter are not runners-up (the
            # question either said which variant, or is asked which one)
            fid = self._family_id[ei]
            rivals = [r for r in ranked[1:] if fid < 0 or self._family_id[r[0]] != fid]
            gap = score - rivals[0][1] if rivals and rivals[0][1] >= ACCEPT else 1.0
            u.ambiguous = gap < TIE_GAP or (gap < AMBIGUOUS_GAP and score < AMBIGUOUS_BELOW)
            if family:
                u.family, u.ambiguous = [self.ids[m] for m in family], True
            modifier = self._modifier(corrected, ei, phrase, u.subject) if score < MODIFIER_SURE else None
            # a variant chosen by the words that ask for it is the act asked for
            act = None if modifier or by_variant else self._other_act(flat, ei)
            if not modifier and not act and score < MODIFIER_SURE:
                modifier = self._only_generic(u.subject, ei)
            if not modifier and not act and score < FOREIGN_SURE and u.foreign:
                modifier = self._foreign_subject(corrected, u.subject, ei)
            if not modifier and not act and score < UNEXPLAINED_SURE:
                modifier = self._unexplained_thing(flat, u.subject, ei)
            if modifier or act:
                # the key subject is something else: "宠物护照" is not a 护照, "异地办身份证" not a first ID card,
                # "个体户注销" not 个体工商户设立登记
                u.near, u.foreign_words, u.near_act = u.target, modifier or act or "", act is not None
                u.intent, u.target, u.aspect, u.aspects, u.ambiguous = "unknown", None, None, [], False
                u.family = []
        elif weak_appeal or strong_appeal:
            u.intent = "appeal"
            u.score = top[1] if top else 0.0
        elif (
            self.cues.is_statement(own, text or "") or self.cues.asks_help_after_story(own, text or "")
        ) and u.subject:
            # a statement that asks nothing and names no entry tells of something: "驾校收了钱两个月都没安排练车"
            u.intent = "appeal"
            u.score = top[1] if top else 0.0
        else:
            u.score = top[1] if top else 0.0
            kind = self.cues.smalltalk_kind(own, loose=True)
            if kind:
                u.intent, u.smalltalk = "smalltalk", kind
        return u

    def _explained_lift(
        self, ranked: list[tuple[int, float, int]], subject: list[str]
    ) -> list[tuple[int, float, int]]:
        """The best candidate, an imported item, raised to ACCEPT when it explains the question's subject and
        clearly leads every other matter (see EXPLAINED_FROM); the ranking as it is otherwise. Entries written by
        hand carry everyday aliases, and the calibration is fitted on them: they are left alone."""
        if not ranked or len(subject) < 2:
            return ranked
        ei, score, phrase = ranked[0]
        if not self._imported[ei] or not EXPLAINED_FROM <= score < ACCEPT:
            return ranked
        grams = self.entry_grams(ei)
        explained = sum(g in grams for g in subject)
        if explained < 2 or explained * 3 < len(subject) * 2:
            return ranked
        fid = self._family_id[ei]
        rival = next((s for j, s, _ in ranked[1:] if fid < 0 or self._family_id[j] != fid), 0.0)
        if score - rival < EXPLAINED_LEAD:
            return ranked
        return [(ei, ACCEPT, phrase), *ranked[1:]]

    def _procedure_explained(self, top: tuple[int, float, int] | None, u: Understanding, flat: str) -> bool:
        if top is None or not self._imported[top[0]] or self._names_rules is None:
            return False
        if not self._names_rules.asks_procedure(flat):
            return False
        share = explained_share(u.subject, self.entry_grams(top[0]), self.index.gram_idf)
        return share >= EXPLAINED_SHARE

    def gap_key(self, text: str) -> str:
        """The words of a question that say what it is about, as one string: what groups similar unanswered
        questions, and what a taught question adds as an alias."""
        corrected = self.corrector.canonical_query(self.corrector.fix(normalize(text or "")))
        return self.content(corrected).replace(" ", "")

    def gap_grams(self, text: str) -> frozenset[str]:
        """The bigrams that give a question its subject: what similar unanswered questions share ("养的柯基要
        办证吗" and "养柯基犬要不要办证" both ask about 柯基 and 办证)."""
        corrected = self.corrector.canonical_query(self.corrector.fix(normalize(text or "")))
        return frozenset(self.subject(self.content(corrected))[0])

    def content(self, corrected: str) -> str:
        """The part of a question that names its subject."""
        out = self._strip.sub(corrected, lambda w: " " if w in self._strip_only else w)
        return " ".join(out.split())

    def subject(self, content: str) -> tuple[list[str], bool]:
        """The bigrams that give a question a subject of its own, and whether one of them is a noun the base
        has never seen. Question, aspect and generic words and function characters are removed first; of what
        is left, a bigram names something when it is an everyday noun ("房子", "宠物") or a word the base uses
        for only a few entries ("离婚", "落户"). Verbs of doing, numbers and quantities name nothing."""
        rest = self._non_subject.sub(content, lambda w: " ")
        lexicon = everyday_words()
        gram_id, post_off = self.index.gram_id, self.index.post_off
        few = max(SUBJECT_MIN_ENTRIES, int(SUBJECT_SHARE * self.index.n_entries))
        found: list[str] = []
        foreign = False
        for run in rest.split():
            for i in range(len(run) - 1):
                g = run[i : i + 2]
                pos = lexicon.get(g)
                if pos is None and (g[0] in _GLUE or g[1] in _GLUE):
                    continue  # across a particle, a pronoun or a verb of doing: "的护", "那在", "上办"
                if pos in _WEAK_POS or (g[0] in FUNCTION_CHARS and g[1] in FUNCTION_CHARS):
                    continue  # numbers, pronouns, adverbs, time words: "一年", "这个", "马上"
                nounish = pos in _NOUN_POS
                gid = gram_id.get(g)
                specific = gid is not None and int(post_off[gid + 1] - post_off[gid]) <= few
                if nounish or specific:
                    found.append(g)
                    foreign = foreign or (nounish and gid is None)
        return found, foreign

    @lru_cache(maxsize=4096)  # noqa: B019 — one matcher per process; the cache is bounded
    def entry_grams(self, ei: int) -> frozenset[str]:
        """The bigrams of every phrase (raw and canonical) that names entry ei."""
        out: set[str] = set()
        idx = self.index
        for p in range(int(idx.entry_start[ei]), int(idx.entry_start[ei + 1])):
            t = idx.phrase_text[p]
            out.update(t[i : i + 2] for i in range(len(t) - 1))
        return frozenset(out)

    def unexplained(self, subject: list[str], ei: int) -> list[str]:
        """The subject bigrams that entry ei's phrases do not contain."""
        grams = self.entry_grams(ei)
        return [g for g in subject if g not in grams]

    def _modifier(self, flat: str, ei: int, phrase: int, subject: list[str]) -> str | None:
        """A noun right before the words that name entry ei, that the entry does not explain, in a short
        question that has nothing else the entry explains: it says which kind of thing is asked about ("宠物"
        in 宠物护照, "律师" in 律师执业证, "异地" in 异地办身份证). A question that also names the entry some
        other way ("美术培训班要办学许可证吗") is taken at its word."""
        if self.kinds[ei] == "exemption" or len(flat) > MODIFIER_MAX_CHARS:
            return None
        text = self.index.phrase_text[phrase]
        start, end = 0, 0  # the longest piece of the matched phrase in the question
        for i in range(len(flat) - 1):
            j = i + 2
            while j <= len(flat) and flat[i:j] in text:
                j += 1
            if j - 1 - i > end - start:
                start, end = i, j - 1
        if end - start < 2 or start < 2:
            return None
        grams = self.entry_grams(ei)
        while end - start > 2 and flat[start : start + 2] not in grams:
            start += 1  # a character shared by chance: the 师 of 律师 in 医师执业证书
        if start < 2:
            return None
        while end < len(flat) and flat[end - 1 : end + 1] in grams:
            end += 1  # the entry's words go on past the matched phrase: 执业 + 证
        at = start - 2
        if flat[start - 1] in _DOING_CHARS:
            at -= 1  # "异地办身份证", "宠物打疫苗"
        if at < 0 or " " in flat[at:start]:
            return None
        g = flat[at : at + 2]
        if g in grams or any(flat[: at + 2].endswith(w) for w in self._people):
            return None  # explained, or a person or place ("新房子开通天然气")
        lexicon = everyday_words()
        # the longest everyday noun ending there: "自行车" in 电动自行车上牌, "律师" in 律师执业证
        ends = (at + 2, at + 3) if at + 3 <= start + 1 else (at + 2,)
        for stop, size in ((e, n) for e in ends for n in (4, 3, 2)):
            # a noun may share its last character with the entry's words: 自行车 + 车上牌
            w = flat[max(0, stop - size) : stop]
            if len(w) != size or " " in w or lexicon.get(w) not in _MODIFIER_POS or w in self._people:
                continue
            if w in self._no_kind:
                continue  # a word of doing or asking ("办理医师执业注册"), not a kind of thing
            if size == 2 and w[1] in _LOCATIVE:
                continue  # a place ("河里", "山上"): where, not which kind of thing
            if all(w[i : i + 2] in grams for i in range(len(w) - 1)):
                continue
            begin = stop - size
            if begin > 0 and flat[begin - 1] in _DOING_CHARS:
                return None  # the object of a clause of its own: "开饭店 | 消防检查", "想开美术 | 培训班"
            # anything else in the question the entry explains (outside the compound "电动自行车上牌") means
            # the question names the entry some other way
            named = set(subject)
            for k in range(len(flat) - 1):
                if (k < begin - 2 or k >= end) and flat[k : k + 2] in grams and flat[k : k + 2] in named:
                    return None
            return w
        return None

    def names_nothing(self, u: Understanding) -> bool:
        """A message whose subject is at most a generic kind of procedure ("要开什么证明", "手续怎么办"): it
        names no matter of its own."""
        return all(g in self._generic_words for g in u.subject)

    def unexplained_by(self, entry_id: str | None, u: Understanding) -> list[str]:
        """The subject bigrams of a message that an entry's words do not contain."""
        if entry_id not in self._pos:
            return list(u.subject)
        return self.unexplained(u.subject, self._pos[entry_id])

    def _only_generic(self, subject: list[str], ei: int) -> str | None:
        """A noun the entry does not explain, when all the entry explains of the question is a generic kind of
        procedure ("养老院怎么备案" matched 异地就医备案 only through 备案): the question is about that noun."""
        if self.kinds[ei] == "exemption" or not subject:
            return None
        grams = self.entry_grams(ei)
        explained = [g for g in subject if g in grams]
        if not explained or any(g not in self._generic_procedures for g in explained):
            return None
        lexicon = everyday_words()
        nouns = [g for g in subject if g not in grams and lexicon.get(g) in _MODIFIER_POS]
        return nouns[0] if nouns else None

    def _foreign_subject(self, flat: str, subject: list[str], ei: int) -> str | None:
        """An everyday noun, written right after a noun that names entry ei and explained neither by the entry's
        names nor by its summary: the head of the compound, what the question is about
        ("燃气表" beside 燃气报装, "身份证号码" beside 身份证申领), or that is part of the name of the document
        asked for ("律师执业证")."""
        if self.kinds[ei] == "exemption" or len(flat.replace(" ", "")) > MODIFIER_MAX_CHARS:
            return None
        lexicon = everyday_words()
        grams = self.entry_grams(ei)
        known = grams | self._summary_grams(ei)
        # the characters the entry's own words cover
        covered = [False] * len(flat)
        for i in range(len(flat) - 1):
            if flat[i : i + 2] in grams:
                covered[i] = covered[i + 1] = True
        for g in subject:
            if g in known or lexicon.get(g) not in _THING_POS or g in self._people:
                continue
            at = flat.find(g)
            if at < 0:
                continue
            # a document is named by what it is for: "律师执业证", "出租车从业资格证" are not 医师执业注册 or
            # 网约车驾驶员证, whatever else they share
            m = self.cues.document_re.search(flat, at + 2)
            if m is not None and m.start() - at <= _DOCUMENT_REACH:
                if not any(c in _GLUE or c == " " for c in flat[at + 2 : m.start()]):
                    return g
            if covered[at] or covered[at + 1]:
                continue  # across a word of the entry: "二胎|生育" is not 胎生
            # the head of a compound comes last: "身份证号码" is a 号码, "摄影协会" a 协会 (left to the entry)
            if (
                at > 0
                and covered[at - 1]
                and any(lexicon.get(flat[at - n : at]) in _MODIFIER_POS for n in (2, 3, 4) if at >= n)
            ):
                return g
        return None

    def _unexplained_thing(self, flat: str, subject: list[str], ei: int) -> str | None:
        """In a short question the entry is not sure of, two or more of the subject's words that the entry's
        names and summary do not explain, one of them a plain noun: the question is about more than the entry
        ("医疗器械广告审批" beside 医疗器械备案, "退役军人创业补贴" beside 优待证)."""
        if self.kinds[ei] == "exemption" or len(flat) > MODIFIER_MAX_CHARS:
            return None
        known = self.entry_grams(ei) | self._summary_grams(ei)
        missing = [g for g in subject if g not in known and g not in self._people]
        if len(missing) < UNEXPLAINED_MIN:
            return None
        lexicon = everyday_words()
        return next((g for g in missing if lexicon.get(g) in _THING_POS), None)

    @lru_cache(maxsize=4096)  # noqa: B019 — one matcher per process; the cache is bounded
    def _summary_grams(self, ei: int) -> frozenset[str]:
        text = compact(self.kb.entry(self.ids[ei]).summary)
        return frozenset(text[i : i + 2] for i in range(len(text) - 1))

    def _other_act(self, flat: str, ei: int) -> str | None:
        """An act the question asks for that entry ei is not about ("注销" asked of 个体工商户设立登记): the
        first such act, or None when the entry's own words name one of the question's acts (or it names none)."""
        found = self._actions.findall(flat)
        if not found or self.kinds[ei] == "exemption":
            return None
        kinds = self.cues.actions
        if {kinds[w] for w in found} & self._entry_acts(ei):
            return None
        return found[0]

    @lru_cache(maxsize=4096)  # noqa: B019 — one matcher per process; the cache is bounded
    def _entry_acts(self, ei: int) -> frozenset[int]:
        idx = self.index
        texts = [idx.phrase_text[p] for p in range(int(idx.entry_start[ei]), int(idx.entry_start[ei + 1]))]
        entry = self.kb.entry(self.ids[ei])
        texts.append(compact(entry.summary))
        return frozenset(self.cues.actions[a] for t in texts for a in self._actions.findall(t))

    def mentions_material(self, entry_id: str | None, text: str) -> bool:
        """Whether a message names one of an entry's materials ("户口本要带吗" about 身份证首次申领: 居民户口簿)."""
        entry = self.kb.get(entry_id) if entry_id else None
        if not isinstance(entry, Item):  # none, an exemption or a FAQ: no materials of its own
            return False
        flat = text.replace(" ", "")
        if self._actions.findall(flat) or any(w in flat for w in _LOSS_WORDS):
            return False  # an act on the document itself ("医保卡丢了怎么办") is that document's own service
        for m in entry.materials:
            name = compact(_PAREN.sub("", m.name))
            pieces = {name} if len(name) <= 3 else {name[i : i + 3] for i in range(len(name) - 2)}
            if any(p in flat for p in pieces if len(p) >= 2):
                return True
        return False

    def explains(self, entry_id: str | None, u: Understanding) -> bool:
        """Whether an entry's own words cover most of a message's subject (a follow-up on that entry)."""
        if entry_id is None or entry_id not in self._pos:
            return False
        if not u.subject:
            return True
        missing = self.unexplained(u.subject, self._pos[entry_id])
        return len(missing) * 2 <= len(u.subject)

    def named_item(self, u: Understanding, exemption_id: str) -> str | None:
        """The item or 一件事 a question about a 免证明 entry also names ("办低保还要开收入证明吗" -> dibao), if
        one is named with confidence."""
        if exemption_id not in self._pos:
            return None
        rest = u.content
        for part in self._mask_parts(self._pos[exemption_id]):
            rest = rest.replace(part, " ")
        rest = " ".join(rest.replace("证明", " ").split())
        if len(subject_chars(rest)) < 2:
            return None
        for ei, score, _ in self._rank(rest, rest.replace(" ", "")):
            if self.kinds[ei] != "exemption":
                return self.ids[ei] if score >= ACCEPT else None
        return None

    # -- scoring -----------------------------------------------------------------------------------------
    def _rank(self, content: str, flat: str) -> list[tuple[int, float, int]]:
        """Candidates best first: (entry index, calibrated confidence, best phrase index)."""
        scored, matched = self._scored(content, flat)
        if not scored:
            return []
        raws = [s[1] for s in scored]
        fams = [int(self._family_id[s[0]]) for s in scored]
        out = []
        for n, (ei, raw, phrase, feats) in enumerate(scored):
            # the margin over other matters: the variants of one matter share their words and tie by nature
            others = [r for k, r in enumerate(raws) if k != n and (fams[n] < 0 or fams[k] != fams[n])]
            margin = raw - max(others) if others else raw
            conf = _confidence(raw, feats, margin)
            if feats[0] < KEYWORD_MIN_COVERAGE and self.index.phrase_weight[phrase] < 1.0:
                # matched only through a small part of a keyword (a life situation such as "签证要完税证明"):
                # the entry is near, not what is asked
                conf = min(conf, ACCEPT - 0.01)
            out.append((ei, conf, phrase))
        out.sort(key=lambda t: -t[1])
        self._more_specific_first(out, matched, flat)
        self._ties_by_name(out, flat)
        return out

    def _more_specific_first(
        self, out: list[tuple[int, float, int]], matched: dict[int, float], flat: str
    ) -> None:
        """The best candidate gives its place to a more specific entry of the same matter that the question
        supports better: one whose name holds the best one's whole name and more ("广安经开区燃气经营许可证" beside
        燃气经营许可证), and that explains more of the question. A short name contained in full otherwise wins on
        phrase coverage even when the question also names the district. The confidences stay with the places."""
        for _ in range(len(out) - 1):
            top = out[0][0]
            name = self._bare_name(top)
            at = next(
                (
                    k
                    for k in range(1, len(out))
                    if matched[out[k][0]] > matched[top] + 1e-6 and self._names_more(out[k][0], name, flat)
                ),
                None,
            )
            if at is None:
                return
            (a, conf_a, phrase_a), (b, conf_b, phrase_b) = out[0], out[at]
            out[0], out[at] = (b, conf_a, phrase_b), (a, conf_b, phrase_a)

    def _names_more(self, ei: int, name: str, flat: str) -> bool:
        """Whether entry ei's name holds `name` and more, and the question says most of that more (its
        characters: a district written with one of them missing still counts, "困难" alone does not make a
        question about 家庭经济困难儿童 of 最低生活保障)."""
        longer = self._bare_name(ei)
        if len(longer) <= len(name) or name not in longer:
            return False
        extra = longer.replace(name, "", 1)
        rest = flat.replace(name, "", 1)  # the characters of the shorter name do not count twice
        return sum(c in rest for c in extra) * 2 >= len(extra)

    def _ties_by_name(self, out: list[tuple[int, float, int]], flat: str) -> None:
        """Among candidates tied at the top, the one whose own name the question covers best first: "非正常户解除
        （县级）" before 非正常户解除（县级行使） for a question that says 县级 (otherwise the first in the base)."""
        if len(out) < 2 or out[1][1] < out[0][1]:
            return
        tied = [r for r in out if r[1] >= out[0][1]]
        asked = {flat[i : i + 2] for i in range(len(flat) - 1)}

        def coverage(ei: int) -> float:
            name = self._compact_name(ei)
            return sum(name[i : i + 2] in asked for i in range(len(name) - 1)) / max(len(name) - 1, 1)

        tied.sort(key=lambda r: -coverage(r[0]))  # stable: equals keep their order
        out[: len(tied)] = tied

    @lru_cache(maxsize=4096)  # noqa: B019 — one matcher per process; the cache is bounded
    def _compact_name(self, ei: int) -> str:
        return compact(self.kb.entry(self.ids[ei]).name)

    @lru_cache(maxsize=4096)  # noqa: B019 — one matcher per process; the cache is bounded
    def _bare_name(self, ei: int) -> str:
        """The name without bracketed qualifiers (variants, levels), compact."""
        return compact(_PAREN.sub("", self.kb.entry(self.ids[ei]).name))

    def _raw_scores(
        self, content: str, flat: str
    ) -> list[tuple[int, float, int, tuple[float, float, float]]]:
        """Retrieval hits reranked: (entry index, raw score, best phrase, (phrase cov, query cov, fuzzy))."""
        return self._scored(content, flat)[0]

    def _scored(
        self, content: str, flat: str
    ) -> tuple[list[tuple[int, float, int, tuple[float, float, float]]], dict[int, float]]:
        """_raw_scores(), and the IDF mass of the question each hit explains."""
        hits = self.index.search(content, top=CANDIDATES)
        if not hits:
            return [], {}
        exemption_cue = bool(self.cues.exemption_re.search(flat))
        bundle_cue = bool(self.cues.bundle_re.search(flat))
        q_mass = self._informative_mass(content)
        out = []
        for h in hits:
            phrase = self.index.phrase_text[h.best_phrase]
            fz = fuzz.partial_ratio(phrase, content.replace(" ", "")) / 100.0 if len(phrase) >= 2 else 0.0
            qcov = min(1.0, h.matched / max(min(q_mass, self.index.ref_mass), 1e-9))
            raw = 0.35 * h.phrase_cov + 0.45 * qcov + 0.20 * fz
            kind = self.kinds[h.entry]
            if kind == "exemption":
                raw += 0.12 if exemption_cue else -0.15
                # "办X还要Y证明吗" asks about Y: a certificate named in full, with the cue, outweighs X
                if exemption_cue and h.phrase_cov >= 0.95:
                    raw += 0.1
            elif kind == "bundle":
                raw += 0.06 if bundle_cue else -0.03
            out.append((h.entry, raw, h.best_phrase, (h.phrase_cov, qcov, fz)))
        out.sort(key=lambda t: -t[1])
        return out, {h.entry: h.matched for h in hits}

    def _informative_mass(self, content: str) -> float:
        """IDF mass of the question's content. Grams the base knows count in full; an unseen gram counts by
        what it is: an unknown noun (烟草, 商标) fully, a verb, a connective or a gram across two words barely."""
        total = 0.0
        idf = self.index.idf
        for g in grams(content):
            w = self.index.gram_idf(g)
            if g not in idf:
                if len(g) == 2:
                    w *= unseen_weight(g)
                elif g in FUNCTION_CHARS:
                    w = 0.0
            total += w
        return total

    def _mask(self, flat: str, ei: int) -> str:
        """The question without the words that name the entry, so 资格认证 or 进度查询 are not read as
        aspect cues."""
        for c in self._mask_parts(ei):
            if c in flat:
                flat = flat.replace(c, "|")
        return flat

    @lru_cache(maxsize=4096)  # noqa: B019 — one matcher per process; the cache is bounded
    def _mask_parts(self, ei: int) -> tuple[str, ...]:
        entry = self.kb.entry(self.ids[ei])
        # whole aliases, and runs of three or more characters of the official name ("资格认证" of
        # 养老保险待遇领取资格认证). Keywords are left alone: they are phrased like questions ("开旅行社要什么
        # 条件") and would mask the very cue asked about.
        name = compact(_PAREN.sub("", entry.name))
        parts = {name[i:j] for i in range(len(name)) for j in range(i + 3, len(name) + 1)}
        # an alias phrased as a question ("算不算工伤") would mask the very cue asked about
        parts |= {
            a for a in (compact(x) for x in entry.aliases) if len(a) >= 2 and self.cues.aspect_cue(a) is None
        }
        return tuple(sorted(parts, key=len, reverse=True))


# Logistic calibration of "the best candidate is the right one", fitted on the dev set by
# bench/fit_calibration.py: features are the raw blend, its parts, and the margin over the runner-up.
CALIBRATION = (-3.35, 1.681, 1.782, 1.713, 0.718, 1.538)


def _confidence(raw: float, feats: tuple[float, float, float], margin: float) -> float:
    pc, qc, fz = feats
    b, w_raw, w_pc, w_qc, w_fz, w_margin = CALIBRATION
    z = b + w_raw * raw + w_pc * pc + w_qc * qc + w_fz * fz + w_margin * margin
    return 1.0 / (1.0 + math.exp(-z))
