"""An inverted index of character n-grams over the phrases that name each entry.

Each entry is described by phrases (name, aliases, keywords) of different weights. A query is scored against
the phrases that share a gram with it:
  - phrase coverage: how much of a phrase (IDF-weighted) the query contains — "身份证丢了" inside a longer
    rambling message still scores 1.0;
  - query coverage: how much of the query's content the entry's vocabulary explains — what keeps "烟草专卖
    许可证" from matching every 许可证 in the base.

Layout (numpy arrays, no Python object per phrase or per posting, so 100,000 entries fit in little memory):
  - phrase texts are de-duplicated (many entries share an alias or a keyword); each distinct text has its
    distinct gram ids (a forward index, CSR);
  - each gram has the sorted list of entries that contain it (postings, CSR).
A query first computes, for every entry, the IDF mass of the query it contains (one bincount over the
postings): that is query coverage, exactly. Phrase coverage is then computed only for the entries that can
still reach the top: an entry's phrase coverage is at most its matched mass times its best weight/total ratio,
so entries are scored best bound first until no unscored entry can beat the current top.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def grams(text: str) -> set[str]:
    """Character bigrams within each space-separated run, plus single characters (weak evidence that still
    survives a one-character typo)."""
    out: set[str] = set()
    for run in text.split():
        out.update(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


UNIGRAM_WEIGHT = 0.25
# weights of the two coverages in the retrieval score
PHRASE_SHARE, QUERY_SHARE = 0.6, 0.4
# entries scored in the first round of the bounded search, and at most in a later round
FIRST_BATCH, BATCH = 32, 128
# most entries whose phrases are scored for one query: bounds the worst case on very large bases
MAX_SCORED = 8192
# up to this many distinct phrase texts (about 2,000 entries) the index also keeps gram -> texts postings,
# and scores every phrase the query touches exactly, as a plain inverted index does; above it, the bounded
# search over the forward index keeps memory and time in check
TEXT_POSTINGS_MAX = 12_000
_CHUNK = 1 << 21  # gram occurrences handled at once while building the entry postings (bounds peak memory)
# runs are separated by whitespace (as str.split() sees it) and by the NUL that joins texts
_SEPARATORS = [0, *(c for c in range(0x3001) if chr(c).isspace())]
_BIGRAM = (
    1 << 21
)  # gram keys: a code point (< 2**21) for a unigram, ((first + 1) << 21) | second for a bigram


@dataclass
class Hit:
    entry: int
    phrase_cov: float  # best weighted phrase coverage
    query_cov: float  # share of the query's content explained by the entry
    matched: float  # IDF mass of the query explained by the entry
    best_phrase: int  # index of the best phrase


class PhraseTexts:
    """phrase index -> its text, without a string per phrase (texts are shared)."""

    def __init__(self, texts: list[str], text_of: np.ndarray):
        self._texts, self._text_of = texts, text_of

    def __len__(self) -> int:
        return len(self._text_of)

    def __getitem__(self, i: int) -> str:
        return self._texts[self._text_of[i]]


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + c) for every (s, c), vectorised."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) + np.repeat(starts.astype(np.int64) - first, counts)


def _distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is several times slower on large int64 arrays)."""
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, best first; equal values in index order (the entry listed first in
    the base wins a tie, whatever the size of the base)."""
    if len(values) > k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        cand = np.flatnonzero(values >= kth)
    else:
        cand = np.arange(len(values))
    return cand[np.lexsort((cand, -values[cand]))[:k]]


def _gram_keys(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(gram key, text id) of every gram occurrence of every text, as grams() defines them."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    codes = np.frombuffer("\0".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths + 1)[: len(codes)]
    ok = ~np.isin(codes, _SEPARATORS)
    pair = ok[:-1] & ok[1:]
    keys = np.concatenate([codes[ok], ((codes[:-1][pair] + 1) << 21) | codes[1:][pair]])
    return keys, np.concatenate([owner[ok], owner[:-1][pair]])


def _key_text(key: int) -> str:
    return chr(key) if key < _BIGRAM else chr((key >> 21) - 1) + chr(key & (_BIGRAM - 1))


def _small_int(n: int) -> type:
    return np.uint16 if n <= np.iinfo(np.uint16).max + 1 else np.int32


class GramIndex:
    def __init__(
        self,
        entry_of: Sequence[int] | np.ndarray,
        text_of: list[str],
        weight_of: Sequence[float] | np.ndarray,
        n_entries: int,
    ):
        """Phrases as parallel columns, in entry order: entry index, compact text, field weight."""
        self.n_entries = n_entries
        self.phrase_entry = np.asarray(entry_of, dtype=np.int32)
        if np.any(np.diff(self.phrase_entry) < 0):
            raise ValueError("phrases must be given in entry order")
        self.phrase_weight = np.asarray(weight_of, dtype=np.float32)
        # distinct texts: a large base shares many aliases and keywords between entries
        self.texts = list(dict.fromkeys(text_of))
        if len(self.texts) >= 1 << 20:  # the build packs a text id into 20 bits (see _build_forward)
            raise ValueError(f"{len(self.texts):,} distinct phrases: the index holds at most {1 << 20:,}")
        text_ids = {t: i for i, t in enumerate(self.texts)}
        self.phrase_text_id = np.array([text_ids[t] for t in text_of], dtype=np.int32)
        self.phrase_text = PhraseTexts(self.texts, self.phrase_text_id)
        # phrases of entry e: entry_start[e] .. entry_start[e + 1]
        self.entry_start = np.searchsorted(self.phrase_entry, np.arange(n_entries + 1)).astype(np.int64)

        self._build_forward()
        self._build_postings()
        self._build_text_postings()
        self._build_weights()

    # -- build -------------------------------------------------------------------------------------------
    def _build_forward(self) -> None:
        """The gram vocabulary, and text -> its distinct gram ids (CSR)."""
        keys, owner = _gram_keys(self.texts)
        # distinct (gram key, text) pairs sorted by key: a key takes 43 bits, the text id the 20 below it;
        # gram ids are then the running count of distinct keys, with no search
        pairs = _distinct((keys << 20) | owner)
        keys, owner = pairs >> 20, pairs & ((1 << 20) - 1)
        new_key = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
        gram_keys = keys[new_key]
        gram_id = np.cumsum(new_key) - 1
        n_grams = max(len(gram_keys), 1)
        if n_grams >= 1 << 20:
            raise ValueError(f"{n_grams:,} distinct grams: the index holds at most {1 << 20:,}")
        # the same pairs by text, then gram
        by_text = np.sort((owner << 20) | gram_id)
        self.text_off = np.r_[0, np.cumsum(np.bincount(owner, minlength=len(self.texts)))].astype(np.int64)
        self.text_grams: np.ndarray = (by_text & ((1 << 20) - 1)).astype(_small_int(n_grams))
        self.gram_text = [_key_text(int(k)) for k in gram_keys]
        self.gram_id = {g: i for i, g in enumerate(self.gram_text)}
        self.gram_is_unigram = gram_keys < _BIGRAM

    def _build_postings(self) -> None:
        """gram -> sorted entries that contain it (CSR), from the distinct (entry, gram) pairs."""
        n_grams, n_entries = len(self.gram_text), max(self.n_entries, 1)
        per_phrase = np.diff(self.text_off)[self.phrase_text_id]
        # cut into chunks of about _CHUNK gram occurrences, on entry boundaries (an entry's pairs are
        # de-duplicated together), so the transient arrays stay small at 100,000 entries
        before = np.r_[0, np.cumsum(per_phrase)]
        at_entry = before[self.entry_start]
        cut = np.searchsorted(at_entry, np.arange(0, before[-1], _CHUNK))
        cuts = np.unique(np.r_[self.entry_start[cut], len(per_phrase)])
        chunks = [np.zeros(0, dtype=np.int64)]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            texts = self.phrase_text_id[a:b]
            counts = per_phrase[a:b]
            gids = self.text_grams[_ranges(self.text_off[texts], counts)].astype(np.int64)
            ents = np.repeat(self.phrase_entry[a:b].astype(np.int64), counts)
            chunks.append(_distinct(gids * n_entries + ents))
        pairs = np.concatenate(chunks) if len(chunks) > 2 else chunks[-1]
        if len(chunks) > 2:
            pairs.sort()  # by gram, then entry (each chunk is sorted already)
        self.post_off = np.searchsorted(pairs // n_entries, np.arange(n_grams + 1)).astype(np.int64)
        self.post_entries = (pairs % n_entries).astype(np.int32)

    def _build_text_postings(self) -> None:
        """gram -> sorted texts that contain it (CSR), kept only while the base is small enough that they
        cost little memory; above that, phrase coverage comes from the forward index (see search)."""
        self.text_post_off: np.ndarray | None = None
        self.text_post = np.zeros(0, dtype=np.int32)
        if len(self.texts) > TEXT_POSTINGS_MAX:
            return
        owner = np.repeat(np.arange(len(self.texts), dtype=np.int32), np.diff(self.text_off))
        order = np.argsort(self.text_grams, kind="stable")  # by gram, texts ascending within each
        self.text_post = owner[order]
        counts = np.bincount(self.text_grams, minlength=len(self.gram_text))
        self.text_post_off = np.r_[0, np.cumsum(counts)].astype(np.int64)

    def _build_weights(self) -> None:
        n = max(self.n_entries, 1)
        df = np.diff(self.post_off)
        # math.log per gram (a few thousand) keeps the weights bit-identical to the scalar formula
        idf = [
            math.log(1 + (n - int(d) + 0.5) / (int(d) + 0.5)) * (UNIGRAM_WEIGHT if uni else 1.0)
            for d, uni in zip(df, self.gram_is_unigram, strict=True)
        ]
        self.idf: dict[str, float] = dict(zip(self.gram_text, idf, strict=True))
        self.gram_weight = np.array(idf, dtype=np.float32)
        idf64 = np.array(idf, dtype=np.float64)
        # IDF mass of each text, 1.0 for a text without grams
        owner = np.repeat(np.arange(len(self.texts)), np.diff(self.text_off))
        total = np.bincount(owner, weights=idf64[self.text_grams], minlength=len(self.texts))
        self.text_total = np.where(total > 0, total, 1.0).astype(np.float32)
        phrase_total = self.phrase_total = self.text_total[self.phrase_text_id]
        # where each phrase's grams sit in the forward index, per phrase, for the bounded search
        self.phrase_gram_start = self.text_off[self.phrase_text_id]
        self.phrase_gram_count = np.diff(self.text_off).astype(np.int32)[self.phrase_text_id]
        self.every_text_has_grams = bool(np.all(np.diff(self.text_off) > 0))
        # the most phrase coverage one unit of matched mass can buy in each entry (for the search bound)
        rate = self.phrase_weight / phrase_total
        has = np.diff(self.entry_start) > 0
        self.entry_rate = np.zeros(self.n_entries, dtype=np.float64)
        if len(rate):
            self.entry_rate[has] = np.maximum.reduceat(rate, self.entry_start[:-1][has])
        # idf given to a query gram the base has never seen: as rare as a gram can be
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        # "a question's worth" of content: twice a typical phrase. A long message is judged by how much of
        # that an entry explains, not by how much of all its rambling.
        self.ref_mass = float(np.median(phrase_total)) * 2 if len(phrase_total) else 1.0

    # -- query -------------------------------------------------------------------------------------------
    def gram_idf(self, g: str) -> float:
        w = self.idf.get(g)
        if w is None:
            w = self.unseen_idf * (UNIGRAM_WEIGHT if len(g) == 1 else 1.0)
        return w

    def search(self, query: str, top: int = 8) -> list[Hit]:
        qg = grams(query)
        if not qg:
            return []
        known = np.array([self.gram_id[g] for g in qg if g in self.gram_id], dtype=np.int64)
        q_total = sum(self.gram_idf(g) for g in qg)
        if not len(known) or q_total <= 0:
            return []
        w = self.gram_weight[known]

        # query coverage of every entry: the IDF mass of the query grams it contains
        lo, hi = self.post_off[known].tolist(), self.post_off[known + 1].tolist()
        e_ids = np.concatenate([self.post_entries[a:b] for a, b in zip(lo, hi, strict=True)])
        e_w = np.repeat(w, np.subtract(hi, lo))
        matched_all = np.bincount(e_ids, weights=e_w, minlength=self.n_entries)
        hit_e = np.flatnonzero(matched_all)
        matched_e = matched_all[hit_e]
        qcov = matched_e / q_total

        if self.text_post_off is not None:
            best_cov, best_phrase = self._scores_by_text(known, w)
        else:
            q_weight = np.zeros(len(self.gram_text), dtype=np.float32)  # summed in float64 below
            q_weight[known] = w
            best_cov, best_phrase = self._phrase_scores(hit_e, matched_e, qcov, q_weight, top)

        scored = np.flatnonzero(best_phrase >= 0)
        combined = PHRASE_SHARE * best_cov[scored] + QUERY_SHARE * qcov[scored]
        pick = scored[_top(combined, top)]
        return [
            Hit(
                entry=int(hit_e[i]),
                phrase_cov=float(best_cov[i]),
                query_cov=float(qcov[i]),
                matched=float(matched_e[i]),
                best_phrase=int(best_phrase[i]),
            )
            for i in pick
        ]

    def _scores_by_text(self, known: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best phrase coverage and best phrase of every hit entry (in entry order), from the text postings
        of the query grams: exact and cheapest while the base is small."""
        off = self.text_post_off
        assert off is not None  # search() calls this only while the text postings are kept
        lo, hi = off[known].tolist(), off[known + 1].tolist()
        t_ids = np.concatenate([self.text_post[a:b] for a, b in zip(lo, hi, strict=True)])
        t_w = np.repeat(w, np.subtract(hi, lo))
        matched_t = np.bincount(t_ids, weights=t_w, minlength=len(self.texts))
        matched_p = matched_t[self.phrase_text_id]
        hit_p = np.flatnonzero(matched_p)
        matched = matched_p[hit_p].astype(np.float32)
        cov = matched / self.text_total[self.phrase_text_id[hit_p]] * self.phrase_weight[hit_p]
        # phrases are in entry order: one group per hit entry, the same entries as the entry postings hit
        ents = self.phrase_entry[hit_p]
        new = np.r_[True, ents[1:] != ents[:-1]]
        top_cov = np.maximum.reduceat(cov, np.flatnonzero(new))
        group = np.cumsum(new) - 1
        at_top = np.flatnonzero(cov == top_cov[group])
        last = at_top[np.r_[group[at_top][1:] != group[at_top][:-1], True]]
        return top_cov, hit_p[last]

    def _phrase_scores(
        self, hit_e: np.ndarray, matched_e: np.ndarray, qcov: np.ndarray, q_weight: np.ndarray, top: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best phrase coverage and best phrase of the hit entries that can reach the top (-1 where an entry
        was not scored): best bound first, until no unscored entry's bound reaches the current top."""
        n = len(hit_e)
        best_cov = np.zeros(n, dtype=np.float32)
        best_phrase = np.full(n, -1, dtype=np.int64)
        if n <= FIRST_BATCH * 4:  # small bases: every hit entry, in one pass
            self._score_entries(np.arange(n), hit_e, q_weight, best_cov, best_phrase)
            return best_cov, best_phrase
        # a slight margin over the bound: float32 rounding must never prune an entry that ties
        bound = (
            PHRASE_SHARE * np.minimum(1.0, matched_e * self.entry_rate[hit_e]) * 1.0001 + QUERY_SHARE * qcov
        )
        todo, batch, done = np.arange(n), FIRST_BATCH, 0
        while len(todo) and done < MAX_SCORED:
            if len(todo) > batch:
                todo = todo[np.argpartition(-bound[todo], batch - 1)[:batch]]
            batch = BATCH
            self._score_entries(np.sort(todo), hit_e, q_weight, best_cov, best_phrase)
            done += len(todo)
            scored = best_phrase >= 0
            combined = PHRASE_SHARE * best_cov[scored] + QUERY_SHARE * qcov[scored]
            k = min(top, len(combined))
            floor = np.partition(combined, len(combined) - k)[len(combined) - k]
            todo = np.flatnonzero(~scored & (bound >= floor))
        return best_cov, best_phrase

    def _score_entries(
        self,
        which: np.ndarray,
        hit_e: np.ndarray,
        q_weight: np.ndarray,
        best_cov: np.ndarray,
        best_phrase: np.ndarray,
    ) -> None:
        """Phrase coverage of every phrase of the entries hit_e[which] (ascending); fills the best per entry
        (the last phrase among equals, as before)."""
        ents = hit_e[which]
        first = self.entry_start[ents]
        n_ph = self.entry_start[ents + 1] - first
        ph = _ranges(first, n_ph)
        n_g = self.phrase_gram_count[ph]
        vals = q_weight[self.text_grams[_ranges(self.phrase_gram_start[ph], n_g)]]
        if self.every_text_has_grams:  # one segment per phrase, none empty: reduceat sums each in order
            matched = np.add.reduceat(vals, np.cumsum(n_g) - n_g, dtype=np.float64).astype(np.float32)
        else:
            owner = np.repeat(np.arange(len(ph)), n_g)
            matched = np.bincount(owner, weights=vals, minlength=len(ph)).astype(np.float32)
        cov = matched / self.phrase_total[ph] * self.phrase_weight[ph]
        group_start = np.cumsum(n_ph) - n_ph
        top_cov = np.maximum.reduceat(cov, group_start)
        group = np.repeat(np.arange(len(ents)), n_ph)
        at_top = np.flatnonzero(cov == top_cov[group])
        last = at_top[np.r_[group[at_top][1:] != group[at_top][:-1], True]]
        best_cov[which] = top_cov
        best_phrase[which] = ph[last]
